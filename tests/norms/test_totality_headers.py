"""Totality of robots.txt and of the readers of response headers.

robots.txt: arbitrary bytes, and real files of fixtures/corpus/robots with one
line's value replaced by junk. Headers: every header a reader looks at
(``X-Robots-Tag``, ``Robots-Tag``, ``Content-Signal``, ``Content-Usage``,
``Link``, ``tdm-*``, ``crawler-*``, ``Location``, ``WWW-Authenticate``) set
to junk or to a real value with junk spliced in. Result or ``SignalError``,
nothing else; results are then used as ``norms.evaluate`` uses them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from norms.access import access_from_response, parse_price
from norms.aipref import read_content_usage, read_content_usage_headers
from norms.content_signal import read_content_signal, read_content_signal_headers
from norms.evaluate import evaluate
from norms.http import header_lines, path_and_query
from norms.model import Grants, SignalError
from norms.robots import RobotsTxt, parse_robots, robots_from_fetch
from norms.robots_tags import parse_date, robots_directives
from norms.rsl import discover_from_headers, parse_link_header
from norms.tdmrep import tdmrep_statements
from tests.norms.totality import (
    FEW,
    FIXTURES,
    INVALID_URLS,
    TOTALITY,
    junk_text,
    mutated,
    read,
    replace_line_value,
    total,
)

URL = "https://news.example/private/story?x=1"
AGENT = "fairfetch"
ROBOTS = [read(f"corpus/robots/{p.name}") for p in sorted((FIXTURES / "corpus" / "robots").glob("*.txt"))[:40]]
ROBOTS.append(
    "User-agent: *\nDisallow: /private/\nAllow: /private/ok\nCrawl-delay: 2\nRequest-rate: 1/5s\n"
    "Content-Signal: search=yes, ai-train=no\nContent-Usage: /news/ train-ai=n\n"
    "License: https://news.example/license.xml\nSitemap: https://news.example/sitemap.xml\n"
    "User-agent: fairfetch\nDisallow: /x$\nDisallow: /*.pdf\n"
)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def use_robots(robots: RobotsTxt | SignalError, url: str = URL) -> None:
    if isinstance(robots, SignalError):
        return
    robots.decide(url, AGENT)
    robots.crawl_delay(AGENT)
    robots.request_rate(AGENT)
    robots.licenses(AGENT)
    robots.content_signals(AGENT)
    robots.content_usage(AGENT)
    _ = robots.sitemaps
    evaluate(url, user_agent=AGENT, robots=robots)


@given(body=st.binary(max_size=400) | st.text(max_size=400), url=junk_text.map(lambda s: "https://a.example/" + s))
@TOTALITY
@example(body="User-agent: *\nRequest-rate: " + "9" * 5000 + "/1\n", url=URL)
@example(body="User-agent: *\nDisallow: /\ud800\n", url="https://a.example/\ud800")
def test_robots_arbitrary(body: bytes | str, url: str) -> None:
    use_robots(total(lambda: parse_robots(body, source_url="https://a.example/robots.txt")), url)


@given(body=mutated(ROBOTS, replace_line_value))
@TOTALITY
def test_robots_near_valid(body: str) -> None:
    use_robots(total(lambda: parse_robots(body, source_url="https://news.example/robots.txt")))


@given(status=st.integers(min_value=-5, max_value=700) | st.none(), body=st.binary(max_size=100) | st.none(),
       redirects=st.integers(min_value=-2, max_value=20), error=st.none() | junk_text)
@FEW
def test_robots_from_fetch(status: int | None, body: bytes | None, redirects: int, error: str | None) -> None:
    use_robots(total(lambda: robots_from_fetch(status=status, body=body, redirects=redirects, error=error)))


HEADER_NAMES = ("X-Robots-Tag", "Robots-Tag", "Content-Signal", "Content-Usage", "Link", "tdm-reservation",
                "tdm-policy", "crawler-price", "crawler-charged", "crawler-error", "Location", "WWW-Authenticate",
                "Last-Modified", "X-Generator")
REAL_VALUES = (
    "noai, noimageai", "fairfetch: noindex, max-snippet:20", "unavailable_after: 25 Jun 2010 15:00:00 PST",
    '*;noai, fairfetch;max-snippet=20', "search=yes, ai-train=no", "train-ai=n, search=y;exceptions=cc-cr",
    '<https://news.example/license.xml>; rel="license"; type="application/rsl+xml"', "1",
    "https://news.example/tdm.json", "USD 0.01", "/login?next=/story", 'License realm="x"',
)
header_value = st.one_of(
    junk_text,
    st.sampled_from(REAL_VALUES),
    st.tuples(st.sampled_from(REAL_VALUES), st.integers(0, 60), junk_text).map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1]:]),
)
headers_strategy = st.lists(st.tuples(st.sampled_from(HEADER_NAMES), header_value), max_size=6)


@given(headers=headers_strategy, status=st.sampled_from([200, 301, 302, 401, 402, 403, 451, 500]),
       url=st.one_of(st.just(URL), st.sampled_from(INVALID_URLS)))
@TOTALITY
@example(headers=[("Link", '<http://a]/l.xml>; rel="license"; type="application/rsl+xml"')], status=200, url=URL)
@example(headers=[("X-Robots-Tag", "max-snippet:" + "9" * 5000)], status=200, url=URL)
@example(headers=[("crawler-price", "USD 1e999999")], status=402, url=URL)
def test_header_readers(headers: list[tuple[str, str]], status: int, url: str) -> None:
    lines = header_lines(headers)
    grants = Grants(max_price=Decimal("0.05"))
    total(lambda: robots_directives(lines, None, AGENT, source_url=url, now=NOW).statements())
    total(lambda: read_content_signal_headers(lines, url))
    total(lambda: read_content_usage_headers(lines, url))
    total(lambda: access_from_response(status, lines, url=url, grants=grants))
    warnings: list[str] = []
    total(lambda: discover_from_headers(lines, url, warnings=warnings))
    total(lambda: tdmrep_statements(url, file=None, headers=lines))
    total(lambda: evaluate(url, user_agent=AGENT, status=status, headers=lines, grants=grants))


@given(value=header_value)
@TOTALITY
def test_value_readers(value: str) -> None:
    total(lambda: read_content_signal(value))
    total(lambda: read_content_usage(value))
    total(lambda: parse_link_header(value))
    total(lambda: parse_price(value))
    total(lambda: parse_date(value))
    total(lambda: path_and_query(value))
    total(lambda: path_and_query("https://a.example/" + value))


def test_invalid_link_targets_are_skipped_with_a_warning() -> None:
    warnings: list[str] = []
    refs = discover_from_headers(
        {"Link": '<http://a]/l.xml>; rel="license"; type="application/rsl+xml", '
                 '</ok.xml>; rel="license"; type="application/rsl+xml"'},
        "https://news.example/story",
        warnings=warnings,
    )
    assert [r.url for r in refs] == ["https://news.example/ok.xml"]
    assert len(warnings) == 1 and "http://a]/l.xml" in warnings[0] and "skipped" in warnings[0]
