"""The ledger's shortcuts to JSON: ``storable_json``'s fast path and the cache of JSON column texts.

Both must be invisible: ``storable_json`` returns what walking the value
returned, and a page written through the cache stores the very text
SQLAlchemy's own ``json.dumps`` wrote before, across pages whose verdicts
differ in any part.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_core import to_jsonable_python

from crawler.ledger import Ledger
from crawler.ledger.base import JSON_TEXTS
from crawler.ledger.records import _clean, storable_json
from norms.model import Evidence, Obligation, ObligationKind, Signal, Usage
from tests.crawler.test_ledger import CRAWL, MESSY, page, start

KEYS = st.text(MESSY, max_size=6)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(MESSY, max_size=12),
    st.sampled_from(["\\u0000", "a\\u0000b"]),  # the escape written out: not a NUL, must survive
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=20,
)


def _same(a: Any, b: Any) -> bool:
    """Equal, NaN included (it is not equal to itself)."""
    return json.dumps(a, sort_keys=False) == json.dumps(b, sort_keys=False)


@settings(max_examples=300, deadline=None)
@given(value=JSONISH)
def test_storable_json_returns_what_walking_the_value_returns(value: Any) -> None:
    try:
        walked = _clean(to_jsonable_python(value, fallback=str))
    except UnicodeEncodeError:  # a lone surrogate in a key: refused before and now alike
        with pytest.raises(UnicodeEncodeError):
            storable_json(value)
        return
    got = storable_json(value)
    assert _same(got, walked)
    assert type(got) is type(walked)


def test_storable_json_copies_and_repairs_models_and_nested_values() -> None:
    pay = Obligation(kind=ObligationKind.PAYMENT, amount=Decimal("0.002"), currency="USD")
    value = {"pay": [pay], "usage": Usage.AI_INPUT, "bad": ["a\x00b", {"k\x00": "x\udfff"}]}
    got = storable_json(value)
    assert got["pay"][0]["amount"] == "0.002" and got["usage"] == "ai-input"
    assert got["bad"] == ["a\ufffdb", {"k\ufffd": "x?"}]
    plain = {"a": [1, 2], "b": {"c": "d"}}
    copy = storable_json(plain)
    assert copy == plain and copy is not plain and copy["a"] is not plain["a"]


def _evidence(n: int) -> dict[str, Any]:
    return Evidence(signal=Signal.ROBOTS, source=f"https://h{n % 3}.example/robots.txt",
                    raw=f"Disallow: /p{n % 5}", rule="rfc9309", line=n % 4).model_dump(mode="json")


def _decisions(n: int) -> dict[str, Any]:
    """Verdicts that share parts: the same reasons in another order, 1 and 1.0 and True, NaN and None."""
    values: list[Any] = [1, 1.0, True, None, math.nan, math.inf, "1", 0.1]
    return {
        str(u): {"allowed": bool((n + i) % 2), "reasons": [f"rule {(n + i) % 3}", "default"][:: 1 if n % 2 else -1],
                 "obligations": [{"amount": values[(n + i) % len(values)]}] if n % 3 else []}
        for i, u in enumerate(Usage)
    }


def _column_texts(ledger: Ledger) -> list[tuple[Any, ...]]:
    with ledger.engine.connect() as conn:
        return list(conn.exec_driver_sql(
            "SELECT url, decisions, evidence, obligations, signal_ids, purposes, metadata FROM pages ORDER BY url"
        ))


@pytest.mark.parametrize("batch", [1, 7])
def test_cached_json_texts_are_those_sqlalchemy_wrote(tmp_path: Path, batch: int) -> None:
    """Pages whose verdicts repeat or differ in any part store the same text with and without the cache."""
    records = [
        page(f"https://a.example/{n:03}", decisions=_decisions(n), evidence=[_evidence(n), _evidence(n + 1)][: n % 3],
             obligations=[{"kind": "attribution", "usages": ["search"]}] if n % 4 == 0 else [],
             signal_ids=[], purposes=["search", "ai-input"][: 1 + n % 2], metadata={"n": n})
        for n in range(60)
    ]
    ledgers = [Ledger(f"sqlite:///{tmp_path / name}.sqlite") for name in ("cached", "plain")]
    try:
        cached, plain = ledgers
        plain._json_texts = None  # SQLAlchemy encodes every value, as before the cache
        for ledger in ledgers:
            start(ledger)
            for i in range(0, len(records), batch):
                ledger.record_pages(records[i : i + batch])
        assert cached._json_texts  # the cache was used
        assert _column_texts(cached) == _column_texts(plain)
    finally:
        for ledger in ledgers:
            ledger.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(JSONISH, min_size=1, max_size=30))
def test_a_cached_text_is_json_dumps_of_its_own_value(tmp_path: Path, values: list[Any]) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'j.sqlite'}")
    try:
        for value in [*values, *values]:  # the second time round, from the cache
            plain = storable_json(value) if _storable(value) else None
            if plain is not None:
                assert str(ledger._json_text(plain)) == json.dumps(plain)
    finally:
        ledger.close()


def _storable(value: Any) -> bool:
    try:
        storable_json(value)
    except UnicodeEncodeError:
        return False
    return True


LOOKALIKES: list[Any] = [
    None, math.nan, math.inf, -math.inf, 1, 1.0, True, "1", 0, False, 0.0, -0.0, 1e16, 10**16, 2**70,
    "", "é", "\\u00e9", [], {}, [None], [math.nan], {"a": None}, {"a": math.nan}, {"a": 1}, {"a": 1.0},
    {"a": True}, {"a": "1"}, {"a": 1, "b": 2}, {"b": 2, "a": 1}, [[1], 2], [1, [2]],
]


@pytest.mark.parametrize("order", [1, -1])
def test_values_that_look_alike_keep_their_own_text(order: int) -> None:
    """Equal in Python or alike in JSON, different in ``json.dumps``: never one text for two of them."""
    ledger = Ledger("sqlite://")
    try:
        for value in [*LOOKALIKES[::order], *LOOKALIKES[::-order]]:
            assert ledger._json_text(value) == json.dumps(value), value
    finally:
        ledger.close()


def test_a_full_cache_starts_over_and_stays_right() -> None:
    ledger = Ledger("sqlite://")
    try:
        for n in range(JSON_TEXTS * 2 + 5):
            value = {"n": n, "even": n % 2 == 0}
            assert ledger._json_text(value) == json.dumps(value)
        assert ledger._json_texts is not None and len(ledger._json_texts) <= JSON_TEXTS
    finally:
        ledger.close()


def test_json_columns_round_trip_through_the_cache(tmp_path: Path) -> None:
    with Ledger(f"sqlite:///{tmp_path / 'r.sqlite'}") as ledger:
        start(ledger)
        decisions = _decisions(1)
        ledger.record_pages([page("https://a.example/x", decisions=decisions),
                             page("https://a.example/y", decisions=decisions)])
        got = ledger.page("https://a.example/y")
        assert got is not None and got["crawl_id"] == CRAWL
        assert _same(got["decisions"], decisions)
