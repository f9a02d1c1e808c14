"""Weights: page markers, Public Suffix List facts and the registry turned into scored evidence.

The scheme follows docs/attribution.md section 2.3: additive points per class,
arg-max wins, and a lead of less than ``MARGIN`` points is ``unknown`` -
which consumers treat as strictly as an aggregator. Every point awarded is a
``ClassEvidence`` so a decision can always be explained.
"""

from __future__ import annotations

from collections.abc import Iterable

from norms.classify.markers import PageMarkers, license_name
from norms.classify.model import SCORED_CLASSES, ClassEvidence, SourceClass
from norms.classify.registry import Platform, Registry
from norms.classify.structured import ARTICLE_TYPES, StructuredFacts
from norms.domains import private_suffix, public_suffix, registrable_domain

MARGIN = 2.0
C, A, M = SourceClass.CANONICAL, SourceClass.AGGREGATOR, SourceClass.COMMUNITY

# Labels of ICANN public suffixes reserved for public bodies and education:
# gov, gov.uk, gouv.fr, gob.mx, go.jp, govt.nz, gv.at, gc.ca, mil, edu, ac.uk ...
PUBLIC_BODY_LABELS = frozenset({"gov", "gouv", "gob", "go", "govt", "gv", "gc", "mil", "edu", "ac", "int"})

# Markers that describe the host rather than one page (HostProfile counts them once).
HOST_MARKERS = frozenset(
    {"registry-platform", "registry-unit", "psl-public-body", "psl-private-unit", "psl-private-platform",
     "platform-scale", "large-footprint", "small-footprint"}
)


def _ev(marker: str, cls: SourceClass, weight: float, where: str, raw: str = "") -> ClassEvidence:
    return ClassEvidence(marker=marker, where=where, raw=raw[:300], weight=weight, source_class=cls)


def host_evidence(host: str, registry: Registry) -> tuple[list[ClassEvidence], str | None, Platform | None]:
    """Evidence about the host itself: registry entry and Public Suffix List facts."""
    out: list[ClassEvidence] = []
    key: str | None = None
    platform: Platform | None = None
    hit = registry.match_host(host) if host else None
    if hit:
        key, platform = hit
        unit = _unit_subdomain(host, platform)
        if unit and platform.unit_class:
            out.append(_ev("registry-unit", platform.unit_class, platform.weight, "registry",
                           f"{key}: {unit} is its own publication on {platform.name}"))
        else:
            out.append(_ev("registry-platform", platform.source_class, platform.weight, "registry",
                           f"{key}: {platform.name}"))
    suffix = public_suffix(host) if host else ""
    if suffix and PUBLIC_BODY_LABELS.intersection(suffix.split(".")):
        out.append(_ev("psl-public-body", C, 3, "public suffix list (ICANN)", suffix))
    private = private_suffix(host) if host else None
    if private:
        if host == private:
            out.append(_ev("psl-private-platform", C, -2, "public suffix list (PRIVATE)", private))
        else:
            out.append(_ev("psl-private-unit", C, 0, "public suffix list (PRIVATE)",
                           f"{registrable_domain(host)} is the unit under user-hosting suffix {private}"))
    return out, key, platform


def _unit_subdomain(host: str, platform: Platform) -> str | None:
    if not platform.subdomain_unit:
        return None
    for pattern in platform.hosts:
        base = pattern.removeprefix("*.")
        if host.endswith("." + base):
            label = host[: -len(base) - 1].rsplit(".", 1)[-1]
            return None if label in platform.reserved_subdomains else host
    return None


def page_evidence(pm: PageMarkers, url: str) -> list[ClassEvidence]:
    """Scored evidence from one page's markers."""
    out: list[ClassEvidence] = []
    sd = pm.structured

    wiki = pm.engine("wiki")
    if wiki:
        out.append(_ev("generator-wiki", M, 3, wiki.where, wiki.raw))
    if pm.wiki_edit_link:
        href, line = pm.wiki_edit_link
        out.append(_ev("wiki-edit-link", M, 3, f"link rel=edit line {line}", href))
    if pm.history_links or pm.footer_lastmod:
        out.append(_ev("history-links", M, 1, "page links", pm.history_href or pm.footer_lastmod or ""))
    forum = pm.engine("forum")
    if forum:
        out.append(_ev("generator-forum", M, 3, forum.where, forum.raw))
    static = pm.engine("static")
    if static:
        out.append(_ev("static-site-generator", C, 1, static.where, static.raw))
    cms = pm.engine("cms")
    if cms:
        out.append(_ev("generator-cms", C, 0, cms.where, cms.raw))

    if sd.invalid_jsonld:
        out.append(_ev("jsonld-invalid", C, 0, "script application/ld+json", f"{sd.invalid_jsonld} block(s) not valid JSON"))
    if sd.has("qapage"):
        out.append(_ev("jsonld-qapage", M, 2, _line(sd, "qapage"), "QAPage"))
    if sd.has("discussionforumposting"):
        out.append(_ev("jsonld-discussion", M, 2, _line(sd, "discussionforumposting"), "DiscussionForumPosting"))

    aggregator_content: list[ClassEvidence] = []
    if sd.rated:
        aggregator_content.append(_ev("rated-entity", A, 2, "schema.org aggregateRating", ", ".join(sd.rated[:5])))
    if sd.reviews >= 2:
        aggregator_content.append(_ev("reviews", A, 1, _line(sd, "review"), f"{sd.reviews} Review items"))
    if sd.person_made_video:
        aggregator_content.append(_ev("hosted-video", A, 2, _line(sd, "videoobject"),
                                      f"{sd.person_made_video} VideoObject by a Person"))
    if sd.person_made_code:
        name = "softwaresourcecode" if sd.has("softwaresourcecode") else "coderepository"
        aggregator_content.append(_ev("hosted-code", A, 2, _line(sd, name),
                                      f"{sd.person_made_code} SoftwareSourceCode by a Person"))
    if sd.has("socialmediaposting"):
        aggregator_content.append(_ev("jsonld-social-posting", A, 1, _line(sd, "socialmediaposting"),
                                      "SocialMediaPosting"))
    if sd.listing_items >= 5:
        aggregator_content.append(_ev("third-party-listing", A, 1, _line(sd, "itemlist"),
                                      f"ItemList of {sd.listing_items}"))
    out += aggregator_content

    edit_markers = bool(wiki or pm.wiki_edit_link or pm.history_links)
    ugc = pm.profile_links >= 3 or pm.ugc_links > 0
    if pm.profile_links >= 3:
        if aggregator_content:
            out.append(_ev("author-profiles", A, 1, "page links", f"{pm.profile_links} distinct profile links"))
        else:
            out.append(_ev("author-profiles", M, 2, "page links", f"{pm.profile_links} distinct profile links"))
    if pm.ugc_links:
        out.append(_ev("ugc-links", M, 1, "page links", f"{pm.ugc_links} rel=ugc links"))
    if ugc and not edit_markers:
        out.append(_ev("ugc-without-history", A, 1, "page links", "user content, no edit history"))
    if pm.external_domains >= 20:
        out.append(_ev("outbound-diversity", A, 1, "page links", f"{pm.external_domains} external sites"))

    if pm.license_url:
        name = license_name(pm.license_url) or ""
        low = pm.license_url.lower()
        if "by-sa" in low or name == "GFDL":
            out.append(_ev("share-alike-license", M, 1, "licence link", pm.license_url))
        else:
            out.append(_ev("license-link", C, 0, "licence link", pm.license_url))

    if sd.self_identity:
        kind, ident = sd.self_identity[0]
        out.append(_ev("self-identity", C, 2, _line(sd, kind), f"{kind} {ident}"))
    if sd.has("governmentorganization"):
        out.append(_ev("government-organization", C, 1, _line(sd, "governmentorganization"),
                       "GovernmentOrganization"))
    if sd.has("faqpage"):
        out.append(_ev("faq-page", C, 1, _line(sd, "faqpage"), "FAQPage"))
    editorial = sd.editorial or (sd.microdata_publisher and sd.has(*ARTICLE_TYPES))
    if editorial and not ugc:
        out.append(_ev("editorial-article", C, 2, "schema.org Article",
                       "article with author and date, published by this site's organisation"))
    community_software = bool(wiki or forum or pm.wiki_edit_link)
    if not ugc and not aggregator_content and not community_software and not sd.has("comment"):
        out.append(_ev("first-party-quiet", C, 1, "page", "no profiles, comments, reviews or community software"))
    return out


def _line(sd: StructuredFacts, name: str) -> str:
    line = sd.lines.get(name)
    return f"schema.org {name} line {line}" if line else f"schema.org {name}"


def score(evidence: Iterable[ClassEvidence]) -> dict[str, float]:
    scores = {c.value: 0.0 for c in SCORED_CLASSES}
    for ev in evidence:
        if ev.source_class.value in scores:
            scores[ev.source_class.value] += ev.weight
    return {k: round(v, 3) for k, v in scores.items()}


def decide(scores: dict[str, float], margin: float = MARGIN) -> tuple[SourceClass, float]:
    """The winning class and its lead; ``unknown`` when the lead is under ``margin``."""
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    lead = ranked[0][1] - ranked[1][1]
    if ranked[0][1] <= 0 or lead < margin:
        return SourceClass.UNKNOWN, round(lead, 3)
    return SourceClass(ranked[0][0]), round(lead, 3)
