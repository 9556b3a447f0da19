"""Alembic environment of the gateway's database: runs on the connection connectors.upgrade hands over.

Its version table is `gateway_alembic_version`, so a database shared with the backend keeps the two
apart.
"""

from alembic import context
from sqlalchemy import Connection

from connectors.core.models import Base

VERSION_TABLE = "gateway_alembic_version"


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run(context.config.attributes["connection"])
