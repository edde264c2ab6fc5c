"""Every NATS subject Luoshi uses, in one place.

The tree (root ``luoshi`` by default; tests use their own root so they never collide):

    luoshi.notice.parsed                     ingest → registry
    luoshi.task.upserted                     registry → progress, notify
    luoshi.progress.reported                 progress → notify
    luoshi.status.changed                    progress → notify
    luoshi.progress.signed                   progress → notify (a host unit signed for a task)
    luoshi.escalation.raised.<level>.<unit>  notify → supervisors (level: advance|reminder|red|head)
    luoshi.escalation.leader.<post>.<level>  notify → supervisors (the same, once per lead leader's post)
    luoshi.clock.tick                        the clock → notify
    luoshi.bulletin.published                progress → subscribers
    luoshi.token.changed.<token_id>          progress → every service (token issued or revoked)
    luoshi.directory.contact.changed.<kind>.<id>  registry → notify (a unit's or post's robot, e-mail)
    luoshi.dlq.<consumer>                    events a consumer gave up on, kept for inspection
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

DEFAULT_ROOT = "luoshi"


def unit_token(unit: str) -> str:
    """A subject-safe token for a unit name (NATS tokens may not hold `.`, `*`, `>` or spaces)."""
    return "u" + hashlib.sha1(unit.encode("utf-8")).hexdigest()[:10]


@dataclass(frozen=True)
class Subjects:
    root: str = DEFAULT_ROOT

    @property
    def notice_parsed(self) -> str:
        return f"{self.root}.notice.parsed"

    @property
    def task_upserted(self) -> str:
        return f"{self.root}.task.upserted"

    @property
    def progress_reported(self) -> str:
        return f"{self.root}.progress.reported"

    @property
    def progress_signed(self) -> str:
        return f"{self.root}.progress.signed"

    @property
    def status_changed(self) -> str:
        return f"{self.root}.status.changed"

    @property
    def escalation_raised_all(self) -> str:
        return f"{self.root}.escalation.raised.>"

    def escalation_raised_level(self, level: str) -> str:
        """Every escalation of one ladder level, whatever the unit: `<root>.escalation.raised.<level>.>`."""
        return f"{self.root}.escalation.raised.{level}.>"

    def escalation_raised(self, level: str, unit: str) -> str:
        return f"{self.root}.escalation.raised.{level}.{unit_token(unit)}"

    def escalation_raised_for_id(self, level: str, unit_id: str) -> str:
        """The subject for a unit known by its directory id (already subject-safe ASCII)."""
        return f"{self.root}.escalation.raised.{level}.{unit_id}"

    def escalation_leader(self, post: str, level: str) -> str:
        """Every step of one leader's tasks: subscribe to `escalation.leader.<post>.>`."""
        return f"{self.root}.escalation.leader.{post}.{level}"

    @property
    def clock_tick(self) -> str:
        return f"{self.root}.clock.tick"

    @property
    def bulletin_published(self) -> str:
        return f"{self.root}.bulletin.published"

    def token_changed(self, token_id: str) -> str:
        return f"{self.root}.token.changed.{token_id}"

    @property
    def token_changed_all(self) -> str:
        return f"{self.root}.token.changed.*"

    def directory_contact_changed(self, kind: str, owner_id: str) -> str:
        return f"{self.root}.directory.contact.changed.{kind}.{owner_id}"

    @property
    def directory_contact_changed_all(self) -> str:
        return f"{self.root}.directory.contact.changed.>"

    def dead_letter(self, consumer: str) -> str:
        return f"{self.root}.dlq.{consumer}"
