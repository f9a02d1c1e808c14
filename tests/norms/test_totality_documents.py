"""Totality of the document readers: tdmrep.json, RSL documents and feeds, sitemaps.

Each reader gets (a) arbitrary bytes and text and (b) a real document from
fixtures/ with one field replaced by junk (``tests.norms.totality``), and
must return a result or raise ``SignalError``. The result is then used the
way the crawler uses it (matching URLs, building statements), since a
document that parses but breaks its first use is no better.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from norms.classify import footprint_evidence, sitemap_stats
from norms.model import Grants, LicenseRef, SignalError, Usage
from norms.rsl import LicenseSource, discover_from_rss, license_statements, parse_rsl
from norms.tdmrep import TdmRepFile, parse_tdmrep_json, tdmrep_statements
from tests.norms.totality import (
    FEW,
    FIXTURES,
    INVALID_URLS,
    TOTALITY,
    as_bytes,
    junk_json,
    junk_text,
    mutated,
    read,
    replace_attribute,
    replace_json_value,
    replace_text,
    total,
)

URL = "https://news.example/section/story?id=1"
URLS = st.one_of(st.just(URL), st.sampled_from(INVALID_URLS), junk_text.map(lambda s: "https://news.example/" + s))

TDMREP = [read(f"corpus/tdmrep/{p.name}") for p in sorted((FIXTURES / "corpus" / "tdmrep").glob("*.json"))]
TDMREP.append('[{"location": "/news/*", "tdm-reservation": 1, "tdm-policy": "https://news.example/p.json"},'
              ' {"location": "*", "tdm-reservation": 0}]')
RSL = [read(f"corpus/rsl/{p.name}") for p in sorted((FIXTURES / "corpus" / "rsl").glob("*.xml"))]
RSL += [read(f"rsl/{n}") for n in ("full.xml", "example-2.3.xml", "example-2.8.xml", "legacy-0.9.xml")]
FEEDS = [read("rsl/feed.rss")]
SITEMAPS = [read(f"classify/sitemaps/{p.name}") for p in sorted((FIXTURES / "classify" / "sitemaps").glob("*.xml"))]


def use_tdmrep(result: TdmRepFile | SignalError, url: str) -> None:
    if isinstance(result, TdmRepFile):
        result.match(url)
        result.shadowed(url)
        result.statements_for(url)
        tdmrep_statements(url, file=result, headers={"tdm-reservation": "1"}, html="<meta name=tdm-policy>")


@given(body=as_bytes(st.text(max_size=300)) | st.binary(max_size=300), url=URLS)
@TOTALITY
def test_tdmrep_arbitrary(body: bytes | str, url: str) -> None:
    use_tdmrep(total(lambda: parse_tdmrep_json(body, source_url=url)), url)


@given(body=mutated(TDMREP, replace_json_value, junk_json), url=URLS)
@TOTALITY
@example(body='[{"location":"/","tdm-reservation":' + "9" * 5000 + "}]", url=URL)
@example(body='[{"location":"http://a]/x","tdm-reservation":1}]', url=URL)
@example(body='[{"location":"/", "tdm-reservation": 1, "x": ' + "[" * 900 + "]" * 900 + "}]", url=URL)
def test_tdmrep_near_valid(body: str, url: str) -> None:
    use_tdmrep(total(lambda: parse_tdmrep_json(body)), url)


def use_rsl(body: bytes | str, url: str) -> None:
    result = total(lambda: parse_rsl(body, source_url="https://news.example/license.xml"))
    if isinstance(result, SignalError):
        return
    result.terms_for(url)
    ref = LicenseRef(url="https://news.example/license.xml", via="link-header", scope="page")
    source = LicenseSource.from_body(ref, body)
    grants = Grants(max_price=Decimal("0.05"))
    license_statements(url, [source], grants)
    terms = result.terms_for(url)
    if terms is not None:
        for usage in Usage:
            terms.obligations(usage, user="commercial", geo="DE")


@given(body=as_bytes(st.text(max_size=300)) | st.binary(max_size=300), url=URLS)
@FEW
def test_rsl_arbitrary(body: bytes | str, url: str) -> None:
    use_rsl(body, url)


@given(body=mutated(RSL, replace_attribute), url=URLS)
@TOTALITY
@example(body='<rsl xmlns="https://rslstandard.org/rsl"><content url="https://a]/"><license/></content></rsl>', url=URL)
@example(body='<rsl xmlns="https://rslstandard.org/rsl" max-age="' + "9" * 5000 + '"><content url="/"/></rsl>',
         url=URL)
def test_rsl_near_valid_attribute(body: str, url: str) -> None:
    use_rsl(body, url)


@given(body=mutated(RSL, replace_text), url=URLS)
@TOTALITY
def test_rsl_near_valid_text(body: str, url: str) -> None:
    use_rsl(body, url)


def use_feed(body: bytes | str, feed_url: str) -> None:
    warnings: list[str] = []
    found = total(lambda: discover_from_rss(body, feed_url, warnings=warnings))
    if isinstance(found, list):
        for asset, source in found:
            license_statements(asset, [source], Grants())


@given(body=mutated(FEEDS, replace_attribute) | mutated(FEEDS, replace_text), feed_url=URLS)
@TOTALITY
@example(body='<rss xmlns:rsl="https://rslstandard.org/rsl"><channel><item><link>http://a]/</link>'
              '<rsl:content url="http://a]/x"/></item></channel></rss>', feed_url="https://news.example/feed")
def test_rss_discovery_near_valid(body: str, feed_url: str) -> None:
    use_feed(body, feed_url)


@given(body=as_bytes(st.text(max_size=200)) | st.binary(max_size=200))
@FEW
def test_rss_discovery_arbitrary(body: bytes | str) -> None:
    use_feed(body, "https://news.example/feed")


def use_sitemap(body: bytes | str) -> None:
    result = total(lambda: sitemap_stats(body, url="https://news.example/sitemap.xml"))
    if not isinstance(result, SignalError):
        footprint_evidence([result])


@given(body=as_bytes(st.text(max_size=300)) | st.binary(max_size=300))
@TOTALITY
@example(body="https://news.example/\ud800")
@example(body=b"\x1f\x8b\x08\x00garbage")
def test_sitemap_arbitrary(body: bytes | str) -> None:
    use_sitemap(body)


@given(body=as_bytes(mutated(SITEMAPS, replace_attribute) | mutated(SITEMAPS, replace_text)))
@TOTALITY
@example(body=b'<?xml version="1.0" encoding="bogus"?><urlset><url><loc>https://a/</loc></url></urlset>')
def test_sitemap_near_valid(body: bytes | str) -> None:
    use_sitemap(body)


def test_fixture_documents_are_read() -> None:
    """The seeds of the near-valid tests are themselves valid: the junk is what varies."""
    assert all(isinstance(parse_tdmrep_json(d), TdmRepFile) for d in TDMREP)
    assert all(parse_rsl(d).contents for d in RSL)
    assert all(sitemap_stats(d, url="https://a.example/s.xml").entries for d in SITEMAPS)
    assert discover_from_rss(FEEDS[0], "https://news.example/feed")
    assert Path(FIXTURES / "rsl" / "feed.rss").exists()
