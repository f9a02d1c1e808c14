"""``HostProfile``: one host's class from several sampled pages and its sitemaps.

A single page can mislead (a company's careers page may carry a forum
widget), and a sample can be dominated by thin pages (a review site's
sitemap is mostly bare review permalinks). So a page-level marker counts at
its full weight when it fires on at least ``FULL_SHARE`` (30%, the share the
attribution notes use for ``rel=ugc``) of the sampled pages, and in
proportion below that. Host-level facts (registry, Public Suffix List,
sitemap footprint) count once. The decision uses the same margin rule as a
page.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from urllib.parse import urlsplit

from norms.classify.footprint import footprint_evidence
from norms.classify.links import url_values
from norms.classify.model import (
    ClassEvidence,
    Classification,
    DerivedLinks,
    SitemapStats,
    SourceClass,
)
from norms.classify.registry import Registry, load_registry
from norms.classify.scoring import HOST_MARKERS, decide, host_evidence, score

FULL_SHARE = 0.3


class HostProfile:
    """Accumulates ``Classification`` results and sitemap stats of one host."""

    __slots__ = ("_classes", "_hits", "_page_points", "_pages", "_platforms", "_registry", "_samples", "_sitemaps",
                 "host")

    def __init__(self, host: str, *, registry: Registry | None = None) -> None:
        name = host.strip().lower()
        if not name or "/" in name or "@" in name:
            raise ValueError(f"HostProfile needs a bare host name, got {host!r}")
        try:  # "host:port" and "[::1]:8080" name the host; the port does not matter here
            self.host = (urlsplit("//" + name).hostname or "").rstrip(".")
        except ValueError:
            self.host = ""
        if not self.host:
            raise ValueError(f"HostProfile needs a bare host name, got {host!r}")
        self._registry = registry if registry is not None else load_registry()
        self._pages = 0
        self._page_points: dict[tuple[str, SourceClass], float] = defaultdict(float)
        self._hits: Counter[tuple[str, SourceClass]] = Counter()
        self._samples: dict[tuple[str, SourceClass], ClassEvidence] = {}
        self._classes: Counter[SourceClass] = Counter()
        self._platforms: Counter[str] = Counter()
        self._sitemaps: list[SitemapStats] = []

    def add(self, c: Classification) -> None:
        """Count one classified page of this host (page-level evidence only)."""
        values = url_values(c.url)
        if values is None or values["host"] != self.host:
            raise ValueError(f"{c.url} is not a page of {self.host}")
        self._pages += 1
        self._classes[c.source_class] += 1
        if c.platform:
            self._platforms[c.platform] += 1
        for ev in c.evidence:
            if ev.marker in HOST_MARKERS or ev.marker == "registry-route":
                continue
            key = (ev.marker, ev.source_class)
            self._page_points[key] += ev.weight
            self._hits[key] += 1
            self._samples.setdefault(key, ev)

    def add_sitemap(self, stats: SitemapStats) -> None:
        self._sitemaps.append(stats)

    @property
    def pages(self) -> int:
        return self._pages

    @property
    def page_classes(self) -> dict[str, int]:
        """How many added pages had each ``source_class`` (pages are kept only as these counts)."""
        return {cls.value: n for cls, n in self._classes.items()}

    def result(self) -> Classification:
        """The host-level classification so far (``source_class`` equals ``host_class``)."""
        evidence, key, platform = host_evidence(self.host, self._registry)
        evidence += footprint_evidence(self._sitemaps)
        n = max(self._pages, 1)
        for (marker, cls), total in sorted(self._page_points.items()):
            hits = self._hits[(marker, cls)]
            share = hits / n
            weight = total / hits * min(1.0, share / FULL_SHARE)
            evidence.append(
                ClassEvidence(
                    marker=marker,
                    where=f"{hits} of {self._pages} sampled page(s)",
                    raw=self._samples[(marker, cls)].raw,
                    weight=round(weight, 3),
                    source_class=cls,
                )
            )
        scores = score(evidence)
        host_class, margin = decide(scores)
        links = DerivedLinks()
        if platform is not None:
            links = DerivedLinks(license=platform.license, license_url=platform.license_url)
        return Classification(
            url=f"https://{self.host}/",
            source_class=host_class,
            host_class=host_class,
            page_role=None,
            platform=key or (self._platforms.most_common(1)[0][0] if self._platforms else None),
            scores=scores,
            margin=margin,
            evidence=evidence,
            links=links,
        )
