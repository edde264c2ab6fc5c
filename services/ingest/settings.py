from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LUOSHI_INGEST_", extra="ignore")

    service_name: str = "ingest"
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, description="Larger uploads are refused with 413.")


@lru_cache
def get_settings() -> IngestSettings:
    return IngestSettings()
