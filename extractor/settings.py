"""Runtime settings from the environment (GONGKAI_*), with embedded defaults that need no service."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

SAMPLE_REPORT = Path(__file__).parent / "data" / "sample-shanghai-office-2019.html"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GONGKAI_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///gongkai.db"
    max_file_mb: float = 50.0
    broker_url: str = "redis://127.0.0.1:6379/0"  # Celery broker for `gongkai worker` / `gongkai submit`
    result_backend: str = "redis://127.0.0.1:6379/1"  # short-lived section results; final results go to the DB

    @property
    def max_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


def get_settings() -> Settings:
    return Settings()
