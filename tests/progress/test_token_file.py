"""The local runner's office token file is readable by its owner only."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session

from proto.subjects import Subjects
from services.progress.tokens import local_office_token

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)
SUBJECTS = Subjects("test")


def test_the_office_token_file_is_0600(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "var" / "office-token"
    token = local_office_token(session=session, subjects=SUBJECTS, path=path, now=NOW)[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # A file left readable by an older version is tightened, and its valid token kept.
    path.chmod(0o644)
    assert local_office_token(session=session, subjects=SUBJECTS, path=path, now=NOW)[0] == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # A stale token is replaced in place: the file that already exists ends up 0600 too.
    path.write_text("lsh_stale\n", encoding="utf-8")
    path.chmod(0o644)
    assert local_office_token(session=session, subjects=SUBJECTS, path=path, now=NOW)[0] != token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
