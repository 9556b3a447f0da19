"""Make the development secrets once per data folder and print the env files honcho should read.

Secrets have no default anywhere in the code; `make run` (development) generates random ones into
`$JIESU_DATA_DIR/dev-secrets.env`. In production they come from `.env` or the environment.
`--export FILES` prints those files' settings as shell exports, read the way honcho reads them (a file's
value wins over the environment's), so that the checks and URLs of `make run` see what the services see.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SECRET_NAMES = (
    "RASA_TOKEN",
    "ACTION_SERVER_TOKEN",
    "BACKEND_SERVICE_TOKEN",
    "BACKEND_ADMIN_PASSWORD",
    "GATEWAY_SECRET_KEY",
)


def ensure_dev_secrets(data_dir: Path) -> Path:
    """Create the development secrets file if it is missing; keep existing values of current names."""
    path = data_dir / "dev-secrets.env"
    existing: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, _, value = line.partition("=")
            if value:
                existing[name.strip()] = value.strip()
    kept = {name: existing.get(name) or secrets.token_urlsafe(24) for name in SECRET_NAMES}
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k}={v}\n" for k, v in kept.items()))
    path.chmod(0o600)
    return path


def exports(files: str) -> str:
    """Shell `export` lines for every setting in the comma-separated env files, later files winning."""
    from honcho.environ import parse

    values: dict[str, str] = {}
    for name in files.split(","):
        if name and (ROOT / name).is_file():
            values.update(parse((ROOT / name).read_text()))
    return "".join(
        f"export {key}={shlex.quote(value)}\n" for key, value in values.items() if SHELL_NAME.fullmatch(key)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", metavar="FILES", help="print these env files as shell exports")
    args = parser.parse_args()
    if args.export is not None:
        print(exports(args.export), end="")
        return
    data_dir = Path(os.environ.get("JIESU_DATA_DIR", "var/data"))
    files = []
    if os.environ.get("JIESU_ENV", "development") == "development":
        files.append(str(ensure_dev_secrets(data_dir)))
    if (ROOT / ".env").exists():
        files.append(".env")
    print(",".join(files) if files else "/dev/null")


if __name__ == "__main__":
    main()
