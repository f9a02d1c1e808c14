"""Source classification: canonical site, aggregator or community platform, with evidence.

Attribution depends on what kind of source a page is: an airport's own site
is the source (use it with attribution), an aggregator's content must not be
used to compete with it, and a community platform's contributors are credited
through its edit history and discussion. ``classify_page`` decides that from
one fetched page (markup, Public Suffix List, optional sitemap footprint and
the curated registry); ``HostProfile`` aggregates pages of one host;
``links_for`` derives the attribution links for a page URL. ``unknown`` means
the evidence was too close to call and must be treated like ``aggregator``.
"""

from norms.classify.footprint import footprint_evidence, sitemap_stats, url_template
from norms.classify.host import HostProfile
from norms.classify.links import links_for
from norms.classify.model import (
    ClassEvidence,
    Classification,
    DerivedLinks,
    SitemapStats,
    SourceClass,
)
from norms.classify.page import classify_page
from norms.classify.registry import Platform, Registry, Route, load_registry
from norms.classify.scoring import MARGIN

__all__ = [
    "MARGIN",
    "ClassEvidence",
    "Classification",
    "DerivedLinks",
    "HostProfile",
    "Platform",
    "Registry",
    "Route",
    "SitemapStats",
    "SourceClass",
    "classify_page",
    "footprint_evidence",
    "links_for",
    "load_registry",
    "sitemap_stats",
    "url_template",
]
