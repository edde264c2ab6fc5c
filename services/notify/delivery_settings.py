"""Delivery's settings, under notify's prefix (LUOSHI_NOTIFY_…), kept apart from the ladder's."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class DeliverySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LUOSHI_NOTIFY_", extra="ignore")

    console_base_url: str = Field(
        default="http://127.0.0.1:8000/console", description="Where links in messages point (the console's root)."
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server for e-mail deliveries.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str = Field(default="", description="SMTP login; empty means none.")
    smtp_password: SecretStr = Field(default=SecretStr(""), description="SMTP password; never logged.")
    smtp_from: str = Field(default="luoshi@localhost", description="The From address of e-mails.")
    smtp_starttls: bool = Field(default=False, description="Upgrade the SMTP connection with STARTTLS.")
    webhook_secret: SecretStr = Field(
        default=SecretStr(""), description="Signs webhook bodies when a subscription has no secret of its own."
    )
    max_attempts: int = Field(
        default=14, ge=1, description="Failed tries before a dead letter; 14 keep trying for over an hour at least."
    )
    retry_base_s: float = Field(default=5.0, gt=0, description="First retry delay; doubles per try, with jitter.")
    retry_max_s: float = Field(default=1800.0, gt=0, description="Longest delay between two tries.")
    send_timeout_s: float = Field(default=10.0, gt=0, description="How long one send may take.")
    worker_interval_s: float = Field(default=1.0, gt=0, description="How often due deliveries are looked for.")
    lease_s: float = Field(
        default=120.0, gt=0, description="A claimed delivery is due again after this long if its send never settled."
    )
    batch_max: int = Field(default=200, ge=1, description="Most items in one message (a digest).")
    robot_per_minute: int = Field(default=20, ge=1, description="Messages a minute to one DingTalk/WeCom robot.")
    keyword: str = Field(default="督办", description="Word every robot message holds (DingTalk's keyword rule).")
    office_email: str = Field(default="", description="The office's address: its default e-mail subscription.")
    office_robot_channel: str = Field(default="dingtalk", description="dingtalk or wecom, for office_robot_url.")
    office_robot_url: str = Field(default="", description="The office's group robot: its default robot subscription.")
    office_robot_secret: SecretStr = Field(default=SecretStr(""), description="That robot's 加签 secret.")
