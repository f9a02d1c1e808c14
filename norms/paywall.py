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
* a work that is not free and names no usable part is walled as a whole;
  so is a non-free part without a usable selector (we cannot tell which part
  it is, so we protect all of it);
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
import json
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Literal

import lxml.html
from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector
from pydantic import BaseModel, Field

from norms.html import HtmlDoc, parse_html
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
from norms.robots_tags import DEFAULT_SNIPPET_CHARS

#: Below this many characters of text, the walled part is taken as not delivered
#: (a server-side paywall sends a teaser at most). Heuristic from a Google DevRel gist.
TEXT_PRESENT_CHARS = 300

_FALSE = frozenset({"false", "0", "no"})
_TRUE = frozenset({"true", "1", "yes"})


def _free_value(value: object) -> bool | None:
    """Normalise an ``isAccessibleForFree`` value; ``None`` when it says nothing."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _FALSE:
            return False
        if v in _TRUE:
            return True
    return None


@lru_cache(maxsize=256)
def _compiled(selector: str) -> CSSSelector | None:
    try:
        return CSSSelector(selector, translator="html")
    except (SelectorError, ValueError, TypeError):
        return None


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


class _Marking:
    """One ``isAccessibleForFree`` found: on a work or on a ``hasPart`` element."""

    __slots__ = ("element", "flagged", "free", "is_part", "raw", "selectors", "text_len")

    def __init__(
        self,
        *,
        free: bool | None,
        is_part: bool,
        selectors: list[str],
        element: str,
        raw: str,
        text_len: int = 0,
        flagged: bool = True,
    ) -> None:
        self.flagged = flagged  # False: a hasPart element with a selector but no isAccessibleForFree
        self.free = free
        self.is_part = is_part
        self.selectors = selectors
        self.element = element
        self.raw = raw
        self.text_len = text_len


def _selectors_of(value: object) -> list[str]:
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return []


def _walk_jsonld(data: object, element: str) -> Iterator[_Marking]:
    """Every work and part carrying ``isAccessibleForFree`` (or a part with a selector), depth-first."""
    stack: list[tuple[object, bool]] = [(data, False)]
    while stack:
        node, in_part = stack.pop()
        if isinstance(node, list):
            stack.extend((x, in_part) for x in reversed(node))
            continue
        if not isinstance(node, dict):
            continue
        has_flag = "isAccessibleForFree" in node
        if has_flag or (in_part and "cssSelector" in node):
            flag = node.get("isAccessibleForFree")
            body = node.get("articleBody")
            yield _Marking(
                free=_free_value(flag),
                is_part=in_part,
                selectors=_selectors_of(node.get("cssSelector")) if in_part else [],
                element=element,
                raw=json.dumps({"isAccessibleForFree": flag}, ensure_ascii=False)
                if not in_part
                else json.dumps(
                    {"isAccessibleForFree": flag, "cssSelector": node.get("cssSelector")}, ensure_ascii=False
                ),
                text_len=len(body) if isinstance(body, str) else 0,
                flagged=has_flag,
            )
        for key, value in node.items():
            if isinstance(value, dict | list):
                stack.append((value, key == "hasPart"))


_JSONLD_COMMENT = re.compile(r"^\s*(?:<!--|<!\[CDATA\[)|(?:-->|\]\]>)\s*$")


def _jsonld_markings(doc: HtmlDoc, warnings: list[str]) -> list[_Marking]:
    out: list[_Marking] = []
    for i, script in enumerate(doc.scripts_of_type("application/ld+json"), start=1):
        text = _JSONLD_COMMENT.sub("", script.text).strip()
        if "isAccessibleForFree" not in text:
            continue
        line = f" line {script.line}" if script.line is not None else ""
        element = f"JSON-LD script #{i}{line}"
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            warnings.append(f"{element}: not valid JSON; its paywall markup is ignored")
            continue
        try:
            out.extend(_walk_jsonld(data, element))
        except RecursionError:  # pragma: no cover - the walk is iterative; json.dumps may still recurse
            warnings.append(f"{element}: nested too deeply; ignored")
    return out


def _attr_tokens(el: etree._Element, attr: str) -> set[str]:
    return {t.lower() for t in (el.get(attr) or "").split()}


def _scope_of(el: etree._Element) -> etree._Element | None:
    for anc in el.iterancestors():
        if anc.get("itemscope") is not None or anc.get("typeof") is not None:
            return anc
    return None


_PROP_XPATH = etree.XPath("//@itemprop | //@property")


def _flag_elements(root: etree._Element) -> list[etree._Element]:
    """Elements whose itemprop/property names isAccessibleForFree (any case, RDFa prefixes too)."""
    found = _PROP_XPATH(root)
    out: list[etree._Element] = []
    for value in found if isinstance(found, list) else []:
        if "isaccessibleforfree" in str(value).lower():
            parent = getattr(value, "getparent", lambda: None)()
            if isinstance(parent, etree._Element) and all(parent is not o for o in out):
                out.append(parent)
    return out


def _value_of(el: etree._Element) -> str:
    content = el.get("content")
    return content if content is not None else (el.text_content() if isinstance(el, lxml.html.HtmlElement) else "")


def _microdata_markings(doc: HtmlDoc) -> list[_Marking]:
    out: list[_Marking] = []
    root = doc.root
    if root is None:
        return out
    for el in _flag_elements(root):
        scope = _scope_of(el)
        is_part = False
        selectors: list[str] = []
        if scope is not None:
            kinds = _attr_tokens(scope, "itemprop") | _attr_tokens(scope, "property")
            itemtype = (scope.get("itemtype") or scope.get("typeof") or "").lower()
            is_part = "haspart" in kinds or itemtype.endswith("webpageelement")
            if is_part:
                for sel_el in scope.iter():
                    names = _attr_tokens(sel_el, "itemprop") | _attr_tokens(sel_el, "property")
                    if "cssselector" in names and _scope_of(sel_el) is scope:
                        selectors.extend(_selectors_of(_value_of(sel_el)))
        value = _value_of(el)
        line = f" line {el.sourceline}" if el.sourceline is not None else ""
        kind = "itemprop" if el.get("itemprop") is not None else "property"
        out.append(
            _Marking(
                free=_free_value(value),
                is_part=is_part,
                selectors=selectors,
                element=f'<{el.tag} {kind}="isAccessibleForFree">{line}' + (" in hasPart" if is_part else ""),
                raw=value,
            )
        )
    return out


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
_ATTR_XPATHS: dict[str, etree.XPath] = {
    "src": etree.XPath("//script/@src | //iframe/@src"),
    "id": etree.XPath("//@id"),
    "class": etree.XPath("//body//@class"),
    "custom-element": etree.XPath("//script/@custom-element"),
    "subscriptions-section": etree.XPath("//@subscriptions-section"),
    "data-poool": etree.XPath("//@data-poool"),
    "data-paywall": etree.XPath("//@data-paywall"),
    "data-component-name": etree.XPath("//@data-component-name"),
}
_COMMENT_XPATH = etree.XPath("//comment()")
_INLINE_MARKERS: tuple[tuple[str, str], ...] = (
    ("Piano/tinypass", 'tp.push(["init"'),
    ("Piano/tinypass", "PianoESPConfig"),
    ("Piano/tinypass", "experience.piano.io"),
    ("Poool", "api.poool.fr"),
)
_INLINE_XPATH = etree.XPath("//script[not(@src)]/text()")
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
        if attr not in values:
            found = _ATTR_XPATHS[attr](root)
            values[attr] = found if isinstance(found, list) else []
            # One lowercased blob per attribute: a substring test in C before any Python loop.
            joined[attr] = "\n".join(str(v) for v in values[attr]).lower()
        blob = joined[attr]
        if not values[attr] or not any(n in blob for n in needles):
            continue
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
    inline = "".join(str(t) for t in scripts) if isinstance(scripts, list) else ""
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
    out: list[lxml.html.HtmlElement] = []
    for sel in selectors:
        compiled = _compiled(sel)
        if compiled is None:
            continue
        for el in compiled(root):
            if isinstance(el, lxml.html.HtmlElement) and all(el is not o for o in out):
                out.append(el)
    # Nested matches would be counted twice: keep the outermost.
    return [el for el in out if not any(o is not el and el in o.iterdescendants() for o in out)]


def detect_paywall(html: str | bytes | HtmlDoc, url: str) -> PaywallReport:
    """Read paywall markup and vendor markers from a page. Never raises."""
    doc = parse_html(html)
    report = PaywallReport(url=url)
    if doc.root is None:
        return report
    warnings = report.warnings
    markings = _jsonld_markings(doc, warnings) + _microdata_markings(doc)
    for m in markings:
        if m.free is None and m.flagged:
            warnings.append(f"{m.element}: isAccessibleForFree value {m.raw!r} is neither true nor false; ignored")

    closed_works = [m for m in markings if not m.is_part and m.free is False]
    # A part listed under hasPart without a value is read as walled (a part is listed to be walled).
    closed_parts = [m for m in markings if m.is_part and m.free is not True]
    selectors: list[str] = []
    unusable_part = False
    for part in closed_parts:
        usable = [s for s in part.selectors if _compiled(s) is not None]
        for bad in set(part.selectors) - set(usable):
            warnings.append(f"{part.element}: cssSelector {bad!r} is not a valid CSS selector; ignored")
        if not usable:
            unusable_part = True
        selectors.extend(s for s in usable if s not in selectors)

    root = doc.root
    if closed_parts and selectors and not unusable_part:
        report.selectors = selectors
        report.text_present = _text_len(_selected(root, selectors)) >= TEXT_PRESENT_CHARS
    elif closed_works or closed_parts:
        if closed_parts:
            warnings.append("a walled hasPart names no usable cssSelector: the whole page is read as walled")
        report.whole_page = True
        body_len = max([m.text_len for m in markings] + [_text_len(_ARTICLE_XPATH(root))])
        report.text_present = body_len >= TEXT_PRESENT_CHARS
    # Parts first: when they decide, they are the evidence statements point at.
    decisive = closed_parts + closed_works if not report.whole_page else closed_works + closed_parts
    for m in decisive:
        if report.whole_page:
            rule = "isAccessibleForFree=false: the page is walled as a whole"
        elif m.is_part:
            rule = f"isAccessibleForFree=false on hasPart {', '.join(m.selectors)}: drop exactly those parts"
        else:
            rule = "isAccessibleForFree=false on the work; its hasPart elements name the walled parts"
        if report.text_present:
            rule += "; the walled text is in the HTML (client-side paywall) but not free to use"
        report.evidence.append(
            Evidence(signal=Signal.PAYWALL, source=url, element=m.element, raw=m.raw, rule=rule)
        )
    vendor = _vendor_evidence(doc, url)
    declared_free = [m for m in markings if not m.is_part and m.free is True]
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
            el.drop_tree()
    return lxml.html.tostring(root, encoding="unicode")
