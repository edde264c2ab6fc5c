"""JetStream streams: one per producing domain, file-backed, with a duplicate window.

The duplicate window is what turns `Nats-Msg-Id` (the event id) into exactly-once publishing
across client retries.
"""

from __future__ import annotations

from dataclasses import dataclass

from proto.subjects import Subjects

DUPLICATE_WINDOW_S = 120.0

# What a stream keeps, which decides the limits a deployment gives it (`services.common.streams`):
# events for a while, dead letters longer, and the current state of each subject for ever.
EVENTS = "events"
DEAD_LETTERS = "dead_letters"
CURRENT = "current"


@dataclass(frozen=True)
class StreamDef:
    name: str
    subjects: tuple[str, ...]
    description: str
    duplicate_window: float = DUPLICATE_WINDOW_S
    # -1: no limit. 1 makes the stream a compacted log holding the current state of each subject.
    max_msgs_per_subject: int = -1
    keeps: str = EVENTS


def stream_defs(subjects: Subjects) -> list[StreamDef]:
    prefix = subjects.root.replace(".", "_").replace("-", "_").upper()
    root = subjects.root
    return [
        StreamDef(f"{prefix}_NOTICE", (f"{root}.notice.>",), "Parsed notices"),
        StreamDef(f"{prefix}_TASK", (f"{root}.task.>",), "Registry task changes"),
        StreamDef(f"{prefix}_PROGRESS", (f"{root}.progress.>", f"{root}.status.>"), "Reports and status"),
        StreamDef(f"{prefix}_ESCALATION", (f"{root}.escalation.>",), "Escalations to supervisors"),
        StreamDef(f"{prefix}_CLOCK", (f"{root}.clock.>",), "Clock ticks"),
        StreamDef(f"{prefix}_BULLETIN", (f"{root}.bulletin.>",), "Published bulletins"),
        StreamDef(
            f"{prefix}_TOKEN",
            (f"{root}.token.>",),
            "API tokens issued and revoked",
            max_msgs_per_subject=1,
            keeps=CURRENT,
        ),
        StreamDef(
            f"{prefix}_DIRECTORY",
            (f"{root}.directory.>",),
            "Contacts of units and posts",
            max_msgs_per_subject=1,
            keeps=CURRENT,
        ),
        StreamDef(f"{prefix}_DLQ", (f"{root}.dlq.>",), "Dead letters", keeps=DEAD_LETTERS),
    ]


def stream_for(subjects: Subjects, subject: str) -> StreamDef:
    for stream in stream_defs(subjects):
        for pattern in stream.subjects:
            if subject.startswith(pattern.removesuffix(">")):
                return stream
    raise KeyError(subject)
