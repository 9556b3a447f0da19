"""The base of every service's typed settings: read once from environment variables, fail fast."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal, Self, TypedDict, TypeVar

from pydantic import SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

S = TypeVar("S", bound="ServiceSettings")
HOW_TO_SET = (
    "set it in the environment or .env (`make run` makes development secrets when JIESU_ENV=development)"
)


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

    @model_validator(mode="after")
    def required_secrets_are_not_empty(self) -> Self:
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if field.is_required() and isinstance(value, SecretStr) and not value.get_secret_value().strip():
                raise ValueError(f"{name.upper()} is empty: {HOW_TO_SET}")
        return self

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


def missing(error: ValidationError) -> list[str]:
    """The settings a service needs and was not given (its secrets: nothing else lacks a default)."""
    return [setting_name(item["loc"]) for item in error.errors() if item["type"] == "missing"]


def setting_name(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc).upper()


def problems(error: ValidationError, service: str, *, with_missing: bool = True) -> list[str]:
    """One clear line for each thing wrong with a service's settings."""
    lines = []
    for item in error.errors():
        name = setting_name(item["loc"])
        if item["type"] == "missing":
            if with_missing:
                lines.append(f"{name} is not set: {service} cannot start without it; {HOW_TO_SET}")
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
            lines.append(f"{service}: {name + ': ' if name else ''}{message}")
    return lines


def load_settings(factory: Callable[[], S], service: str) -> S:
    """The service's settings, or an exit with one line per problem instead of a traceback."""
    try:
        return factory()
    except ValidationError as error:
        raise SystemExit("\n".join(problems(error, service))) from None
