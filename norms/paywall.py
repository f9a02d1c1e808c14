"""Paywalls and registration walls: schema.org markup first, vendor markers as weaker evidence.

A crawler that does not run JavaScript often receives the whole article even
when readers see a paywall (Piano, Poool, Zephr and metered sites hide the
text after load). The text being in the HTML does not make it free: the
publisher's markup (``isAccessibleForFree: false``, ``hasPart`` with a
``cssSelector``) is what counts, and ``text_present`` only records that the
walled text was delivered anyway.

How the markup is read (JSON-LD, including ``@graph``, arrays and nesting, and
microdata; RDFa ``property=`` is read the same way as microdata):

* a ``hasPart`` element that is not free names, with its ``cssSelector``,
  exactly the parts to drop; the rest of the page stays usable;
* a work that is not free and names no walled part is walled as a whole;
* so is a page whose walled part cannot be located (``Unlocated``): a part
  without ``cssSelector``, with a selector that is not valid CSS, or with one
  that matches nothing in the page. Then nothing tells the walled text from the
  free text, so all of it is protected, and the evidence says which case it was;
* ``false``/``False``/``"false"`` are the same value; any other value (the
  empty string seen on nationalreview.com) says nothing and is listed in
  ``warnings``; broken JSON-LD is skipped with a warning.

Vendor markers (scripts, classes, ids, comments, fixed wordings) are
heuristics gathered from pages in the wild, not vendor documentation, so on
their own they yield *derived* denials. When markup is present it decides and
the markers are kept as evidence only.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Literal

import lxml.html
from lxml import etree
from pydantic import BaseModel, Field

from norms.html import HtmlDoc, drop_tree, parse_html
from norms.model import (
    AI_USAGES,
    ALL_USAGES,
    Effect,
    Evidence,
    Obligation,
    ObligationKind,
    Signal,
    Statement,
    Usage,
)
from norms.paywall_markup import Unlocated, compiled, locate, markings
from norms.problems import Finding, Severity
from norms.robots_tags import DEFAULT_SNIPPET_CHARS

#: Below this many characters of text, the walled part is taken as not delivered
#: (a server-side paywall sends a teaser at most). Heuristic from a Google DevRel gist.
TEXT_PRESENT_CHARS = 300

_ELEMENT_LINE = re.compile(r" line (\d+)")
# Why a walled part cannot be located -> the checker's problem code (its catalogue).
_UNLOCATED_CODES = {
    "no-selector": "paywall-part-without-selector",
    "invalid-selector": "paywall-selector-invalid",
    "selector-matches-nothing": "paywall-selector-unmatched",
}


class PaywallReport(BaseModel):
    """What the page says about being walled, and what that means for each usage."""

    url: str
    paywalled: bool = False
    strength: Literal["markup", "vendor"] | None = None
    whole_page: bool = False
    selectors: list[str] = Field(default_factory=list)
    text_present: bool = False
    evidence: list[Evidence] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    unlocated: list[Unlocated] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)  # warnings and unlocated parts as data

    def note(self, code: str, element: str | None, text: str, severity: Severity = Severity.WARNING) -> None:
        """A ``Finding`` (its line taken from the element label we built: ``... line N``)."""
        m = _ELEMENT_LINE.search(element or "")
        self.findings.append(Finding(code=code, severity=severity, message=text, element=element,
                                     line=int(m.group(1)) if m else None, source=self.url))

    def statements(self) -> list[Statement]:
        """Whole page walled: AI usages denied, search limited to a snippet of the teaser.

        Parts walled: every usage allowed on condition that exactly those parts
        are dropped. Vendor markers only: AI usages denied as a derived
        (weaker) reading.
        """
        if not self.paywalled or not self.evidence:
            return []
        ev = self.evidence[0]
        if self.strength == "markup" and self.whole_page:
            out = [Statement(usage=u, effect=Effect.DENY, evidence=ev) for u in AI_USAGES]
            limit = Obligation(
                kind=ObligationKind.SNIPPET_LIMIT,
                limit=DEFAULT_SNIPPET_CHARS,
                detail="paywalled page: quote only a snippet of what is shown for free",
            )
            out.append(Statement(usage=Usage.SEARCH, effect=Effect.ALLOW, evidence=ev, obligations=(limit,)))
            return out
        if self.strength == "markup":
            drop = Obligation(
                kind=ObligationKind.EXCLUDE_PARTS,
                selectors=tuple(self.selectors),
                detail="paywalled parts: drop them before any use",
            )
            return [
                Statement(usage=u, effect=Effect.ALLOW, evidence=ev, obligations=(drop,)) for u in ALL_USAGES
            ]
        return [Statement(usage=u, effect=Effect.DENY, evidence=ev, derived=True) for u in AI_USAGES]


# --- schema.org markup ----------------------------------------------------------------


# --- vendor markers ---------------------------------------------------------------------

# Each marker: (vendor, XPath to attribute values or nodes, test on the lowercased value).
# Reading attribute *values* in one XPath each and testing them in Python is several
# times faster than XPath predicates with contains()/translate() over every element.
_Test = tuple[str, ...]
_ATTR_MARKERS: tuple[tuple[str, str, _Test], ...] = (
    ("Piano/tinypass", "src", ("tinypass.com", "piano.io")),
    ("Poool", "src", ("poool.fr",)),
    ("Laterpay", "src", ("laterpay.net", "uselaterpay.com")),
    ("Piano/tinypass", "id", ("tinypass",)),
    ("Poool", "id", ("poool-widget", "p3-paywall")),
    ("Piano/tinypass", "class", ("tp-modal", "tp-backdrop", "piano-inline-offer")),
    ("Zephr", "class", ("zephr-feature",)),
    ("Substack", "class", ("paywall-title",)),
    ("generic [class*=paywall]", "class", ("paywall", "regwall", "subscriber-only")),
    ("AMP subscriptions", "custom-element", ("amp-subscriptions", "amp-access")),
    ("Laterpay", "custom-element", ("amp-access-laterpay",)),
    ("AMP subscriptions", "subscriptions-section", ("content",)),
    ("Poool", "data-poool", ("",)),
    ("generic [data-paywall]", "data-paywall", ("",)),
    ("Substack", "data-component-name", ("paywall",)),
)
_ATTR_PATHS: dict[str, str] = {
    "src": "//script/@src | //iframe/@src",
    "id": "//@id",
    "class": "//body//@class",
    "custom-element": "//script/@custom-element",
    "subscriptions-section": "//@subscriptions-section",
    "data-poool": "//@data-poool",
    "data-paywall": "//@data-paywall",
    "data-component-name": "//@data-component-name",
}
# Plain strings for the substring test (joined in C), smart ones (which know their element)
# only when a needle was found and the element must be named.
# The attribute name each path reads (``HtmlDoc.may_have``): "src" for "//script/@src | ...".
_ATTR_NAMES = {a: p.rpartition("@")[2] for a, p in _ATTR_PATHS.items()}
_ATTR_VALUES = {a: etree.XPath(p, smart_strings=False) for a, p in _ATTR_PATHS.items()}
_ATTR_XPATHS = {a: etree.XPath(p) for a, p in _ATTR_PATHS.items()}
_COMMENT_XPATH = etree.XPath("//comment()")
_INLINE_MARKERS: tuple[tuple[str, str], ...] = (
    ("Piano/tinypass", 'tp.push(["init"'),
    ("Piano/tinypass", "PianoESPConfig"),
    ("Piano/tinypass", "experience.piano.io"),
    ("Poool", "api.poool.fr"),
)
_INLINE_XPATH = etree.XPath("//script[not(@src)]/text()", smart_strings=False)
_TEXT_MARKERS = (
    ("Substack", "this post is for paid subscribers"),
    ("Medium", "member-only story"),
    ("generic paywall wording", "subscribe to continue reading"),
)
_TEXT_XPATH = etree.XPath("normalize-space(//body)")
_HEURISTIC = "paywall marker in the raw HTML (heuristic, weaker than markup)"


def _marker(url: str, vendor: str, raw: str, where: str, line: int | None) -> Evidence:
    return Evidence(
        signal=Signal.PAYWALL,
        source=url,
        raw=raw[:200],
        element=f"{where}" + (f" line {line}" if line else ""),
        rule=f"{vendor} {_HEURISTIC}",
    )


def _vendor_evidence(doc: HtmlDoc, url: str) -> list[Evidence]:
    """One piece of evidence per vendor marker kind found (the first occurrence)."""
    root = doc.root
    out: list[Evidence] = []
    if root is None:
        return out
    values: dict[str, list[object]] = {}
    joined: dict[str, str] = {}
    for vendor, attr, needles in _ATTR_MARKERS:
        if attr not in joined:
            # An attribute name the page never spells cannot be on any element: no walk.
            plain = _ATTR_VALUES[attr](root) if doc.may_have(_ATTR_NAMES[attr]) else []
            # One lowercased blob per attribute: a substring test in C before any Python loop.
            joined[attr] = "\n".join(plain).lower() if isinstance(plain, list) and plain else ""
        blob = joined[attr]
        if not blob or not any(n in blob for n in needles):
            continue
        if attr not in values:
            found = _ATTR_XPATHS[attr](root)
            values[attr] = found if isinstance(found, list) else []
        for value in values[attr]:
            text = str(value).lower()
            if any(n in text for n in needles):
                parent = getattr(value, "getparent", lambda: None)()
                tag = parent.tag if isinstance(parent, etree._Element) else "element"
                line = parent.sourceline if isinstance(parent, etree._Element) else None
                out.append(_marker(url, vendor, f'{attr}="{value}"', f"<{tag} {attr}>", line))
                break
    comments = _COMMENT_XPATH(root)
    for c in comments if isinstance(comments, list) else []:
        if isinstance(c, etree._Comment) and "ZEPHR_FEATURE" in (c.text or ""):
            out.append(_marker(url, "Zephr", (c.text or "").strip(), "<!-- ZEPHR_FEATURE -->", c.sourceline))
            break
    scripts = _INLINE_XPATH(root)
    inline = "".join(scripts) if isinstance(scripts, list) else ""
    for vendor, needle in _INLINE_MARKERS:
        if needle in inline:
            out.append(_marker(url, vendor, needle, "inline <script>", None))
    text = _TEXT_XPATH(root)
    body = text.lower() if isinstance(text, str) else ""
    for vendor, needle in _TEXT_MARKERS:
        if needle in body:
            out.append(_marker(url, vendor, needle, "page text", None))
    return out


# --- text presence ----------------------------------------------------------------------

_ARTICLE_XPATH = etree.XPath("//article | //*[@itemprop='articleBody'] | //main")


def _text_len(elements: Sequence[object]) -> int:
    total = 0
    for el in elements:
        if isinstance(el, lxml.html.HtmlElement):
            total += len(" ".join(el.text_content().split()))
    return total


def _selected(root: lxml.html.HtmlElement, selectors: Sequence[str]) -> list[lxml.html.HtmlElement]:
    """Elements matching any of ``selectors``, outermost only (nested matches would count twice)."""
    found: dict[int, lxml.html.HtmlElement] = {}
    for sel in selectors:
        matcher = compiled(sel)
        if matcher is None:
            continue
        try:
            hits = matcher(root)
        except (etree.XPathError, ValueError):
            continue
        for el in hits:
            if isinstance(el, lxml.html.HtmlElement):
                found.setdefault(id(el), el)
    # One walk up from each match: linear in matches x depth, never matches x matches.
    return [el for el in found.values() if not any(id(a) in found for a in el.iterancestors())]


def detect_paywall(html: str | bytes | HtmlDoc, url: str) -> PaywallReport:
    """Read paywall markup and vendor markers from a page. Never raises."""
    doc = parse_html(html)
    report = PaywallReport(url=url)
    if doc.root is None:
        return report
    warnings = report.warnings
    found = markings(doc, warnings)
    for text in warnings:  # markings() warns only about JSON-LD it cannot read
        report.note("paywall-jsonld-invalid", text.split(": ", 1)[0] if "JSON-LD script" in text else None, text)
    for m in found:
        if m.free is None and m.flagged:
            text = f"isAccessibleForFree value {m.raw!r} is neither true nor false; ignored"
            warnings.append(f"{m.element}: {text}")
            report.note("paywall-free-value", m.element, text)

    closed_works = [m for m in found if not m.is_part and m.free is False]
    # A part listed under hasPart without a value is read as walled (a part is listed to be walled).
    closed_parts = [m for m in found if m.is_part and m.free is not True]
    root = doc.root
    selectors, unlocated = locate(closed_parts, root)
    report.unlocated = unlocated  # reported there and in the evidence, not as warnings
    for miss in unlocated:
        report.note(_UNLOCATED_CODES[miss.kind], miss.element, miss.rule, Severity.ERROR)

    if closed_parts and not unlocated:
        report.selectors = selectors
        report.text_present = _text_len(_selected(root, selectors)) >= TEXT_PRESENT_CHARS
    elif closed_works or closed_parts:
        report.whole_page = True
        body_len = max([m.text_len for m in found] + [_text_len(_ARTICLE_XPATH(root))])
        report.text_present = body_len >= TEXT_PRESENT_CHARS
    present = "; the walled text is in the HTML (client-side paywall) but not free to use"
    # The decisive evidence first: an unlocatable part, else the parts, else the work.
    for miss in unlocated:
        report.evidence.append(
            Evidence(signal=Signal.PAYWALL, source=url, element=miss.element, raw=miss.raw,
                     rule=miss.rule + (present if report.text_present else ""))
        )
    decisive = closed_parts + closed_works if not report.whole_page else closed_works + closed_parts
    missing = {(u.element, u.raw) for u in unlocated}
    located = {id(m) for m in closed_parts if (m.element, m.raw) not in missing}
    for m in decisive:
        if report.whole_page and m.is_part and id(m) not in located:
            continue  # already explained by its Unlocated evidence
        if report.whole_page:
            rule = "isAccessibleForFree=false: the page is walled as a whole"
        elif m.is_part:
            rule = f"isAccessibleForFree=false on hasPart {', '.join(m.selectors)}: drop exactly those parts"
        else:
            rule = "isAccessibleForFree=false on the work; its hasPart elements name the walled parts"
        if report.text_present:
            rule += present
        report.evidence.append(
            Evidence(signal=Signal.PAYWALL, source=url, element=m.element, raw=m.raw, rule=rule)
        )
    vendor = _vendor_evidence(doc, url)
    declared_free = [m for m in found if not m.is_part and m.free is True]
    if decisive:
        report.paywalled, report.strength = True, "markup"
    elif declared_free and vendor:
        # The publisher's own markup says the work is free: a paywall-looking
        # class (a subscription banner, say) does not outweigh that.
        m = declared_free[0]
        report.evidence.append(
            Evidence(
                signal=Signal.PAYWALL,
                source=url,
                element=m.element,
                raw=m.raw,
                rule="isAccessibleForFree=true on the work: vendor markers below are not read as a paywall",
            )
        )
    elif vendor:
        report.paywalled, report.strength = True, "vendor"
    report.evidence.extend(vendor)
    return report


def remove_parts(html: str | bytes | HtmlDoc, selectors: Sequence[str]) -> str:
    """The page with every element matching ``selectors`` removed (text after it is kept).

    Pure: an ``HtmlDoc`` passed in is copied, never changed. Invalid selectors
    are ignored. A page with nothing to parse comes back as given (as text).
    """
    doc = parse_html(html)
    if doc.root is None:
        if isinstance(html, bytes):
            return html.decode("utf-8", "replace")
        return html if isinstance(html, str) else ""
    root = copy.deepcopy(doc.root)
    for el in _selected(root, selectors):
        if el.getparent() is not None:
            drop_tree(el)
    return lxml.html.tostring(root, encoding="unicode")


def walled_parts(html: str | bytes | HtmlDoc) -> list[tuple[str, tuple[str, ...]]]:
    """Each walled ``hasPart`` the page declares: its element and its ``cssSelector`` values as written.

    For the compliance checker, which tests how much of the article they cover.
    """
    doc = parse_html(html)
    if doc.root is None:
        return []
    return [(m.element, tuple(m.selectors)) for m in markings(doc, []) if m.is_part and m.free is not True]
