"""Contracts shared by every Luoshi service: events, subjects and streams. Never runs on its own."""

from proto.bulletin import BulletinPublished
from proto.clock import ClockTicked
from proto.directory import ContactChanged
from proto.envelope import Event
from proto.escalation import EscalationRaised
from proto.notice import NoticeParsed, ParsedNotice
from proto.progress import ProgressReported, StatusChanged
from proto.subjects import Subjects
from proto.task import TaskUpserted
from proto.token import TokenChanged

__all__ = [
    "BulletinPublished",
    "ClockTicked",
    "ContactChanged",
    "EscalationRaised",
    "Event",
    "NoticeParsed",
    "ParsedNotice",
    "ProgressReported",
    "StatusChanged",
    "Subjects",
    "TaskUpserted",
    "TokenChanged",
]
