"""Shared fixtures for the services the scale-out path needs: PostgreSQL and Redis on 127.0.0.1.

Locally a service that is not running skips the tests that need it; under
``CI=true`` it fails them, so CI can never go green by skipping the
PostgreSQL and Redis suites. Tests using these fixtures must carry
``@pytest.mark.services`` (``make test-fast`` deselects them); the fixtures
fail a test that forgot the marker.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any, NoReturn

import psycopg
import pytest
import redis

# Ports can be moved for a machine whose services listen elsewhere (and to test the skip/fail rule).
PG_HOST = "127.0.0.1"
PG_PORT = int(os.environ.get("FAIRFETCH_TEST_PG_PORT", "5432"))
PG_DATABASE = "test"
PG_USERS = ("postgres", "root")
REDIS_HOST = "127.0.0.1"
REDIS_PORT = int(os.environ.get("FAIRFETCH_TEST_REDIS_PORT", "6379"))


def _unavailable(message: str) -> NoReturn:
    """Skip locally; fail under CI, where the services are part of the contract."""
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"{message} (CI=true: the services must be running; see .ci/services.sh)", pytrace=False
        )
    pytest.skip(message)


def _require_services_marker(request: pytest.FixtureRequest, fixture: str) -> None:
    if request.node.get_closest_marker("services") is None:
        pytest.fail(
            f"a test using the {fixture} fixture must be marked @pytest.mark.services",
            pytrace=False,
        )


def _pg_admin_connection() -> tuple[psycopg.Connection[Any], str]:
    errors = []
    for user in PG_USERS:
        try:
            conn = psycopg.connect(
                host=PG_HOST,
                port=PG_PORT,
                dbname=PG_DATABASE,
                user=user,
                connect_timeout=3,
                autocommit=True,
            )
        except psycopg.OperationalError as exc:
            errors.append(
                f"{user}: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc}"
            )
            continue
        return conn, user
    _unavailable(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT} ({'; '.join(errors)})")


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A SQLAlchemy URL (``postgresql+psycopg``) whose tables land in a fresh schema, dropped afterwards.

    A schema per test (via ``search_path``) is much faster than a database
    per test and just as isolated for code that does not name schemas.
    """
    _require_services_marker(request, "pg_url")
    conn, user = _pg_admin_connection()
    schema = f"fftest_{uuid.uuid4().hex[:16]}"
    try:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        yield (
            f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{PG_DATABASE}"
            f"?options=-csearch_path%3D{schema}&connect_timeout=5"
        )
    finally:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.close()


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix no other test uses; every key a test writes should start with it."""
    return f"fftest:{uuid.uuid4().hex[:16]}:"


@pytest.fixture
def redis_url(request: pytest.FixtureRequest, redis_prefix: str) -> Iterator[str]:
    """URL of the Redis server (database 0). Keys must be namespaced with ``redis_prefix``;
    they are deleted when the test ends, so tests running side by side never see each other's keys.
    """
    _require_services_marker(request, "redis_url")
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        _unavailable(f"Redis is not reachable on {REDIS_HOST}:{REDIS_PORT} ({exc})")
    try:
        yield url
    finally:
        keys = list(client.scan_iter(match=f"{redis_prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
