"""How a source is named inside an answer, in the answer's language, escaped for Markdown.

Names, titles and licences come from sources (and so from publishers); when
they are inserted into the answer they are escaped, so a publisher called
``<img onerror=...>`` or ``![x](https://evil/track.png)`` stays text.
"""

from __future__ import annotations

from datetime import datetime

from attribution.naming import source_name
from attribution.sources import Source
from attribution.templates import Phrases

_MD_SPECIAL = set("\\`*_[]<>!|~&")
CLOSERS = "*_”’\"»)"
ENDS = ".!?…"


def escape_md(text: str) -> str:
    """Escape what Markdown would read as markup or HTML in text taken from a source."""
    out = "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in " ".join(text.split()))
    if out[:1] in ("#", "-", "+", "=", ">") or out[:1].isdigit():
        out = "\\" + out if not out[:1].isdigit() else out.replace(".", "\\.", 1).replace(")", "\\)", 1)
    return out



_VIDEO = ("youtube", "vimeo", "tiktok")


def label_in(src: Source, phrases: Phrases | None) -> str:
    """The source's name for the text; an aggregator's item named on its platform ("“…” auf GitHub")."""
    name = source_name(src)
    if src.source_class == "aggregator" and src.title and phrases is not None:
        video = (src.platform or "").lower() in _VIDEO or name.lower() in _VIDEO
        tpl = phrases.video_on if video else phrases.item_on
        return tpl.replace("{title}", escape_md(src.title)).replace("{name}", escape_md(name))
    return escape_md(name)


def date_in(src: Source, phrases: Phrases | None) -> str | None:
    """The source's last update, written the language's way ("19. November 2026")."""
    d = src.last_modified
    if d is None and src.links.last_modified:
        try:
            d = datetime.fromisoformat(src.links.last_modified.replace("Z", "+00:00"))
        except ValueError:
            return None
    if d is None:
        return None
    return phrases.date(d) if phrases else d.date().isoformat()


def suffix_cut(content: str, cs: int, ce: int) -> int:
    """Where "(according to X)" goes: before the sentence's final punctuation (and closing markup)."""
    j = ce
    while j > cs and content[j - 1] in CLOSERS:
        j -= 1
    k = j
    while k > cs and content[k - 1] in ENDS:
        k -= 1
    return k if k < j else ce
