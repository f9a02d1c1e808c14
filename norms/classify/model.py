"""What a classification says: the class, the scores behind it, the evidence and the derived links.

Kept apart from the readers so that the attribution library and the ledger can
import the result types without pulling in lxml or the registry.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class SourceClass(StrEnum):
    """What kind of source a page or host is, for attribution and substitution limits.

    ``canonical``: the site *is* the source (an airport's own site, an agency,
    a project's repository page) - use freely with attribution.
    ``aggregator``: the site hosts or lists other parties' content (reviews,
    videos, code hosting as a whole, social networks) - an answer must not
    compete with it using its own content.
    ``community``: content made and maintained by a community (wikis, Q&A,
    forums, OpenStreetMap) - cite with edit-history and discussion links.
    ``unknown``: the evidence does not separate the classes by the required
    margin. Consumers MUST treat ``unknown`` as strictly as ``aggregator``.
    """

    CANONICAL = "canonical"
    AGGREGATOR = "aggregator"
    COMMUNITY = "community"
    UNKNOWN = "unknown"


#: The classes that carry a score; ``unknown`` is the absence of a decision.
SCORED_CLASSES: tuple[SourceClass, ...] = (
    SourceClass.CANONICAL,
    SourceClass.AGGREGATOR,
    SourceClass.COMMUNITY,
)


class ClassEvidence(BaseModel):
    """One observation that moved a score.

    ``marker`` names the rule (``generator-forum``, ``jsonld-qapage``,
    ``psl-government`` ...), ``where`` says where it was seen (``meta
    generator line 5``, ``registry``, ``sitemap https://...``), ``raw`` is the
    value as found, ``weight`` the points it added to ``source_class`` (may be
    negative, or 0 for a recorded fact that scores nothing).
    """

    model_config = ConfigDict(frozen=True)

    marker: str
    where: str
    raw: str = ""
    weight: float = 0.0
    source_class: SourceClass


class DerivedLinks(BaseModel):
    """Links and facts an answer needs to attribute a page properly.

    Every field is optional: ``DerivedLinks()`` means nothing could be derived.
    ``last_modified`` is the page's last-edit time: schema.org ``dateModified``
    or ``article:modified_time`` as written, MediaWiki's English footer and
    the HTTP ``Last-Modified`` header converted to ISO 8601 (``Z`` when the
    source says UTC), anything else verbatim. ``attribution`` is the credit
    text the platform asks for, with the page's links already filled in.
    """

    model_config = ConfigDict(frozen=True)

    permalink: str | None = None
    edit_history_url: str | None = None
    discussion_url: str | None = None
    last_modified: str | None = None
    license: str | None = None
    license_url: str | None = None
    attribution: str | None = None

    def is_empty(self) -> bool:
        return not any(self.model_dump().values())


class SitemapStats(BaseModel):
    """What a bounded read of one sitemap document showed (see ``sitemap_stats``).

    ``kind`` is ``urlset`` or ``sitemapindex``. ``entries`` counts the ``<loc>``
    entries read; ``truncated`` says the read stopped at the byte or entry
    limit, so ``entries`` is a lower bound. ``estimated_urls`` is the page
    count the document implies (for an index: children x 50,000, the protocol's
    per-file ceiling, an upper bound). ``templates`` maps URL templates of
    the sampled page URLs to how many sampled URLs fit each.
    """

    model_config = ConfigDict(frozen=True)

    url: str
    kind: str
    entries: int = 0
    truncated: bool = False
    children: tuple[str, ...] = ()
    estimated_urls: int = 0
    templates: dict[str, int] = Field(default_factory=dict)
    latest_lastmod: str | None = None


class Classification(BaseModel):
    """The class of one page (``source_class``) and of its host (``host_class``).

    ``page_role`` refines the page inside its host, e.g. ``entity-canonical``
    for a GitHub repository page: canonical for that project while github.com
    as a host is an aggregator. ``scores`` holds the points per scored class;
    ``margin`` is the lead of the winner over the runner-up (below the
    threshold the class is ``unknown``).

    For one page, ``host_class`` is decided from everything that page shows
    (host facts plus its markers); ``HostProfile`` gives the host's class over
    several pages. ``source_class`` differs from ``host_class`` only where a
    registry route says so (a repository page on a code-hosting aggregator).
    When a page's own class is ``unknown``, fall back to the host's class
    from ``HostProfile`` - and treat ``unknown`` there like ``aggregator``.
    """

    model_config = ConfigDict(frozen=True)

    url: str
    source_class: SourceClass
    host_class: SourceClass
    page_role: str | None = None
    platform: str | None = None
    scores: dict[str, float]
    margin: float
    evidence: list[ClassEvidence] = Field(default_factory=list)
    links: DerivedLinks = Field(default_factory=DerivedLinks)
