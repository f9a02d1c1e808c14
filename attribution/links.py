"""Attribution links for a source: explicit values first, then ``norms.classify``.

The platform URL rules (Wikipedia history and talk pages, Stack Exchange
revisions, GitHub file history, ...) and platform names live in the
``norms.classify`` registry only; this module merges what the caller or the
classifier already supplied with what ``links_for`` derives from the URL.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from norms.classify import links_for, load_registry
from norms.classify.links import platform_for


class SourceLinks(BaseModel):
    """What an answer needs to attribute one source: where to link and what credit to give."""

    model_config = ConfigDict(frozen=True)

    platform_name: str | None = None
    permalink: str | None = None
    edit_history_url: str | None = None
    discussion_url: str | None = None
    last_modified: str | None = None
    license: str | None = None
    license_url: str | None = None
    attribution: str | None = None


def derived_links(url: str, platform: str | None) -> SourceLinks:
    """Links and platform name the registry derives from the URL (empty for unknown platforms).

    A ``platform`` that is not a registry key (a free-form label from the
    caller) is ignored and the host decides.
    """
    registry = load_registry()
    key = platform if registry.get(platform) is not None else platform_for(url, registry)
    known = registry.get(key)
    if known is None:
        return SourceLinks()
    derived = links_for(url, platform=key, registry=registry)
    return SourceLinks(platform_name=known.name, **derived.model_dump())


def merge_links(explicit: SourceLinks, derived: SourceLinks) -> SourceLinks:
    """Explicit values win; ``derived`` fills the gaps."""
    data = derived.model_dump()
    data.update({k: v for k, v in explicit.model_dump().items() if v is not None})
    return SourceLinks.model_validate(data)
