"""Alembic migrations of the operational store, run by :func:`tierslieux.store.open_store`."""
