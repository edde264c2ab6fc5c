"""SQLite files are the owner's alone: the database and the -wal/-shm files SQLite makes beside it."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from services.common.db import make_engine


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    # The common default, under which SQLite alone would make 0644 files.
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_database_and_its_wal_are_0600(tmp_path: Path) -> None:
    path = tmp_path / "svc.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        with engine.connect() as conn:
            # The pool keeps the connection, so SQLite keeps the -wal and -shm files.
            assert conn.execute(text("SELECT x FROM t")).scalar() == 1
            for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                assert name.exists() and _mode(name) == 0o600, name
    finally:
        engine.dispose()


def test_an_existing_loose_database_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    path.touch(mode=0o644)
    wal = Path(f"{path}-wal")
    wal.touch(mode=0o644)
    make_engine(f"sqlite:///{path}").dispose()
    assert _mode(path) == 0o600 and _mode(wal) == 0o600


def test_memory_databases_make_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_engine("sqlite://").dispose()
    make_engine("sqlite:///:memory:").dispose()
    assert list(tmp_path.iterdir()) == []
