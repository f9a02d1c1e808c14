"""The Redis clients of a scaled-out worker: one timeout and retry policy, a checked connect, URLs without passwords.

One module for every client a worker opens, so that the frontier's
synchronous client and the documents' asyncio client give up on Redis after
the same blip; a leaf (no Scrapy, no asyncio Redis) that the CLI and
:mod:`crawler.shared_crawl` use before the crawl starts.
"""

from __future__ import annotations

import re
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from crawler.crawlkeys import ScaleOutError

# Ride out a blip of about a second, then give up: the scheduler's client is
# synchronous, so every retry and every timeout stalls the whole worker.
SOCKET_TIMEOUT = 5.0


def _backoff() -> ExponentialBackoff:
    return ExponentialBackoff(cap=0.5, base=0.05)


def client_options() -> dict[str, Any]:
    """Timeouts and retries of every synchronous client (the frontier's, the depth book's, the CLI's)."""
    return {"socket_connect_timeout": SOCKET_TIMEOUT, "socket_timeout": SOCKET_TIMEOUT, "retry": Retry(_backoff(), 3)}


def async_client_options() -> dict[str, Any]:
    """The same for the asyncio client (signal documents, pacing, pauses)."""
    from redis.asyncio.retry import Retry as AsyncRetry

    return {"socket_connect_timeout": SOCKET_TIMEOUT, "socket_timeout": SOCKET_TIMEOUT,
            "retry": AsyncRetry(_backoff(), 3)}


def connect(url: str) -> redis.Redis:
    """A client for ``url`` that has answered a PING; ScaleOutError in plain words otherwise."""
    try:
        client = redis.Redis.from_url(url, **client_options())
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise ScaleOutError(f"cannot reach Redis at {safe_url(url)}: {exc}") from exc
    return client


def safe_url(url: str) -> str:
    """The Redis URL without its password, for messages and summaries."""
    return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", url)
