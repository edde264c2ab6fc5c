from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LUOSHI_INGEST_", extra="ignore")

    service_name: str = "ingest"
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, description="Larger uploads are refused with 413.")
    parse_memory_mb: int = Field(default=768, gt=64, description="Address-space cap of a parse child (RLIMIT_AS).")
    parse_timeout_s: float = Field(default=30.0, gt=0, description="A parse running longer is killed (422).")
    parse_workers: int = Field(default=2, ge=1, description="Uploads parsed at once; the rest wait their turn.")


@lru_cache
def get_settings() -> IngestSettings:
    return IngestSettings()
