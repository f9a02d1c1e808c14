"""fairfetch is never looser than Google's reference robots.txt parser, except where RFC 9309 decides.

tests/norms/robots_reference_cases.json holds verdicts of the reference parser
(github.com/google/robotstxt, built from source by hand; the command is in
docs/norms.md) on its own unit-test cases, the robotstxt-spec-test suite and
the real files in fixtures/corpus/robots, for AI crawlers (GPTBot, ClaudeBot,
Google-Extended, CCBot), fairfetch, ``*`` and the agents each file names. Every
case the reference disallows must be disallowed here too, unless the case
carries one of the documented exception classes (docs/norms.md, "Google's
reference parser"). Cases where fairfetch is stricter are allowed and listed
in the same section.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path

from norms.robots import RobotsTxt, parse_robots

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[1] / "fixtures" / "corpus" / "robots"
DATA = json.loads((HERE / "robots_reference_cases.json").read_text(encoding="utf-8"))
EXCEPTIONS = {
    # RFC 9309 2.2.2: "/robots.txt" itself is implicitly allowed (the reference does not special-case it).
    "robots-txt-uri",
    # RFC 9309 2.2.2: octets of unreserved characters are compared decoded and non-ASCII
    # percent-encoded on both sides; the reference leaves URL encoding to its caller.
    "rfc9309-2.2.2-percent-encoding",
    # RFC 9309 2.2.1: a product token holds only letters, "_" and "-"; an agent
    # string outside that grammar (Spinn3r, "Foo Bar") is read by its own rules.
    "agent-not-a-product-token",
}


@cache
def robots(source: str) -> RobotsTxt:
    if source.startswith("fixtures/"):
        return parse_robots((CORPUS / Path(source).name).read_bytes())
    return parse_robots(DATA["texts"][source]["robots"].encode("latin-1"))


def test_the_cases_cover_every_source() -> None:
    sources = Counter(
        c["source"] if c["source"].startswith("fixtures/") else DATA["texts"][c["source"]]["from"].split()[0]
        for c in DATA["cases"]
    )
    assert sum(1 for s in sources if s.startswith("fixtures/")) >= 120  # files that disallow something
    assert sources["google/robotstxt"] > 100 and sources["robotstxt-spec-test"] > 100
    agents = {c["agent"] for c in DATA["cases"]}
    assert {"GPTBot", "ClaudeBot", "Google-Extended", "CCBot", "fairfetch", "*"} <= agents
    assert set(c.get("exception") for c in DATA["cases"]) - {None} == EXCEPTIONS


def test_never_looser_than_the_reference_parser() -> None:
    looser = []
    checked = 0
    for case in DATA["cases"]:
        if case["reference"] != "disallow" or case.get("exception") in EXCEPTIONS:
            continue
        checked += 1
        if robots(case["source"]).allowed(case["url"], case["agent"]):
            looser.append((case["source"], case["agent"], case["url"]))
    assert checked > 2500
    assert not looser, f"{len(looser)} cases allowed here but disallowed by the reference: {looser[:10]}"


def test_each_class_the_reference_taught_us() -> None:
    """The classes found by the differential run, each pinned on its smallest case."""
    # Any prefix of a UTF-8 BOM is skipped.
    for bom in (b"\xef\xbb\xbf", b"\xef\xbb", b"\xef"):
        assert not parse_robots(bom + b"User-Agent: foo\nDisallow: /x\n").allowed("http://h/x", "foo")
    # Records that are no group rule leave the agents in one group.
    for line in (b"Sitemap: http://h/s.xml", b"Unknown: 1", b"License: http://h/l.xml",
                 b"Content-Signal: ai-train=no", b"Content-Usage: train-ai=n", b"Crawl-delay: 1"):
        r = parse_robots(b"User-agent: a\n" + line + b"\nUser-agent: b\nDisallow: /\n")
        assert not r.allowed("http://h/x", "a") and not r.allowed("http://h/x", "b"), line
    r = parse_robots(b"User-agent: *\nContent-Signal: ai-train=no\nUser-agent: GPTBot\nDisallow: /\n")
    assert not r.allowed("http://h/x", "fairfetch")
    # The Content-Signal line then speaks for every agent of the group.
    assert r.content_signals("GPTBot") and r.content_signals("fairfetch")
    # A User-agent value ends at its first space.
    r = parse_robots(b"User-agent: *\nDisallow: /\nUser-agent: Foo Bar\nAllow: /x/\nDisallow: /\n")
    assert r.allowed("http://h/x/y", "Foo") and not r.allowed("http://h/x/y", "Bar")
    r = parse_robots(b"User-agent: * FooBot\nDisallow: /\n")
    assert not r.allowed("http://h/x", "fairfetch") and not r.allowed("http://h/x", "FooBot")
    # Over-long lines are cut where the reference cuts them (16,663 bytes).
    long = b"Disallow: /x/" + b"a" * 20_000 + b"\n"
    r = parse_robots(b"User-agent: FooBot\n" + long)
    assert not r.allowed("http://h/x/" + "a" * 16_700, "FooBot")
    assert not r.allowed("http://h/x/" + "a" * 16_650 + "b", "FooBot")
    # A reserved character and its escape are different characters.
    for char in "?=&;:@+,":
        esc = f"%{ord(char):02X}"
        r = parse_robots(f"User-agent: *\nDisallow: /a{esc}b\n".encode())
        assert r.allowed(f"http://h/a{char}b", "x") and not r.allowed(f"http://h/a{esc}b", "x"), char
        r = parse_robots(f"User-agent: *\nDisallow: /a{char}b\n".encode())
        assert not r.allowed(f"http://h/a{char}b", "x") and r.allowed(f"http://h/a{esc}b", "x"), char
    # The implicit allow covers /robots.txt, not /robots.txt?query.
    r = parse_robots(b"User-agent: *\nDisallow: /\n")
    assert r.allowed("http://h/robots.txt", "x") and not r.allowed("http://h/robots.txt?x=1", "x")
