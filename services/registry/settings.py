from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LUOSHI_REGISTRY_", extra="ignore")

    service_name: str = "registry"


@lru_cache
def get_settings() -> RegistrySettings:
    return RegistrySettings()
