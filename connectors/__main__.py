"""Run the channel gateway: `python -m connectors`."""

import uvicorn

from common.masking import configure_logging
from connectors.settings import get_settings


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    uvicorn.run(
        "connectors.app:create_app",
        factory=True,
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
