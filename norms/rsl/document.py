"""An RSL document as read: its scopes, and which of them speak about a URL.

``RslDocument.terms_for(url)`` picks the narrowest ``<content>`` scope that
matches a URL (alternates included, ties read together) and returns its
``Terms`` (``norms.rsl.terms``, which states the rules that decide a usage).
It runs per page, so the scopes are compiled once, narrowest first, and the
``Terms`` of each chosen set of scopes are built once and kept. The values
of the elements are ``norms.rsl.elements``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, PrivateAttr

from norms.lenient import scrub
from norms.problems import Finding
from norms.rsl.elements import RslContent
from norms.rsl.patterns import UrlPattern, collapsed, split_url
from norms.rsl.terms import Terms

RSL_NAMESPACE = "https://rslstandard.org/rsl"
DEFAULT_MAX_AGE_DAYS = 30



class _Matcher:
    __slots__ = ("content_index", "pattern")

    def __init__(self, content_index: int, pattern: UrlPattern) -> None:
        self.content_index = content_index
        self.pattern = pattern


def _narrowest(matchers: list[_Matcher], origin: str, path: str) -> list[int]:
    """Content indexes of the narrowest scopes matching ``path`` (matchers sorted narrowest first)."""
    best = -1
    chosen: list[int] = []
    for m in matchers:
        p = m.pattern
        if p.specificity < best:
            break
        if (p.origin and origin and p.origin != origin) or not p.match_path(path):  # p.matches(), inline
            continue
        best = p.specificity
        if m.content_index not in chosen:
            chosen.append(m.content_index)
    return chosen


class RslDocument(BaseModel):
    """A parsed RSL document.

    ``warnings`` note what we read leniently (0.9 comma lists, unknown
    tokens, ignored extensions). ``nonconformities`` list what makes the
    document non-conformant to RSL 1.0 (unknown RSL element or attribute,
    bad values): its terms are still extracted for reporting, but a crawler
    must treat content under a non-conformant document as unlicensed.
    ``legacy`` marks a 0.9-style document (comma-separated lists).
    """

    source_url: str | None = None
    max_age_days: int = DEFAULT_MAX_AGE_DAYS
    contents: list[RslContent] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    nonconformities: list[str] = Field(default_factory=list)
    legacy: bool = False
    findings: list[Finding] = Field(default_factory=list)  # warnings and non-conformities as data

    _matchers: list[_Matcher] = PrivateAttr(default_factory=list)
    _terms: dict[tuple[int, ...], Terms] = PrivateAttr(default_factory=dict)

    def model_post_init(self, __context: object) -> None:
        self._compile()

    def _compile(self) -> None:
        matchers: list[_Matcher] = []
        for i, content in enumerate(self.contents):
            matchers.append(_Matcher(i, UrlPattern(content.url)))
            for alt in content.alternates:
                matchers.append(_Matcher(i, UrlPattern(alt.url, exact=True)))
        # Narrowest first, so the scan can stop once a match is found and narrower ones are done.
        matchers.sort(key=lambda m: -m.pattern.specificity)
        self._matchers = matchers
        self._terms = {}

    @property
    def conformant(self) -> bool:
        return not self.nonconformities

    def terms_for(self, url: str) -> Terms | None:
        """Effective terms for ``url`` (narrowest matching scope); None = the document says nothing about it."""
        origin, path = split_url(url if url.isascii() else scrub(url))  # ASCII holds no lone surrogate
        # Private attributes read through pydantic's __getattr__ are slow; this runs per page.
        private = self.__pydantic_private__ or {}
        matchers: list[_Matcher] = private["_matchers"]
        chosen = _narrowest(matchers, origin, path)
        other = collapsed(path) if "//" in path else None
        if other is not None:
            # Empty segments: the scopes of both readings apply (norms.urls).
            chosen += [i for i in _narrowest(matchers, origin, other) if i not in chosen]
        if not chosen:
            return None
        cache: dict[tuple[int, ...], Terms] = private["_terms"]
        key = tuple(sorted(chosen))
        terms = cache.get(key)
        if terms is None:
            contents = tuple(self.contents[i] for i in key)
            terms = Terms(
                source_url=self.source_url,
                patterns=tuple(c.url for c in contents),
                contents=contents,
            )
            cache[key] = terms
        return terms
