"""Real pages and real tdmrep.json files (fixtures/corpus, see SOURCES.md): what each really carries."""

from __future__ import annotations

from pathlib import Path

import pytest

from norms.html import parse_html
from norms.model import AI_USAGES, ALL_USAGES, Effect, ObligationKind, Usage
from norms.paywall import detect_paywall, remove_parts
from norms.robots_tags import robots_directives
from norms.tdmrep import parse_tdmrep_json, tdmrep_statements

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "corpus"
HTML = CORPUS / "html"
TDMREP = CORPUS / "tdmrep"


def doc(name: str):
    return parse_html((HTML / name).read_bytes())


# (file, original URL, selectors, walled text delivered in the HTML, robots meta flags)
PAGES = [
    # JSON-LD NewsArticle false + hasPart {.paywall}; the .paywall div holds ~2,000 chars of text.
    ("barrons.com-f8ff621a.html", "https://www.barrons.com/articles/home-depot-stock-earnings-report-51574168486",
     [".paywall"], True, {"noarchive"}),
    # LA Times: no flag on the work, hasPart "False" (a string); the article body is the .paywall div.
    ("latimes.com-098bb3e9.html", "https://www.latimes.com/entertainment-arts/business/story/2019-11-19/disney-plus-kevin-mayer",
     [".paywall"], True, set()),
    ("latimes.com-8634d121.html", "https://www.latimes.com/business/story/2019-11-19/gannett-gatehouse-merger-future-local-news",
     [".paywall"], True, set()),
    # NYT: microdata, work content="false", hasPart content="False" cssSelector .meteredContent (full text present).
    ("nytimes.com-04a6711c.html", "https://www.nytimes.com/2019/11/19/opinion/republicans-elections-impeachment.html",
     [".meteredContent"], True, {"noarchive"}),
    ("nytimes.com-702d1da6.html", "https://www.nytimes.com/2019/11/18/business/trump-trade-war-china.html",
     [".meteredContent"], True, {"noarchive"}),
]
# The same markup whose hasPart selector matches nothing in the page: the walled part cannot be
# located, so the whole page is walled for AI usages (issue 9).
UNLOCATED = [
    # WSJ: the .paywall part is not in the HTML (a server-side wall).
    ("wsj.com-042bb7b5.html", "https://www.wsj.com/articles/google-stadia-microsoft-xcloud-apple-arcade-so-many-ways-to-playand-pay-11574168580",
     {"noarchive"}),
    ("wsj.com-7ab16ade.html", "https://www.wsj.com/articles/is-football-violence-a-crime-11574121884", {"noarchive"}),
    # Wired: JSON-LD false + hasPart [".paywall"], but no element has class "paywall" (only paywall-bar, ...).
    ("wired.com-2f42ef1d.html", "https://www.wired.com/story/the-future-of-banking-is-youre-broke/", set()),
    ("wired.com-d48aeb9c.html", "https://www.wired.com/story/instagram-business-accounts-analytics/", set()),
]


def robots_flags(d, url):
    robots = robots_directives(None, d, "fairfetch", source_url=url)
    return {f for f in ("noindex", "nofollow", "nosnippet", "noarchive", "noai") if getattr(robots, f)}


@pytest.mark.parametrize(("name", "url", "selectors", "text_present", "flags"), PAGES)
def test_paywalled_corpus_pages(name, url, selectors, text_present, flags):
    d = doc(name)
    r = detect_paywall(d, url)
    assert r.paywalled and r.strength == "markup"
    assert r.whole_page is False
    assert r.selectors == selectors
    assert r.text_present is text_present
    assert r.warnings == [] and r.unlocated == []
    sts = r.statements()
    assert {s.usage for s in sts} == set(ALL_USAGES)
    for s in sts:
        assert s.effect is Effect.ALLOW
        assert s.obligations[0].kind is ObligationKind.EXCLUDE_PARTS
        assert s.obligations[0].selectors == tuple(selectors)
    assert robots_flags(d, url) == flags


@pytest.mark.parametrize(("name", "url", "flags"), UNLOCATED)
def test_corpus_pages_whose_walled_part_matches_nothing_are_walled_whole(name, url, flags):
    d = doc(name)
    r = detect_paywall(d, url)
    assert r.paywalled and r.strength == "markup" and r.whole_page and r.selectors == []
    assert [u.kind for u in r.unlocated] == ["selector-matches-nothing"]
    assert r.unlocated[0].selector == ".paywall"
    assert "'.paywall' matches nothing in the page" in r.evidence[0].rule
    sts = {s.usage: s for s in r.statements()}
    assert all(sts[u].effect is Effect.DENY for u in AI_USAGES)
    assert sts[Usage.SEARCH].effect is Effect.ALLOW
    assert robots_flags(d, url) == flags


def test_barrons_meta_robots_noarchive_noodp_denies_input_and_training():
    d = doc("barrons.com-f8ff621a.html")
    robots = robots_directives(None, d, "fairfetch", source_url="https://www.barrons.com/a")
    assert robots.evidence[0].element == '<meta name="robots"> line 47'
    assert robots.evidence[0].raw == "noarchive,noodp"
    assert {(s.usage, s.effect) for s in robots.statements()} == {
        (Usage.AI_INPUT, Effect.DENY),
        (Usage.AI_TRAIN, Effect.DENY),
    }


def test_nyt_microdata_evidence_and_removal_of_the_metered_content():
    d = doc("nytimes.com-04a6711c.html")
    r = detect_paywall(d, "https://www.nytimes.com/x")
    assert r.evidence[0].element == '<meta itemprop="isAccessibleForFree"> line 26 in hasPart'
    assert r.evidence[0].raw == "False"
    assert r.evidence[1].raw == "false"  # the article's own flag
    before = d.root.cssselect(".meteredContent")[0].text_content()
    assert len(before) > 5000
    stripped = parse_html(remove_parts(d, r.selectors))
    assert stripped.root is not None and stripped.root.cssselect(".meteredContent") == []
    assert d.root.cssselect(".meteredContent")  # the input document is left as it was


def test_wired_paywall_classes_are_recorded_as_vendor_markers_but_markup_decides():
    r = detect_paywall(doc("wired.com-2f42ef1d.html"), "https://www.wired.com/x")
    vendor = [e for e in r.evidence if "heuristic" in e.rule]
    assert vendor and vendor[0].raw.startswith('class="paywall-')
    assert r.strength == "markup"


def test_nationalreview_empty_flag_is_not_a_paywall():
    r = detect_paywall(doc("nationalreview.com-f5c90a6d.html"), "https://www.nationalreview.com/x")
    assert not r.paywalled and r.statements() == []
    assert len(r.warnings) == 1 and "neither true nor false" in r.warnings[0]


def test_wday_microdata_free_true_is_not_a_paywall():
    r = detect_paywall(doc("wday.ru-3c6d3381.html"), "http://www.wday.ru/x")
    assert not r.paywalled and r.evidence == [] and r.statements() == []


def test_corpus_pages_carry_no_bot_specific_or_noai_rules():
    for path in sorted(HTML.glob("*.html")):
        d = robots_directives(None, parse_html(path.read_bytes()), "fairfetch", source_url=path.name)
        assert not d.noai and not d.noindex and not d.nosnippet, path.name


# --- tdmrep.json files ----------------------------------------------------------------------


def test_every_corpus_tdmrep_file_parses():
    for path in sorted(TDMREP.glob("*.json")):
        f = parse_tdmrep_json(path.read_bytes(), source_url=f"https://{path.stem}/.well-known/tdmrep.json")
        assert f.rules, path.name


def test_healsdata_template_reserves_everything():
    f = parse_tdmrep_json((TDMREP / "healsdata-ai-training-opt-out.tdmrep.json").read_bytes())
    assert f.warnings == []
    for path in ("/", "/blog/post", "/a?b=c"):
        rule = f.match("https://site.example" + path)
        assert rule is not None and rule.reservation == 1 and rule.index == 0
    sts = {s.usage: s for s in tdmrep_statements("https://site.example/x", file=f)}
    assert sts[Usage.AI_TRAIN].effect is Effect.DENY and not sts[Usage.AI_TRAIN].derived


def test_xlr8harder_star_pattern_is_explicitly_not_reserved():
    f = parse_tdmrep_json((TDMREP / "xlr8harder.github.io.tdmrep.json").read_bytes())
    rule = f.match("https://xlr8harder.github.io/posts/one.html")
    assert rule is not None and rule.location == "/*" and rule.reservation == 0
    sts = tdmrep_statements("https://xlr8harder.github.io/", file=f)
    assert {s.effect for s in sts} == {Effect.ALLOW}
    # A page-level header still supersedes the file.
    sts = tdmrep_statements("https://xlr8harder.github.io/", file=f, headers={"tdm-reservation": "1"})
    assert {s.effect for s in sts} == {Effect.DENY}


def test_baxin_bare_object_with_underscore_keys_is_read_protectively():
    f = parse_tdmrep_json((TDMREP / "baxin.pages.dev.tdmrep.json").read_bytes())
    assert "single object" in f.warnings[0]
    assert any("tdm_reservation" in w for w in f.warnings)
    rule = f.match("https://baxin.pages.dev/posts/x")
    assert rule is not None and rule.reservation == 1
    assert rule.policy == "https://maango.io/policy/baxin.pages.dev"
    sts = tdmrep_statements("https://baxin.pages.dev/posts/x", file=f)
    assert {s.effect for s in sts} == {Effect.DENY}
    assert sts[0].obligations[0].url == "https://maango.io/policy/baxin.pages.dev"
