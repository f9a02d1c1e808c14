"""How a source is named in an answer: its publisher, platform, item and last update."""

from __future__ import annotations

from datetime import datetime

from attribution.sources import Source
from norms.domains import registrable_domain

_VIDEO_PLATFORMS = frozenset({"youtube", "vimeo", "tiktok"})


def source_name(src: Source) -> str:
    """The publisher, else the platform's name, else the registrable domain."""
    return src.publisher or src.links.platform_name or registrable_domain(src.url) or src.url


def source_label(src: Source) -> str:
    """The name used in text; for aggregators the item on its platform ("the video “…” on YouTube").

    Naming the item, not just the platform, is what makes the link point
    readers to the video, file or review the answer drew on.
    """
    name = source_name(src)
    if src.source_class == "aggregator" and src.title:
        if (src.platform or "").lower() in _VIDEO_PLATFORMS or name.lower() in _VIDEO_PLATFORMS:
            return f"the video “{src.title}” on {name}"
        return f"“{src.title}” on {name}"
    return name


def last_update(src: Source) -> str | None:
    """The source's last update as "19 November 2026" (unambiguous in every locale), if known."""
    if src.last_modified is not None:
        d = src.last_modified
        return f"{d.day} {d:%B %Y}"
    raw = src.links.last_modified
    if raw:
        try:
            d = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return raw
        return f"{d.day} {d:%B %Y}"
    return None
