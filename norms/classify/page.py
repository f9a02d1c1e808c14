"""``classify_page``: one fetched page -> its class, its host's class, evidence and attribution links."""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import parsedate_to_datetime

from norms.classify.footprint import footprint_evidence
from norms.classify.links import RouteMatch, derive, match_route, url_values
from norms.classify.markers import PageMarkers, license_name, read_markers
from norms.classify.model import ClassEvidence, Classification, DerivedLinks, SitemapStats
from norms.classify.registry import Registry, load_registry
from norms.classify.scoring import decide, host_evidence, page_evidence, score
from norms.html import HtmlDoc, parse_html
from norms.http import HeadersLike, header_lines, header_values
from norms.model import SignalError

_LASTMOD_PREFIX = re.compile(r"^\s*this page was last (?:edited|modified) on\s*", re.I)
_FOOTER_DATE = re.compile(r"^(\d{1,2} [A-Za-z]+ \d{4}), at (\d{1,2}:\d{2})(\W{0,3}\(UTC\))?")


def _footer_date(text: str | None) -> str | None:
    """MediaWiki's English footer ("2 October 2026, at 14:07 (UTC)") as ISO 8601; other text verbatim."""
    if not text:
        return None
    stripped = _LASTMOD_PREFIX.sub("", text).strip().rstrip(".")
    m = _FOOTER_DATE.match(stripped)
    if m:
        try:
            when = datetime.strptime(f"{m.group(1)} {m.group(2)}", "%d %B %Y %H:%M")
        except ValueError:
            return stripped or None
        return when.strftime("%Y-%m-%dT%H:%M") + (":00Z" if m.group(3) else "")
    return stripped or None


def _http_date(values: list[str]) -> str | None:
    """The first ``Last-Modified`` header as ISO 8601 (verbatim when it is not an HTTP date)."""
    if not values:
        return None
    try:
        return parsedate_to_datetime(values[0]).isoformat().replace("+00:00", "Z")
    except (TypeError, ValueError, IndexError):
        return values[0] or None


def classify_page(
    url: str,
    html: str | bytes | HtmlDoc,
    *,
    headers: HeadersLike = None,
    sitemap: SitemapStats | None = None,
    registry: Registry | None = None,
) -> Classification:
    """Classify the page ``url`` whose body is ``html`` (raw or already parsed).

    ``headers`` adds ``Last-Modified`` and ``X-Generator``; ``sitemap`` adds
    the host's footprint; ``registry`` defaults to the bundled one (pass
    ``Registry.empty()`` to judge from markup and footprint alone). Pure: no
    I/O beyond reading the bundled registry once. Raises ``SignalError`` for
    a URL that is not http(s); any body, however broken, gets a result.
    """
    values = url_values(url) if isinstance(url, str) else None
    if values is None:
        raise SignalError(f"cannot classify {url!r}: not an http(s) URL with a host")
    reg = registry if registry is not None else load_registry()
    doc = parse_html(html)
    lines = header_lines(headers)
    markers = read_markers(doc, url, tuple(header_values(lines, "x-generator")))

    host_ev, key, _platform = host_evidence(values["host"], reg)
    evidence = host_ev + (footprint_evidence([sitemap]) if sitemap else []) + page_evidence(markers, url)
    scores = score(evidence)
    host_class, margin = decide(scores)

    match = match_route(url, key, reg) if key else None
    engine_key = next((e.key for e in markers.engines if e.kind in ("wiki", "forum")), None)
    engine_match = match_route(url, engine_key, reg) if engine_key and not key else None

    source_class, page_role = host_class, None
    route = match.route if match else None
    if route is not None:
        page_role = route.role
        if route.source_class is not None:
            source_class = route.source_class
            evidence.append(ClassEvidence(marker="registry-route", where="registry", raw=route.pattern,
                                          weight=0, source_class=route.source_class))
    elif engine_match is not None and engine_match.route is not None:
        page_role = engine_match.route.role

    links = _links(url, markers, match, engine_match, header_values(lines, "last-modified"))
    return Classification(
        url=url,
        source_class=source_class,
        host_class=host_class,
        page_role=page_role,
        platform=key or engine_key,
        scores=scores,
        margin=margin,
        evidence=evidence,
        links=links,
    )


def _html_links(url: str, pm: PageMarkers, last_modified_header: list[str]) -> DerivedLinks:
    history = pm.history_href
    if history is None and pm.wiki_edit_link:
        edit = pm.wiki_edit_link[0]
        if "action=edit" in edit or "action=submit" in edit:
            history = re.sub(r"action=(?:edit|submit)", "action=history", edit)
    sd = pm.structured
    is_thread = bool(pm.engine("forum") or sd.has("qapage", "discussionforumposting"))
    discussion = pm.talk_href or ((pm.canonical or url) if is_thread else None)
    last_modified = (sd.date_modified or pm.meta_modified or _footer_date(pm.footer_lastmod)
                     or _http_date(last_modified_header))
    return DerivedLinks(
        permalink=pm.revision_permalink or pm.canonical,
        edit_history_url=history,
        discussion_url=discussion,
        last_modified=last_modified,
        license=license_name(pm.license_url) if pm.license_url else None,
        license_url=pm.license_url,
    )


def _links(
    url: str,
    pm: PageMarkers,
    match: RouteMatch | None,
    engine_match: RouteMatch | None,
    last_modified_header: list[str],
) -> DerivedLinks:
    """Merge links: registry platform of the host first, then the page's own links, then engine templates.

    A revision-pinned permalink found on the page (MediaWiki's "Permanent
    link") beats any template, since templates cannot know the revision.
    """
    layers = [
        derive(match) if match else DerivedLinks(),
        _html_links(url, pm, last_modified_header),
        derive(engine_match) if engine_match else DerivedLinks(),
    ]
    merged: dict[str, str | None] = {}
    for field in DerivedLinks.model_fields:
        merged[field] = next((getattr(layer, field) for layer in layers if getattr(layer, field)), None)
    if pm.revision_permalink:
        merged["permalink"] = pm.revision_permalink
    return DerivedLinks(**merged)
