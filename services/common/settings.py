"""Settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from proto.subjects import DEFAULT_ROOT
from services.common.clock import DEFAULT_TIMEZONE
from services.common.natscreds import NatsCredentials
from services.common.streams import StreamLimits
from services.common.workdaysfile import load_calendar


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LUOSHI_", extra="ignore")

    service_name: str = "luoshi"
    nats_url: str = Field(default="nats://127.0.0.1:4222", description="NATS server(s), comma separated.")
    nats_user: str = Field(default="", description="NATS user; empty (with a password) means the service's name.")
    nats_password: SecretStr = Field(default=SecretStr(""), description="NATS password; empty means no credentials.")
    nats_password_file: Path | None = Field(
        default=None, description="File holding the NATS password (a compose secret), read when nats_password is empty."
    )
    public_metrics: bool = Field(
        default=False, description="Let anyone read /metrics without a token (for a scraper on a private network)."
    )
    metrics_sample_s: float = Field(
        default=15.0, gt=0, description="How often the outbox backlog and the consumers' pending counts are sampled."
    )
    database_url: str = Field(default="", description="SQLAlchemy URL; empty means a SQLite file in data_dir.")
    data_dir: Path = Field(default=Path("var"), description="Folder for the SQLite files.")
    subject_root: str = Field(default=DEFAULT_ROOT, description="Root of every subject and stream name.")
    max_deliver: int = Field(default=8, ge=1, description="Deliveries of one event before it goes to the dead letters.")
    # 531 s from the first failure to the dead letters: a database restart or fail-over fits.
    retry_backoff_s: list[float] = Field(
        default=[1, 5, 15, 30, 60, 120, 300],
        min_length=1,
        description="Seconds before each redelivery of an event whose handler failed; the last repeats.",
    )
    outbox_interval_s: float = Field(default=1.0, description="How often unpublished events are retried.")
    max_body_bytes: int = Field(
        default=1024 * 1024, gt=0, description="Largest request body a route takes unless it sets its own (413 beyond)."
    )
    outbox_keep_days: float = Field(
        default=7.0, ge=0, description="Days a published event stays in the outbox before it is deleted (0: kept)."
    )
    timezone: str = Field(
        default=DEFAULT_TIMEZONE,
        description="IANA zone of the government's days: periods, due dates, 'today' and the daily clock.tick.",
    )

    workdays_file: Path | None = Field(
        default=None,
        description="YAML or JSON file of the office's `holidays` and `workdays` (调休) lists; they win over "
        "the chinese-calendar package's arrangement. A file that does not parse stops the service at start.",
    )

    @field_validator("workdays_file")
    @classmethod
    def _readable_workdays(cls, value: Path | None) -> Path | None:
        if value is not None:
            load_calendar(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    # Limits of a stream when a service creates it; an existing stream keeps its own (see `streams`).
    # Give every service the same values: whichever starts first creates the streams.
    stream_max_age_days: float = Field(default=90.0, ge=0, description="Age at which events leave a stream (0: never).")
    dlq_max_age_days: float = Field(
        default=365.0, ge=0, description="Age at which dead letters leave theirs (0: never)."
    )
    stream_max_bytes: int = Field(
        default=-1, ge=-1, description="Bytes a stream may hold (-1: no limit); full: refuses."
    )
    stream_replicas: int = Field(default=1, ge=1, le=5, description="Copies of each stream (3 in a 3-node cluster).")
    stream_storage: Literal["file", "memory"] = Field(default="file", description="Where streams are kept.")

    def nats_credentials(self) -> NatsCredentials | None:
        password = self.nats_password.get_secret_value()
        if not password and self.nats_password_file is not None:
            password = self.nats_password_file.read_text(encoding="utf-8").strip()
        if not password:
            return None
        return NatsCredentials(self.nats_user or self.service_name, password)

    def stream_limits(self) -> StreamLimits:
        return StreamLimits(
            max_age_days=self.stream_max_age_days,
            dlq_max_age_days=self.dlq_max_age_days,
            max_bytes=self.stream_max_bytes,
            replicas=self.stream_replicas,
            storage=self.stream_storage,
        )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / f'{self.service_name}.db').resolve()}"
