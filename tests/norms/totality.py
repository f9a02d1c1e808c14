"""Shared pieces of the totality tests: a reader returns a result or raises ``SignalError``, nothing else.

``junk`` draws the values hostile or broken publishers actually send in place
of a field: huge integers, invalid URLs, lone surrogates, control characters,
bogus encodings, deep nesting, empty values, random text. ``mutated`` takes a
real document and replaces exactly one of its fields (a line's value, an
attribute, a JSON value) with junk, so the reader gets past its first checks
and meets the junk where it parses details.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from norms.model import SignalError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

# Moderate counts so CI stays fast; deadline off because a loaded CI machine is slow, not wrong.
TOTALITY = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
FEW = settings(TOTALITY, max_examples=40)  # for readers whose single call costs milliseconds


def total(fn: Callable[[], Any]) -> Any:
    """Call ``fn``; a ``SignalError`` is an allowed answer (returned), any other exception fails the test."""
    try:
        return fn()
    except SignalError as exc:
        assert str(exc), "a SignalError must say why"
        return exc


INVALID_URLS = (
    "http://a]/l.xml", "https://a]/", "http://[::1", "http://[not-ip]/x", "https://host:99999999999/",
    "http://a b/", "//", "http://", ":", "\x00", "http://\ud800/", "https://a/\udfff", "%", "%zz", "\\\\x",
)
BOGUS_ENCODINGS = ("bogus", "utf-7", "x-nonexistent", "", "utf-16", "cp037", "rot13", "\ud800")

huge_ints = st.integers(min_value=4300, max_value=6000).map(lambda n: "9" * n)
surrogates = st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3)
controls = st.text(alphabet=st.characters(max_codepoint=0x1F) | st.sampled_from("\x7f\x85\u2028\u2029\ufeff"),
                   max_size=8)
deep = st.integers(min_value=50, max_value=3000).flatmap(
    lambda n: st.sampled_from(["[" * n, "{" * n, "<a>" * n, "(" * n, '{"a":' * n + "1" + "}" * n, "[" * n + "]" * n])
)

junk_text: st.SearchStrategy[str] = st.one_of(
    st.just(""),
    huge_ints,
    huge_ints.map(lambda s: "-" + s),
    st.sampled_from(INVALID_URLS),
    surrogates,
    controls,
    deep,
    st.sampled_from(BOGUS_ENCODINGS),
    st.text(max_size=40),
    st.tuples(st.text(max_size=10), surrogates, st.text(max_size=10)).map("".join),
    st.sampled_from(["1e999999999", "-1", "NaN", "Infinity", "0x10", "١٢", "²", "true", "null"]),
)

# JSON values that stress a reader: huge numbers, deep nesting, surrogate escapes, wrong types.
junk_json: st.SearchStrategy[str] = st.one_of(
    huge_ints,
    huge_ints.map(lambda s: "-" + s),
    st.sampled_from(["1e999999999", "-0", "1.0", "true", "false", "null", "[]", "{}", '"\\ud800"',
                     '"\\udfff\\u0000"', '"http://a]/"', '""', '"*a*a*a*a*a*a*b"']),
    st.integers(min_value=10, max_value=900).map(lambda n: "[" * n + "]" * n),
    st.integers(min_value=10, max_value=900).map(lambda n: '{"a":' * n + "0" + "}" * n),
    junk_text.map(lambda s: json.dumps(s)),
)


def read(path: str) -> str:
    return (FIXTURES / path).read_text(encoding="utf-8", errors="replace")


_ATTR = re.compile(r'(\w[\w:-]*=")([^"]*)(")')


def replace_attribute(doc: str, index: int, value: str) -> str:
    """``doc`` with the ``index``-th (mod count) double-quoted attribute value replaced by ``value``."""
    spans = list(_ATTR.finditer(doc))
    if not spans:
        return doc + value
    m = spans[index % len(spans)]
    return doc[: m.start(2)] + value.replace('"', "&quot;") + doc[m.end(2):]


_TEXT = re.compile(r">([^<>]+)<")


def replace_text(doc: str, index: int, value: str) -> str:
    """``doc`` with the ``index``-th element text replaced by ``value`` (markup kept)."""
    spans = list(_TEXT.finditer(doc))
    if not spans:
        return doc + value
    m = spans[index % len(spans)]
    return doc[: m.start(1)] + value.replace("<", "&lt;") + doc[m.end(1):]


def replace_line_value(doc: str, index: int, value: str) -> str:
    """``doc`` with the value of its ``index``-th ``Field: value`` line replaced (or the whole line)."""
    lines = doc.split("\n")
    i = index % len(lines)
    name, colon, _ = lines[i].partition(":")
    lines[i] = f"{name}: {value}" if colon else value
    return "\n".join(lines)


_JSON_SCALAR = re.compile(r'("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)')


def replace_json_value(doc: str, index: int, value: str) -> str:
    """``doc`` (JSON text) with its ``index``-th scalar token replaced by the JSON text ``value``."""
    spans = list(_JSON_SCALAR.finditer(doc))
    if not spans:
        return value
    m = spans[index % len(spans)]
    return doc[: m.start()] + value + doc[m.end():]


def mutated(docs: list[str], replace: Callable[[str, int, str], str],
            values: st.SearchStrategy[str] = junk_text) -> st.SearchStrategy[str]:
    """A real document with one field replaced by junk."""
    return st.builds(replace, st.sampled_from(docs), st.integers(min_value=0, max_value=10_000), values)


def as_bytes(text: st.SearchStrategy[str]) -> st.SearchStrategy[bytes | str]:
    """The same documents, sometimes as UTF-8 bytes (lone surrogates passed through as invalid bytes)."""
    return st.one_of(text, text.map(lambda s: s.encode("utf-8", "surrogatepass")))
