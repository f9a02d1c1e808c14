"""The URL fast paths answer exactly what the full normalisation answers.

``normalize_url``, ``match_target`` (robots.txt, TDMRep, RSL) and RSL's
``split_url`` skip the work for a URL already in normal form, after one regex
(``normal_path_start``; a string scan for URLs of 1,024 characters or more).
Every URL that test accepts must come out of the full normalisation
unchanged, with the same path target and origin; checked here over arbitrary
strings and over near-valid URLs built from the spellings that normalisation
changes (case, default ports, escapes, dot segments, backslashes, fragments,
non-ASCII), short and long.
"""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from norms.http import ABSOLUTE_URL
from norms.model import SignalError
from norms.pathpattern import match_target
from norms.rsl.patterns import origin_of, split_url
from norms.urls import _normalize, normal_path_start, normalize_url

SCHEMES = st.sampled_from(["http", "https", "HTTP", "Https", "ftp", "ws", "h ttp", ""])
HOSTS = st.sampled_from([
    "h.example", "H.example", "a-b.c", "a-.example", "-a.example", "a..b", "h.example.", "1.2.3.4", "[::1]",
    "xn--bcher-kva.example", "bücher.example", "user@h.example", "h%41.example", "h_x.example", "",
])
PORTS = st.sampled_from(["", ":80", ":443", ":8080", ":0", ":65535", ":65536", ":080", ":99999", ":", ":8a"])
SEGMENTS = st.sampled_from([
    "a", "A", "~x", ".", "..", ".x", "x.", "%2e", "%2E%2E", "%41", "%7e", "%3F", "%2f", "%", "%zz", "é", " ", "\\",
    "*", "$", "!", ":", "@", "=", "&", "+", ",", ";", "'", "(", "|", "^", "`", "{", "\"", "<", "\t", "",
])
TAILS = st.sampled_from(["", "?", "?q=1", "?a/./b", "?%41", "?x y", "#f", "#", "?q#f", "?é"])


@st.composite
def near_valid(draw: st.DrawFn) -> str:
    path = "/" + "/".join(draw(st.lists(SEGMENTS, max_size=6)))
    if draw(st.booleans()):
        path = path * draw(st.integers(1, 400))  # long: the string-scan branch (>= 1,024 characters)
    return f"{draw(SCHEMES)}://{draw(HOSTS)}{draw(PORTS)}{path}{draw(TAILS)}"


def slow_target(normal: str) -> str:
    start = normal.find("/", normal.find("//") + 2)
    if start < 0:
        query = normal.find("?")
        return "/" + normal[query:] if query >= 0 else "/"
    return normal[start:]


def check(url: str) -> None:
    start = normal_path_start(url)
    if start < 0:
        return
    assert _normalize(url) == url  # the fast path returns it as it is: the full path must agree
    assert normalize_url(url) == url
    assert match_target(url) == slow_target(_normalize(url)) == url[start:]
    m = ABSOLUTE_URL.match(url)
    assert m is not None
    assert split_url(url) == (origin_of(m.group(1), m.group(2)), url[start:])


@settings(max_examples=1500, deadline=None)
@given(near_valid())
@example("http://h.example/a/b?c=d")
@example("https://h.example:8080/" + "a" * 2000)
@example("http://a..b/x")
def test_fast_path_agrees_on_near_valid_urls(url: str) -> None:
    try:
        check(url)
    except SignalError:
        raise AssertionError(f"the fast path accepted {url!r}, which the full normalisation refuses") from None


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=80) | st.text(alphabet="htps:/.aA%2eE?#\\é0:8", max_size=60).map(lambda t: "http://h.x/" + t))
def test_fast_path_agrees_on_arbitrary_strings(url: str) -> None:
    try:
        check(url)
    except SignalError:
        raise AssertionError(f"the fast path accepted {url!r}, which the full normalisation refuses") from None


@settings(max_examples=300, deadline=None)
@given(near_valid())
def test_normal_forms_mostly_take_the_fast_path(url: str) -> None:
    """Not needed for correctness, but otherwise the tests above would check little: the usual normal
    http(s) URL (no escape, no dot segment) is recognised."""
    try:
        normal = normalize_url(url)
    except SignalError:
        return
    plain = normal.startswith(("http://", "https://")) and "%" not in normal and "/." not in normal
    plain = plain and all(c.isalnum() or c in "-._~!$&'()*+,;=:@/?" for c in normal[8:]) and normal.isascii()
    if plain and re.fullmatch(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[1-9][0-9]*)?", normal.split("/")[2]):
        assert normal_path_start(normal) >= 0, normal
