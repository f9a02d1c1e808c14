"""Batched page writes: ``Ledger.record_pages`` and the pipeline that batches pages for it.

A batch must leave the ledger exactly as writing its pages one by one would,
be all-or-nothing, and the pipeline must not let one bad page keep the rest of
its batch out of the ledger. The refusals the pipeline holds meanwhile end up
as if each had been written at once, even when their batch fails.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.utils.test import get_crawler

from crawler.items import PageItem
from crawler.ledger import FetchRecord, Ledger, LedgerError
from crawler.ledger.refusals import (
    export_refusals,
    hold_refusals,
    record_refusal,
    record_refusals,
    release_refusals,
    url_history,
)
from crawler.pipelines import BATCH_PAGES, LedgerPipeline
from crawler.session import session_for
from tests.crawler.test_ledger import CRAWL, T0, page, robots, start

URLS = [f"https://a.example/{n}" for n in range(4)]


def _state(ledger: Ledger) -> list[dict[str, Any]]:
    pages = [{k: v for k, v in p.items() if k != "id"} for p in ledger.export()]
    fetches = sorted((f["url"], f["at"], f["outcome"], f["reason"]) for f in ledger.fetch_log())
    return [*pages, {"fetches": fetches}]


def _fresh() -> Ledger:
    ledger = Ledger("sqlite://")
    start(ledger)
    return ledger


WRITES = st.lists(
    st.tuples(st.sampled_from(URLS), st.integers(-3, 3), st.sampled_from(["a", "b", "c"])),
    min_size=1,
    max_size=12,
)


@settings(max_examples=30, deadline=None)
@given(before=WRITES, batch=WRITES, portable=st.booleans())
def test_a_batch_ends_like_its_pages_written_one_by_one(
    before: list[tuple[str, int, str]], batch: list[tuple[str, int, str]], portable: bool
) -> None:
    records = [page(u, fetched_at=T0 + timedelta(hours=h), text=t) for u, h, t in batch]
    earlier = [page(u, fetched_at=T0 + timedelta(hours=h), text=t) for u, h, t in before]
    one_by_one, batched = _fresh(), _fresh()
    batched._native_upsert = one_by_one._native_upsert = not portable
    try:
        for ledger in (one_by_one, batched):
            for record in earlier:  # what an earlier run stored
                ledger.record_page(record)
        for record in records:
            one_by_one.record_page(record)
        batched.record_pages(records)
        assert _state(batched) == _state(one_by_one)
    finally:
        one_by_one.close()
        batched.close()


def test_a_batch_citing_an_unknown_snapshot_writes_nothing(tmp_path: Path) -> None:
    with Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}") as ledger:
        start(ledger)
        sid = robots(ledger)
        good = page(URLS[0], signal_ids=[sid])
        bad = page(URLS[1], signal_ids=[sid, sid + 99])
        with pytest.raises(LedgerError, match=str(sid + 99)):
            ledger.record_pages([good, bad])
        assert ledger.counts()["pages"] == 0 and ledger.counts()["fetch_rows"] == 0
        ledger.record_pages([good])
        assert ledger.counts()["pages"] == 1


def test_snapshot_ids_from_another_process_are_checked_once(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'l.sqlite'}"
    with Ledger(db) as writer:
        start(writer)
        sid = robots(writer)
    with Ledger(db) as reader:  # never wrote the snapshot itself
        reader.record_pages([page(URLS[0], signal_ids=[sid])])
        with pytest.raises(LedgerError):
            reader.record_pages([page(URLS[1], signal_ids=[sid, sid + 1])])
        assert reader.page(URLS[0]) is not None and reader.page(URLS[1]) is None


def test_an_empty_batch_is_a_no_op() -> None:
    ledger = _fresh()
    ledger.record_pages([])
    assert ledger.counts()["pages"] == 0


# -- the pipeline ----------------------------------------------------------------------------


def _item(url: str, signal_ids: list[int] | None = None, permitted: bool = True) -> PageItem:
    return PageItem(
        url=url, status=200, fetched_at=T0, text="t", content_hash="h", metadata={}, decisions={},
        evidence=[], obligations=[], signal_ids=signal_ids or [], outcome="fetched", reason="ok",
        permitted=permitted, host="a.example",
    )


@pytest.fixture
def pipeline(tmp_path: Path) -> Any:
    crawler = get_crawler(settings_dict={
        "FAIRFETCH_DB": f"sqlite:///{tmp_path / 'p.sqlite'}",
        "FAIRFETCH_CRAWL_ID": CRAWL,
        "FAIRFETCH_SITEMAPS": False,
    })
    pipe = LedgerPipeline(crawler)
    start(session_for(crawler).ledger)
    yield pipe
    session_for(crawler).ledger.close()


def test_pipeline_writes_a_full_batch_at_once(pipeline: LedgerPipeline) -> None:
    ledger = pipeline.session.ledger
    for n in range(BATCH_PAGES - 1):
        pipeline.process_item(_item(f"https://a.example/p{n}"))
    assert ledger.counts()["pages"] == 0  # still pending
    pipeline.process_item(_item("https://a.example/last"))
    assert ledger.counts()["pages"] == BATCH_PAGES
    assert ledger.counts()["fetch_rows"] == BATCH_PAGES


def test_pipeline_flushes_the_rest_when_the_spider_closes(pipeline: LedgerPipeline) -> None:
    pipeline.process_item(_item("https://a.example/1"))
    pipeline.process_item(_item("https://a.example/2", permitted=False))
    pipeline.close_spider()
    assert pipeline.session.ledger.counts()["pages"] == 2
    summary = pipeline.session.summary
    assert (summary.stored, summary.metadata_only) == (1, 1)


def test_one_bad_page_does_not_keep_its_batch_out(pipeline: LedgerPipeline) -> None:
    pipeline.process_item(_item("https://a.example/ok-1"))
    pipeline.process_item(_item("https://a.example/bad", signal_ids=[12345]))
    pipeline.process_item(_item("https://a.example/ok-2"))
    pipeline.flush()
    ledger = pipeline.session.ledger
    assert ledger.page("https://a.example/ok-1") is not None
    assert ledger.page("https://a.example/ok-2") is not None
    assert ledger.page("https://a.example/bad") is None
    summary = pipeline.session.summary
    assert summary.stored == 2 and summary.errors["ledger"] == 1


# -- refusals held by the pipeline -------------------------------------------------------------


def _refuse(ledger: Ledger, url: str) -> None:
    entry = FetchRecord(crawl_id=CRAWL, url=url, at=T0, outcome="refused", reason="robots.txt disallow")
    evidence = [{"signal": "robots.txt", "source": "https://a.example/robots.txt", "raw": "Disallow: /private"}]
    record_refusal(ledger, entry, kind="robots.txt", evidence=evidence, signal_ids=[])


def _refused(ledger: Ledger) -> list[str]:
    return sorted(f["url"] for f in ledger.fetch_log() if f["outcome"] == "refused")


def test_held_refusals_wait_for_the_next_batch_and_keep_their_evidence(pipeline: LedgerPipeline) -> None:
    ledger = pipeline.session.ledger
    pipeline.open_spider()
    _refuse(ledger, "https://a.example/private/1")
    _refuse(ledger, "https://a.example/private/1")  # replayed: still one row
    _refuse(ledger, "https://a.example/private/2")
    assert _refused(ledger) == []  # held
    pipeline.process_item(_item("https://a.example/page"))
    pipeline.flush()
    assert _refused(ledger) == ["https://a.example/private/1", "https://a.example/private/2"]
    history = url_history(ledger, "https://a.example/private/1")
    assert history is not None and history["refusals"][0]["kind"] == "robots.txt"
    assert history["refusals"][0]["evidence"][0]["raw"] == "Disallow: /private"
    _refuse(ledger, "https://a.example/private/3")  # no page pending: written on their own
    pipeline.flush()
    assert len(_refused(ledger)) == 3
    _refuse(ledger, "https://a.example/private/4")
    pipeline.close_spider()  # the last ones; from now on written at once
    _refuse(ledger, "https://a.example/private/5")
    assert len(_refused(ledger)) == 5 and ledger.counts()["fetch_rows"] == 6


def test_refusals_of_a_failed_batch_are_still_written(pipeline: LedgerPipeline) -> None:
    ledger = pipeline.session.ledger
    pipeline.open_spider()
    _refuse(ledger, "https://a.example/private/1")
    pipeline.process_item(_item("https://a.example/bad", signal_ids=[12345]))  # fails the batch
    pipeline.close_spider()
    assert _refused(ledger) == ["https://a.example/private/1"]
    assert ledger.page("https://a.example/bad") is None
    assert pipeline.session.summary.errors["ledger"] == 1


@pytest.mark.parametrize("portable", [False, True])
def test_written_refusals_are_those_written_one_by_one(portable: bool) -> None:
    one_by_one, held = _fresh(), _fresh()
    held._native_upsert = one_by_one._native_upsert = not portable
    try:
        urls = ["https://a.example/x", "https://a.example/y", "https://a.example/x"]
        for url in urls:
            _refuse(one_by_one, url)
        holder = hold_refusals(held)
        for url in urls:
            _refuse(held, url)
        record_refusals(held, holder.take())
        assert release_refusals(held) == []
        for ledger in (one_by_one, held):
            assert _refused(ledger) == ["https://a.example/x", "https://a.example/y"]
        assert [r for r in export_refusals(held)] == [r for r in export_refusals(one_by_one)]
    finally:
        one_by_one.close()
        held.close()
