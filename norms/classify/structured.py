"""Schema.org facts of one page, from JSON-LD and microdata, reduced to what classification needs.

Reading a whole JSON-LD graph is more than the classifier needs; this walks it
once (bounded in depth and node count, so a hostile page cannot make it
slow) and keeps counts and a few decisive facts: which types occur, which
node describes the site itself, which things carry ratings, who made the
videos and code on the page.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from norms.domains import registrable_domain
from norms.html import HtmlDoc

MAX_NODES = 800
MAX_DEPTH = 12
MAX_JSONLD_CHARS = 512 * 1024

# Types that, with a url at the site's root, say "this site is that entity's own".
IDENTITY_TYPES = frozenset(
    {
        "organization", "corporation", "governmentorganization", "airport", "airline",
        "educationalorganization", "collegeoruniversity", "school", "localbusiness",
        "newsmediaorganization", "ngo", "museum", "library", "hospital", "person",
        "sportsorganization", "researchorganization", "project", "fundingagency",
        "hotel", "restaurant", "store", "touristattraction", "municipality", "cityhall",
    }
)
ARTICLE_TYPES = frozenset({"article", "newsarticle", "blogposting", "reportagenewsarticle", "techarticle"})


@dataclass(slots=True)
class StructuredFacts:
    """Schema.org facts of one page; ``lines`` keeps the first source line of each type."""

    types: Counter[str] = field(default_factory=Counter)
    lines: dict[str, int | None] = field(default_factory=dict)
    self_identity: list[tuple[str, str]] = field(default_factory=list)
    rated: list[str] = field(default_factory=list)
    reviews: int = 0
    person_made_video: int = 0
    person_made_code: int = 0
    listing_items: int = 0
    editorial: bool = False
    microdata_publisher: bool = False
    date_modified: str | None = None
    invalid_jsonld: int = 0

    def has(self, *names: str) -> bool:
        return any(self.types.get(n, 0) for n in names)


def _type_names(value: Any) -> list[str]:
    raw = value if isinstance(value, list) else [value]
    out = []
    for t in raw:
        if isinstance(t, str) and t:
            out.append(t.rsplit("/", 1)[-1].rsplit("#", 1)[-1].rsplit(":", 1)[-1].lower())
    return out


def _is_site_root(url: Any, site: str) -> bool:
    if not isinstance(url, str) or "://" not in url:
        return False
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    path = parts.path.strip("/")
    if path and not (len(path) == 2 and path.isalpha()):
        return False
    host = (parts.hostname or "").lower()
    if not host:
        return False
    # hosts outside the PSL (``.example``, intranet names) are their own unit; ignore a "www."
    return registrable_domain(host) == site or host.removeprefix("www.") == site.removeprefix("www.")


ORG_TYPES = frozenset({"organization", "newsmediaorganization", "corporation", "governmentorganization",
                       "educationalorganization", "ngo", "collegeoruniversity"})


def _published_by_site(publisher: Any, site: str) -> bool:
    """An organisation publisher that is this site: named without a url, or with a url on this site."""
    for p in publisher if isinstance(publisher, list) else [publisher]:
        if isinstance(p, dict) and ORG_TYPES.intersection(_type_names(p.get("@type"))):
            url = p.get("url")
            if url is None or _on_site(url, site):
                return True
    return False


def _on_site(url: Any, site: str) -> bool:
    if not isinstance(url, str) or "://" not in url:
        return False
    try:
        host = (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return False
    return bool(host) and (registrable_domain(host) == site or host.removeprefix("www.") == site.removeprefix("www."))


def _made_by_user(node: dict[str, Any], site: str) -> bool:
    """True when a Person other than the site's own owner made ``node`` (an uploader, a user)."""
    for key in ("author", "creator", "uploader"):
        who = node.get(key)
        for w in who if isinstance(who, list) else [who]:
            if isinstance(w, dict) and "person" in _type_names(w.get("@type")) and not _is_site_root(w.get("url"), site):
                return True
    return False


class _Walker:
    __slots__ = ("facts", "line", "nodes", "site")

    def __init__(self, facts: StructuredFacts, site: str) -> None:
        self.facts = facts
        self.site = site
        self.nodes = 0
        self.line: int | None = None

    def walk(self, value: Any, depth: int = 0) -> None:
        if depth > MAX_DEPTH or self.nodes > MAX_NODES:
            return
        if isinstance(value, list):
            for item in value:
                self.walk(item, depth + 1)
            return
        if not isinstance(value, dict):
            return
        self.nodes += 1
        names = _type_names(value.get("@type"))
        self.node(value, names)
        for key, child in value.items():
            if isinstance(child, dict | list) and key != "@context":
                self.walk(child, depth + 1)

    def node(self, node: dict[str, Any], names: list[str]) -> None:
        f = self.facts
        for name in names:
            f.types[name] += 1
            f.lines.setdefault(name, self.line)
        if not names:
            return
        is_self = bool(IDENTITY_TYPES.intersection(names)) and _is_site_root(node.get("url"), self.site)
        if is_self:
            f.self_identity.append((names[0], str(node.get("url"))))
        if "aggregateRating" in node and not is_self:
            f.rated.append(names[0])
        if "review" in names:
            f.reviews += 1
        if "videoobject" in names and _made_by_user(node, self.site):
            f.person_made_video += 1
        if ("softwaresourcecode" in names or "coderepository" in names) and _made_by_user(node, self.site):
            f.person_made_code += 1
        if "itemlist" in names:
            items = node.get("itemListElement")
            if isinstance(items, list):
                f.listing_items += len(items)
        if (ARTICLE_TYPES.intersection(names) and node.get("author") and node.get("datePublished")
                and _published_by_site(node.get("publisher"), self.site)):
            f.editorial = True
        modified = node.get("dateModified")
        if isinstance(modified, str) and modified and (f.date_modified is None or modified > f.date_modified):
            f.date_modified = modified.strip()


def read_structured(doc: HtmlDoc, site: str) -> StructuredFacts:
    """Collect schema.org facts of ``doc``; ``site`` is the page's registrable domain.

    Invalid JSON-LD is counted (``invalid_jsonld``) and otherwise ignored, as
    search engines do.
    """
    facts = StructuredFacts()
    walker = _Walker(facts, site)
    for script in doc.scripts_of_type("application/ld+json"):
        text = script.text
        if not text.strip() or len(text) > MAX_JSONLD_CHARS:
            continue
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            facts.invalid_jsonld += 1
            continue
        walker.line = script.line
        walker.walk(data)
    return facts


def note_microdata(el: Any, facts: StructuredFacts, site: str) -> None:
    """Add one element's microdata (``itemtype``, ``itemprop``) to ``facts``.

    Called by the page reader's single pass over the tree, so microdata costs
    no extra traversal.
    """
    itemtype = el.get("itemtype")
    if itemtype:
        names = _type_names(itemtype.split())
        for name in names:
            facts.types[name] += 1
            facts.lines.setdefault(name, el.sourceline)
        if "review" in names:
            facts.reviews += 1
        if "publisher" in (el.get("itemprop") or "").split() and ORG_TYPES.intersection(names):
            facts.microdata_publisher = True
        if IDENTITY_TYPES.intersection(names):
            url = el.get("itemid")
            if not url:
                url_el = el.find(".//*[@itemprop='url']")
                url = None if url_el is None else (url_el.get("href") or url_el.get("content"))
            if _is_site_root(url, site):
                facts.self_identity.append((names[0], str(url)))
    prop = el.get("itemprop")
    if prop == "aggregateRating":
        parent = el.getparent()
        owner = None
        while parent is not None and owner is None:
            owner = parent.get("itemtype")
            parent = parent.getparent()
        facts.rated.append(_type_names((owner or "thing").split())[0])
    elif prop == "dateModified":
        value = (el.get("datetime") or el.get("content") or "").strip()
        if value and (facts.date_modified is None or value > facts.date_modified):
            facts.date_modified = value
