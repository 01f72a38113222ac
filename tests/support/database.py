"""The database the tests run on, read from the environment: SQLite unless FUPIN_TEST_DB=postgres, then the
PostgreSQL server at FUPIN_TEST_POSTGRES_URL (with FUPIN_REQUIRE_POSTGRES=1 an unreachable server ends the run
instead of skipping the tests that need a database)."""

import os

BACKEND = os.environ.get("FUPIN_TEST_DB", "sqlite")
POSTGRES_URL = os.environ.get("FUPIN_TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = os.environ.get("FUPIN_REQUIRE_POSTGRES") == "1"
