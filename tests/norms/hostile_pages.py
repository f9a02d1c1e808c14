"""Hostile page shapes for the page-level signal readers, any size, and how reading one is timed.

Each shape repeats one thing a hostile (or broken) page can repeat until the
page is megabytes long: a directive inside one ``<meta name="robots">``,
the meta tag itself, one huge attribute, nesting, JSON-LD paywall blocks,
distinct directives. ``read_page`` is what the crawler does with every HTML
response: parse once, judge the page (robots metas and headers, paywall
markup, TDMRep metas) and classify it (markers, structured data).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import lxml.html

from norms.classify import classify_page
from norms.evaluate import evaluate
from norms.html import parse_html

MiB = 1024 * 1024
URL = "https://hostile.example/story"
_HEAD = '<html><head><meta charset="utf-8"><title>t</title>'
_PAID = '<div class="paid"><p>Paid paragraph.</p></div>'


def _repeat(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


SHAPES: dict[str, Callable[[int], str]] = {
    # <meta name="robots" content="noai,noai,..."> (the 54 s / 1.25 GB page).
    "repeated-directives": lambda n: f'{_HEAD}<meta name="robots" content="{_repeat("noai,", n)}"></head>'
                                     "<body><p>x</p></body></html>",
    # The same meta tag, and a bot-specific one, tens of thousands of times.
    "many-meta-tags": lambda n: _HEAD + _repeat('<meta name="robots" content="noai, noimageai">'
                                                '<meta name="fairfetch" content="nosnippet">', n)
                                + "</head><body><p>x</p></body></html>",
    # One attribute value of the page's whole size, on a robots meta and on a body element.
    "huge-attribute": lambda n: f'{_HEAD}<meta name="robots" content="noindex, {"a" * (n // 2)}"></head>'
                                f'<body><p class="{"b" * (n // 2)}">x</p></body></html>',
    # Nesting as deep as the page is long (lxml stops at its own depth limit).
    "deep-nesting": lambda n: _HEAD + "</head><body>" + _repeat("<div><span>", n // 2) + "x"
                              + _repeat("</span></div>", n // 2) + "</body></html>",
    # JSON-LD paywall blocks, each naming a walled part (one that exists, so every block is read).
    "many-jsonld-blocks": lambda n: _HEAD + _repeat(
        '<script type="application/ld+json">{"@type":"NewsArticle","isAccessibleForFree":false,'
        '"hasPart":{"@type":"WebPageElement","isAccessibleForFree":false,"cssSelector":".paid"}}</script>', n)
                                    + f"</head><body>{_PAID}</body></html>",
    # Distinct directives (each one new), none of which means anything.
    "distinct-directives": lambda n: f'{_HEAD}<meta name="robots" content="'
                                     + ",".join(f"x{i}" for i in range(n // 7)) + '"></head><body>x</body></html>',
}


def read_page(body: bytes) -> None:
    """What the crawler does with each HTML response, minus extraction: parse, judge, classify."""
    doc = parse_html(body)
    evaluate(URL, status=200, headers={"Content-Type": "text/html"}, html=doc)
    classify_page(URL, doc)


def lxml_parse(body: bytes) -> None:
    """The baseline: lxml parsing the same bytes, which any HTML consumer pays."""
    lxml.html.document_fromstring(body)


def best_seconds(fn: Callable[[bytes], None], body: bytes, repeats: int = 3) -> float:
    """Best-of CPU time: scheduling noise on a loaded machine only ever adds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn(body)
        best = min(best, time.process_time() - start)
    return best


def page(shape: str, size: int) -> bytes:
    return SHAPES[shape](size).encode("utf-8")
