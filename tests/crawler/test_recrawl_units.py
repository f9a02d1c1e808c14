"""The decisions behind re-crawls, without a network: signal lifetimes, history diffs, jobdir runs,
the revocation policy, the progress line, and revocation on PostgreSQL.

The end-to-end behaviour is in test_recrawl_e2e.py; these pin the rules at
their edges (hypothesis over arbitrary and near-valid robots.txt for the
history diff, a fake clock for the signal caches).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.jobdir import CRAWL_ID_FILE, JobdirError, resolve_crawl
from crawler.ledger import FetchRecord, Ledger, PageRecord
from crawler.ledger.history import changes, robots_lines
from crawler.ledger.revocation import RevocationRecord, compact, record_revocations, revocations
from crawler.origin_cache import MIN_SIGNAL_TTL, SingleFlight, cache_seconds, clamp_ttl
from crawler.recrawl import check_policy, validator

DAY = 86400.0


@pytest.mark.parametrize(
    ("cache_control", "expires", "date", "seconds"),
    [
        ("max-age=3600", None, None, 3600.0),
        ("public, max-age=\"120\"", None, None, 120.0),
        ("no-store", None, None, 0.0),
        ("no-cache, max-age=9999", None, None, 0.0),
        ("max-age=soon", None, None, None),
        (None, "Thu, 03 Dec 2026 12:00:00 GMT", "Thu, 03 Dec 2026 11:00:00 GMT", 3600.0),
        (None, "garbage", "Thu, 03 Dec 2026 11:00:00 GMT", 0.0),  # RFC 9111: invalid means expired
        (None, None, None, None),
    ],
)
def test_cache_headers_give_a_lifetime(cache_control: str | None, expires: str | None, date: str | None,
                                       seconds: float | None) -> None:
    assert cache_seconds(cache_control, expires, date) == seconds


def test_lifetimes_are_bounded_to_a_minute_and_a_day() -> None:
    assert clamp_ttl(None, DAY) == DAY
    assert clamp_ttl(0.0, DAY) == MIN_SIGNAL_TTL  # no-store does not mean "re-read on every page"
    assert clamp_ttl(7 * DAY, DAY) == DAY  # RFC 9309's 24 h cap for robots.txt holds for all
    assert clamp_ttl(600.0, DAY) == 600.0


def test_an_rsl_document_lives_as_long_as_its_max_age_says() -> None:
    from crawler.origin_cache import rsl_ttl

    def doc(attrs: str) -> bytes:
        return (f'<rsl xmlns="https://rslstandard.org/rsl"{attrs}><content url="/"><license>'
                '<permits type="usage">ai-input</permits></license></content></rsl>').encode()

    week = 7 * DAY
    assert rsl_ttl(doc(' max-age="2"'), "http://x.example/l.xml", week) == 2 * DAY
    assert rsl_ttl(doc(' max-age="14"'), "http://x.example/l.xml", week) == week  # capped
    assert rsl_ttl(doc(""), "http://x.example/l.xml", DAY) == DAY  # no max-age: the crawl's default
    assert rsl_ttl(b"<not-rsl", "http://x.example/l.xml", DAY) == DAY
    assert rsl_ttl(None, "http://x.example/l.xml", DAY) == DAY


def test_each_cached_document_expires_on_its_own_clock() -> None:
    now = [0.0]
    fetched: list[str] = []

    async def fetch(key: str) -> tuple[str, float | None]:
        fetched.append(key)
        return key, (120.0 if key == "short" else None)

    cache: SingleFlight[str, tuple[str, float | None]] = SingleFlight(
        fetch, ttl=DAY, clock=lambda: now[0], ttl_of=lambda value: value[1]
    )

    async def read_all() -> None:
        for key in ("short", "long"):
            await cache.get(key)

    asyncio.run(read_all())
    now[0] = 121.0
    asyncio.run(read_all())
    assert fetched == ["short", "long", "short"]
    now[0] = DAY + 1
    asyncio.run(read_all())
    assert fetched == ["short", "long", "short", "short", "long"]


def test_robots_history_lines_keep_the_group_of_each_rule() -> None:
    text = "# hi\nUser-agent: GPTBot\nUser-agent: CCBot\nDisallow: /\n\nuser-agent: *\nallow: /\nContent-Signal: ai-train=no\nSitemap: /s.xml\n"
    assert robots_lines(text) == [
        "[User-agent: GPTBot, CCBot] Disallow: /",
        "[User-agent: *] Allow: /",
        "[User-agent: *] Content-Signal: ai-train=no",
        "Sitemap: /s.xml",
    ]
    old = {"status": 200, "body": b"User-agent: *\nAllow: /\n", "error": None}
    new = {"status": 200, "body": b"User-agent: *\nAllow: /\nDisallow: /b\n# note\n", "error": None}
    assert changes("robots.txt", old, new) == ["+ [User-agent: *] Disallow: /b"]
    down = {"status": None, "body": None, "error": "timeout: 10 s"}
    assert changes("robots.txt", new, down)[0] == "HTTP 200 -> error: timeout: 10 s"
    assert changes("tdmrep", None, new) == ["first seen (HTTP 200)"]
    reformatted = {"status": 200, "body": b"user-agent: *\n  allow: /  \n", "error": None}
    assert changes("robots.txt", old, reformatted) == ["bytes changed, no rule changed (formatting or comments)"]


NEAR_ROBOTS = st.lists(
    st.sampled_from(["User-agent: *", "User-agent: GPTBot", "Disallow: /", "Allow: /a", "Content-Signal: ai-train=no",
                     "Sitemap: /s.xml", "# c", "", "Disallow", ":", "\x00", "User-agent:\xff"]),
    max_size=30,
).map(lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass"))


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=400), NEAR_ROBOTS), st.one_of(st.binary(max_size=400), NEAR_ROBOTS),
       st.sampled_from(["robots.txt", "tdmrep", "rsl"]), st.sampled_from([200, 404, None]))
def test_history_diff_never_fails(old: bytes, new: bytes, kind: str, status: int | None) -> None:
    result = changes(kind, {"status": 200, "body": old, "error": None}, {"status": status, "body": new, "error": None})
    assert result and all(isinstance(line, str) for line in result)


def test_validators_are_kept_only_when_sane() -> None:
    assert validator(b'"abc"') == '"abc"'
    assert validator(b"") is None and validator(None) is None
    assert validator(b"a\x01b") is None and validator(b"x" * 2000) is None


def test_the_revocation_policy_can_only_be_stricter() -> None:
    assert check_policy("strict") == "strict"
    for looser in ("off", "none", "never", ""):
        with pytest.raises(ValueError, match="never switched off"):
            check_policy(looser)


def _ids() -> str:
    _ids.n += 1  # type: ignore[attr-defined]
    return f"run-{_ids.n}"  # type: ignore[attr-defined]


_ids.n = 0  # type: ignore[attr-defined]


def test_a_jobdir_whose_crawl_ended_starts_a_new_run(tmp_path: Path) -> None:
    jobdir = str(tmp_path / "job")
    with Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}") as ledger:
        first, resumed = resolve_crawl(jobdir, None, seeds=["http://a.example/"], purposes=["ai-input"],
                                       ledger=ledger, new_id=_ids)
        assert resumed is False
        ledger.start_crawl(first, user_agent="u", purposes=["ai-input"], seeds=["http://a.example/"], settings={})
        # killed before it finished: resumed, the same id
        assert resolve_crawl(jobdir, None, seeds=["http://a.example/"], purposes=["ai-input"], ledger=ledger,
                             new_id=_ids) == (first, True)
        ledger.finish_crawl(first, {"finish_reason": "shutdown"})  # Ctrl-C: still interrupted
        assert resolve_crawl(jobdir, None, seeds=["http://a.example/"], purposes=["ai-input"], ledger=ledger,
                             new_id=_ids) == (first, True)
        ledger.finish_crawl(first, {"finish_reason": "finished"})
        second, resumed = resolve_crawl(jobdir, None, seeds=["http://b.example/"], purposes=["ai-train"],
                                        ledger=ledger, new_id=_ids)
        assert second != first and resumed is False
        saved = json.loads((Path(jobdir) / CRAWL_ID_FILE).read_text(encoding="utf-8"))
        assert saved == {"crawl_id": second, "seeds": ["http://b.example/"], "purposes": ["ai-train"]}
        with pytest.raises(JobdirError, match="other seeds"):
            resolve_crawl(jobdir, None, seeds=["http://a.example/"], purposes=["ai-train"], ledger=ledger,
                          new_id=_ids)
    (Path(jobdir) / CRAWL_ID_FILE).write_text("{not json", encoding="utf-8")
    with Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}") as ledger, pytest.raises(JobdirError, match="unreadable"):
        resolve_crawl(jobdir, None, seeds=None, purposes=["ai-input"], ledger=ledger, new_id=_ids)


def _stored_page(ledger: Ledger, url: str, text: str, at: datetime) -> None:
    ledger.record_pages([PageRecord(
        url=url, crawl_id="c1", fetched_at=at, status=200, content_hash="h", text=text,
        decisions={"ai-input": {"allowed": True, "reasons": ["ok"], "obligations": []}},
        user_agent="fairfetch", purposes=["ai-input"],
        fetch=FetchRecord(crawl_id="c1", url=url, at=at, outcome="fetched", reason="ok", status=200),
    )])


def _revoke(url: str, at: datetime, *, purge: bool = True) -> RevocationRecord:
    return RevocationRecord(
        url=url, crawl_id="c1", scope="site", purposes=["ai-input"], reason="robots.txt disallow", purge=purge,
        old_fetched_at=at, new_decisions={"ai-input": {"allowed": False, "reasons": ["disallow"], "obligations": []}},
    )


def _check_revocation(db_url: str) -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    with Ledger(db_url) as ledger:
        ledger.start_crawl("c1", user_agent="fairfetch", purposes=["ai-input"], seeds=[], settings={})
        _stored_page(ledger, "http://x.example/a", "Text of A that must go.", at)
        _stored_page(ledger, "http://x.example/b", "Text of B.", at)
        # a revocation judged on an older row than the one stored now does not apply
        assert record_revocations(ledger, [_revoke("http://x.example/b", datetime(2026, 11, 1, tzinfo=UTC))]) == 0
        assert record_revocations(ledger, [_revoke("http://x.example/a", at)]) == 1
        compact(ledger)
        page = ledger.page("http://x.example/a")
        assert page is not None and page["revoked"] and page["text"] is None
        assert page["decisions"]["ai-input"]["allowed"] is False
        other = ledger.page("http://x.example/b")
        assert other is not None and other["text"] == "Text of B." and not other["revoked"]
        (row,) = revocations(ledger)
        assert row["url"] == "http://x.example/a" and row["text_purged"] and row["reason"] == "robots.txt disallow"
        with ledger.engine.connect() as conn:
            texts = [r[0] for r in conn.exec_driver_sql("SELECT text FROM pages ORDER BY url")]
        assert texts == [None, "Text of B."]  # nulled in place, not a copy elsewhere
        # a newer fetch that is allowed again lifts the mark
        _stored_page(ledger, "http://x.example/a", "Text of A, allowed again.", datetime(2026, 12, 2, tzinfo=UTC))
        again = ledger.page("http://x.example/a")
        assert again is not None and not again["revoked"] and again["text"] == "Text of A, allowed again."


def test_revocation_purges_and_a_newer_fetch_lifts_it_sqlite(tmp_path: Path) -> None:
    _check_revocation(f"sqlite:///{tmp_path / 'l.sqlite'}")
    assert b"Text of A that must go." not in (tmp_path / "l.sqlite").read_bytes()


@pytest.mark.services
def test_revocation_purges_and_vacuums_on_postgresql(pg_url: str) -> None:
    _check_revocation(pg_url)


def test_progress_line_and_hosts() -> None:
    from decimal import Decimal

    from crawler.payment import Wallet
    from crawler.progress import elapsed, progress_text
    from crawler.session import Summary

    class FakeSession:
        summary = Summary()
        wallet = Wallet(None, None, signing=False)

    s = FakeSession.summary
    s.fetched, s.stored, s.not_modified = 8, 6, 2
    s.refused["robots.txt"] += 1
    s.errors["timeout"] += 1
    for url, what in [("http://a.example/x", "pages"), ("http://a.example:8080/y?q", "pages"),
                      ("http://b.example", "refused"), ("http://user@a.example/z", "errors")]:
        s.note(url, what)
    FakeSession.wallet.spent["USD"] += Decimal("0.02")
    text = progress_text(FakeSession(), None, hosts=2)  # type: ignore[arg-type]
    first, *hosts = text.splitlines()
    assert "pages/s" in first and "queue ?" in first and "refused 1" in first and "errors 1" in first
    assert "not-modified 2" in first and first.endswith("paid USD 0.02")
    assert hosts == ["  a.example: pages 1  refused 0  errors 1", "  a.example:8080: pages 1  refused 0  errors 0"]
    assert elapsed(3725) == "1:02:05" and elapsed(65) == "1:05"


# --- site-level revocation for each kind of site signal, and both policies ------------------

ORIGIN = "http://x.example"
PURPOSES = ("ai-input", "ai-train")


def _session(ledger: Ledger, policy: str) -> Any:
    from crawler.session import CrawlSession
    from norms.model import Grants, Usage

    return CrawlSession(
        crawl_id="c2", resumed=False, token="fairfetch", user_agent="fairfetch/1", purposes=(Usage.AI_INPUT,),
        grants=Grants(), ledger=ledger, extract=True, follow_external=False, max_pages=0, robots_timeout=5,
        signal_timeout=5, license_max_bytes=10**6, tdmrep_max_bytes=10**6, signal_ttl=DAY, revocation=policy,
        stored_hosts={"x.example"},
    )


def _signals(ledger: Ledger, robots: str, tdmrep: str | None = None) -> Any:
    from crawler.origin_cache import OriginSignals
    from norms.robots import parse_robots
    from norms.tdmrep import parse_tdmrep_json

    sid = ledger.record_signal(crawl_id="c2", origin=ORIGIN, kind="robots.txt", url=f"{ORIGIN}/robots.txt",
                               status=200, body=robots.encode(), error=None, fetched_at=datetime.now(UTC))
    return OriginSignals(
        origin=ORIGIN, robots=parse_robots(robots, source_url=f"{ORIGIN}/robots.txt"),
        tdmrep=None if tdmrep is None else parse_tdmrep_json(tdmrep, source_url=f"{ORIGIN}/.well-known/tdmrep.json"),
        signal_ids=(sid,),
    )


BASE = "User-agent: *\nAllow: /\nContent-Signal: ai-train=yes, ai-input=yes\n"  # what the page was stored under
RESERVED = '[{"location": "/a", "tdm-reservation": 1}]'


@pytest.mark.parametrize(
    ("robots", "tdmrep", "policy", "denied", "purged"),
    [
        (BASE + "Disallow: /a\n", None, "newer-signal", ["ai-input", "ai-train"], True),
        (BASE.replace("ai-input=yes", "ai-input=no"), None, "newer-signal", ["ai-input"], False),
        (BASE.replace("ai-input=yes", "ai-input=no"), None, "strict", ["ai-input"], True),
        (BASE.replace("ai-train=yes", "ai-train=no"), None, "newer-signal", ["ai-train"], False),
        (BASE, RESERVED, "newer-signal", ["ai-input", "ai-train"], True),
        (BASE + "# only a comment changed\n", None, "strict", [], False),
        ("User-agent: fairfetch-train\nDisallow: /\n\n" + BASE, None, "newer-signal", ["ai-train"], False),
    ],
    ids=["disallow", "content-signal", "content-signal-strict", "content-signal-train", "tdmrep", "no-change",
         "purpose-token-group"],
)
def test_site_signals_revoke_stored_pages_without_a_refetch(
    tmp_path: Path, robots: str, tdmrep: str | None, policy: str, denied: list[str], purged: bool
) -> None:
    from crawler.recrawl import revisit_origin

    at = datetime(2026, 12, 1, tzinfo=UTC)
    allowed = {"allowed": True, "reasons": ["ok"], "obligations": []}
    with Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}") as ledger:
        ledger.start_crawl("c1", user_agent="fairfetch/1", purposes=list(PURPOSES), seeds=[],
                           settings={"token": "fairfetch"})
        ledger.start_crawl("c2", user_agent="fairfetch/1", purposes=["ai-input"], seeds=[], settings={})
        ledger.record_pages([PageRecord(
            url=f"{ORIGIN}/a", crawl_id="c1", fetched_at=at, status=200, text="Stored text of a.",
            decisions={p: allowed for p in PURPOSES}, user_agent="fairfetch/1", purposes=list(PURPOSES),
        )])
        session = _session(ledger, policy)
        assert revisit_origin(session, _signals(ledger, robots, tdmrep), unreachable=False) == (1 if denied else 0)
        page = ledger.page(f"{ORIGIN}/a")
        assert page is not None
        assert [p for p in PURPOSES if not page["decisions"][p]["allowed"]] == denied
        assert (page["text"] is None) is purged and page["revoked"] is purged
        rows = revocations(ledger)
        assert [r["purposes"] for r in rows] == ([denied] if denied else [])
        # a second pass under the same signals changes nothing
        assert revisit_origin(session, _signals(ledger, robots, tdmrep), unreachable=False) == 0


def test_an_unreachable_robots_txt_revokes_only_under_strict(tmp_path: Path) -> None:
    from crawler.origin_cache import OriginSignals
    from crawler.recrawl import revisit_origin
    from norms.robots import robots_from_fetch

    at = datetime(2026, 12, 1, tzinfo=UTC)
    with Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}") as ledger:
        ledger.start_crawl("c1", user_agent="fairfetch/1", purposes=["ai-input"], seeds=[], settings={})
        ledger.start_crawl("c2", user_agent="fairfetch/1", purposes=["ai-input"], seeds=[], settings={})
        ledger.record_pages([PageRecord(
            url=f"{ORIGIN}/a", crawl_id="c1", fetched_at=at, status=200, text="t",
            decisions={"ai-input": {"allowed": True}}, user_agent="fairfetch/1", purposes=["ai-input"],
        )])
        sid = ledger.record_signal(crawl_id="c2", origin=ORIGIN, kind="robots.txt", url=f"{ORIGIN}/robots.txt",
                                   status=503, body=b"", error=None, fetched_at=at)
        down = OriginSignals(origin=ORIGIN, robots=robots_from_fetch(status=503, body=b"", redirects=0, error=None,
                                                                     source_url=f"{ORIGIN}/robots.txt"),
                             signal_ids=(sid,))
        assert revisit_origin(_session(ledger, "newer-signal"), down, unreachable=True) == 0
        assert revisit_origin(_session(ledger, "strict"), down, unreachable=True) == 1
