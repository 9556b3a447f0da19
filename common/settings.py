"""The base of every service's typed settings: read once from environment variables, fail fast."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypedDict

from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiDocsUrls(TypedDict):
    docs_url: str | None
    redoc_url: str | None
    openapi_url: str | None


class ServiceSettings(BaseSettings):
    """Settings every service shares; each service subclasses this with its own fields."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    jiesu_env: Literal["development", "test", "production"] = "development"
    jiesu_data_dir: Path = Path("var/data")
    log_level: str = "INFO"

    def data_path(self, name: str) -> Path:
        """Return a file in the data folder, creating the folder if needed."""
        self.jiesu_data_dir.mkdir(parents=True, exist_ok=True)
        return self.jiesu_data_dir / name

    def sqlite_url(self, name: str) -> str:
        return f"sqlite:///{self.data_path(name).resolve()}"

    def api_docs_urls(self) -> ApiDocsUrls:
        """FastAPI's API documentation routes: served in development and tests, never in production."""
        served = self.jiesu_env != "production"
        return {
            "docs_url": "/docs" if served else None,
            "redoc_url": "/redoc" if served else None,
            "openapi_url": "/openapi.json" if served else None,
        }
