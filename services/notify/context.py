"""What every decision of the process is taken with: the rules, the calendar, the day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from proto.subjects import Subjects
from services.common.workdays import WorkCalendar
from services.notify.outgoing import DeliveryPlanner, plan_nothing
from services.notify.rules import Rules


@dataclass(frozen=True)
class Context:
    subjects: Subjects
    rules: Rules
    calendar: WorkCalendar
    today: date  # the China date of the event or tick being handled
    now: datetime  # UTC
    console_url: str = ""
    planner: DeliveryPlanner = plan_nothing

    def link(self, task_id: str) -> str:
        return f"{self.console_url.rstrip('/')}/tasks/{task_id}"

    def after(self, working_days: int) -> date:
        return self.calendar.add_working_days(self.today, working_days)
