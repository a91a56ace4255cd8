"""Shared fixtures.

Database tests run against the project-local PostgreSQL cluster (scripts/localdb.sh). A template
database is built once per session by the real `supabase db reset --db-url` (platform shim,
migrations, seed); pytest-postgresql then clones it for every test that asks for `postgresql`,
so each test starts from the same clean, seeded state.
"""

from __future__ import annotations

import subprocess
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pytest_postgresql import factories

ROOT = Path(__file__).resolve().parents[1]
# The port of the cluster under test: LOCAL_DB_PORT (PostgreSQL 15) or, with PG_MAJOR=17,
# LOCAL_DB_PORT_17; scripts/localdb.sh owns that rule.
DB_PORT = int(subprocess.run([str(ROOT / "scripts" / "localdb.sh"), "port"], check=True,
                             capture_output=True, text=True).stdout)
SECRET = "test-webhook-secret"

SUNRISE = "11111111-1111-4111-8111-111111111111"  # seed: America/New_York
BAYVIEW = "22222222-2222-4222-8222-222222222222"  # seed: America/Los_Angeles
NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def _localdb(*args: str) -> None:
    subprocess.run([str(ROOT / "scripts" / "localdb.sh"), *args], check=True, stdout=subprocess.DEVNULL)


def pytest_sessionstart(session):
    _localdb("start")


def load_migrations(host, port, user, dbname, password=None, **_):
    """pytest-postgresql loader: build the template with the real Supabase CLI reset."""
    _localdb("reset", dbname)


postgresql_noproc = factories.postgresql_noproc(
    host="127.0.0.1", port=DB_PORT, user="postgres", dbname="booking_test", load=[load_migrations]
)
postgresql = factories.postgresql("postgresql_noproc")


@pytest.fixture
def database_url(postgresql) -> str:
    info = postgresql.info
    return f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}?sslmode=disable"


@pytest.fixture
def sql(postgresql):
    """Run a query as the test's superuser connection (autocommit) and return all rows."""
    postgresql.autocommit = True

    def run(query: str, params=None):
        with postgresql.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []

    return run


@pytest.fixture
def app(database_url):
    from api import create_app

    app = create_app({"TESTING": True, "APP_ENV": "test", "VAPI_SECRET": SECRET,
                      "DATABASE_URL": database_url, "DB_POOL_MAX": 4})
    yield app
    app.extensions["deps"].gateway.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def unreachable_app():
    """The app pointed at a port where no database listens, failing fast."""
    from api import create_app

    app = create_app({"APP_ENV": "test", "VAPI_SECRET": SECRET, "RPC_TIMEOUT_MS": 1000,
                      "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=1"})
    app.extensions["deps"].gateway._pool.timeout = 1.0
    yield app
    app.extensions["deps"].gateway.close()


AUTH = {"X-Vapi-Secret": SECRET}


def next_open_day(tz: ZoneInfo = NEW_YORK, *, min_days: int = 2, weekdays=(0, 1, 2, 3, 4)) -> date:
    """A clinic-local date at least `min_days` ahead on one of `weekdays` (Mon=0), avoiding Jan 1
    and Dec 24-26 (seed closures)."""
    day = datetime.now(tz).date() + timedelta(days=min_days)
    while day.weekday() not in weekdays or (day.month, day.day) in {(1, 1), (12, 24), (12, 25), (12, 26)}:
        day += timedelta(days=1)
    return day


def local_instant(day: date, hour: int, minute: int = 0, tz: ZoneInfo = NEW_YORK) -> datetime:
    return datetime.combine(day, time(hour, minute), tz)
