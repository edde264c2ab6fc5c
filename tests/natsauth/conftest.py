from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from proto.subjects import Subjects
from services.common.natscreds import NatsCredentials, local_server_auth
from services.common.natsserver import NatsServer, free_port


@dataclass
class AuthServer:
    server: NatsServer
    credentials: dict[str, NatsCredentials]
    subjects: Subjects

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture
def auth_nats(tmp_path: Path, subject_root: str) -> Iterator[AuthServer]:
    """A nats-server with the generated users and permissions for this test's root.

    Its own server per test because permissions name the root; a start costs a fraction of a
    second. The session server stays open for the tests that are not about authorisation.
    """
    subjects = Subjects(subject_root)
    config, credentials = local_server_auth(tmp_path / "nats-auth", subjects)
    server = NatsServer(free_port(), tmp_path / "nats", log_file=tmp_path / "nats.log", config=config)
    server.start()
    yield AuthServer(server, credentials, subjects)
    server.stop()
