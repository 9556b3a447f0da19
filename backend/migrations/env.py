"""Alembic environment: runs on the connection handed over by backend.db.migrate, or on the URL."""

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool

import backend.models  # noqa: F401  (registers every table on Base.metadata)
from backend.db import Base

config = context.config
target_metadata = Base.metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = engine_from_config(config.get_section(config.config_ini_section) or {}, poolclass=pool.NullPool)
    with engine.connect() as conn:
        run(conn)
