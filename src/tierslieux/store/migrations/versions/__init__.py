"""Migration scripts, one per schema revision (alembic loads them by path)."""
