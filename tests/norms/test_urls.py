"""norms.urls: RFC 3986 section 6 normalisation, and decisions that cannot be dodged by spelling a URL differently."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from norms import SignalError, evaluate
from norms.model import Usage
from norms.robots import parse_robots
from norms.rsl import LicenseSource
from norms.tdmrep import parse_tdmrep_json
from norms.urls import collapse_empty_segments, normalize_url, remove_dot_segments, resolve_url

# RFC 3986 5.4.1 and 5.4.2: reference resolution against "http://a/b/c/d;p?q".
BASE = "http://a/b/c/d;p?q"
RFC_EXAMPLES = [
    ("g", "http://a/b/c/g"), ("./g", "http://a/b/c/g"), ("g/", "http://a/b/c/g/"), ("/g", "http://a/g"),
    ("//g", "http://g/"), ("?y", "http://a/b/c/d;p?y"), ("g?y", "http://a/b/c/g?y"), ("#s", "http://a/b/c/d;p?q"),
    ("g#s", "http://a/b/c/g"), ("g?y#s", "http://a/b/c/g?y"), (";x", "http://a/b/c/;x"), ("g;x", "http://a/b/c/g;x"),
    ("g;x?y#s", "http://a/b/c/g;x?y"), ("", "http://a/b/c/d;p?q"), (".", "http://a/b/c/"), ("./", "http://a/b/c/"),
    ("..", "http://a/b/"), ("../", "http://a/b/"), ("../g", "http://a/b/g"), ("../..", "http://a/"),
    ("../../", "http://a/"), ("../../g", "http://a/g"),
    # 5.4.2 abnormal examples
    ("../../../g", "http://a/g"), ("../../../../g", "http://a/g"), ("/./g", "http://a/g"), ("/../g", "http://a/g"),
    ("g.", "http://a/b/c/g."), (".g", "http://a/b/c/.g"), ("g..", "http://a/b/c/g.."), ("..g", "http://a/b/c/..g"),
    ("./../g", "http://a/b/g"), ("./g/.", "http://a/b/c/g/"), ("g/./h", "http://a/b/c/g/h"), ("g/../h", "http://a/b/c/h"),
    ("g;x=1/./y", "http://a/b/c/g;x=1/y"), ("g;x=1/../y", "http://a/b/c/y"), ("g?y/./x", "http://a/b/c/g?y/./x"),
    ("g?y/../x", "http://a/b/c/g?y/../x"), ("g#s/./x", "http://a/b/c/g"), ("g#s/../x", "http://a/b/c/g"),
]


@pytest.mark.parametrize(("ref", "expected"), RFC_EXAMPLES)
def test_rfc_3986_reference_resolution_examples(ref: str, expected: str) -> None:
    assert resolve_url(BASE, ref) == expected
    # Python's urljoin resolves too; normalising its answer gives the same URL.
    assert normalize_url(urljoin(BASE, ref)) == expected


def test_remove_dot_segments_rfc_5_2_4_examples() -> None:
    assert remove_dot_segments("/a/b/c/./../../g") == "/a/g"
    assert remove_dot_segments("mid/content=5/../6") == "mid/6"


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("http://host/public/../private/a", "http://host/private/a"),
        ("http://host/./private/b", "http://host/private/b"),
        ("http://host/public/%2E%2E/private/c", "http://host/private/c"),
        ("http://host/public/%2e%2e/private/c", "http://host/private/c"),
        ("http://host/public/.%2E/private/c", "http://host/private/c"),
        ("http://host/public\\..\\private\\d", "http://host/private/d"),  # as browsers read "\"
        ("HTTP://Example.COM:80/%7euser/%3f%2f?q=%41%3d#frag", "http://example.com/~user/%3F%2F?q=A%3D"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:0443/x", "https://example.com/x"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        ("http://bücher.example/ü ?q=ä", "http://xn--bcher-kva.example/%C3%BC%20?q=%C3%A4"),
        ("http://example.com/a%zz", "http://example.com/a%25zz"),
        ("http://[::FFFF:1.2.3.4]/", "http://[::ffff:102:304]/"),
        ("http://h//private/x", "http://h//private/x"),  # empty segments are kept (see test below)
        ("http://h/a?x=/../y", "http://h/a?x=/../y"),  # the query has no segments
    ],
)
def test_normalize_url(url: str, normal: str) -> None:
    assert normalize_url(url) == normal
    assert normalize_url(normal) == normal


@pytest.mark.parametrize(
    "bad",
    ["", "/relative", "mailto:a@b", "http://a]/l.xml", "http://h:99999/", "http://h:8o/", "http:///x",
     "http://exa mple.com/", "http://h/\ud800", 5],
)
def test_invalid_urls_raise_signal_error(bad: object) -> None:
    with pytest.raises(SignalError):
        normalize_url(bad)  # type: ignore[arg-type]


_SEGMENT = st.sampled_from([".", "..", "%2E", "%2e%2E", "", "a", "B", "%41", "%3F", "%2F", "~", "é", "x y", ";p=1", "*"])
_PATHS = st.lists(_SEGMENT, max_size=8).map(lambda s: "/" + "/".join(s))
_URLS = st.builds(
    lambda scheme, host, port, path, query: f"{scheme}://{host}{port}{path}{query}",
    st.sampled_from(["http", "HTTP", "https", "HtTpS"]),
    st.sampled_from(["example.com", "EXAMPLE.com", "xn--bcher-kva.example", "bücher.example", "127.0.0.1", "[::1]"]),
    st.sampled_from(["", ":80", ":443", ":8080", ":0080"]),
    _PATHS,
    st.sampled_from(["", "?", "?a=%41&b=/../c", "?%3d", "#frag", "?q#f"]),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_URLS)
def test_normalisation_is_idempotent_and_free_of_dot_segments(url: str) -> None:
    normal = normalize_url(url)
    assert normalize_url(normal) == normal
    path = normal.split("://", 1)[1]
    path = path[path.find("/"):].partition("?")[0]
    segments = path.split("/")
    assert "." not in segments and ".." not in segments
    assert "#" not in normal and normal == normal.strip()
    assert all(c.isascii() for c in normal)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_normalize_url_is_total_over_arbitrary_text(junk: str) -> None:
    for url in (junk, "http://h/" + junk, "http://" + junk):
        try:
            normal = normalize_url(url)
        except SignalError:
            continue
        assert normalize_url(normal) == normal


ROBOTS = parse_robots(b"User-agent: *\nDisallow: /private/\nContent-Signal: /open/ ai-train=yes\n")
TDMREP = parse_tdmrep_json(b'[{"location": "/private/*", "tdm-reservation": 1}]')


@settings(max_examples=200, deadline=None)
@given(_PATHS.map(lambda p: "http://Example.com:80" + p + "/private/x/.."))
def test_evaluate_decides_a_url_as_its_normal_form(url: str) -> None:
    normal = normalize_url(url)
    a = evaluate(url, robots=ROBOTS, tdmrep=TDMREP, purposes=[Usage.AI_INPUT])
    b = evaluate(normal, robots=ROBOTS, tdmrep=TDMREP, purposes=[Usage.AI_INPUT])
    assert a.url == b.url == normal
    assert a.fetch.allowed == b.fetch.allowed
    assert {u: d.effect for u, d in a.usages.items()} == {u: d.effect for u, d in b.usages.items()}


@pytest.mark.parametrize(
    "url",
    ["http://host/public/../private/a", "http://host/./private/b", "http://host/public/%2E%2E/private/c",
     "http://HOST:80/private/d", "http://host/%70rivate/e", "http://host//private/f", "http://host/x/..//private/g"],
)
def test_spellings_of_a_private_url_are_all_refused(url: str) -> None:
    assert not evaluate(url, robots=ROBOTS, purposes=[Usage.AI_INPUT]).fetch.allowed
    assert not ROBOTS.allowed(url, "fairfetch")


def test_empty_segments_are_judged_as_written_and_collapsed() -> None:
    assert collapse_empty_segments("//private//x?q=//") == "/private/x?q=//"
    # Either reading's refusal holds, for robots.txt, TDMRep and RSL alike.
    r = parse_robots(b"User-agent: *\nDisallow: //only-doubled/\n")
    assert not r.allowed("http://h//only-doubled/x", "a") and r.allowed("http://h/only-doubled/x", "a")
    tdm = evaluate("http://h//private/x", tdmrep=TDMREP, purposes=[Usage.AI_TRAIN])
    assert not tdm.usages[Usage.AI_TRAIN].allowed
    rsl = LicenseSource.from_body(
        _ref("http://h/license.xml"),
        b'<rsl xmlns="https://rslstandard.org/rsl"><content url="/private/">'
        b'<license><prohibits type="usage">ai-input</prohibits></license></content></rsl>',
    )
    v = evaluate("http://h//private/x", licenses=[rsl], purposes=[Usage.AI_INPUT])
    assert not v.usages[Usage.AI_INPUT].allowed


def _ref(url: str):  # type: ignore[no-untyped-def]
    from norms.model import LicenseRef

    return LicenseRef(url=url, via="robots", scope="global", line=1)
