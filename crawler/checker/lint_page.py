"""Problems in one page's markup and headers: misplaced tags, unreadable values, paywall markup.

Paywall selectors are tested against the page itself: a ``hasPart`` whose
``cssSelector`` matches nothing (or is no valid CSS) cannot be located, and
then the whole page counts as paywalled — the reading that protects the
publisher, and almost never what they meant.
"""

from __future__ import annotations

import re

import lxml.html
from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector

from crawler.checker.problems import Problem, from_finding, problem
from norms.aipref import read_content_usage_headers
from norms.content_signal import read_content_signal
from norms.html import HtmlDoc
from norms.http import HeaderLines, header_values
from norms.paywall import PaywallReport, walled_parts
from norms.robots_tags import RobotsDirectives
from norms.rsl import RSL_MEDIA_TYPE

_PAGE_META_NAMES = frozenset({"robots", "tdm-reservation", "tdm-policy"})
_ARTICLE = etree.XPath("//article | //*[@itemprop='articleBody'] | //main")
_WHERE_LINE = re.compile(r" line (\d+)")
# Walled parts holding this share of the article's text wall the article as a whole.
COVER_SHARE = 0.9


def page_problems(
    url: str,
    lines: HeaderLines,
    doc: HtmlDoc | None,
    directives: RobotsDirectives,
    paywall: PaywallReport | None,
    agents: tuple[str, ...],
) -> list[Problem]:
    """Page-level markup: tags outside <head>, unreadable values, malformed headers, paywall markup."""
    out: list[Problem] = []
    names = _PAGE_META_NAMES | {a.lower() for a in agents}
    if doc is not None:
        for meta in doc.metas:
            if meta.name in names and not meta.in_head:
                out.append(problem("meta-outside-head", url, f'<meta name="{meta.name}"> is outside <head>',
                                   line=meta.line, element=f'<meta name="{meta.name}">'))
        for link in doc.links:
            if "license" in link.rel and link.type == RSL_MEDIA_TYPE and not link.in_head:
                out.append(problem("meta-outside-head", url,
                                   f'<link rel="license" type="{RSL_MEDIA_TYPE}"> is outside <head>',
                                   line=link.line, element='<link rel="license">'))
    out.extend(from_finding(f, url) for f in directives.findings)
    for value in header_values(lines, "content-signal"):
        for found in read_content_signal(value).findings:
            out.append(from_finding(found.model_copy(update={"message": f"Content-Signal header: {found.message}"}),
                                    url).model_copy(update={"element": "header Content-Signal"}))
    usage = read_content_usage_headers(lines, url).reading
    if usage is not None:
        for found in usage.findings:
            out.append(from_finding(found.model_copy(update={"message": f"Content-Usage header: {found.message}"}),
                                    url).model_copy(update={"element": "header Content-Usage"}))
    for value in header_values(lines, "tdm-reservation"):
        if value.strip() not in ("0", "1"):
            out.append(problem("tdm-header-invalid", url, f"tdm-reservation header {value!r} is neither 0 nor 1; ignored",
                               element="header tdm-reservation"))
    if doc is not None:
        for meta in doc.meta("tdm-reservation"):
            if meta.content.strip() not in ("0", "1"):
                out.append(problem("tdm-header-invalid", url,
                                   f'<meta name="tdm-reservation" content="{meta.content}"> is neither 0 nor 1; ignored',
                                   line=meta.line, element='<meta name="tdm-reservation">'))
    if paywall is not None:
        out.extend(paywall_problems(url, doc, paywall))
    return out


def paywall_problems(url: str, doc: HtmlDoc | None, paywall: PaywallReport) -> list[Problem]:
    """The reader's findings, then each walled part's selectors tested against the page."""
    out = [from_finding(f, url) for f in paywall.findings]
    reported = {f.code for f in paywall.findings}
    if paywall.paywalled and paywall.strength == "vendor":
        first = paywall.evidence[0] if paywall.evidence else None
        what = f": {first.raw}" if first is not None else ""
        out.append(problem("paywall-unmarked", url, "paywall vendor markers without isAccessibleForFree" + what,
                           element=first.element if first is not None else None))
    if doc is None or doc.root is None:
        return out
    parts = walled_parts(doc)
    if paywall.paywalled and paywall.strength == "markup" and not parts:
        ev = paywall.evidence[0] if paywall.evidence else None
        out.append(problem("paywall-no-parts", url,
                           "isAccessibleForFree is false and no hasPart names the walled parts: the whole page "
                           "is treated as paywalled", line=_line(ev.element if ev else None),
                           element=ev.element if ev else None))
    root = doc.root
    matched: list[lxml.html.HtmlElement] = []
    for element, selectors in parts:
        if not selectors and "paywall-part-without-selector" not in reported:
            out.append(problem("paywall-part-without-selector", url,
                               "a walled hasPart names no cssSelector: the whole page is read as walled",
                               line=_line(element), element=element))
        for selector in selectors:
            try:
                found = CSSSelector(selector, translator="html")(root)
            except (SelectorError, ValueError, TypeError):
                continue  # the reader reports invalid selectors (paywall-selector-invalid)
            if not found:
                out.append(problem("paywall-selector-unmatched", url,
                                   f"hasPart cssSelector {selector!r} matches nothing on the page: the walled part "
                                   "cannot be located, so the whole page counts as paywalled",
                                   line=_line(element), element=element))
            matched.extend(el for el in found if isinstance(el, lxml.html.HtmlElement))
    if matched:
        article = [el for el in _ARTICLE(root) if isinstance(el, lxml.html.HtmlElement)]
        whole = _text(article) if article else _text(root.xpath("//body"))
        walled = _text(_outermost(matched))
        if whole and walled >= COVER_SHARE * whole:
            out.append(problem("paywall-parts-cover-article", url,
                               f"the walled parts hold {walled} of the article's {whole} characters: nothing is "
                               "left free to quote", element=parts[0][0], line=_line(parts[0][0])))
    return out


def _line(element: str | None) -> int | None:
    m = _WHERE_LINE.search(element or "")
    return int(m.group(1)) if m else None


def _outermost(elements: list[lxml.html.HtmlElement]) -> list[lxml.html.HtmlElement]:
    unique = list({id(e): e for e in elements}.values())
    return [e for e in unique if not any(o is not e and e in o.iterdescendants() for o in unique)]


def _text(elements: list[object]) -> int:
    return sum(len(" ".join(el.text_content().split())) for el in elements if isinstance(el, lxml.html.HtmlElement))
