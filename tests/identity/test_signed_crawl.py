"""``fairfetch crawl --signing-key`` end to end: a publisher that serves only verified bots.

Judged from outside: the fixture server's request log is run through the
fixtures' own RFC 9421 verifier (every request the crawl sent must verify:
robots.txt, pages, redirect hops, paid re-requests), and the ledger must hold
the pages that ``signed.example`` only serves to a valid signature.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.identity import TEST_KEY_ID, TEST_KEY_X
from fixtures.identity.verifier import public_key_from_jwk, verify
from fixtures.web import FixtureWeb
from fixtures.web.sites_identity import SIGNED_HOST
from tests.crawler.crawlrun import run_crawl

AGENT = "https://bot.example"




def _as_request(record: object) -> dict[str, object]:
    return {"method": record.method, "authority": record.host, "path": record.path,  # type: ignore[attr-defined]
            "headers": record.headers}  # type: ignore[attr-defined]


@pytest.mark.slow
def test_a_signed_crawl_is_served_and_every_request_it_sent_verifies(
    web: FixtureWeb, tmp_path: Path, key_file: str
) -> None:
    web.reset_log()
    db = f"sqlite:///{tmp_path / 'signed.sqlite'}"
    run = run_crawl(web, [f"http://{SIGNED_HOST}/", "http://pay.example/"], db,
                    "--signing-key", key_file, "--signature-agent", AGENT, "--max-price", "USD 0.05")
    assert run.returncode == 0, run.stderr[-2000:]

    keys = {TEST_KEY_ID: public_key_from_jwk({"x": TEST_KEY_X})}
    sent = web.requests()
    assert {r.host for r in sent} >= {SIGNED_HOST, "pay.example"}
    paths = {(r.host, r.path) for r in sent}
    assert (SIGNED_HOST, "/robots.txt") in paths and (SIGNED_HOST, "/moved") in paths  # a redirect hop
    for record in sent:
        verdict = verify(_as_request(record), keys)
        assert verdict.ok, (record.host, record.path, verdict.reason)
        assert record.headers["signature-agent"] == f'sig1="{AGENT}"'
        for price in ("crawler-max-price", "crawler-exact-price"):
            if price in record.headers:
                assert f'"{price}"' in verdict.covered  # Pay Per Crawl needs the price signed
    assert any("crawler-exact-price" in r.headers for r in sent if r.host == "pay.example")

    ledger = run.ledger()
    for path in web.site(SIGNED_HOST).expected["signed_stored"]:
        page = ledger.page(f"http://{SIGNED_HOST}{path}")
        assert page is not None and page["text"], path
    assert all(r.status != 403 for r in sent if r.host == SIGNED_HOST)


@pytest.mark.slow
def test_without_a_key_the_verified_bots_zone_answers_403_and_nothing_is_stored(
    web: FixtureWeb, tmp_path: Path
) -> None:
    web.reset_log()
    run = run_crawl(web, [f"http://{SIGNED_HOST}/"], f"sqlite:///{tmp_path / 'unsigned.sqlite'}")
    assert run.returncode == 0, run.stderr[-2000:]
    seed = [r for r in web.requests_for(SIGNED_HOST) if r.path == "/"]
    assert seed and all(r.status == 403 and "signature" not in r.headers for r in seed)
    page = run.ledger().page(f"http://{SIGNED_HOST}/")
    assert page is None or not page["text"]  # at most the refusal's metadata
    assert run.summary["stored"] == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--signing-key", "KEY"], "go together"),
        (["--signature-agent", AGENT], "go together"),
        (["--signing-key", "KEY", "--signature-agent", "http://bot.example"], "https"),
        (["--signing-key", "/nonexistent/key.jwk", "--signature-agent", AGENT], "cannot read key file"),
    ],
)
def test_identity_options_are_checked_before_anything_is_fetched(
    web: FixtureWeb, tmp_path: Path, key_file: str, options: list[str], message: str
) -> None:
    web.reset_log()
    options = [key_file if o == "KEY" else o for o in options]
    run = run_crawl(web, [f"http://{SIGNED_HOST}/"], f"sqlite:///{tmp_path / 'x.sqlite'}", *options)
    assert run.returncode == 2 and message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert web.requests_for(SIGNED_HOST) == []


@pytest.mark.slow
def test_the_live_checker_signs_its_requests_too(web: FixtureWeb, key_file: str) -> None:
    from tests.checker.test_check_cli import run_check

    web.reset_log()
    out = run_check(web, f"http://{SIGNED_HOST}/", "--json", "--signing-key", key_file, "--signature-agent", AGENT)
    assert out.returncode in (0, 1), out.stderr[-2000:]
    sent = web.requests_for(SIGNED_HOST)
    assert sent and any(r.path == "/" and r.status == 200 for r in sent)  # the page was served: verified
    keys = {TEST_KEY_ID: public_key_from_jwk({"x": TEST_KEY_X})}
    for record in sent:
        assert verify(_as_request(record), keys).ok, record.path
