"""The provenance ledger on SQLite: every API call, transactions, crash and resume, and ``fairfetch ledger``.

The idempotency suite shared with PostgreSQL lives in ``test_ledger_postgres.py``
(parametrized over both backends; its SQLite half runs everywhere).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.cli import main
from crawler.ledger import (
    DEFAULT_DB_URL,
    MAX_SIGNAL_BODY,
    FetchRecord,
    Ledger,
    LedgerError,
    PageRecord,
    decisions_from_verdict,
    evidence_from_verdict,
    obligations_from_verdict,
)
from crawler.ledger.records import storable_text
from norms.model import Effect, Evidence, Obligation, ObligationKind, Signal, Usage
from norms.verdict import FetchDecision, UsageDecision, Verdict

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
CRAWL = "crawl-1"
# Any character, including what no database stores as is: NUL and lone surrogates.
MESSY = st.one_of(st.characters(), st.characters(categories=["Cs"]), st.just("\x00"))
ROBOTS = b"User-agent: *\nDisallow: /private\n"


# -- factories shared with test_ledger_postgres ---------------------------


def start(ledger: Ledger, crawl_id: str = CRAWL) -> None:
    ledger.start_crawl(
        crawl_id,
        user_agent="fairfetch",
        purposes=["search", "ai-input"],
        seeds=["https://a.example/"],
        settings={},
    )


def fetch(
    url: str,
    *,
    outcome: str = "fetched",
    reason: str = "ok",
    status: int | None = 200,
    at: datetime = T0,
    crawl_id: str = CRAWL,
) -> FetchRecord:
    return FetchRecord(
        crawl_id=crawl_id, url=url, at=at, outcome=outcome, reason=reason, status=status
    )


def page(url: str, **overrides: Any) -> PageRecord:
    fields: dict[str, Any] = {
        "url": url,
        "canonical_url": url,
        "crawl_id": CRAWL,
        "fetched_at": T0,
        "status": 200,
        "content_hash": "sha256:abc",
        "text": "Body text of the article.",
        "metadata": {
            "title": "A title",
            "author": "A. Writer",
            "license": "https://creativecommons.org/licenses/by/4.0/",
        },
        "decisions": {
            "search": {"allowed": True, "reasons": ["no signal denies search"], "obligations": []},
            "ai-train": {
                "allowed": False,
                "reasons": ["Content-Signal ai-train=no"],
                "obligations": [],
            },
        },
        "evidence": [
            {
                "signal": "content-signal",
                "source": "https://a.example/robots.txt",
                "raw": "ai-train=no",
                "rule": "content-signal",
                "line": 3,
                "element": None,
            },
        ],
        "obligations": [],
        "signal_ids": [],
        "source_class": None,
        "page_role": "article",
        "platform": None,
        "user_agent": "fairfetch",
        "purposes": ["search", "ai-input"],
        "fetch": fetch(url, at=overrides.get("fetched_at", T0)),
    }
    fields.update(overrides)
    return PageRecord(**fields)


def robots(
    ledger: Ledger,
    body: bytes | None = ROBOTS,
    *,
    at: datetime = T0,
    status: int | None = 200,
    error: str | None = None,
    crawl_id: str = CRAWL,
) -> int:
    return ledger.record_signal(
        crawl_id=crawl_id,
        origin="https://a.example",
        kind="robots.txt",
        url="https://a.example/robots.txt",
        status=status,
        body=body,
        error=error,
        fetched_at=at,
    )


def page_rows(ledger: Ledger) -> int:
    return int(ledger.counts()["pages"])


@pytest.fixture
def ledger(tmp_path: Path) -> Any:
    with Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as led:
        start(led)
        yield led


# -- opening ----------------------------------------------------------------


def test_default_url_is_a_sqlite_file_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert DEFAULT_DB_URL == "sqlite:///fairfetch.sqlite"
    monkeypatch.chdir(tmp_path)
    with Ledger() as led:
        start(led)
    assert (tmp_path / "fairfetch.sqlite").is_file()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(ledger: Ledger) -> None:
    with ledger.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_missing_parent_directories_are_created(tmp_path: Path) -> None:
    with Ledger(f"sqlite:///{tmp_path / 'deep' / 'er' / 'l.sqlite'}"):
        pass
    assert (tmp_path / "deep" / "er" / "l.sqlite").is_file()


@pytest.mark.parametrize("url", ["not a url", "nosuchdialect://x/y", "mysql+nosuchdriver://u@h/db"])
def test_bad_database_urls_raise_a_plain_error(url: str) -> None:
    with pytest.raises(LedgerError):
        Ledger(url)


def test_read_only_open_refuses_to_create_an_empty_ledger(tmp_path: Path) -> None:
    path = tmp_path / "absent.sqlite"
    with pytest.raises(LedgerError, match="no ledger at"):
        Ledger(f"sqlite:///{path}", create=False)
    assert not path.exists()
    sqlite3.connect(path).close()  # a database that is not a ledger
    with pytest.raises(LedgerError, match="holds no fairfetch ledger"):
        Ledger(f"sqlite:///{path}", create=False)


def test_in_memory_ledger_is_shared_between_threads() -> None:
    with Ledger("sqlite://") as led:
        start(led)
        worker = threading.Thread(target=led.record_page, args=(page("https://a.example/t"),))
        worker.start()
        worker.join()
        assert led.page("https://a.example/t") is not None


# -- crawls -------------------------------------------------------------------


def test_start_crawl_is_idempotent_and_counts_resumes(ledger: Ledger) -> None:
    start(ledger)
    crawl = ledger.crawl(CRAWL)
    assert crawl is not None and crawl["runs"] == 2
    assert ledger.counts()["crawls"] == 1
    ledger.finish_crawl(CRAWL, {"pages": 3, "spent": Decimal("0.10")})
    finished = ledger.crawl(CRAWL)
    assert finished is not None and finished["finished_at"] is not None
    assert finished["stats"] == {"pages": 3, "spent": "0.10"}
    start(ledger)
    resumed = ledger.crawl(CRAWL)
    assert resumed is not None and resumed["finished_at"] is None and resumed["runs"] == 3
    assert resumed["started_at"] == crawl["started_at"]


def test_finish_of_an_unknown_crawl_is_an_error(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match="unknown crawl"):
        ledger.finish_crawl("nope", {})
    assert ledger.crawl("nope") is None


def test_writes_under_an_unknown_crawl_are_refused(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match="start_crawl"):
        ledger.record_fetch(fetch("https://a.example/", crawl_id="ghost"))
    with pytest.raises(LedgerError, match="start_crawl"):
        robots(ledger, crawl_id="ghost")
    with pytest.raises(LedgerError, match="start_crawl"):
        ledger.record_page(page("https://a.example/", crawl_id="ghost", fetch=None))
    assert ledger.counts()["fetch_rows"] == 0 and ledger.counts()["signal_snapshots"] == 0


# -- signal snapshots -----------------------------------------------------------


def test_signal_snapshot_keeps_body_hash_and_status(ledger: Ledger) -> None:
    sid = robots(ledger)
    snap = ledger.snapshot(sid)
    assert snap is not None
    assert snap["body"] == ROBOTS and snap["size"] == len(ROBOTS) and not snap["truncated"]
    assert snap["sha256"] == hashlib.sha256(ROBOTS).hexdigest()
    assert (
        snap["status"] == 200
        and snap["kind"] == "robots.txt"
        and snap["origin"] == "https://a.example"
    )
    assert snap["fetched_at"] == T0.isoformat() and snap["crawl_id"] == CRAWL
    assert ledger.snapshot(sid + 1000) is None


def test_oversized_signal_body_is_truncated_but_hashed_whole(ledger: Ledger) -> None:
    body = b"Disallow: /x\n" * (MAX_SIGNAL_BODY // 13 + 10)
    snap = ledger.snapshot(robots(ledger, body))
    assert snap is not None
    assert snap["truncated"] and len(snap["body"]) == MAX_SIGNAL_BODY
    assert snap["size"] == len(body) and snap["sha256"] == hashlib.sha256(body).hexdigest()


def test_failed_signal_fetch_is_a_snapshot_too(ledger: Ledger) -> None:
    sid = robots(ledger, None, status=None, error="connection timed out")
    snap = ledger.snapshot(sid)
    assert snap is not None and snap["body"] is None and snap["sha256"] is None
    assert snap["error"] == "connection timed out"
    # the same failure again is the same version; recovery is a new one
    assert (
        robots(ledger, None, status=None, error="connection timed out", at=T0 + timedelta(hours=1))
        == sid
    )
    assert robots(ledger, at=T0 + timedelta(hours=2)) != sid


def test_signal_history_versions_changes_and_touches_repeats(ledger: Ledger) -> None:
    changed = ROBOTS + b"Disallow: /drafts\n"
    a1 = robots(ledger, at=T0)
    a2 = robots(ledger, at=T0 + timedelta(hours=1))
    b = robots(ledger, changed, at=T0 + timedelta(hours=2))
    a3 = robots(ledger, at=T0 + timedelta(hours=3))
    assert a1 == a2 and len({a1, b, a3}) == 3
    history = ledger.signal_history("robots.txt", "https://a.example/robots.txt")
    assert [h["version"] for h in history] == [1, 2, 3]
    assert [h["id"] for h in history] == [a1, b, a3]
    assert history[0]["seen_count"] == 2
    assert history[0]["fetched_at"] == T0.isoformat()
    assert history[0]["last_seen_at"] == (T0 + timedelta(hours=1)).isoformat()
    # a late report of an older fetch never moves last_seen_at backwards
    robots(ledger, at=T0 - timedelta(days=1))
    assert (
        ledger.signal_history("robots.txt", "https://a.example/robots.txt")[2]["last_seen_at"]
        == (T0 + timedelta(hours=3)).isoformat()
    )


def test_same_body_under_another_kind_or_url_is_its_own_history(ledger: Ledger) -> None:
    a = robots(ledger)
    b = ledger.record_signal(
        crawl_id=CRAWL,
        origin="https://a.example",
        kind="tdmrep",
        url="https://a.example/robots.txt",
        status=200,
        body=ROBOTS,
        error=None,
        fetched_at=T0,
    )
    c = ledger.record_signal(
        crawl_id=CRAWL,
        origin="https://B.example/",
        kind="robots.txt",
        url="https://b.example/robots.txt",
        status=200,
        body=ROBOTS,
        error=None,
        fetched_at=T0,
    )
    assert len({a, b, c}) == 3
    snap = ledger.snapshot(c)
    assert snap is not None and snap["origin"] == "https://b.example"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kind", "", "signal kind"),
        ("origin", "", "origin"),
        ("url", "", "signal url"),
        ("kind", "x" * 41, "longer"),
    ],
)
def test_signal_arguments_are_checked(ledger: Ledger, field: str, value: str, message: str) -> None:
    args: dict[str, Any] = {
        "crawl_id": CRAWL,
        "origin": "https://a.example",
        "kind": "rsl",
        "url": "https://a.example/license.xml",
        "status": 200,
        "body": b"<rsl/>",
        "error": None,
        "fetched_at": T0,
    }
    args[field] = value
    with pytest.raises(LedgerError, match=message):
        ledger.record_signal(**args)


def test_signal_body_must_be_bytes(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match="bytes"):
        robots(ledger, "User-agent: *")  # type: ignore[arg-type]


# -- pages ------------------------------------------------------------------------


def test_page_export_dict_carries_the_whole_provenance(ledger: Ledger) -> None:
    sid = robots(ledger)
    ledger.record_page(page("https://a.example/story", signal_ids=[sid]))
    got = ledger.page("https://a.example/story")
    assert got is not None
    assert got["url"] == got["canonical_url"] == "https://a.example/story"
    assert got["fetched_at"] == "2026-11-01T12:00:00+00:00"
    assert got["status"] == 200 and got["content_hash"] == "sha256:abc"
    assert got["source_class"] is None and got["platform"] is None and got["page_role"] == "article"
    assert got["text"] == "Body text of the article." and got["text_length"] == 25
    assert got["metadata"]["author"] == "A. Writer"
    assert got["decisions"]["ai-train"] == {
        "allowed": False,
        "reasons": ["Content-Signal ai-train=no"],
        "obligations": [],
    }
    assert got["evidence"][0]["raw"] == "ai-train=no"
    assert got["purposes"] == ["search", "ai-input"] and got["user_agent"] == "fairfetch"
    [sig] = got["signals"]
    assert (
        sig["id"] == sid
        and sig["kind"] == "robots.txt"
        and sig["url"] == "https://a.example/robots.txt"
    )
    assert sig["status"] == 200 and len(sig["sha256"]) == 64 and sig["fetched_at"] == T0.isoformat()
    assert "body" not in sig
    assert [f["outcome"] for f in got["fetch_log"]] == ["fetched"]
    assert ledger.page("https://a.example/unknown") is None


def test_page_built_from_a_real_verdict(ledger: Ledger) -> None:
    evidence = Evidence(
        signal=Signal.RSL,
        source="https://a.example/license.xml",
        raw="<permits type=usage>ai-input",
        rule="rsl-permits",
        element="content[1]",
    )
    pay = Obligation(
        kind=ObligationKind.PAYMENT,
        amount=Decimal("0.002"),
        currency="USD",
        url="https://a.example/pay",
    )
    decisions = {
        u: UsageDecision(
            usage=u,
            effect=Effect.ALLOW if u in (Usage.SEARCH, Usage.AI_INPUT) else Effect.DENY,
            obligations=(pay,) if u is Usage.AI_INPUT else (),
            reasons=(f"rsl says {u}",),
            decided_by=evidence,
            evidence=(evidence,),
        )
        for u in Usage
    }
    verdict = Verdict(
        url="https://a.example/paid",
        user_agent="fairfetch",
        purposes=(Usage.SEARCH, Usage.AI_INPUT),
        fetch=FetchDecision(allowed=True, reason="allowed"),
        usages=decisions,
        evidence=(evidence,),
    )
    record = page(
        "https://a.example/paid",
        decisions=decisions_from_verdict(verdict),
        evidence=evidence_from_verdict(verdict),
        obligations=obligations_from_verdict(verdict),
    )
    ledger.record_page(record)
    got = ledger.page("https://a.example/paid")
    assert got is not None
    assert got["decisions"]["ai-input"]["allowed"] is True
    assert got["decisions"]["ai-input"]["obligations"][0]["amount"] == "0.002"
    assert got["decisions"]["ai-train"] == {
        "allowed": False,
        "reasons": ["rsl says ai-train"],
        "obligations": [],
    }
    assert got["evidence"] == [
        {
            "signal": "rsl",
            "source": "https://a.example/license.xml",
            "raw": "<permits type=usage>ai-input",
            "rule": "rsl-permits",
            "line": None,
            "element": "content[1]",
        }
    ]
    assert got["obligations"] == [
        {
            "kind": "payment",
            "detail": "",
            "url": "https://a.example/pay",
            "amount": "0.002",
            "currency": "USD",
            "limit": None,
            "selectors": [],
            "usages": ["ai-input"],
        }
    ]


def test_models_are_accepted_where_dicts_are_expected(ledger: Ledger) -> None:
    ev = Evidence(
        signal=Signal.META_ROBOTS,
        source="https://a.example/m",
        raw="noai",
        rule="noai",
        element="meta",
    )
    ledger.record_page(
        page(
            "https://a.example/m",
            evidence=[ev],
            metadata={"published": T0, "price": Decimal("1.5")},
        )
    )
    got = ledger.page("https://a.example/m")
    assert got is not None
    assert got["evidence"][0]["signal"] == "meta-robots"
    assert got["metadata"] == {"published": "2026-11-01T12:00:00Z", "price": "1.5"}


def test_recrawl_updates_the_row_and_keeps_first_seen(ledger: Ledger) -> None:
    url = "https://a.example/story"
    ledger.record_page(page(url))
    later = T0 + timedelta(days=2)
    ledger.record_page(
        page(url, fetched_at=later, text=None, status=203, content_hash="sha256:def")
    )
    assert page_rows(ledger) == 1
    got = ledger.page(url)
    assert got is not None
    assert got["text"] is None and got["status"] == 203 and got["content_hash"] == "sha256:def"
    assert got["fetched_at"] == later.isoformat() and got["first_seen_at"] == T0.isoformat()
    assert len(got["fetch_log"]) == 1  # same event (crawl, url, outcome, reason, status) replayed


def test_an_older_fetch_never_overwrites_a_newer_one(ledger: Ledger) -> None:
    url = "https://a.example/story"
    ledger.record_page(page(url, fetched_at=T0 + timedelta(hours=1), text="new"))
    ledger.record_page(page(url, fetched_at=T0, text="old"))
    got = ledger.page(url)
    assert got is not None and got["text"] == "new"


def test_naive_datetimes_are_taken_as_utc(ledger: Ledger) -> None:
    ledger.record_page(page("https://a.example/n", fetched_at=datetime(2026, 11, 1, 12, 0)))
    plus5 = datetime(2026, 11, 1, 18, 0, tzinfo=timezone(timedelta(hours=5)))
    ledger.record_page(page("https://a.example/z", fetched_at=plus5))
    got = {p["url"]: p["fetched_at"] for p in ledger.export()}
    assert got == {
        "https://a.example/n": "2026-11-01T12:00:00+00:00",
        "https://a.example/z": "2026-11-01T13:00:00+00:00",
    }


def test_unstorable_characters_are_repaired_not_fatal(ledger: Ledger) -> None:
    ledger.record_page(
        page("https://a.example/nul", text="a\x00b\ud800c", metadata={"t\x00": "x\udfff"})
    )
    got = ledger.page("https://a.example/nul")
    assert got is not None
    assert got["text"] == "a\ufffdb?c"
    assert got["metadata"] == {"t\ufffd": "x?"}


def test_very_long_urls_are_stored(ledger: Ledger) -> None:
    url = "https://a.example/q?" + "x" * 10_000
    ledger.record_page(page(url))
    assert ledger.page(url) is not None


def test_record_validation_errors_are_pydantic_errors_not_db_errors() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        FetchRecord(
            crawl_id=CRAWL, url="https://a.example/", at=T0, outcome="maybe", reason="", status=None
        )
    with pytest.raises(ValidationError):
        page("")


# -- fetch log ----------------------------------------------------------------------


def test_fetch_log_is_idempotent_across_replays(ledger: Ledger) -> None:
    refused = fetch(
        "https://a.example/private", outcome="refused", reason="robots.txt disallow", status=None
    )
    ledger.record_fetch(refused)
    ledger.record_fetch(
        refused.model_copy(update={"at": T0 + timedelta(minutes=5)})
    )  # replayed after a resume
    ledger.record_fetch(
        fetch("https://a.example/private", outcome="error", reason="timeout", status=None)
    )
    ledger.record_fetch(
        fetch("https://a.example/old", outcome="redirected", reason="301 to /new", status=301)
    )
    log = ledger.fetch_log(CRAWL)
    assert [(f["url"], f["outcome"]) for f in log] == [
        ("https://a.example/private", "refused"),
        ("https://a.example/private", "error"),
        ("https://a.example/old", "redirected"),
    ]
    assert (
        log[0]["at"] == T0.isoformat()
        and log[0]["reason"] == "robots.txt disallow"
        and log[0]["status"] is None
    )
    assert ledger.fetch_log("other") == []


def test_fetch_key_depends_only_on_attempt_independent_fields() -> None:
    a = fetch("https://a.example/", at=T0)
    assert a.key == fetch("https://a.example/", at=T0 + timedelta(days=1)).key
    assert a.key != fetch("https://a.example/", status=304).key
    assert a.key != fetch("https://a.example/", reason="ok ").key
    assert a.key != fetch("https://a.example/", crawl_id="crawl-2").key
    assert len(a.key) == 64


def test_counts(ledger: Ledger) -> None:
    ledger.record_page(page("https://a.example/1"))
    ledger.record_page(page("https://a.example/2", text=None))
    for url, reason in [
        ("/p1", "robots.txt disallow"),
        ("/p2", "robots.txt disallow"),
        ("/p3", "HTTP 451"),
    ]:
        ledger.record_fetch(
            fetch("https://a.example" + url, outcome="refused", reason=reason, status=None)
        )
    ledger.record_fetch(
        fetch("https://a.example/e", outcome="error", reason="timeout", status=None)
    )
    robots(ledger)
    counts = ledger.counts()
    assert counts == {
        "pages": 2,
        "stored": 1,
        "fetch_rows": 6,
        "outcomes": {"fetched": 2, "refused": 3, "error": 1, "redirected": 0},
        "refused": {"robots.txt disallow": 2, "HTTP 451": 1},
        "errors": 1,
        "signal_snapshots": 1,
        "crawls": 1,
    }
    assert ledger.counts(crawl_id="nope")["pages"] == 0


# -- transactions -----------------------------------------------------------------


def test_a_failed_fetch_row_leaves_no_page_row(ledger: Ledger) -> None:
    bad = page("https://a.example/t", fetch=fetch("https://a.example/t", crawl_id="never-started"))
    with pytest.raises(LedgerError, match="unknown crawl"):
        ledger.record_page(bad)
    assert ledger.page("https://a.example/t") is None
    assert ledger.counts()["pages"] == 0 and ledger.counts()["fetch_rows"] == 0


def test_a_failed_update_leaves_the_previous_row_intact(ledger: Ledger) -> None:
    url = "https://a.example/t"
    ledger.record_page(page(url))
    with pytest.raises(LedgerError, match="does not hold"):
        ledger.record_page(
            page(
                url,
                fetched_at=T0 + timedelta(days=1),
                text="changed",
                signal_ids=[424242],
                fetch=fetch(url, status=203),
            )
        )
    got = ledger.page(url)
    assert (
        got is not None
        and got["text"] == "Body text of the article."
        and got["fetched_at"] == T0.isoformat()
    )
    assert len(got["fetch_log"]) == 1


def test_a_database_constraint_failure_rolls_back_the_page(ledger: Ledger) -> None:
    # Bypass our own crawl check so the database's foreign key is what refuses the fetch row.
    ledger._known_crawls.add("ghost")
    with pytest.raises(sa.exc.IntegrityError):
        ledger.record_page(
            page("https://a.example/fk", fetch=fetch("https://a.example/fk", crawl_id="ghost"))
        )
    assert ledger.page("https://a.example/fk") is None


# -- host classes and export ------------------------------------------------------------


def test_host_class_fills_pages_that_have_none(ledger: Ledger) -> None:
    ledger.record_page(page("https://A.example/x"))
    ledger.record_page(page("https://a.example/y", source_class="forum-post", platform="discourse"))
    ledger.set_host_class(
        "A.Example.", "news", None, [{"signal": "schema.org", "raw": "NewsMediaOrganization"}]
    )
    got = {p["url"]: p for p in ledger.export()}
    assert got["https://A.example/x"]["source_class"] == "news"
    assert got["https://A.example/x"]["host_class"]["evidence"] == [
        {"signal": "schema.org", "raw": "NewsMediaOrganization"}
    ]
    assert got["https://a.example/y"]["source_class"] == "forum-post"
    assert got["https://a.example/y"]["platform"] == "discourse"
    ledger.set_host_class("a.example", "blog", "wordpress", [])
    host = ledger.host_class("a.example")
    assert host is not None and host["source_class"] == "blog" and host["platform"] == "wordpress"
    assert (
        host["evidence"] == [] and datetime.fromisoformat(host["classified_at"]).tzinfo is not None
    )
    again = ledger.page("https://A.example/x")
    assert (
        again is not None and again["source_class"] == "blog" and again["platform"] == "wordpress"
    )


def test_export_is_ordered_by_url_and_filtered_by_crawl(ledger: Ledger) -> None:
    start(ledger, "crawl-2")
    urls = [
        "https://b.example/",
        "https://a.example/Z",
        "https://a.example/a",
        "https://a.example/é",
        "https://a.example/",
    ]
    for i, url in enumerate(urls):
        ledger.record_page(page(url, crawl_id="crawl-2" if i % 2 else CRAWL, fetch=None))
    assert [p["url"] for p in ledger.export()] == sorted(urls)
    assert [p["url"] for p in ledger.export(crawl_id="crawl-2")] == sorted(urls[1::2])


# -- the portable (non-native upsert) path --------------------------------------------------


def test_portable_upsert_path_has_the_same_semantics(ledger: Ledger) -> None:
    ledger._native_upsert = False
    url = "https://a.example/portable"
    ledger.record_page(page(url))
    ledger.record_page(page(url, fetched_at=T0 + timedelta(hours=1), text="v2"))
    ledger.record_page(page(url, fetched_at=T0 - timedelta(hours=1), text="stale"))
    ledger.record_fetch(fetch(url))
    ledger.set_host_class("a.example", "news", None, [])
    ledger.set_host_class("a.example", "blog", None, [])
    robots(ledger, at=T0)
    robots(ledger, at=T0 + timedelta(hours=1))
    got = ledger.page(url)
    assert got is not None and got["text"] == "v2" and got["source_class"] == "blog"
    assert (
        page_rows(ledger) == 1
        and ledger.counts()["fetch_rows"] == 1
        and ledger.counts()["signal_snapshots"] == 1
    )


# -- property: whatever the crawler hands over is stored and read back -----------------------


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.one_of(st.none(), st.text(MESSY, max_size=200)),
    title=st.text(MESSY, max_size=50),
    reason=st.text(MESSY, max_size=50),
    status=st.one_of(st.none(), st.integers(min_value=100, max_value=599)),
)
def test_arbitrary_text_round_trips_or_is_repaired(
    ledger: Ledger, text: str | None, title: str, reason: str, status: int | None
) -> None:
    url = "https://a.example/prop"
    record = page(
        url,
        text=text,
        metadata={"title": title},
        status=status,
        fetch=fetch(url, outcome="fetched", reason=reason, status=status),
        fetched_at=datetime.now(UTC),
    )
    ledger.record_page(record)
    got = ledger.page(url)
    assert got is not None
    assert got["text"] == (None if text is None else storable_text(text))
    assert got["metadata"]["title"] == storable_text(title)
    assert got["status"] == status
    assert any(f["reason"] == storable_text(reason) for f in got["fetch_log"])


# -- crash and resume ---------------------------------------------------------------------------

_WRITER = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from crawler.ledger import FetchRecord, Ledger, PageRecord

    db, n, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    ledger = Ledger(db)
    ledger.start_crawl("resumable", user_agent="fairfetch", purposes=["search"], seeds=[], settings={})
    for i in range(n):
        url = f"https://a.example/{i}"
        now = datetime.now(UTC)  # differs between the killed run and the resumed one
        ledger.record_fetch(FetchRecord(crawl_id="resumable", url=url + "?refused", at=now, outcome="refused",
                                        reason="robots.txt disallow", status=None))
        ledger.record_page(PageRecord(url=url, crawl_id="resumable", fetched_at=now, status=200, text=str(i),
                                      user_agent="fairfetch",
                                      fetch=FetchRecord(crawl_id="resumable", url=url, at=now, outcome="fetched",
                                                        reason="ok", status=200)))
        print(i, flush=True)
        time.sleep(pause)
    """
)


def test_kill_9_then_resume_leaves_no_duplicates(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'crash.sqlite'}"
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    n = 40
    proc = subprocess.Popen(
        [sys.executable, str(script), db, str(n), "0.01"],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    written = 0
    deadline = time.monotonic() + 30
    while written < 10 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        written += 1
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert 10 <= written < n, "the writer must be killed mid-crawl"

    done = subprocess.run(
        [sys.executable, str(script), db, str(n), "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    with Ledger(db, create=False) as led:
        counts = led.counts()
        assert counts["pages"] == n
        assert counts["outcomes"] == {"fetched": n, "refused": n, "error": 0, "redirected": 0}
        crawl = led.crawl("resumable")
        assert crawl is not None and crawl["runs"] == 2


# -- the CLI -------------------------------------------------------------------------------------


@pytest.fixture
def filled(tmp_path: Path) -> str:
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    with Ledger(db) as led:
        start(led)
        sid = robots(led)
        led.record_page(
            page(
                "https://a.example/story",
                signal_ids=[sid],
                obligations=[
                    {
                        "kind": "attribution",
                        "detail": "credit the author",
                        "url": None,
                        "usages": ["ai-input"],
                    }
                ],
            )
        )
        led.record_page(
            page(
                "https://a.example/quiet",
                text=None,
                evidence=[
                    {
                        "signal": "meta-robots",
                        "source": "https://a.example/quiet",
                        "raw": "[noai]",
                        "rule": "noai",
                        "element": "meta[name=robots]",
                    }
                ],
            )
        )
        led.record_fetch(
            fetch(
                "https://a.example/private",
                outcome="refused",
                reason="robots.txt disallow",
                status=None,
            )
        )
    return db


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_export_writes_jsonl(filled: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ledger", "export", "--db", filled], capsys)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["url"] for r in rows] == ["https://a.example/quiet", "https://a.example/story"]
    story = rows[1]
    for key in (
        "url",
        "canonical_url",
        "fetched_at",
        "status",
        "source_class",
        "platform",
        "text",
        "content_hash",
        "metadata",
        "decisions",
        "evidence",
        "obligations",
        "signals",
    ):
        assert key in story
    assert story["signals"][0]["kind"] == "robots.txt" and rows[0]["text"] is None
    code, out, _ = run(["ledger", "export", "--db", filled, "--crawl", "nope"], capsys)
    assert code == 0 and out == ""
    code, out, _ = run(["ledger", "export", "--db", filled, "--json"], capsys)
    assert code == 0 and [r["url"] for r in json.loads(out)] == [
        "https://a.example/quiet",
        "https://a.example/story",
    ]


def test_cli_show_prints_decisions_evidence_and_signals(
    filled: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from crawler.cli import output

    # The console reads COLUMNS once, when first imported; widen it directly so
    # long evidence lines are not wrapped whatever ran first.
    monkeypatch.setattr(output.console, "width", 240)
    code, out, _ = run(["ledger", "show", "https://a.example/story", "--db", filled], capsys)
    assert code == 0
    for expected in (
        "https://a.example/story",
        "ai-train",
        "Content-Signal ai-train=no",
        "content-signal",
        "https://a.example/robots.txt line 3",
        "ai-train=no",
        "robots.txt",
        "credit the author",
        "25 characters",
    ):
        assert expected in out, expected
    code, out, _ = run(["ledger", "show", "https://a.example/quiet", "--db", filled], capsys)
    assert code == 0 and "[noai]" in out and "not stored" in out


def test_cli_show_json_and_unknown_url(filled: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["ledger", "show", "https://a.example/story", "--db", filled, "--json"], capsys
    )
    assert code == 0
    data = json.loads(out)
    assert data["url"] == "https://a.example/story" and data["fetch_log"][0]["outcome"] == "fetched"
    code, out, err = run(["ledger", "show", "https://a.example/none", "--db", filled], capsys)
    assert code == 1 and out == "" and "not in the ledger" in err


def test_cli_stats(filled: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ledger", "stats", "--db", filled, "--json"], capsys)
    assert code == 0
    counts = json.loads(out)
    assert (
        counts["pages"] == 2
        and counts["stored"] == 1
        and counts["refused"] == {"robots.txt disallow": 1}
    )
    code, out, _ = run(["ledger", "stats", "--db", filled], capsys)
    assert code == 0 and "robots.txt disallow" in out and "pages with stored text" in out


def test_cli_reads_fairfetch_db_and_reports_a_missing_ledger(
    filled: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIRFETCH_DB", filled)
    code, out, _ = run(["ledger", "stats", "--json"], capsys)
    assert code == 0 and json.loads(out)["pages"] == 2
    monkeypatch.delenv("FAIRFETCH_DB")
    empty = tmp_path / "sub"
    empty.mkdir()
    monkeypatch.chdir(empty)
    code, out, err = run(["ledger", "export"], capsys)
    assert code == 2 and "no ledger at fairfetch.sqlite" in err
    assert not (empty / "fairfetch.sqlite").exists()
