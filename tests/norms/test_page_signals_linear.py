"""Page-level signals are read in linear time, with one evidence item per distinct directive.

The fast companion of tests/bench/test_bench_page_signals.py: small pages, a
generous bound, and a growth ratio a quadratic step cannot meet (4x the
bytes must cost well under 16x the time). The issue-9 page (``noai`` repeated
over 2 MiB in one robots meta) took 54 s and 1.25 GB before.
"""

from __future__ import annotations

import pytest

from norms.evaluate import evaluate
from norms.html import parse_html
from norms.model import Usage
from norms.paywall import detect_paywall
from norms.robots_tags import MAX_WARNINGS, robots_directives
from tests.norms.hostile_pages import SHAPES, URL, MiB, best_seconds, page, read_page

SMALL = 128 * 1024


@pytest.mark.parametrize("shape", list(SHAPES))
def test_reading_grows_linearly(shape: str) -> None:
    read_page(page(shape, 4096))
    small = best_seconds(read_page, page(shape, SMALL), repeats=2)
    large = best_seconds(read_page, page(shape, 4 * SMALL), repeats=2)
    assert large < 1.0 * (4 * SMALL / MiB) + 0.05  # generous: < 1 s per MiB even on a loaded machine
    assert large < 8 * small + 0.02, (small, large)  # quadratic would be 16x


def test_one_evidence_item_per_distinct_directive() -> None:
    body = page("repeated-directives", MiB)
    v = evaluate(URL, status=200, headers={"X-Robots-Tag": "noai, " * 20_000}, html=body,
                 purposes=[Usage.AI_INPUT])
    assert not v.usages[Usage.AI_INPUT].allowed
    rules = [e.rule for e in v.evidence]
    assert len(rules) == len(set(rules)) <= 4, rules  # noai from the meta and from the header, once each
    assert all(len(e.raw) <= 1100 for e in v.evidence)  # a 1 MiB value is quoted, not copied


def test_repeated_tags_and_blocks_are_read_once() -> None:
    doc = parse_html(page("many-meta-tags", 256 * 1024))
    assert len(doc.metas) == 2  # robots and fairfetch, each once (meta charset has no name)
    d = robots_directives({}, doc, "fairfetch", source_url=URL)
    assert d.noai and d.noimageai and d.nosnippet and len(d.evidence) == 3
    report = detect_paywall(page("many-jsonld-blocks", 256 * 1024), URL)
    assert report.selectors == [".paid"] and len(report.evidence) == 2  # the part and the work


def test_warnings_are_bounded() -> None:
    content = ",".join(f"max-snippet:x{i}" for i in range(5000))
    d = robots_directives({"X-Robots-Tag": content}, None, "fairfetch", source_url=URL)
    assert len(d.warnings) == MAX_WARNINGS + 1 and d.warnings[-1].endswith("more warnings not listed")
    assert max(len(w) for w in d.warnings) < 300


def test_nesting_past_the_parser_limit_does_not_hide_a_restriction() -> None:
    """libxml2 stops at 256 levels; a robots meta after that point is still read (from the raw text)."""
    body = ("<html><head><title>t</title></head><body>" + "<div>" * 300 + "x" + "</div>" * 300
            + '<meta name="robots" content="noai, max-snippet:10"><p>after</p></body></html>')
    doc = parse_html(body)
    assert doc.truncated and "line 1" in doc.truncated
    d = robots_directives({}, doc, "fairfetch", source_url=URL)
    assert d.noai and d.max_snippet == 10
    assert any("nests too deeply" in w for w in d.warnings)
    v = evaluate(URL, status=200, headers={}, html=doc, purposes=[Usage.AI_INPUT])
    assert not v.usages[Usage.AI_INPUT].allowed
    assert parse_html("<html><head><meta name=robots content=noai></head></html>").truncated is None
