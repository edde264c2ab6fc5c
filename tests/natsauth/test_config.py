"""The permission table against the apps, and where credentials come from."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from proto.subjects import Subjects
from services.common.natsauth import CONSUMES, PUBLISHES, SERVICES, USERS
from services.common.natscreds import local_credentials, local_server_auth
from services.common.runtime import ServiceRuntime
from services.ingest.settings import IngestSettings
from services.natscli import DEPLOY_AUTH, deploy_config
from services.registry.settings import RegistrySettings

# Token replication (another change) and bulletins (in proto, not yet published by notify).
AHEAD_OF_CODE = ("token.changed.", "bulletin.published")


def _runtimes() -> dict[str, ServiceRuntime]:  # type: ignore[type-arg]
    from services.ingest.app import create_runtime as ingest
    from services.notify.app import create_runtime as notify
    from services.notify.settings import NotifySettings
    from services.progress.app import create_runtime as progress
    from services.progress.settings import ProgressSettings
    from services.registry.app import create_runtime as registry

    common = {"database_url": "sqlite://", "subject_root": "luoshi"}
    return {
        "ingest": ingest(IngestSettings(**common)),  # type: ignore[arg-type]
        "registry": registry(RegistrySettings(**common)),  # type: ignore[arg-type]
        "progress": progress(ProgressSettings(**common)),  # type: ignore[arg-type]
        "notify": notify(NotifySettings(**common)),  # type: ignore[arg-type]
    }


def _matches(pattern: str, subject: str) -> bool:
    """NATS wildcard matching; a `{name}` token of a declared subject stands for any value."""
    want, have = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(have) > i
        if i >= len(have) or (token != "*" and token != have[i]):
            return False
    return len(want) == len(have)


def test_permissions_cover_exactly_what_each_app_declares() -> None:
    """A subject or consumer added to an app without its permission fails here, not in production."""
    subjects = Subjects("luoshi")
    for name, runtime in _runtimes().items():
        allowed = [f"luoshi.{p}" for p in PUBLISHES[name]] + [subjects.dead_letter(name)]
        declared = [s.replace("{level}", "x").replace("{unit}", "x") for s in runtime.publishers.subjects()]
        for subject in declared:
            assert any(_matches(p, subject) for p in allowed), (name, subject)
        consumers = {(subject.removeprefix("luoshi."), consumer) for subject, consumer in runtime.consumers}
        table = {(c.subject, c.name) for c in CONSUMES[name]}
        assert consumers <= table, (name, consumers - table)
        # Only subjects proto names but no app declares yet may be granted ahead of their code.
        assert all(s.startswith(AHEAD_OF_CODE) for s, _ in table - consumers), name
        assert all(
            p.startswith(AHEAD_OF_CODE)
            for p in PUBLISHES[name]
            if not any(_matches(f"luoshi.{p}", s) or _matches(s, f"luoshi.{p}") for s in declared)
        ), name


def test_the_deployment_auth_conf_is_generated_from_the_permissions() -> None:
    assert DEPLOY_AUTH.read_text(encoding="utf-8") == deploy_config(), "run: luoshi nats config > deploy/nats/auth.conf"
    for user in USERS:
        assert f"password: $NATS_{user.upper()}_PASSWORD" in DEPLOY_AUTH.read_text(encoding="utf-8")


def test_local_passwords_are_private_random_and_kept(tmp_path: Path) -> None:
    folder = tmp_path / "nats-auth"
    config, first = local_server_auth(folder, Subjects("luoshi"))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in [config, *folder.glob("*.password")]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert len({c.password for c in first.values()}) == len(USERS)
    assert all(f'"{c.password}"' in config.read_text() for c in first.values())
    assert local_credentials(folder, USERS) == first
    assert "***" in repr(first["ingest"]) and first["ingest"].password not in repr(first["ingest"])


def test_settings_give_credentials_from_a_password_or_a_secret_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert IngestSettings().nats_credentials() is None
    monkeypatch.setenv("LUOSHI_INGEST_NATS_PASSWORD", "s3cret")
    creds = IngestSettings().nats_credentials()
    assert creds is not None and (creds.user, creds.password) == ("ingest", "s3cret")
    secret = tmp_path / "nats_registry_password"
    secret.write_text("from-file\n")
    monkeypatch.setenv("LUOSHI_REGISTRY_NATS_PASSWORD_FILE", str(secret))
    monkeypatch.setenv("LUOSHI_REGISTRY_NATS_USER", "registry-2")
    creds = RegistrySettings().nats_credentials()
    assert creds is not None and (creds.user, creds.password) == ("registry-2", "from-file")
    assert set(SERVICES) <= set(PUBLISHES) == set(CONSUMES)
