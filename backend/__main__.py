"""Run the case backend: `python -m backend`."""

import uvicorn

from backend.settings import get_settings
from common.masking import configure_logging


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    uvicorn.run(
        "backend.app:create_app",
        factory=True,
        host=settings.backend_host,
        port=settings.backend_port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
