from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LUOSHI_NOTIFY_", extra="ignore")

    service_name: str = "notify"
    tick_check_s: float = Field(
        default=60.0, description="How often the clock is checked; a clock.tick goes out once per new date."
    )
    rules_file: Path | None = Field(
        default=None,
        description="The ladder's rules (YAML); reloaded when it changes. None: the documented defaults "
        "(services/notify/rules.yaml).",
    )


@lru_cache
def get_settings() -> NotifySettings:
    return NotifySettings()
