"""The AsyncAPI document of every service's broker, generated into proto/."""

from __future__ import annotations

from pathlib import Path

import yaml
from faststream.specification import AsyncAPI

import proto

ASYNCAPI_PATH = Path(proto.__file__).resolve().parent / "asyncapi.yaml"


def render_asyncapi() -> str:
    from services.ingest.app import create_runtime as ingest
    from services.ingest.settings import IngestSettings
    from services.notify.app import create_runtime as notify
    from services.notify.settings import NotifySettings
    from services.progress.app import create_runtime as progress
    from services.progress.settings import ProgressSettings
    from services.registry.app import create_runtime as registry
    from services.registry.settings import RegistrySettings

    # An in-memory database and default names: the document must not depend on the machine.
    common = {"database_url": "sqlite://", "nats_url": "nats://nats:4222", "subject_root": "luoshi"}
    runtimes = [
        ingest(IngestSettings(**common)),  # type: ignore[arg-type]
        registry(RegistrySettings(**common)),  # type: ignore[arg-type]
        progress(ProgressSettings(**common)),  # type: ignore[arg-type]
        notify(NotifySettings(**common)),  # type: ignore[arg-type]
    ]
    spec = AsyncAPI(
        *(r.broker for r in runtimes),
        title="Luoshi events",
        version="1.0.0",
        description="落实 Luoshi: every event the services publish and consume on NATS JetStream.",
    )
    # FastStream's key order follows set iteration; sorted keys make the document reproducible.
    document = yaml.safe_load(spec.to_specification().to_yaml())
    return yaml.safe_dump(document, sort_keys=True, allow_unicode=True, width=120)
