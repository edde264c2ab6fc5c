"""The ladder's rules: a YAML file with documented defaults, reloaded when it changes.

A file that does not parse, or names a rule or setting nobody knows, is refused as a whole: the
service keeps the last good rules and says why (`RuleBook.error`, `GET /api/notify/rules`), so a
typo never silences the chase.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

log = logging.getLogger(__name__)

DEFAULT_FILE = Path(__file__).with_name("rules.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Advance(_Strict):
    report_days: int = Field(default=3, ge=0, le=60)
    due_days: int = Field(default=10, ge=0, le=120)


class Chase(_Strict):
    receipt_days: int = Field(default=3, ge=0, le=60)
    repeat_after: tuple[int, ...] = Field(default=(1, 3, 7), max_length=20)

    @field_validator("repeat_after")
    @classmethod
    def _positive(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(n < 1 or n > 120 for n in value):
            raise ValueError("each repeat is 1 to 120 working days")
        return value


class Escalate(_Strict):
    reopen_days: int = Field(default=10, ge=0, le=120)
    head_after: int = Field(default=5, ge=1, le=120)
    ack_pause: int = Field(default=5, ge=1, le=120)


class Office(_Strict):
    name: str = Field(default="督查室", min_length=1, max_length=50)
    head: str = Field(default="督查室主任", min_length=1, max_length=50)


class Switches(_Strict):
    advance_report: bool = True
    advance_due: bool = True
    report_missing: bool = True
    receipt_missing: bool = True
    red: bool = True
    unanswered: bool = True
    head: bool = True


RULE_NAMES = tuple(Switches.model_fields)


class Rules(_Strict):
    advance: Advance = Advance()
    chase: Chase = Chase()
    escalate: Escalate = Escalate()
    office: Office = Office()
    chase_external: bool = False
    rules: Switches = Switches()

    def on(self, rule: str) -> bool:
        return bool(getattr(self.rules, rule, False))


def parse_rules(text: str) -> Rules:
    """The rules a YAML text gives; ValueError with the reason when it does not."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"not YAML: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError("the rules file must be a mapping")
    try:
        return Rules.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(problems) from None


@dataclass
class RuleBook:
    """The rules in force, re-read whenever their file changes."""

    path: Path
    rules: Rules
    error: str | None = None
    _stamp: tuple[float, int] | None = None

    @classmethod
    def load(cls, path: Path | None) -> RuleBook:
        book = cls(path=path or DEFAULT_FILE, rules=Rules())
        book.current()
        return book

    def current(self) -> Rules:
        """The rules now: the file's when it changed and parses, else the last good ones."""
        try:
            stat = os.stat(self.path)
        except OSError as exc:
            self._refuse(f"cannot read {self.path}: {exc.strerror}")
            return self.rules
        stamp = (stat.st_mtime, stat.st_size)
        if stamp == self._stamp:
            return self.rules
        self._stamp = stamp
        try:
            self.rules = parse_rules(self.path.read_text(encoding="utf-8"))
            self.error = None
            log.info("notify rules loaded from %s", self.path)
        except (ValueError, OSError, UnicodeDecodeError) as exc:
            self._refuse(str(exc))
        return self.rules

    def _refuse(self, why: str) -> None:
        if why != self.error:
            log.error("notify rules in %s refused, keeping the last good ones: %s", self.path, why)
        self.error = why
