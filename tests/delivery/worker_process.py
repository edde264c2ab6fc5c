"""The delivery worker alone in a process, on the wall clock, for the kill -9 test."""

from __future__ import annotations

import asyncio
import sys

from services.common.clock import SystemClock
from services.common.db import make_engine
from services.common.workdays import WorkCalendar
from services.notify.delivery_settings import DeliverySettings
from services.notify.worker import DeliveryWorker

if __name__ == "__main__":
    engine = make_engine(sys.argv[1])
    asyncio.run(DeliveryWorker(engine, DeliverySettings(), SystemClock(), WorkCalendar()).run())
