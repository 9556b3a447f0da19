"""The channel gateway's commands: `python -m connectors [serve|retention|wechat-menu]`."""

from __future__ import annotations

import argparse
import asyncio

import uvicorn

from common.masking import configure_logging
from common.memory import keep_memory_lean
from common.settings import load_settings
from connectors.settings import get_settings


def serve() -> None:
    settings = get_settings()
    uvicorn.run(
        "connectors.app:create_app",
        factory=True,
        host=settings.gateway_host,
        port=settings.gateway_port,
        forwarded_allow_ips=settings.gateway_forwarded_allow_ips,
        log_config=None,
        access_log=False,
    )


def retention() -> None:
    """Forget what is older than RETENTION_DAYS days now (transcripts, uploads, Rasa's tracker
    events), under the job's lease: the gateway also runs it daily by itself (JOBS_RETENTION_CRON)."""
    from connectors.clock import RETENTION, make_clock

    clock = make_clock(get_settings())
    try:
        print(f"{RETENTION}: {clock.run_now(RETENTION).outcome}")
    finally:
        clock.leases.engine.dispose()


def wechat_menu() -> None:
    """Set the WeChat account's menu: 报事 and 查进度 (run once after configuring the account)."""
    from connectors.wechat.api import WeChatApi
    from connectors.wechat.routes import MENU_BUTTONS

    settings = get_settings()
    if not (settings.wechat_on and settings.wechat_app_id and settings.wechat_app_secret):
        raise SystemExit("WeChat is off: set WECHAT_TOKEN, WECHAT_APP_ID and WECHAT_APP_SECRET")

    async def run() -> None:
        api = WeChatApi(
            base_url=settings.wechat_api_base_url,
            app_id=settings.wechat_app_id or "",
            app_secret=settings.wechat_app_secret.get_secret_value() if settings.wechat_app_secret else "",
        )
        try:
            await api.create_menu(MENU_BUTTONS)
        finally:
            await api.close()

    asyncio.run(run())
    print("WeChat menu set: " + ", ".join(b["name"] for b in MENU_BUTTONS))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m connectors", description=__doc__)
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "retention", "wechat-menu"])
    args = parser.parse_args()
    keep_memory_lean()
    configure_logging(load_settings(get_settings, "the gateway").log_level)
    {"serve": serve, "retention": retention, "wechat-menu": wechat_menu}[args.command]()


if __name__ == "__main__":
    main()
