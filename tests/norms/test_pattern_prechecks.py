"""The necessary-piece checks in front of the path matchers never change an answer.

``PathPattern.need`` (a piece every matching path holds, tested with one
``in`` before the left-to-right walk) and the pruned alternations of a small
robots.txt group (rules of many pieces whose piece a path lacks are left out
of the group's regex) are shortcuts; each is checked against protego's own
matcher by brute force, over patterns biased towards many pieces and several
paths per index, so the cache of pruned alternations is reused and filled up.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from protego._urlpattern import _URLPattern

from norms import robots_match
from norms.pathpattern import PathPattern
from norms.robots import parse_robots
from norms.robots_match import PathIndex, normalise_pattern, normalise_url

BASE = "https://news.example"
_SHORT = st.text(alphabet="/ab*$%2F?=.", min_size=1, max_size=8).map(lambda s: "/" + s)
_MANY = st.builds(
    lambda head, pieces, anchored: head + "*" + "*".join(pieces) + ("$" if anchored else ""),
    st.sampled_from(["/", "/a", "/*"]),
    st.lists(st.sampled_from(["a", "b", "ab", "ba", "?", "=", "/", "bb"]), min_size=2, max_size=6),
    st.booleans(),
)
_PATTERNS = _SHORT | _MANY
_TAILS = st.text(alphabet="/ab?=.", max_size=14)


def _reference(rules: list[tuple[str, bool]], path: str) -> bool | None:
    best: tuple[int, bool] | None = None
    for raw, allow in rules:
        text = normalise_pattern(raw)
        if text and _URLPattern(text).match(path):
            key = (len(text), allow)
            if best is None or key > best:
                best = key
    return None if best is None else best[1]


@settings(max_examples=500, deadline=None)
@given(_PATTERNS, _TAILS)
def test_path_pattern_with_its_precheck_equals_protego(raw: str, tail: str) -> None:
    path = normalise_url(BASE + "/" + tail)
    text = normalise_pattern(raw)
    assert PathPattern(raw).match(path) == bool(_URLPattern(text).match(path))


def test_need_is_the_longest_piece_after_the_head_the_last_of_equals() -> None:
    assert PathPattern("/*a*a*a*a*a*a*a*a*b").need == "b"
    assert PathPattern("/x*ab*c$").need == "ab"
    assert PathPattern("/x*ab").need is None  # one piece: the walk is one find already
    assert PathPattern("/plain").need is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_PATTERNS, st.booleans()), min_size=1, max_size=12), st.lists(_TAILS, min_size=1, max_size=10))
def test_pruned_alternations_agree_with_brute_force(rules: list[tuple[str, bool]], tails: list[str]) -> None:
    index = PathIndex(((raw, allow, i) for i, (raw, allow) in enumerate(rules)), whole_regex_limit=32)
    for tail in tails * 2:  # the second round answers from the cached pruned alternations
        path = normalise_url(BASE + "/" + tail)
        hit = index.best(path)
        assert (None if hit is None else hit[0]) == _reference(rules, path), path


def test_the_cache_of_pruned_alternations_is_bounded_and_the_answers_stay_right() -> None:
    letters = "cdefghij"
    rules = [(f"/*x*y*{c}", False) for c in letters] + [("/*x*y*z", True), ("/x", False)]
    index = PathIndex(((raw, allow, i) for i, (raw, allow) in enumerate(rules)), whole_regex_limit=32)
    paths = ["/" + "".join(c for k, c in enumerate(letters) if mask >> k & 1) + "xyz" for mask in range(256)]
    for path in paths:
        hit = index.best(path)
        assert (None if hit is None else hit[0]) == _reference(rules, path), path
    assert len(index._subsets) == robots_match._SUBSETS


def test_one_hostile_rule_is_refused_without_the_regex() -> None:
    robots = parse_robots("User-agent: *\nDisallow: /*a*a*a*a*a*a*a*a*b\n")
    assert robots.allowed("http://h.example/" + "a" * 59, "fairfetch")
    assert not robots.allowed("http://h.example/" + "a" * 59 + "b", "fairfetch")
    index = robots._select("fairfetch").index
    assert index._needs and list(index._subsets.values()) == [(None, [])]
