"""Page-level markers: what one fetched HTML page says about the kind of site it is on.

Observations only - the weights live in ``scoring``. Everything is read in
one pass over the parsed tree (``norms.html.parse_html`` does the parsing),
so classifying a page costs little more than parsing it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree

from norms.classify.structured import StructuredFacts, note_microdata, read_structured
from norms.domains import registrable_domain
from norms.html import HtmlDoc, select

# generator regex -> (engine key, kind). Kinds: wiki and forum engines mark
# community software; static site generators are run by a site's owner; a
# CMS says nothing about the kind of site by itself.
GENERATORS: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(rx, re.I), key, kind)
    for rx, key, kind in (
        (r"^mediawiki\b", "mediawiki", "wiki"),
        (r"^dokuwiki\b", "dokuwiki", "wiki"),
        (r"^moinmoin\b", "moinmoin", "wiki"),
        (r"^pmwiki\b", "pmwiki", "wiki"),
        (r"^tiki\s*wiki|^tiki\b", "tikiwiki", "wiki"),
        (r"^xwiki\b", "xwiki", "wiki"),
        (r"^wiki\.js\b", "wikijs", "wiki"),
        (r"^bookstack\b", "bookstack", "wiki"),
        (r"^discourse\b", "discourse", "forum"),
        (r"^phpbb\b", "phpbb", "forum"),
        (r"^vbulletin\b", "vbulletin", "forum"),
        (r"^xenforo\b", "xenforo", "forum"),
        (r"^flarum\b", "flarum", "forum"),
        (r"^nodebb\b", "nodebb", "forum"),
        (r"^(?:invision|ip\.board|ips community)", "invision", "forum"),
        (r"^mybb\b", "mybb", "forum"),
        (r"^(?:smf|simple machines)\b", "smf", "forum"),
        (r"^vanilla\b", "vanilla", "forum"),
        (r"^bbpress\b", "bbpress", "forum"),
        (r"^lemmy\b", "lemmy", "forum"),
        (r"^misago\b", "misago", "forum"),
        (r"^(?:jekyll|hugo|hexo|gatsby|pelican|eleventy|zola|mkdocs|sphinx|docusaurus|nikola|astro|vitepress)\b",
         "static", "static"),
        (r"^(?:wordpress|drupal|joomla|ghost|typo3|wix|squarespace|blogger|craft cms|hubspot)\b", "cms", "cms"),
    )
)

# "Powered by" links to an engine's home site, for installs that hide the generator meta.
ENGINE_HOMES: dict[str, tuple[str, str]] = {
    "mediawiki.org": ("mediawiki", "wiki"),
    "dokuwiki.org": ("dokuwiki", "wiki"),
    "discourse.org": ("discourse", "forum"),
    "phpbb.com": ("phpbb", "forum"),
    "vbulletin.com": ("vbulletin", "forum"),
    "xenforo.com": ("xenforo", "forum"),
    "flarum.org": ("flarum", "forum"),
    "nodebb.org": ("nodebb", "forum"),
    "mybb.com": ("mybb", "forum"),
    "simplemachines.org": ("smf", "forum"),
    "invisioncommunity.com": ("invision", "forum"),
}

# Paths of user-profile pages: /u/x, /users/1/x, /members/x, /@x, user?id=x, MediaWiki User:x,
# phpBB memberlist.php?mode=viewprofile&u=1, vBulletin member.php?u=1. Not /author/ or /people/:
# those are a publisher's own staff pages.
PROFILE_PATH = re.compile(
    r"^/(?:u|user|users|member|members|profile|profiles|channel|c)/[^/?#]+"
    r"|^/@[^/?#]+|^/user\?id=|/User:[^/?#]+|/(?:memberlist|member|profile)\.php\?[^#]*\bu(?:ser)?(?:id)?=",
    re.I,
)

# Links to a page's revision list: MediaWiki ``action=history``, Stack Exchange and Discourse ``/revisions``.
HISTORY_HREF = re.compile(r"[?&]action=history\b|/revisions(?:/|$|\?)")

LICENSE_HOSTS = ("creativecommons.org", "gnu.org", "opendatacommons.org", "openstreetmap.org")


@dataclass(slots=True)
class EngineHit:
    key: str
    kind: str
    raw: str
    where: str


@dataclass(slots=True)
class PageMarkers:
    """What a page shows; absolute URLs where a link was found."""

    site: str
    engines: list[EngineHit] = field(default_factory=list)
    wiki_edit_link: tuple[str, int | None] | None = None
    history_href: str | None = None
    history_links: int = 0
    revision_permalink: str | None = None
    talk_href: str | None = None
    canonical: str | None = None
    footer_lastmod: str | None = None
    meta_modified: str | None = None
    license_url: str | None = None
    license_rel: bool = False
    profile_links: int = 0
    ugc_links: int = 0
    external_domains: int = 0
    structured: StructuredFacts = field(default_factory=StructuredFacts)

    def engine(self, kind: str) -> EngineHit | None:
        return next((e for e in self.engines if e.kind == kind), None)


def license_name(url: str) -> str | None:
    """A short licence name for well-known licence URLs (``CC BY-SA 4.0``, ``GFDL``, ``ODbL 1.0``)."""
    low = url.lower()
    m = re.search(r"creativecommons\.org/licenses/([a-z-]+)/(\d+(?:\.\d+)?)", low)
    if m:
        return f"CC {m.group(1).upper()} {m.group(2)}"
    m = re.search(r"creativecommons\.org/publicdomain/(zero|mark)/(\d+(?:\.\d+)?)", low)
    if m:
        return f"CC0 {m.group(2)}" if m.group(1) == "zero" else f"Public Domain Mark {m.group(2)}"
    if "gnu.org/licenses/fdl" in low or "gnu.org/copyleft/fdl" in low:
        return "GFDL"
    m = re.search(r"open-government-licence/version/(\d+)", low)
    if m:
        return f"OGL {m.group(1)}.0"
    if "opendatacommons.org/licenses/odbl" in low or "openstreetmap.org/copyright" in low:
        return "ODbL 1.0"
    return None


def _text_of(el: Any) -> str:
    try:
        return " ".join(el.text_content().split())
    except (AttributeError, ValueError):
        return ""


def read_markers(doc: HtmlDoc, url: str, generators: tuple[str, ...] = ()) -> PageMarkers:
    """Read the markers of ``doc`` fetched from ``url``.

    ``generators`` are extra generator strings from response headers
    (``X-Generator``), read like a ``<meta name=generator>``.
    """
    host = (urlsplit(url).hostname or "").lower()
    site = registrable_domain(host) if host else ""
    pm = PageMarkers(site=site)
    pm.structured = read_structured(doc, site)

    for raw in generators:
        _note_generator(pm, raw, "header X-Generator")
    for meta in doc.metas:
        if meta.name == "generator":
            _note_generator(pm, meta.content, f"meta generator line {meta.line}")
        elif meta.name.startswith("discourse_") and not any(e.key == "discourse" for e in pm.engines):
            pm.engines.append(EngineHit("discourse", "forum", meta.name, f"meta {meta.name} line {meta.line}"))
        elif meta.name in ("article:modified_time", "og:updated_time") and meta.content:
            pm.meta_modified = pm.meta_modified or meta.content

    for link in doc.links:
        rel = link.rel
        if ("edit" in rel or (link.type == "application/x-wiki" and "alternate" in rel)) and pm.wiki_edit_link is None:
            pm.wiki_edit_link = (_abs(url, link.href), link.line)
        if "canonical" in rel and link.href and pm.canonical is None:
            pm.canonical = _abs(url, link.href)
        if "license" in rel and link.href and not pm.license_rel:
            pm.license_url, pm.license_rel = _abs(url, link.href), True

    if doc.root is not None:
        _walk_tree(doc, pm, url, site)
    return pm


def _note_generator(pm: PageMarkers, raw: str, where: str) -> None:
    text = raw.strip()
    for rx, key, kind in GENERATORS:
        if rx.search(text):
            pm.engines.append(EngineHit(key, kind, text, where))
            return


def _abs(base: str, href: str) -> str:
    try:
        return urljoin(base, href)
    except ValueError:
        return href


# Markers read the tree through a few compiled XPath queries: lxml evaluates them in C and
# builds Python objects for the hits alone, which keeps a 100 KB page within the per-page budget.
_HREFS = etree.XPath("//a/@href", smart_strings=False)
_UGC_COUNT = etree.XPath("count(//a[contains(concat(' ', normalize-space(@rel), ' '), ' ugc ')])")
_LICENSE_HREFS = etree.XPath("//a[contains(concat(' ', normalize-space(@rel), ' '), ' license ')]/@href",
                             smart_strings=False)
# Walks that test an attribute on every element cost ~0.1 us per element; ``select`` skips a
# branch whose attribute name the page never spells (``HtmlDoc.may_have``).
_MICRODATA = (
    ("//*[@itemtype]", "itemtype"),
    ("//*[@itemprop='aggregateRating' or @itemprop='dateModified']", "itemprop"),
    ("//*[@id='footer-info-lastmod']", "id"),
)
_MAIN_HREFS = (("//main//a/@href", "main"), ("//article//a/@href", "article"), ("//*[@role='main']//a/@href", "role"))
_MW_TOOL = etree.XPath("//li[@id='ca-history' or @id='t-permalink' or @id='ca-talk']/a[@href]")
_ANCHOR_WITH_HREF = etree.XPath("//a[@href=$href]")


def _split_absolute(href: str) -> tuple[str, str]:
    """(lowercase host, path?query) of an absolute or scheme-relative href, without urlsplit's cost."""
    rest = href.split("//", 1)[1]
    cut = len(rest)
    for ch in "/?#":
        i = rest.find(ch)
        if i != -1 and i < cut:
            cut = i
    host = rest[:cut].rpartition("@")[2]
    host = host[: host.find("]") + 1] if host.startswith("[") else host.partition(":")[0]
    path = rest[cut:].partition("#")[0]
    if path.startswith("?"):
        path = "/" + path
    return host.lower(), path or "/"


def _walk_tree(doc: HtmlDoc, pm: PageMarkers, url: str, site: str) -> None:
    root = doc.root
    assert root is not None
    facts = pm.structured
    for el in select(doc, _MICRODATA):
        if el.get("id") == "footer-info-lastmod":
            pm.footer_lastmod = _text_of(el) or None
        note_microdata(el, facts, site)
    for el in _MW_TOOL(root):
        parent_id = el.getparent().get("id")
        href = _abs(url, el.get("href").strip())
        if parent_id == "ca-history":
            pm.history_links += 1
            pm.history_href = pm.history_href or href
        elif parent_id == "t-permalink":
            pm.revision_permalink = pm.revision_permalink or href
        elif "redlink=1" not in href:
            pm.talk_href = pm.talk_href or href
    pm.ugc_links = int(_UGC_COUNT(root))
    licensed = _LICENSE_HREFS(root)
    if licensed and not pm.license_rel and licensed[0].strip():
        pm.license_url, pm.license_rel = _abs(url, licensed[0].strip()), True

    profiles: set[str] = set()
    externals: set[str] = set()
    page_path = urlsplit(url).path or "/"
    base_dir = page_path[: page_path.rfind("/") + 1]
    hrefs = _HREFS(root)
    for raw in dict.fromkeys(hrefs):  # each distinct href once, in document order
        href = raw.strip()
        if not href or href[0] == "#" or href.startswith(("javascript:", "mailto:", "tel:")):
            continue
        if ("history" in href or "revisions" in href) and HISTORY_HREF.search(href):
            pm.history_links += 1
            if pm.history_href is None:
                pm.history_href = _abs(url, href)
        if href.startswith(("http://", "https://", "//")):
            thost, path = _split_absolute(href)
            tsite = registrable_domain(thost) if thost else ""
            if tsite and tsite != site:
                if tsite not in externals:
                    externals.add(tsite)
                    if tsite in ENGINE_HOMES or tsite in LICENSE_HOSTS:
                        _note_external(pm, root, raw, tsite)
                continue
        elif href[0] == "/":
            path = href.partition("#")[0]
        elif href[0] == ".":
            path = _abs(url, href).partition("#")[0]
            path = path[path.find("/", path.find("//") + 2):] if "//" in path else path
        else:
            path = base_dir + href.partition("#")[0]
        if PROFILE_PATH.search(path):
            profiles.add(path.rstrip("/").lower())
    pm.profile_links = len(profiles)
    # No link at all: none in the main content either (its hrefs are a subset), no walk for them.
    pm.external_domains = _main_outbound(doc, site, externals) if hrefs else 0


def _main_outbound(doc: HtmlDoc, site: str, all_externals: set[str]) -> int:
    """Distinct other sites linked from the main content (``main``/``article``), or the whole page without one.

    Share buttons, footers and ad networks link dozens of sites from any page;
    only the main content says whether the page is a directory of others' content.
    """
    main = select(doc, _MAIN_HREFS, smart_strings=False)
    if not main:
        return len(all_externals)
    found: set[str] = set()
    for raw in main:
        href = raw.strip()
        if href.startswith(("http://", "https://", "//")):
            thost = _split_absolute(href)[0]
            tsite = registrable_domain(thost) if thost else ""
            if tsite and tsite != site:
                found.add(tsite)
    return len(found)


def _note_external(pm: PageMarkers, root: Any, raw: str, tsite: str) -> None:
    """A link to a licence or to an engine's home site ("Powered by phpBB"): rare, so the element is looked up."""
    href = raw.strip()
    if pm.license_url is None and tsite in LICENSE_HOSTS and license_name(href):
        pm.license_url = href
    home = ENGINE_HOMES.get(tsite)
    if not home or any(e.key == home[0] for e in pm.engines):
        return
    for el in _ANCHOR_WITH_HREF(root, href=raw):
        parent = el.getparent()
        context = " ".join(
            [_text_of(el), " ".join(i.get("alt") or "" for i in el.iter("img")),
             (parent.text or "") if parent is not None else ""]
        ).lower()
        if "powered" in context:
            pm.engines.append(EngineHit(home[0], home[1], href, f"'powered by' link line {el.sourceline}"))
            return
