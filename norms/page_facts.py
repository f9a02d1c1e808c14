"""A page's markup read once, so that its verdict can be decided in another process.

Parsing a page and walking its tree for paywall markup are the costly part of
judging a response. A crawler that parses pages in worker processes (fairfetch
extracts text in a pool) reads them there with :func:`read_page_facts` and
hands ``evaluate`` the result instead of the markup: everything the page-level
readers use, with the lxml tree (which cannot cross a process boundary, and is
not needed once read) left behind.

* ``doc`` is the page's :class:`~norms.html.HtmlDoc` without its tree: the
  ``<meta>``, ``<link>`` and ``<script>`` elements robots directives, TDMRep
  and RSL discovery read, and the truncation note.
* ``paywall`` is :func:`norms.paywall.detect_paywall`'s report, the one reader
  that walks the tree; None for a page without one.

``evaluate(url, html=facts, ...)`` decides exactly what ``evaluate(url,
html=markup, ...)`` decides for the URL the facts were read for (tested on
every fixture page). :func:`page_exclusions` tells the worker, before any
origin document is consulted, which parts of the page every verdict on it will
exclude, so that the text can be extracted in the same pass.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass

from norms.html import HtmlDoc, parse_html
from norms.http import HeadersLike
from norms.model import ObligationKind, SignalError, Statement
from norms.paywall import PaywallReport, detect_paywall
from norms.robots_tags import robots_directives
from norms.urls import normalize_url


@dataclass(frozen=True, slots=True)
class PageFacts:
    """What the page-level readers need from a page's markup, picklable (see the module docstring)."""

    url: str  # the page's URL in normal form: the source the paywall evidence names
    doc: HtmlDoc  # ``root`` None: metas, links, scripts, truncation note
    paywall: PaywallReport | None  # None when the markup has no tree (empty or unparsable)


def read_page_facts(html: str | bytes | HtmlDoc, url: str) -> PageFacts:
    """Parse ``html`` (or take the parsed ``HtmlDoc``) and read what ``evaluate`` needs from its tree."""
    with contextlib.suppress(SignalError):  # evaluate refuses such a URL before it reads any page
        url = normalize_url(url)
    doc = parse_html(html)
    report = detect_paywall(doc, url) if doc.root is not None else None
    return PageFacts(url=url, doc=doc.without_tree(), paywall=report)


def page_exclusions(facts: PageFacts, headers: HeadersLike, tokens: Iterable[str]) -> tuple[str, ...]:
    """The selectors of the parts any verdict on this page excludes, under each of ``tokens``.

    The page's own signals are the only ones that name parts of a page today
    (walled parts, ``noimageai``'s images), so this is the verdict's
    ``exclude_selectors`` up to order; a caller that extracts with it checks
    the verdict's list and extracts again when they differ.
    """
    out: list[str] = []
    statements: list[Statement] = []
    if facts.paywall is not None:
        out.extend(facts.paywall.selectors)
        statements.extend(facts.paywall.statements())
    for token in tokens:
        statements.extend(robots_directives(headers, facts.doc, token, source_url=facts.url).statements())
    for statement in statements:
        for obligation in statement.obligations:
            if obligation.kind is ObligationKind.EXCLUDE_PARTS:
                out.extend(obligation.selectors)
    return tuple(dict.fromkeys(out))
