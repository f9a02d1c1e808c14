"""RSL licence tokens end to end: ``fairfetch crawl`` against a publisher whose articles need a token from its
licence server (fixtures/web/sites_olp.py), judged from the fixture server's log, the licence server's own
record of what it issued, and the ledger.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from crawler.ledger.licences import license_grants
from fixtures.identity import TEST_KEY_ID, TEST_KEY_X
from fixtures.identity.verifier import public_key_from_jwk, verify
from fixtures.web import FixtureWeb
from fixtures.web.model import RequestRecord
from fixtures.web.sites_olp import (
    ARTICLES,
    CATALOG,
    CLIENT_ID,
    CLIENT_SECRET,
    LICENCE_URL,
    LICENSED_HOST,
    RESOURCE,
    SERVER_HOST,
    SERVER_URL,
)
from tests.crawler.crawlrun import FAIRFETCH, CrawlRun, run_crawl

CREDENTIALS = f"{SERVER_URL}={CLIENT_ID}:{CLIENT_SECRET}"


@pytest.fixture
def web() -> Iterator[FixtureWeb]:
    """A fresh licence server per test: it remembers what it issued."""
    with FixtureWeb(catalog=CATALOG) as w:
        yield w


def admin(web: FixtureWeb, **params: str) -> dict[str, Any]:
    """Configure the licence server (lifetime, mode, uses, reject) and read what it issued."""
    with httpx.Client(proxy=web.proxy_url, timeout=10) as client:
        answer = client.get(f"{SERVER_URL}/admin", params=params)
    assert answer.status_code == 200
    result: dict[str, Any] = answer.json()
    return result


def crawl(web: FixtureWeb, tmp_path: Path, *options: str, concurrency: int = 4) -> CrawlRun:
    run = run_crawl(web, [f"http://{LICENSED_HOST}/"], f"sqlite:///{tmp_path / 'olp.sqlite'}",
                    "--concurrency", str(concurrency), *options)
    assert run.returncode == 0, run.stderr[-2000:]
    return run


def token_posts(web: FixtureWeb) -> list[RequestRecord]:
    return sorted((r for r in web.requests_for(SERVER_HOST) if r.path == "/token"), key=lambda r: r.time)


def article_requests(web: FixtureWeb) -> list[RequestRecord]:
    return sorted((r for r in web.requests_for(LICENSED_HOST) if r.path.startswith("/articles/")),
                  key=lambda r: r.time)


def presented(record: RequestRecord) -> str | None:
    scheme, _, token = record.headers.get("authorization", "").partition(" ")
    return token if scheme == "License" else None


def sha16(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def assert_every_article_carried_a_valid_token(web: FixtureWeb, issued: list[dict[str, Any]]) -> None:
    """Each article request presented a token the server issued for the scope, within its lifetime, and got 200."""
    by_fingerprint = {i["fingerprint"]: i for i in issued}
    for record in article_requests(web):
        token = presented(record)
        assert token is not None, record
        grant = by_fingerprint[sha16(token)]
        assert grant["resource"] == RESOURCE
        assert grant["issued_at"] <= record.time < grant["expires_at"], (record.path, grant)
        assert record.status == 200, record


@pytest.mark.slow
def test_one_signed_token_request_serves_every_article(web: FixtureWeb, tmp_path: Path, key_file: str) -> None:
    run = crawl(web, tmp_path, "--max-price", "USD 0.05", "--license-credentials", CREDENTIALS,
                "--signing-key", key_file, "--signature-agent", "https://bot.example")
    (post,) = token_posts(web)  # five articles, four in flight at once: one token request
    assert post.method == "POST" and post.status == 200
    form = {k: v[0] for k, v in parse_qs(post.body).items()}
    assert form["grant_type"] == "client_credentials" and form["resource"] == RESOURCE
    assert form["license"].startswith('<license xmlns="https://rslstandard.org/rsl">')
    assert '<amount currency="USD">0.01</amount>' in form["license"]
    scheme, _, basic = post.headers["authorization"].partition(" ")
    assert scheme == "Basic" and base64.b64decode(basic).decode() == f"{CLIENT_ID}:{CLIENT_SECRET}"
    keys = {TEST_KEY_ID: public_key_from_jwk({"x": TEST_KEY_X})}
    signed = verify({"method": "POST", "authority": post.host, "path": post.path, "headers": post.headers}, keys)
    assert signed.ok, signed.reason  # the token request is signed like every request of the crawl

    issued = admin(web)["issued"]
    assert len(issued) == 1
    assert_every_article_carried_a_valid_token(web, issued)
    assert {r.path for r in article_requests(web)} == set(ARTICLES)

    ledger = run.ledger()
    (grant,) = license_grants(ledger)
    assert (grant["outcome"], grant["server"], grant["resource"]) == ("granted", SERVER_URL, RESOURCE)
    assert grant["license_url"] == LICENCE_URL and grant["token_fingerprint"] == issued[0]["fingerprint"]
    assert grant["expires_at"] is not None and grant["error"] is None
    for path in ARTICLES:
        page = ledger.page(f"http://{LICENSED_HOST}{path}")
        assert page is not None and page["text"]
        assert page["metadata"]["license_grant"]["id"] == grant["id"]
        assert {o["kind"] for o in page["obligations"]} >= {"license-token", "payment"}
    ledger.close()

    token = presented(article_requests(web)[0])
    assert token is not None
    stored = (tmp_path / "olp.sqlite").read_bytes()
    for secret in (CLIENT_SECRET, token, base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()):
        assert secret.encode() not in stored
    assert CLIENT_SECRET not in run.stdout + run.stderr and token not in run.stdout + run.stderr

    listing = subprocess.run([str(FAIRFETCH), "ledger", "licences", "--db", run.db_url, "--json"],
                             capture_output=True, text=True, timeout=60, check=False)
    assert listing.returncode == 0, listing.stderr
    (row,) = json.loads(listing.stdout)["rows"]
    assert row["outcome"] == "granted" and row["token_fingerprint"] == grant["token_fingerprint"]
    table = subprocess.run([str(FAIRFETCH), "ledger", "licences", "--db", run.db_url], capture_output=True,
                           text=True, timeout=60, check=False, env={**os.environ, "COLUMNS": "250"})
    assert table.returncode == 0 and "granted: 1" in table.stdout and SERVER_URL in table.stdout


@pytest.mark.slow
def test_a_token_is_requested_once_per_lifetime(web: FixtureWeb, tmp_path: Path) -> None:
    admin(web, lifetime="6")
    run = crawl(web, tmp_path, "--accept-license", LICENCE_URL, "--license-credentials", CREDENTIALS,
                "--delay", "1", concurrency=1)
    issued = admin(web)["issued"]
    assert_every_article_carried_a_valid_token(web, issued)  # none presented after its expiry
    posts = token_posts(web)
    assert len(posts) == len(issued) >= 2  # the crawl outlives a token: renewed
    # Renewed only when due: with 1 s (+-50%) between requests a token is replaced once less than
    # 1 s + 1.5 s of it is left, never while the cached one still has long to live.
    for before, after in itertools.pairwise(issued):
        assert after["issued_at"] >= before["expires_at"] - 2.5 - 0.25
    assert len(list(license_grants(run.ledger()))) == len(posts)


@pytest.mark.slow
def test_a_revoked_token_is_refreshed_once(web: FixtureWeb, tmp_path: Path) -> None:
    admin(web, uses="2")  # each token is revoked once it has served two articles
    run = crawl(web, tmp_path, "--max-price", "USD 0.01", "--license-credentials", CREDENTIALS, concurrency=1)
    articles = article_requests(web)
    assert [r.status for r in articles].count(401) == 2  # after articles 2 and 4
    assert {r.path for r in articles if r.status == 200} == set(ARTICLES)
    assert len(token_posts(web)) == 3
    for failed in (r for r in articles if r.status == 401):
        retry = next(r for r in articles if r.time > failed.time and r.path == failed.path)
        assert retry.status == 200 and presented(retry) != presented(failed)
    grants = list(license_grants(run.ledger()))
    assert [g["outcome"] for g in grants] == ["granted"] * 3
    assert run.summary["stored"] == len(ARTICLES) + 2


@pytest.mark.slow
def test_a_second_invalid_token_refuses_the_page(web: FixtureWeb, tmp_path: Path) -> None:
    admin(web, reject="1")  # the content host accepts no token at all
    run = crawl(web, tmp_path, "--max-price", "USD 0.01", "--license-credentials", CREDENTIALS, concurrency=1)
    first, retry = article_requests(web)  # asked once, refreshed once, then the scope is given up
    assert first.path == retry.path and first.status == retry.status == 401
    assert presented(first) and presented(retry) and presented(first) != presented(retry)
    assert len(token_posts(web)) == 2
    refused = {r["url"].rsplit("/", 1)[1]: r["reason"] for r in run.ledger().fetch_log() if r["outcome"] == "refused"}
    assert set(refused) == {p.rsplit("/", 1)[1] for p in ARTICLES}
    assert 'License error="invalid_token" again with a fresh token' in refused.pop(first.path.rsplit("/", 1)[1])
    assert all("not obtained (token-rejected)" in reason for reason in refused.values())
    grants = list(license_grants(run.ledger()))
    assert [(g["outcome"], g["error"]) for g in grants] == [("granted", None)] * 2 + [("failed", "token-rejected")]
    assert run.summary["refused_by_reason"]["licence"] == len(ARTICLES)


@pytest.mark.slow
@pytest.mark.parametrize(("options", "missing"), [
    (("--max-price", "USD 0.05"), "no client credentials for it"),
    (("--license-credentials", CREDENTIALS), "the operator has not agreed to the licence"),
    (("--max-price", "USD 0.001", "--license-credentials", CREDENTIALS), "the operator has not agreed"),
])
def test_without_credentials_or_consent_nothing_is_asked(
    web: FixtureWeb, tmp_path: Path, options: tuple[str, ...], missing: str
) -> None:
    run = crawl(web, tmp_path, *options)
    assert token_posts(web) == [] and article_requests(web) == []
    refused = [r for r in run.ledger().fetch_log() if r["outcome"] == "refused"]
    assert {r["url"].rsplit("/", 1)[1] for r in refused} == {p.rsplit("/", 1)[1] for p in ARTICLES}
    assert all(f"licence server {SERVER_URL} requires a licence token before access" in r["reason"]
               and missing in r["reason"] for r in refused)
    assert run.summary["stored"] == 2  # / and /about are outside the licence's scope


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "error"), [
    ("server-error", "server-error"), ("junk", "not-json"), ("huge", "too-large"), ("wrong-type", "wrong-token-type"),
])
def test_a_bad_token_answer_is_a_named_failure(web: FixtureWeb, tmp_path: Path, mode: str, error: str) -> None:
    admin(web, mode=mode)
    run = crawl(web, tmp_path, "--max-price", "USD 0.05", "--license-credentials", CREDENTIALS)
    assert len(token_posts(web)) == 1  # a failure is remembered: not asked again for every article
    assert article_requests(web) == []
    (grant,) = license_grants(run.ledger())
    assert (grant["outcome"], grant["error"], grant["token_fingerprint"]) == ("failed", error, None)
    refused = [r for r in run.ledger().fetch_log() if r["outcome"] == "refused"]
    assert len(refused) == len(ARTICLES)
    assert all(f"not obtained ({error})" in r["reason"] and f"licence grant #{grant['id']}" in r["reason"]
               for r in refused)
    assert run.summary["stored"] == 2  # the crawl went on


@pytest.mark.slow
def test_wrong_credentials_are_a_denial(web: FixtureWeb, tmp_path: Path) -> None:
    run = crawl(web, tmp_path, "--accept-license", LICENCE_URL,
                "--license-credentials", f"{SERVER_URL}/={CLIENT_ID}:not-the-secret")
    (post,) = token_posts(web)
    assert post.status == 401
    (grant,) = license_grants(run.ledger())
    assert (grant["outcome"], grant["error"]) == ("denied", "invalid_client")
    assert b"not-the-secret" not in (tmp_path / "olp.sqlite").read_bytes()


@pytest.mark.slow
def test_a_token_given_on_the_command_line_is_presented_as_it_is(web: FixtureWeb, tmp_path: Path) -> None:
    """--license-token (a token obtained elsewhere) still works, and no token is requested beside it."""
    with httpx.Client(proxy=web.proxy_url, timeout=10) as client:
        xml = ('<license xmlns="https://rslstandard.org/rsl"><permits type="usage">all</permits></license>')
        answer = client.post(f"{SERVER_URL}/token", auth=(CLIENT_ID, CLIENT_SECRET),
                             data={"grant_type": "client_credentials", "license": xml, "resource": RESOURCE})
    token = answer.json()["access_token"]
    run = crawl(web, tmp_path, "--max-price", "USD 0.05", "--license-token", f"{SERVER_URL}={token}",
                "--license-credentials", CREDENTIALS)
    assert len(token_posts(web)) == 1  # the test's own
    assert {presented(r) for r in article_requests(web)} == {token}
    assert run.summary["stored"] == len(ARTICLES) + 2
    assert list(license_grants(run.ledger())) == []


def test_bad_credentials_options_are_one_line_errors(tmp_path: Path) -> None:
    for value in ("no-equals-sign", f"{SERVER_URL}=client-without-secret", f"ftp://x={CLIENT_ID}:{CLIENT_SECRET}"):
        proc = subprocess.run([str(FAIRFETCH), "crawl", "http://x.example/", "--db",
                               f"sqlite:///{tmp_path / 'x.sqlite'}", "--license-credentials", value],
                              capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode != 0 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "Traceback" not in proc.stderr and CLIENT_SECRET not in proc.stderr
