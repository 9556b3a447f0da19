"""Create PostgreSQL databases that do not exist yet: `python -m ops.databases URL [URL ...]`."""

from __future__ import annotations

import sys

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError


def ensure(url: str) -> bool:
    """Create the database named in `url` on its server; return True when it had to be created."""
    target = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
        )
        if exists.scalar() is None:
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
            return True
    admin.dispose()
    return False


def main() -> None:
    for url in sys.argv[1:]:
        try:
            created = ensure(url)
        except OperationalError as error:
            where = make_url(url)
            reason = str(error.orig).strip().splitlines()[0] if error.orig else "unreachable"
            raise SystemExit(
                f"cannot reach database {where.database} at {where.host}:{where.port or 5432}: {reason}"
            ) from None
        if created:
            print(f"created database {make_url(url).database}")


if __name__ == "__main__":
    main()
