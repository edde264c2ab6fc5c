"""Registry subscribers: thin shells over the domain functions."""

from __future__ import annotations

from sqlmodel import Session

from proto.notice import NoticeParsed
from services.common.runtime import ServiceRuntime
from services.registry.held import DropRule
from services.registry.settings import RegistrySettings
from services.registry.versions import CONSUMER, register_notice


def register_handlers(runtime: ServiceRuntime[RegistrySettings]) -> None:
    rule = DropRule.of(runtime.settings)

    async def on_notice_parsed(event: NoticeParsed) -> None:
        with Session(runtime.engine, expire_on_commit=False) as session:
            registered = register_notice(
                session=session, subjects=runtime.subjects, event=event, now=runtime.clock.now(), rule=rule
            )
        if registered:
            runtime.relay.kick()

    runtime.consume(
        runtime.subjects.notice_parsed,
        consumer=CONSUMER,
        model=NoticeParsed,
        handle=on_notice_parsed,
        description="Registers the tasks of a parsed notice: versions, units resolved, links suggested.",
    )
