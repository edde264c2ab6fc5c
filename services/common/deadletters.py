"""Dead letters on the `<ROOT>_DLQ` stream: read them, and replay one to the subject it came on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nats.js.api import RawStreamMsg
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from proto.streams import stream_for
from proto.subjects import Subjects
from services.common.runtime import DeadLetter

POISON = "invalid payload"  # how `durable_consumer` names a payload that is no valid event


@dataclass(frozen=True)
class Letter:
    seq: int
    at: datetime | None
    dlq_subject: str
    raw: bytes
    letter: DeadLetter | None  # None: not a DeadLetter at all (someone else published there)

    @property
    def poison(self) -> bool:
        return self.letter is not None and self.letter.error.startswith(POISON)


class DeadLetters:
    def __init__(self, js: JetStreamContext, subjects: Subjects) -> None:
        self._js = js
        self._subjects = subjects
        self.stream = stream_for(subjects, subjects.dead_letter("x")).name

    async def list(self, service: str | None = None, limit: int = 100) -> list[Letter]:
        """The oldest `limit` dead letters, of one service's consumers or of all."""
        subject = self._subjects.dead_letter(service) if service else self._subjects.dead_letter(">")
        letters: list[Letter] = []
        seq = 1
        while len(letters) < limit:
            try:
                msg = await self._js.get_msg(self.stream, seq=seq, subject=subject, next=True)
            except NotFoundError:
                break  # none left at or after `seq`
            letters.append(_letter(msg))
            seq = (msg.seq or seq) + 1
        return letters

    async def get(self, seq: int) -> Letter:
        """One dead letter by its sequence in the stream; NotFoundError when there is none."""
        return _letter(await self._js.get_msg(self.stream, seq=seq))

    async def replay(self, letter: Letter, *, keep: bool = False) -> bool:
        """Publish the dead event again to its subject, then delete the letter (unless `keep`).

        The Nats-Msg-Id is the letter's own id, not the event's: an event dead-lettered within the
        stream's duplicate window would otherwise be dropped as a repeat of itself, while a second
        replay of one letter in that window is dropped as it should be. A consumer that did apply
        the event (another consumer of the subject) skips it by its inbox, keyed by the event's id.
        Returns whether JetStream stored it (False: a repeat within the window).
        """
        if letter.letter is None:
            raise ValueError(f"message {letter.seq} is not a dead letter")
        ack = await self._js.publish(
            letter.letter.subject,
            letter.letter.payload.encode(),
            headers={"Nats-Msg-Id": f"replay-{letter.letter.event_id}", "content-type": "application/json"},
        )
        if not keep:
            await self._js.delete_msg(self.stream, letter.seq)
        return not ack.duplicate


def _letter(msg: RawStreamMsg) -> Letter:
    raw = msg.data or b""
    try:
        letter: DeadLetter | None = DeadLetter.model_validate_json(raw)
    except ValidationError:
        letter = None
    return Letter(seq=msg.seq or 0, at=msg.time, dlq_subject=msg.subject or "", raw=raw, letter=letter)
