"""``fairfetch mcp --transport streamable-http``: the SDK's HTTP client, the fixture web, and hostile servers.

The server's proxy is a hostile web of our own (``tests.mcp.hostile``) that
relays every other host to the fixture web, so one server meets both.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from crawler.ledger import Ledger
from crawler.ledger.spend import payments
from fixtures.identity import TEST_KEY_FILE
from fixtures.web import FixtureWeb
from tests.crawler.crawlrun import FAIRFETCH, REPO
from tests.mcp.hostile import HOST, Hostile, hostile_proxy
from tests.mcp.session import Mcp, http_session, text_of

pytestmark = pytest.mark.slow
TIMEOUT = 2.0  # --timeout of the server under test: seconds per page request


@pytest.fixture(scope="module")
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb(bench_hosts=0, bench_pages_per_host=0, hang_seconds=5) as w:
        yield w


@pytest.fixture(scope="module")
def hostile(web: FixtureWeb) -> Iterator[Hostile]:
    with hostile_proxy(web.proxy_url) as h:
        yield h


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(hostile: Hostile, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    port = free_port()
    db = f"sqlite:///{tmp_path_factory.mktemp('mcp-http') / 'ledger.sqlite'}"
    env = {**os.environ, "http_proxy": hostile.proxy_url, "HTTP_PROXY": hostile.proxy_url,
           "no_proxy": "", "NO_PROXY": "", "PYTHONPATH": str(REPO)}
    log = tmp_path_factory.mktemp("mcp-http-log") / "stderr.txt"
    key = log.parent / "key.jwk"  # the throwaway RFC 9421 key the fixture web's pay.example trusts
    shutil.copyfile(TEST_KEY_FILE, key)
    key.chmod(0o600)
    with log.open("w") as err:
        proc = subprocess.Popen(
            [str(FAIRFETCH), "mcp", "--transport", "streamable-http", "--port", str(port), "--db", db,
             "--timeout", str(TIMEOUT), "--max-bytes", "200000", "--max-price", "USD 0.05",
             "--signing-key", str(key), "--signature-agent", "https://bot.example"],
            env=env, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"fairfetch mcp did not start: {log.read_text()}") from None
                    time.sleep(0.2)
            yield f"http://127.0.0.1:{port}/mcp", str(log), db
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@pytest.fixture(scope="module")
def mcp(served: tuple[str, str, str]) -> Iterator[Mcp]:
    with http_session(served[0]) as session:
        yield session


def test_http_transport_fetches_the_fixture_web_under_the_norms(mcp: Mcp, served: tuple[str, str, str]) -> None:
    ok = mcp.call("fetch", url="http://open.example/about")
    assert not ok.is_error and ok.structured_content["allowed"] is True
    refused = mcp.call("fetch", url="http://noai.example/recipes/stock")
    assert refused.is_error and refused.structured_content["decided_by"]["signal"] == "x-robots-tag"
    with open(served[1]) as f:
        assert f"serving on http://127.0.0.1:{served[0].split(':')[2].split('/')[0]}/mcp" in f.read()


def test_hostile_servers_are_cut_off_with_clear_errors(mcp: Mcp) -> None:
    cases = {
        "/hang": "timeout",
        "/drip": "timeout",
        "/header-flood": "connection",
        "/endless": "larger than 200000 bytes",
    }
    for path, words in cases.items():
        started = time.monotonic()
        result = mcp.call("fetch", url=f"http://{HOST}{path}")
        took = time.monotonic() - started
        assert result.is_error, path
        assert words in text_of(result), (path, text_of(result))
        assert took < TIMEOUT + 3, (path, took)  # bounded in time, headers included


def test_redirects_into_the_private_network_are_refused_at_the_hop(mcp: Mcp, hostile: Hostile) -> None:
    for path, address in (("/go-metadata", "169.254.169.254"), ("/go-loopback", "127.0.0.1")):
        result = mcp.call("fetch", url=f"http://{HOST}{path}")
        assert result.is_error and "refused" in text_of(result) and address in text_of(result)
        assert "--allow-private" in text_of(result)
    assert not any("169.254" in url for url in hostile.seen)
    direct = mcp.call("fetch", url=f"http://127.0.0.1:{hostile.port}/ok")
    assert direct.is_error and "loopback" in text_of(direct)
    assert not any(url.startswith("http://127.0.0.1") for url in hostile.seen)


def test_the_server_is_still_up_and_fetches_a_quiet_page(mcp: Mcp) -> None:
    result = mcp.call("fetch", url=f"http://{HOST}/ok")
    assert not result.is_error, text_of(result)
    assert "lighthouse keeper" in text_of(result)


def test_snippet_limit_caps_the_text_before_paging(mcp: Mcp) -> None:
    result = mcp.call("fetch", url=f"http://{HOST}/snippet", max_length=30)
    data = result.structured_content
    assert not result.is_error and data["obligations"]["snippet_limit"] == 40
    assert data["length"] == 40 and data["next_start_index"] == 30
    assert "at most 40 characters" in text_of(result)
    rest = mcp.call("fetch", url=f"http://{HOST}/snippet", max_length=30, start_index=30)
    assert rest.structured_content["next_start_index"] is None
    assert "lighthouse keeper logged every passing ship" not in text_of(result) + text_of(rest)


def test_http_402_is_paid_within_the_price_ceiling(mcp: Mcp, web: FixtureWeb, served: tuple[str, str, str]) -> None:
    result = mcp.call("fetch", url="http://pay.example/articles/dark-skies")
    assert not result.is_error, text_of(result)
    assert result.structured_content["obligations"]["payment"] == "USD 0.01"
    asks = [r for r in web.requests_for("pay.example") if r.path == "/articles/dark-skies"]
    assert [r.status for r in asks] == [402, 200]  # the quote, then the signed exact-price retry
    assert asks[1].headers.get("crawler-exact-price") == "USD 0.01"
    assert "crawler-exact-price" in asks[1].headers.get("signature-input", "")
    # The origin charges: the next page offers the ceiling up front and saves the 402 round trip.
    assert not mcp.call("fetch", url="http://pay.example/articles/comet-season").is_error
    ahead = [r for r in web.requests_for("pay.example") if r.path == "/articles/comet-season"]
    assert [r.status for r in ahead] == [200] and ahead[0].headers.get("crawler-max-price") == "USD 0.05"
    with Ledger(served[2]) as ledger:
        charges = [(p["url"], p["currency"], Decimal(p["amount"])) for p in payments(ledger)]
    assert charges == [("http://pay.example/articles/dark-skies", "USD", Decimal("0.01")),
                       ("http://pay.example/articles/comet-season", "USD", Decimal("0.01"))]


def test_a_page_declaring_its_charset_only_in_meta_is_read_right(mcp: Mcp) -> None:
    text = text_of(mcp.call("fetch", url=f"http://{HOST}/latin1"))
    assert "Le café crème coûte deux euros à Noël" in text
    assert "Die Straße über den Deich" in text
