"""Reading schema.org paywall markup (JSON-LD and microdata/RDFa) and locating the walled parts.

``markings`` finds every ``isAccessibleForFree`` on a work or on a
``hasPart`` element; ``locate`` checks, for each walled part, that its
``cssSelector`` can be used on *this* page. A part that cannot be located
(no selector, an invalid selector, a selector that matches nothing) means the
walled text cannot be told apart from the free text, so ``norms.paywall``
walls the whole page; ``Unlocated`` says which case it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Literal

import lxml.html
from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector
from pydantic import BaseModel, ConfigDict

from norms.html import HtmlDoc, select
from norms.lenient import dump_json, load_json, shown
from norms.model import SignalError

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
def compiled(selector: str) -> CSSSelector | None:
    """The compiled selector, or ``None`` when it is not one lxml can apply."""
    try:
        return CSSSelector(selector, translator="html")
    except (SelectorError, ValueError, TypeError, RecursionError, UnicodeError):
        return None


class Marking:
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


def _walk_jsonld(data: object, element: str) -> Iterator[Marking]:
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
            yield Marking(
                free=_free_value(flag),
                is_part=in_part,
                selectors=_selectors_of(node.get("cssSelector")) if in_part else [],
                element=element,
                raw=shown(dump_json({"isAccessibleForFree": flag}))
                if not in_part
                else shown(dump_json({"isAccessibleForFree": flag, "cssSelector": node.get("cssSelector")})),
                text_len=len(body) if isinstance(body, str) else 0,
                flagged=has_flag,
            )
        for key, value in node.items():
            if isinstance(value, dict | list):
                stack.append((value, key == "hasPart"))


_JSONLD_COMMENT = re.compile(r"^\s*(?:<!--|<!\[CDATA\[)|(?:-->|\]\]>)\s*$")


def _jsonld_markings(doc: HtmlDoc, warnings: list[str]) -> list[Marking]:
    out: list[Marking] = []
    for i, script in enumerate(doc.scripts_of_type("application/ld+json"), start=1):
        text = _JSONLD_COMMENT.sub("", script.text).strip()
        if "isAccessibleForFree" not in text:
            continue
        line = f" line {script.line}" if script.line is not None else ""
        element = f"JSON-LD script #{i}{line}"
        try:
            data = load_json(text, what=element)
        except SignalError as exc:
            warnings.append(f"{exc}; its paywall markup is ignored")
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


_PROPS = (("//@itemprop", "itemprop"), ("//@property", "property"))


def _flag_elements(doc: HtmlDoc) -> list[etree._Element]:
    """Elements whose itemprop/property names isAccessibleForFree (any case, RDFa prefixes too)."""
    out: list[etree._Element] = []
    for value in select(doc, _PROPS):
        if "isaccessibleforfree" in str(value).lower():
            parent = getattr(value, "getparent", lambda: None)()
            if isinstance(parent, etree._Element) and all(parent is not o for o in out):
                out.append(parent)
    return out


def _value_of(el: etree._Element) -> str:
    content = el.get("content")
    return content if content is not None else (el.text_content() if isinstance(el, lxml.html.HtmlElement) else "")


def _microdata_markings(doc: HtmlDoc) -> list[Marking]:
    out: list[Marking] = []
    root = doc.root
    if root is None:
        return out
    for el in _flag_elements(doc):
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
            Marking(
                free=_free_value(value),
                is_part=is_part,
                selectors=selectors,
                element=f'<{el.tag} {kind}="isAccessibleForFree">{line}' + (" in hasPart" if is_part else ""),
                raw=value,
            )
        )
    return out




def markings(doc: HtmlDoc, warnings: list[str]) -> list[Marking]:
    """Every distinct paywall marking of the page: JSON-LD first, then microdata/RDFa, in document order.

    A marking repeated (the same block pasted a thousand times) is kept once,
    at its first place: it says nothing new, and each one costs evidence.
    """
    unique: dict[tuple[object, ...], Marking] = {}
    for m in _jsonld_markings(doc, warnings) + _microdata_markings(doc):
        unique.setdefault((m.is_part, m.free, m.flagged, m.raw, tuple(m.selectors)), m)
    return list(unique.values())


#: Why a walled part cannot be located; each has its own evidence rule and checker problem.
UnlocatedKind = Literal["no-selector", "invalid-selector", "selector-matches-nothing"]


class Unlocated(BaseModel):
    """A walled ``hasPart`` whose parts cannot be found in the page, and why."""

    model_config = ConfigDict(frozen=True)

    kind: UnlocatedKind
    element: str
    raw: str
    selector: str | None = None

    @property
    def rule(self) -> str:
        """The evidence rule: what the markup says, why it cannot be applied, what follows."""
        if self.kind == "no-selector":
            why = "a walled hasPart names no cssSelector"
        elif self.kind == "invalid-selector":
            why = f"the walled hasPart's cssSelector {shown(self.selector or '')!r} is not a valid CSS selector"
        else:
            why = f"the walled hasPart's cssSelector {shown(self.selector or '')!r} matches nothing in the page"
        return (
            f"isAccessibleForFree=false but {why}: the walled parts cannot be located, "
            "so the whole page is read as walled"
        )


def locate(parts: list[Marking], root: lxml.html.HtmlElement) -> tuple[list[str], list[Unlocated]]:
    """The selectors of walled ``parts`` that can be applied to ``root``, and the parts that cannot.

    Every selector of a walled part must compile *and* match at least one
    element: a selector that matches nothing may mean the walled text sits
    under another class, so nothing tells it apart from the free text.
    """
    usable: list[str] = []
    unlocated: list[Unlocated] = []
    found: dict[str, bool] = {}  # each distinct selector is matched against the page once
    for part in parts:
        if not part.selectors:
            unlocated.append(Unlocated(kind="no-selector", element=part.element, raw=part.raw))
            continue
        for sel in part.selectors:
            matcher = compiled(sel)
            if matcher is None:
                unlocated.append(Unlocated(kind="invalid-selector", element=part.element, raw=part.raw, selector=sel))
            elif not found.setdefault(sel, _matches_any(matcher, root)):
                unlocated.append(Unlocated(kind="selector-matches-nothing", element=part.element, raw=part.raw, selector=sel))
            elif sel not in usable:
                usable.append(sel)
    return usable, unlocated


def _matches_any(matcher: CSSSelector, root: lxml.html.HtmlElement) -> bool:
    try:
        return bool(matcher(root))
    except (etree.XPathError, ValueError):  # an XPath lxml cannot evaluate: not applicable either
        return False
