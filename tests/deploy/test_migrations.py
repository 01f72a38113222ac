"""Every service's migrations build exactly the tables its models declare (nothing left for autogenerate)."""

import importlib

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.catalog import ALL
from shared.migrations import upgrade


@pytest.mark.parametrize("service", [entry.name for entry in ALL])
def test_the_migrations_match_the_models(service, tmp_path):
    path = tmp_path / f"{service}.db"
    upgrade(service, f"sqlite+aiosqlite:///{path}")
    models = importlib.import_module(f"services.{service}.models")
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), models.Base.metadata) == []
    finally:
        engine.dispose()
