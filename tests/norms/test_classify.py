"""norms.classify units: markers, scoring and the margin rule, sitemap footprint, HostProfile, bad input."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from norms.classify import (
    MARGIN,
    Classification,
    HostProfile,
    Registry,
    SitemapStats,
    SourceClass,
    classify_page,
    footprint_evidence,
    load_registry,
    sitemap_stats,
    url_template,
)
from norms.classify.footprint import MAX_BYTES, MAX_ENTRIES
from norms.classify.scoring import decide
from norms.html import parse_html
from norms.model import SignalError

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "classify" / "pages"
NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
EMPTY = Registry.empty()


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def markers(c: Classification) -> dict[str, float]:
    return {e.marker: e.weight for e in c.evidence}


def urlset(urls: list[str]) -> str:
    body = "".join(f"<url><loc>{u}</loc><lastmod>2026-0{i % 9 + 1}-01</lastmod></url>" for i, u in enumerate(urls))
    return f'<?xml version="1.0"?><urlset xmlns="{NS}">{body}</urlset>'


def index(n: int) -> str:
    body = "".join(f"<sitemap><loc>https://big.example/s{i}.xml.gz</loc></sitemap>" for i in range(n))
    return f'<?xml version="1.0"?><sitemapindex xmlns="{NS}">{body}</sitemapindex>'


# -- decisions -------------------------------------------------------------------------


def test_margin_rule_makes_close_calls_unknown() -> None:
    assert decide({"canonical": 3, "aggregator": 1, "community": 0}) == (SourceClass.CANONICAL, 2)
    assert decide({"canonical": 3, "aggregator": 2, "community": 0}) == (SourceClass.UNKNOWN, 1)
    assert decide({"canonical": 0, "aggregator": 0, "community": 0})[0] is SourceClass.UNKNOWN
    assert decide({"canonical": -2, "aggregator": -3, "community": -5})[0] is SourceClass.UNKNOWN
    assert MARGIN == 2


def test_empty_and_broken_bodies_are_unknown_not_errors() -> None:
    for body in (b"", b"   ", b"<<<>>>\x00\xff", b"<html><p>unclosed", b"\xef\xbb\xbf"):
        c = classify_page("https://nothing.example/", body, registry=EMPTY)
        assert c.source_class in (SourceClass.UNKNOWN, SourceClass.CANONICAL)
        assert c.source_class is SourceClass.UNKNOWN


@pytest.mark.parametrize("url", ["", "nothing.example/page", "ftp://a.example/x", "https://", "mailto:a@b.example"])
def test_non_http_urls_are_a_clear_error(url: str) -> None:
    with pytest.raises(SignalError, match="not an http"):
        classify_page(url, b"<html></html>")


def test_accepts_a_parsed_document_and_str() -> None:
    raw = page("lookalike-wiki.html")
    url = "https://wiki.example/wiki/Harbour_Lighthouse"
    from_doc = classify_page(url, parse_html(raw), registry=EMPTY)
    from_str = classify_page(url, raw.decode("utf-8"), registry=EMPTY)
    assert from_doc == from_str == classify_page(url, raw, registry=EMPTY)


# -- markers ---------------------------------------------------------------------------


def test_wiki_markers_each_count() -> None:
    c = classify_page("https://wiki.example/wiki/Harbour_Lighthouse", page("lookalike-wiki.html"), registry=EMPTY)
    m = markers(c)
    assert m["generator-wiki"] == 3 and m["wiki-edit-link"] == 3 and m["history-links"] == 1
    assert m["share-alike-license"] == 1
    gen = next(e for e in c.evidence if e.marker == "generator-wiki")
    assert gen.raw == "MediaWiki 1.41.2" and gen.where.startswith("meta generator line")


def test_edit_link_alone_is_enough_to_derive_history() -> None:
    html = (
        '<html><head><link rel="edit" href="/wiki/index.php?title=Kite&amp;action=edit"></head>'
        "<body><p>Kites fly.</p></body></html>"
    )
    c = classify_page("https://kites.example/wiki/Kite", html, registry=EMPTY)
    assert c.links.edit_history_url == "https://kites.example/wiki/index.php?title=Kite&action=history"
    assert markers(c)["wiki-edit-link"] == 3


def test_generator_from_x_generator_header() -> None:
    html = "<html><body><p>Welcome</p></body></html>"
    c = classify_page("https://board.example/", html, headers=[("X-Generator", "XenForo 2.3")], registry=EMPTY)
    assert markers(c)["generator-forum"] == 3
    assert c.platform == "xenforo"


def test_cms_generator_says_nothing_about_the_kind() -> None:
    html = '<html><head><meta name="generator" content="WordPress 6.8"></head><body>Hi</body></html>'
    c = classify_page("https://shop.example/", html, registry=EMPTY)
    assert markers(c)["generator-cms"] == 0


def test_self_identity_needs_the_site_root() -> None:
    base = '<html><head><script type="application/ld+json">{"@type":"Organization","url":"%s"}</script></head><body></body></html>'
    own = classify_page("https://www.acme.example/a", base % "https://acme.example/", registry=EMPTY)
    assert "self-identity" in markers(own)
    deep = classify_page("https://www.acme.example/a", base % "https://www.acme.example/listing/9", registry=EMPTY)
    other = classify_page("https://www.acme.example/a", base % "https://other.example/", registry=EMPTY)
    assert "self-identity" not in markers(deep) and "self-identity" not in markers(other)


def test_invalid_and_hostile_jsonld_is_ignored() -> None:
    deep = "[" * 5000 + "]" * 5000
    html = (
        '<html><head><script type="application/ld+json">{not json</script>'
        f'<script type="application/ld+json">{deep}</script>'
        '<script type="application/ld+json">{"@type":"QAPage"}</script></head><body></body></html>'
    )
    c = classify_page("https://qa2.example/q/1", html, registry=EMPTY)
    assert "jsonld-qapage" in markers(c)
    assert next(e for e in c.evidence if e.marker == "jsonld-invalid").raw == "2 block(s) not valid JSON"  # the broken one and the too-deep one


def test_person_made_video_is_hosted_but_the_owners_own_video_is_not() -> None:
    tpl = ('<html><head><script type="application/ld+json">{"@type":"VideoObject","name":"v",'
           '"author":{"@type":"Person","url":"%s"}}</script></head><body></body></html>')
    hosted = classify_page("https://v.example/watch?v=abcdef12", tpl % "https://v.example/@someone", registry=EMPTY)
    own = classify_page("https://me.example/video", tpl % "https://me.example/", registry=EMPTY)
    assert markers(hosted)["hosted-video"] == 2
    assert "hosted-video" not in markers(own)


def test_profile_links_count_distinct_same_site_profiles_only() -> None:
    links = "".join(f'<a href="/users/{i}/name">u</a><a href="/users/{i}/name#x">again</a>' for i in range(3))
    links += '<a href="https://elsewhere.example/users/9/x">other site</a>'
    c = classify_page("https://forum2.example/thread/1", f"<html><body>{links}</body></html>", registry=EMPTY)
    ev = next(e for e in c.evidence if e.marker == "author-profiles")
    assert ev.raw == "3 distinct profile links"


def test_outbound_diversity() -> None:
    links = "".join(f'<a href="https://news.site{i}.com/story">s</a>' for i in range(25))
    links += "".join(f'<a href="https://m{i}.example.com/">same registrable domain</a>' for i in range(5))
    c = classify_page("https://links.example/", f"<html><body>{links}</body></html>", registry=EMPTY)
    assert markers(c)["outbound-diversity"] == 1


# -- Public Suffix List ------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["www.agency.gov", "www.council.gov.uk", "impots.gouv.fr", "army.mil", "physics.mit.edu", "www.ox.ac.uk"]
)
def test_public_body_suffixes_give_a_canonical_prior(host: str) -> None:
    c = classify_page(f"https://{host}/page", b"<html><body>Notice</body></html>", registry=EMPTY)
    assert markers(c)["psl-public-body"] == 3
    assert c.source_class is SourceClass.CANONICAL


def test_private_suffix_makes_the_subdomain_the_unit() -> None:
    user = classify_page("https://someone.github.io/", b"<html><body>Hi</body></html>", registry=EMPTY)
    unit = next(e for e in user.evidence if e.marker == "psl-private-unit")
    assert unit.weight == 0 and "someone.github.io" in unit.raw
    bare = classify_page("https://github.io/", b"<html><body>Hi</body></html>", registry=EMPTY)
    assert markers(bare)["psl-private-platform"] == -2


# -- registry ----------------------------------------------------------------------------


def test_registry_route_sets_page_class_while_host_stays_aggregator() -> None:
    c = classify_page("https://github.com/python/cpython", page("github-repo.html"))
    assert (c.source_class, c.host_class, c.page_role) == (SourceClass.CANONICAL, SourceClass.AGGREGATOR, "entity-canonical")
    assert any(e.marker == "registry-route" and e.weight == 0 for e in c.evidence)


def test_operator_registry_overrides_class(tmp_path: Path) -> None:
    f = tmp_path / "r.json"
    f.write_text('{"platforms": {"hackernews": {"source_class": "aggregator"}}}', encoding="utf-8")
    c = classify_page("https://news.ycombinator.com/item?id=41876543", page("hackernews-item.html"), registry=load_registry(f))
    assert c.host_class is SourceClass.AGGREGATOR


def test_substack_reserved_subdomain_is_the_platform_itself() -> None:
    c = classify_page("https://www.substack.com/", b"<html><body>Discover</body></html>")
    assert markers(c)["registry-platform"] == 6
    assert c.host_class is SourceClass.AGGREGATOR


# -- sitemaps ----------------------------------------------------------------------------


def test_url_templates() -> None:
    assert url_template("https://x.example/questions/231767/what-does-yield-do") == "/questions/{n}/{slug}"
    assert url_template("https://x.example/watch?v=dQw4w9WgXcQ&t=10") == "/watch?t={v}&v={v}"
    assert url_template("https://x.example/p/3f9a1c2b7d4e") == "/p/{hex}"
    assert url_template("https://x.example/o/123e4567-e89b-12d3-a456-426614174000") == "/o/{uuid}"
    assert url_template("https://x.example/About/Team") == "/about/team"
    assert url_template("https://x.example/v/aB3dE5fG") == "/v/{id}"
    assert url_template("https://x.example/ShowUserReviews-g2001-d1001-r100100.html") == "/{sid}"
    assert url_template("https://x.example/a/why-tests-matter-3f9a1c2b7d4e") == "/a/{sid}"


def test_urlset_stats() -> None:
    stats = sitemap_stats(urlset([f"https://q.example/questions/{i}/slug-of-question" for i in range(30)]), url="s")
    assert (stats.kind, stats.entries, stats.truncated, stats.estimated_urls) == ("urlset", 30, False, 30)
    assert stats.templates == {"/questions/{n}/{slug}": 30}
    assert stats.latest_lastmod == "2026-09-01"


def test_index_stats_estimate_by_protocol_ceiling() -> None:
    stats = sitemap_stats(index(40), url="s")
    assert stats.kind == "sitemapindex" and stats.entries == 40 and stats.estimated_urls == 2_000_000
    assert len(stats.children) == 40


def test_gzip_and_text_sitemaps() -> None:
    gz = sitemap_stats(gzip.compress(urlset(["https://a.example/x", "https://a.example/y"]).encode()), url="s")
    assert gz.entries == 2
    text = sitemap_stats("https://a.example/1\nhttps://a.example/2\n", url="s")
    assert (text.kind, text.entries) == ("text", 2)


def test_reads_are_bounded() -> None:
    many = urlset([f"https://a.example/item/{i}" for i in range(MAX_ENTRIES + 500)])
    stats = sitemap_stats(many, url="s")
    assert stats.entries == MAX_ENTRIES and stats.truncated
    huge = urlset([f"https://a.example/item/{i}/{'x' * 200}" for i in range(4000)]).encode()
    assert len(huge) > MAX_BYTES
    cut = sitemap_stats(huge, url="s")
    assert cut.truncated and 0 < cut.entries < 4000
    bomb = gzip.compress(b"<urlset>" + b"<url><loc>https://a.example/</loc></url>" * 2_000_000)
    assert sitemap_stats(bomb, url="s").truncated


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"<html><body>404</body></html>", "root element is <html>"),
        (b"<urlset><url><lo", "not well-formed"),
        (b'<!DOCTYPE u [<!ENTITY e "boom">]><urlset>&e;</urlset>', "forbidden XML"),
        (b"just some words", "neither XML nor a list of URLs"),
        (b"\x1f\x8b\x08\x00garbage", "cannot be decompressed"),
    ],
)
def test_bad_sitemaps_raise_signal_error(body: bytes, message: str) -> None:
    with pytest.raises(SignalError, match=message):
        sitemap_stats(body, url="https://a.example/sitemap.xml")


def test_footprint_evidence() -> None:
    big_index = sitemap_stats(index(40), url="https://t.example/sitemap.xml")
    sample = sitemap_stats(urlset([f"https://t.example/watch?v=Ab{i:06d}" for i in range(50)]), url="https://t.example/s0.xml")
    assert [(e.marker, e.weight) for e in footprint_evidence([big_index])] == [("large-footprint", 1)]
    ev = footprint_evidence([big_index, sample])
    assert [(e.marker, e.weight, e.source_class) for e in ev] == [("platform-scale", 2, SourceClass.AGGREGATOR)]
    handmade = sitemap_stats(urlset(["https://s.example/", "https://s.example/about", "https://s.example/contact"]), url="x")
    assert [(e.marker, e.weight) for e in footprint_evidence([handmade])] == [("small-footprint", 1)]
    diverse = sitemap_stats(urlset([f"https://t.example/section{i % 7}/page-{i}-x" for i in range(50)]), url="y")
    assert [(e.marker, e.weight) for e in footprint_evidence([big_index, diverse])] == [("large-footprint", 0)]
    assert footprint_evidence([]) == []


# -- HostProfile -------------------------------------------------------------------------


def test_host_profile_averages_pages_and_counts_host_facts_once() -> None:
    profile = HostProfile("tube.example", registry=EMPTY)
    watch = classify_page("https://tube.example/watch?v=q8Rz2LmX7aB", page("lookalike-tube.html"), registry=EMPTY)
    about = classify_page("https://tube.example/about", b"<html><body>About TubeShare</body></html>", registry=EMPTY)
    for c in (watch, about, about, about, about, about, about, about, about, about):
        profile.add(c)
    profile.add_sitemap(sitemap_stats(index(60), url="https://tube.example/sitemap.xml"))
    result = profile.result()
    assert profile.pages == 10
    assert profile.page_classes == {"aggregator": 1, "unknown": 9}
    m = markers(result)
    # on 1 of 10 pages: a third of its weight (full weight from 30% of pages on)
    assert m["hosted-video"] == pytest.approx(2 * 0.1 / 0.3, abs=1e-3)
    assert m["first-party-quiet"] == 1
    assert m["large-footprint"] == 1
    assert result.host_class is SourceClass.UNKNOWN  # 1 + 0.67 + 0.33 + 0.33 aggregator vs 1 canonical
    for c in (watch, watch, watch):  # now 4 of 13 pages
        profile.add(c)
    result = profile.result()
    assert markers(result)["hosted-video"] == 2
    assert result.host_class is SourceClass.AGGREGATOR
    assert result.source_class is SourceClass.AGGREGATOR
    assert result.url == "https://tube.example/"


def test_host_profile_keeps_registry_and_psl_facts_without_pages() -> None:
    wiki = HostProfile("de.wikipedia.org").result()
    assert wiki.host_class is SourceClass.COMMUNITY and wiki.platform == "wikipedia"
    assert wiki.links.license == "CC BY-SA 4.0"
    gov = HostProfile("www.agency.gov", registry=EMPTY).result()
    assert gov.host_class is SourceClass.CANONICAL
    assert HostProfile("nobody.example", registry=EMPTY).result().host_class is SourceClass.UNKNOWN


def test_host_profile_ignores_page_level_registry_route_class() -> None:
    profile = HostProfile("github.com")
    profile.add(classify_page("https://github.com/python/cpython", page("github-repo.html")))
    assert profile.result().host_class is SourceClass.AGGREGATOR


def test_host_profile_rejects_pages_of_other_hosts() -> None:
    profile = HostProfile("a.example", registry=EMPTY)
    with pytest.raises(ValueError, match=r"not a page of a\.example"):
        profile.add(classify_page("https://b.example/", b"<html></html>", registry=EMPTY))
    with pytest.raises(ValueError, match="bare host"):
        HostProfile("https://a.example/")
    with pytest.raises(ValueError, match="bare host"):
        HostProfile("   ")
    with_port = HostProfile("A.Example:8080", registry=EMPTY)
    with_port.add(classify_page("http://a.example:8080/x", b"<html></html>", registry=EMPTY))
    assert with_port.host == "a.example" and with_port.pages == 1


# -- properties --------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_classify_page_returns_a_result_on_arbitrary_bytes(body: bytes) -> None:
    c = classify_page("https://fuzz.example/p", body, registry=EMPTY)
    assert c.source_class in SourceClass
    assert set(c.scores) == {"canonical", "aggregator", "community"}


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('<>/="\' abcdefghijklmnopqrstuvwxyz{}[]:,@#?&.-_\n')), max_size=1500))
def test_classify_page_returns_a_result_on_tag_soup(body: str) -> None:
    html = f'<html><head><script type="application/ld+json">{body}</script></head><body>{body}</body></html>'
    assert classify_page("https://fuzz.example/p", html, registry=EMPTY).source_class in SourceClass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_sitemap_stats_returns_or_raises_signal_error_on_arbitrary_bytes(body: bytes) -> None:
    try:
        stats = sitemap_stats(body, url="https://fuzz.example/sitemap.xml")
    except SignalError:
        return
    assert isinstance(stats, SitemapStats)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_url_template_never_raises(url: str) -> None:
    assert isinstance(url_template(url), str)


def test_sitemap_broken_after_its_first_entries_is_read_up_to_the_break() -> None:
    stats = sitemap_stats(b'<urlset><url><loc>https://a.example/1</loc></url><url><loc>https://a.exa', url="s")
    assert (stats.entries, stats.truncated) == (1, True)


def test_editorial_article_needs_an_organisation_publisher_of_this_site() -> None:
    tpl = ('<html><head><script type="application/ld+json">{"@type":"NewsArticle","author":{"@type":"Person","name":"A"},'
           '"datePublished":"2026-01-01","publisher":%s}</script></head><body></body></html>')
    named = classify_page("https://www.paper.example/a", tpl % '{"@type":"Organization","name":"Paper"}', registry=EMPTY)
    assert markers(named)["editorial-article"] == 2
    own = tpl % '{"@type":"NewsMediaOrganization","name":"Paper","url":"https://paper.example/"}'
    assert "editorial-article" in markers(classify_page("https://www.paper.example/a", own, registry=EMPTY))
    syndicated = tpl % '{"@type":"Organization","name":"Wire","url":"https://wire.example/"}'
    assert "editorial-article" not in markers(classify_page("https://www.paper.example/a", syndicated, registry=EMPTY))
    person = tpl % '{"@type":"Person","name":"Blogger"}'
    assert "editorial-article" not in markers(classify_page("https://www.paper.example/a", person, registry=EMPTY))


def test_microdata_publisher_with_itemid_is_identity_and_editorial() -> None:
    html = ('<html itemscope itemtype="http://schema.org/NewsArticle"><body>'
            '<span itemprop="author" itemscope itemtype="http://schema.org/Person">A</span>'
            '<span itemprop="publisher copyrightHolder" itemscope itemtype="http://schema.org/NewsMediaOrganization" '
            'itemid="https://www.paper.example"></span></body></html>')
    m = markers(classify_page("https://www.paper.example/2026/story", html, registry=EMPTY))
    assert m["self-identity"] == 2 and m["editorial-article"] == 2


def test_outbound_diversity_counts_main_content_only_when_there_is_one() -> None:
    footer = "".join(f'<a href="https://share{i}.example{i}.com/">s</a>' for i in range(25))
    html = f'<html><body><main><p>Story <a href="https://source.example.org/">source</a></p></main><footer>{footer}</footer></body></html>'
    assert "outbound-diversity" not in markers(classify_page("https://www.paper.example/a", html, registry=EMPTY))


@pytest.mark.parametrize(
    ("footer", "header", "expected"),
    [
        ("This page was last edited on 2 October 2026, at 14:07\xa0(UTC).", None, "2026-10-02T14:07:00Z"),
        ("This page was last modified on 8 April 2012, at 09:05.", None, "2012-04-08T09:05"),
        ("Diese Seite wurde zuletzt am 2. Oktober 2026 um 14:07 Uhr bearbeitet.", None,
         "Diese Seite wurde zuletzt am 2. Oktober 2026 um 14:07 Uhr bearbeitet"),
        (None, "Wed, 01 Oct 2025 10:00:00 GMT", "2025-10-01T10:00:00Z"),
        (None, "yesterday-ish", "yesterday-ish"),
    ],
)
def test_last_modified_is_iso_when_recognised(footer: str | None, header: str | None, expected: str) -> None:
    body = (f'<html><head><meta charset="utf-8"></head><body><ul><li id="footer-info-lastmod">{footer}</li></ul>'
            "</body></html>") if footer else "<html></html>"
    headers = {"Last-Modified": header} if header else None
    c = classify_page("https://w.example/wiki/X", body, headers=headers, registry=EMPTY)
    assert c.links.last_modified == expected
