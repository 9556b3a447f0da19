"""Import every table so that `Base.metadata` knows the whole schema (for Alembic and tests)."""
