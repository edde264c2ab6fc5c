from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings


class ProgressSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LUOSHI_PROGRESS_", extra="ignore")

    service_name: str = "progress"
    yellow_gap: float = Field(default=10.0, description="Points behind the expected percent that turn a task yellow.")
    red_gap: float = Field(default=30.0, description="Points behind the expected percent that turn a task red.")
    max_narrative_chars: int = Field(default=5000, description="Longest accepted 工作进展 text.")


@lru_cache
def get_settings() -> ProgressSettings:
    return ProgressSettings()
