from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LUOSHI_REGISTRY_", extra="ignore")

    service_name: str = "registry"
    max_drop_share: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="A new version removing more than this share of the notice's tasks is held for the office.",
    )
    hold_min_removed: int = Field(
        default=2,
        ge=1,
        description="Fewest removed tasks that can hold a version: removing fewer applies at once, whatever the share.",
    )


@lru_cache
def get_settings() -> RegistrySettings:
    return RegistrySettings()
