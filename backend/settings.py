"""The case backend's settings, read once from the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr

from common.clock import Schedule
from common.settings import ServiceSettings


class BackendSettings(ServiceSettings):
    backend_host: str = "127.0.0.1"
    backend_port: int = 8000
    backend_database_url: str | None = None
    backend_service_token: SecretStr
    backend_admin_password: SecretStr | None = None
    backend_session_ttl_minutes: int = 8 * 60
    backend_routing_rate_per_minute: int = 120
    backend_open311_rate_per_minute: int = 60
    backend_open311_jurisdiction: str = "beijing.gov.cn"  # Open311 jurisdiction_id: the city's site
    backend_open311_contact: str = "北京12345市民服务热线：Open311接口的问题请联系热线系统管理员"
    routing_models_dir: Path = Path("models/routing")
    retention_days: int = 180

    # jobs that run by themselves (the `clock` process): crontab lines in Beijing time, or "off"
    clock_port: int = 8001  # the clock's health endpoint
    jobs_archive_cron: Schedule = "0 2 * * *"
    jobs_retention_cron: Schedule = "30 2 * * *"
    jobs_overdue_cron: Schedule = "*/5 * * * *"
    jobs_hotspots_cron: Schedule = "0 6 * * *"
    jobs_lease_s: int = Field(600, ge=30)  # a job's lease lasts this long unless its holder renews it
    due_soon_share: float = Field(0.2, gt=0, lt=1)  # 临期: less than this share of the time limit left
    hotspot_window_days: int = Field(7, ge=1, le=90)
    hotspot_min_count: int = Field(3, ge=1)
    hotspot_min_growth: float = Field(1.5, ge=1)
    cluster_window_days: int = Field(30, ge=1, le=366)  # similar appeals in one street (主动治理)
    cluster_min_size: int = Field(3, ge=2)
    cluster_min_similarity: float = Field(0.12, gt=0, le=1)  # TF-IDF cosine of two descriptions
    summons_hours: int = Field(24, ge=1, le=24 * 30)  # a summoned department checks in (报到) within this

    @property
    def database_url(self) -> str:
        return self.backend_database_url or self.sqlite_url("backend.db")


@lru_cache
def get_settings() -> BackendSettings:
    return BackendSettings()  # required fields come from the environment
