"""A restarted service updates its own durables under its NATS user's permissions."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.natsauth import durable_name, stream_of
from services.registry.app import create_runtime
from services.registry.settings import RegistrySettings
from tests.natsauth.conftest import AuthServer
from tests.natsauth.test_permissions import connect_as

pytestmark = pytest.mark.nats


async def test_a_new_max_deliver_reaches_the_services_durables(auth_nats: AuthServer, tmp_path: Path) -> None:
    subjects = auth_nats.subjects
    creds = auth_nats.credentials["registry"]

    def settings(max_deliver: int) -> RegistrySettings:
        return RegistrySettings(
            nats_url=auth_nats.url,
            nats_user=creds.user,
            nats_password=creds.password,
            subject_root=subjects.root,
            database_url=f"sqlite:///{tmp_path / 'registry.db'}",
            max_deliver=max_deliver,
        )

    async with create_runtime(settings(5)).lifespan():
        pass
    async with create_runtime(settings(8)).lifespan():
        pass
    async with connect_as(auth_nats, "registry") as s:
        assert s.nc is not None
        js = s.nc.jetstream()
        for subject, consumer in (
            (subjects.notice_parsed, "registry-notice-parsed"),
            (subjects.token_changed_all, "registry-token-changed"),
        ):
            info = await js.consumer_info(stream_of(subjects, subject), durable_name(subjects, consumer))
            assert info.config.max_deliver == 9, consumer
        assert s.errors == []
