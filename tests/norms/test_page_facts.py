"""norms.page_facts: a page read in one process decides the same verdict in another.

The crawler reads each answered page in its extraction pool and decides the
verdict on the reactor from the ``PageFacts`` that come back; these tests hold
that verdict to the one ``evaluate`` decides from the markup itself, on the
fixture pages (paywalls of every shape), real news pages, and hypothesis'
near-valid pages made of the signals the readers look for. They also check
that ``page_exclusions`` (what the pool extracts without, before the origin's
documents are consulted) is the verdict's list, and that the facts survive
pickling unchanged.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from norms import evaluate
from norms.page_facts import page_exclusions, read_page_facts
from norms.purposes import evaluate_purposes
from norms.robots import parse_robots

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([*(ROOT / "fixtures" / "pages").glob("*.html"), *(ROOT / "fixtures" / "corpus" / "html").glob("*.html")])
ROBOTS = parse_robots(
    "User-agent: *\nAllow: /\nContent-Signal: search=yes, ai-train=no\n\n"
    "User-agent: fairfetch-train\nDisallow: /private/\n",
    source_url="https://news.example/robots.txt",
)
HEADER_SETS = [
    None,
    [("Content-Type", "text/html; charset=utf-8")],
    [("X-Robots-Tag", "fairfetch: noimageai"), ("Content-Usage", "train-ai=n")],
]


def both_ways(html: str | bytes, url: str, headers: list[tuple[str, str]] | None, **kwargs: object) -> tuple:
    facts = pickle.loads(pickle.dumps(read_page_facts(html, url)))  # as it crosses the process boundary
    direct = evaluate_purposes(url, base_token="fairfetch", robots=ROBOTS, status=200, headers=headers,
                               html=html, **kwargs)
    via_facts = evaluate_purposes(url, base_token="fairfetch", robots=ROBOTS, status=200, headers=headers,
                                  html=facts, **kwargs)
    return direct, via_facts, facts


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
@pytest.mark.parametrize("headers", HEADER_SETS, ids=["no-headers", "content-type", "page-headers"])
def test_facts_decide_what_the_markup_decides(path: Path, headers: list[tuple[str, str]] | None) -> None:
    url = f"https://news.example/{path.stem}"
    direct, via_facts, facts = both_ways(path.read_bytes(), url, headers)
    assert via_facts == direct
    tokens = via_facts.user_agent.split()
    assert set(page_exclusions(facts, headers, tokens)) == set(direct.exclude_selectors)


def test_the_fixture_pages_exercise_what_the_facts_carry() -> None:
    """The equality above means something only if the pages carry paywalls, walled parts and metas."""
    walled = parts = with_metas = 0
    for path in PAGES:
        facts = read_page_facts(path.read_bytes(), f"https://news.example/{path.stem}")
        assert facts.doc.root is None  # the tree stays behind; what it said does not
        with_metas += bool(facts.doc.metas)
        walled += bool(facts.paywall and facts.paywall.paywalled)
        parts += bool(facts.paywall and facts.paywall.selectors)
    assert walled >= 5 and parts >= 2 and with_metas >= 10, (walled, parts, with_metas)


def test_a_page_without_markup_has_no_paywall_report() -> None:
    facts = read_page_facts("   ", "https://news.example/empty")
    assert facts.paywall is None
    assert evaluate("https://news.example/empty", status=200, html=facts) == evaluate(
        "https://news.example/empty", status=200, html="   ")


def test_facts_carry_the_normal_form_of_their_url() -> None:
    facts = read_page_facts("<p>x</p>", "HTTPS://News.Example:443/a/../b")
    assert facts.url == "https://news.example/b"


_META = st.sampled_from([
    '<meta name="robots" content="{v}">',
    '<meta name="fairfetch" content="{v}">',
    '<meta name="fairfetch-train" content="{v}">',
    '<meta name="tdm-reservation" content="1">',
    '<meta name="tdm-policy" content="https://news.example/policy.json">',
])
_VALUE = st.sampled_from(["noai", "noimageai", "noindex", "nosnippet", "max-snippet:20", "noai, noimageai",
                          "NOAI", "none", "unavailable_after: 2001-01-01", "", "noai,,noimageai"])
_BODY = st.sampled_from([
    "<p>Free text.</p>",
    '<div class="paywall"><p>Walled.</p></div>',
    '<script type="application/ld+json">{"@type": "NewsArticle", "isAccessibleForFree": false,'
    ' "hasPart": {"@type": "WebPageElement", "isAccessibleForFree": false, "cssSelector": ".paywall"}}</script>'
    '<div class="paywall"><p>Walled.</p></div>',
    '<script type="application/ld+json">{"@type": "NewsArticle", "isAccessibleForFree": "False"}</script>',
    '<script type="application/ld+json">{"isAccessibleForFree": false, "hasPart": {"cssSelector": "[["}}</script>',
    '<link rel="license" type="application/rsl+xml" href="/license.xml"><p>x</p>',
    "<div><p>unclosed <b>markup",
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(metas=st.lists(st.tuples(_META, _VALUE), max_size=4), body=_BODY, in_head=st.booleans(),
       headers=st.sampled_from(HEADER_SETS))
def test_near_valid_pages_decide_the_same_either_way(
    metas: list[tuple[str, str]], body: str, in_head: bool, headers: list[tuple[str, str]] | None
) -> None:
    tags = "".join(m.format(v=v) for m, v in metas)
    html = (f"<html><head>{tags}</head><body>{body}</body></html>" if in_head
            else f"<html><body>{tags}{body}</body></html>")
    direct, via_facts, facts = both_ways(html, "https://news.example/article", headers)
    assert via_facts == direct
    assert set(page_exclusions(facts, headers, via_facts.user_agent.split())) == set(direct.exclude_selectors)


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=300))
def test_arbitrary_text_decides_the_same_either_way(text: str) -> None:
    direct, via_facts, _ = both_ways(text, "https://news.example/x", None)
    assert via_facts == direct
