"""Settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from proto.subjects import DEFAULT_ROOT
from services.common.natscreds import NatsCredentials


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
    max_deliver: int = Field(default=5, description="Deliveries of one event before it goes to the dead letters.")
    outbox_interval_s: float = Field(default=1.0, description="How often unpublished events are retried.")
    max_body_bytes: int = Field(
        default=1024 * 1024, gt=0, description="Largest request body a route takes unless it sets its own (413 beyond)."
    )
    outbox_keep_days: float = Field(
        default=7.0, ge=0, description="Days a published event stays in the outbox before it is deleted (0: kept)."
    )

    def nats_credentials(self) -> NatsCredentials | None:
        password = self.nats_password.get_secret_value()
        if not password and self.nats_password_file is not None:
            password = self.nats_password_file.read_text(encoding="utf-8").strip()
        if not password:
            return None
        return NatsCredentials(self.nats_user or self.service_name, password)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / f'{self.service_name}.db').resolve()}"
