"""Link resolution of the spider: the string fast path must agree with urljoin + urldefrag + normalize_url exactly."""

from __future__ import annotations

from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.page_links import _origin, page_links, resolve_link
from norms import SignalError
from norms.urls import normalize_url


def _reference(base: str, href: str) -> str | None:
    """The slow path: urljoin, then RFC 3986 normalisation (an unparseable href is skipped)."""
    try:
        url = urldefrag(urljoin(base, href))[0]
        return normalize_url(url) if urlsplit(url).scheme in ("http", "https") else None
    except (ValueError, SignalError):
        return None


BASES = [
    "http://bench-01.test/page/3",
    "https://example.org/a/b/c.html?x=1#frag",
    "http://example.org",
    "http://user@example.org:8080/dir/",
    "ftp://example.org/file",
]
PIECES = ["/", "//", ".", "..", "./", "../", "?", "#", ";", ":", "@", "%20", "%2E", "%2e%2E", "%41", "a", "B", "0", "-",
          "_", "~", "http:", "https:", "HTTP:", "mailto:", "host.test", "[::1]", "=", "&", " ", "\\"]


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(BASES), st.lists(st.sampled_from(PIECES), max_size=10).map("".join))
def test_fast_path_agrees_with_urljoin(base: str, href: str) -> None:
    href = href.strip()
    assert resolve_link(base, _origin(base), href) == _reference(base, href)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(BASES), st.text(max_size=40))
def test_any_text_resolves_like_urljoin(base: str, href: str) -> None:
    href = href.strip()
    assert resolve_link(base, _origin(base), href) == _reference(base, href)


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("/page/11", "http://bench-01.test/page/11"),
        ("/page/11#top", "http://bench-01.test/page/11"),
        ("/a/./b", "http://bench-01.test/a/b"),
        ("/a/../b", "http://bench-01.test/b"),
        ("http://bench-02.test/page/1", "http://bench-02.test/page/1"),
        ("page/4", "http://bench-01.test/page/page/4"),
        ("//other.test/x", "http://other.test/x"),
        ("http://bench-01.test/public/../private/a", "http://bench-01.test/private/a"),
        ("http://bench-01.test/./private/b", "http://bench-01.test/private/b"),
        ("http://bench-01.test/public/%2E%2E/private/c", "http://bench-01.test/private/c"),
        ("/public/%2e%2e/private/d", "http://bench-01.test/private/d"),
        ("HTTP://Bench-01.TEST:80/x", "http://bench-01.test/x"),
        ("mailto:a@b.test", None),
        ("http://[::1", None),
    ],
)
def test_resolve_link_examples(href: str, expected: str | None) -> None:
    base = "http://bench-01.test/page/3"
    assert resolve_link(base, _origin(base), href) == expected


def test_page_links_dedupes_and_honours_nofollow() -> None:
    html = (
        b"<html><body><a href='/a'>1</a><a href='/a#x'>2</a><a rel='nofollow' href='/b'>3</a>"
        b"<a href='http://o.test/c'>4</a><a href='javascript:void(0)'>5</a></body></html>"
    )
    assert page_links(html, "http://h.test/p") == ["http://h.test/a", "http://o.test/c"]
    blocked = b"<html><head><meta name='robots' content='nofollow'></head><body><a href='/a'>1</a></body></html>"
    assert page_links(blocked, "http://h.test/p") == []
