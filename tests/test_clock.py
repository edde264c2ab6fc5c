"""The government's day: clocks, the time zone setting, the daily tick and UTC timestamp columns."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from proto.subjects import Subjects
from services.common.clock import CHINA, ManualClock, SystemClock, local_date
from services.common.db import create_tables, make_engine
from services.common.inbox import InboxEntry
from services.common.outbox import OutboxEntry
from services.common.timestamps import UtcDateTime
from services.notify.models import ClockState, Escalation
from services.notify.service import tick_if_new_day
from services.notify.settings import NotifySettings
from services.progress.settings import ProgressSettings

# 2026-03-31 23:59 and 2026-04-01 00:01 in Beijing, the last and first minute of a month there.
BEFORE_MIDNIGHT = datetime(2026, 3, 31, 15, 59, tzinfo=UTC)
AFTER_MIDNIGHT = datetime(2026, 3, 31, 16, 1, tzinfo=UTC)


def test_a_clock_gives_the_date_in_china_not_in_utc() -> None:
    clock = ManualClock(BEFORE_MIDNIGHT)
    assert clock.today() == date(2026, 3, 31)
    clock.set(AFTER_MIDNIGHT)
    assert (clock.now().date(), clock.today()) == (date(2026, 3, 31), date(2026, 4, 1))
    assert clock.date_of(BEFORE_MIDNIGHT) == date(2026, 3, 31)
    assert ManualClock(AFTER_MIDNIGHT, ZoneInfo("UTC")).today() == date(2026, 3, 31)


def test_a_stored_naive_timestamp_is_utc() -> None:
    assert local_date(datetime(2026, 3, 31, 16, 1), CHINA) == date(2026, 4, 1)
    assert local_date(datetime(2026, 4, 1, 0, 1, tzinfo=timezone(timedelta(hours=8))), CHINA) == date(2026, 4, 1)


def test_the_time_zone_is_a_setting_of_each_service(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ProgressSettings().zone == CHINA
    monkeypatch.setenv("LUOSHI_PROGRESS_TIMEZONE", "Asia/Urumqi")
    assert ProgressSettings().zone == ZoneInfo("Asia/Urumqi")
    assert NotifySettings().zone == CHINA  # another service's prefix
    for bad in ("Beijing", "../../etc/passwd", ""):
        with pytest.raises(ValidationError, match="time zone"):
            ProgressSettings(timezone=bad)
    assert SystemClock(ProgressSettings(timezone="UTC").zone).zone == ZoneInfo("UTC")


def test_the_clock_ticks_when_the_date_changes_in_beijing(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'notify.db'}")
    create_tables(engine, [InboxEntry, OutboxEntry, Escalation, ClockState])
    subjects, clock = Subjects("t"), ManualClock(BEFORE_MIDNIGHT - timedelta(hours=12))
    with Session(engine) as session:

        def tick() -> bool:
            return tick_if_new_day(session=session, subjects=subjects, today=clock.today())

        assert tick()  # 2026-03-31
        clock.set(BEFORE_MIDNIGHT)
        assert not tick()
        clock.set(AFTER_MIDNIGHT)  # still the 31st in UTC
        assert tick()
        clock.set(datetime(2026, 4, 1, 0, 30, tzinfo=UTC))  # UTC's new date, Beijing's same one
        assert not tick()
        ids = [e.event_id for e in session.exec(select(OutboxEntry)).scalars()]  # type: ignore[call-overload]
    assert ids == ["tick-2026-03-31", "tick-2026-04-01"]
    engine.dispose()


def test_timestamp_columns_store_utc_and_read_back_aware(sql_engine: Engine) -> None:
    table = Table("stamps", MetaData(), Column("id", Integer, primary_key=True), Column("at", UtcDateTime))
    table.create(sql_engine)
    beijing = datetime(2026, 4, 1, 0, 1, tzinfo=timezone(timedelta(hours=8)))
    with sql_engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET TIME ZONE 'Asia/Shanghai'"))  # the server's zone shifts nothing
        conn.execute(insert(table), [{"id": 1, "at": beijing}, {"id": 2, "at": datetime(2026, 3, 31, 16, 1)}])
        stored = conn.execute(text("SELECT CAST(at AS TEXT) FROM stamps WHERE id = 1")).scalar_one()
        rows = dict(conn.execute(select(table.c.id, table.c.at)).all())
    assert stored.startswith("2026-03-31 16:01")
    assert rows == {1: AFTER_MIDNIGHT, 2: AFTER_MIDNIGHT}
    assert all(at.tzinfo is not None for at in rows.values())


def test_a_service_takes_its_clock_and_rules_zone_from_its_settings_or_its_clock(tmp_path: Path) -> None:
    from services.progress.app import create_app

    urumqi, utc = ZoneInfo("Asia/Urumqi"), ZoneInfo("UTC")
    app = create_app(ProgressSettings(data_dir=tmp_path, timezone="Asia/Urumqi"))
    assert app.state.runtime.clock.zone == app.state.rules.zone == urumqi
    app.state.runtime.engine.dispose()
    app = create_app(ProgressSettings(data_dir=tmp_path), ManualClock(AFTER_MIDNIGHT, utc))
    assert app.state.runtime.clock.zone == app.state.rules.zone == utc
    app.state.runtime.engine.dispose()
