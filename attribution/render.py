"""Markdown and HTML renderings of a shaped answer: markers after cited spans, a source list.

Everything taken from a source (title, platform, licence, credit, URL) is
escaped for the output format, and only http(s) URLs ever become links; a
marker for a source with any other URL is plain text. The list's words
("Sources:", "view edit history") are in the answer's language.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from attribution.templates import BUILT_IN, Phrases

if TYPE_CHECKING:
    from attribution.answer import Citation, ShapedAnswer


def _phrases(answer: ShapedAnswer) -> Phrases | None:
    return BUILT_IN.get(answer.language)


def _sources(answer: ShapedAnswer) -> list[Citation]:
    """The first citation of each reference number, in number order."""
    first: dict[int, Citation] = {}
    for c in answer.citations:
        first.setdefault(c.number, c)
    return [first[n] for n in sorted(first)]


def _markers(answer: ShapedAnswer) -> dict[int, list[Citation]]:
    """Citations grouped by the offset where their marker goes, one marker per number."""
    at: dict[int, list[Citation]] = {}
    for c in answer.citations:
        group = at.setdefault(c.end, [])
        if all(g.number != c.number for g in group):
            group.append(c)
    return at


def safe_url(url: str | None) -> str | None:
    if url and url.strip().lower().startswith(("https://", "http://")) and not any(
        ch.isspace() or ord(ch) < 32 for ch in url.strip()
    ):
        return url.strip()
    return None


def md_url(url: str) -> str:
    safe = safe_url(url) or ""
    return "".join(f"%{ord(ch):02X}" if ch in " ()<>" else ch for ch in safe)


def md_text(text: str) -> str:
    return "".join("\\" + ch if ch in "\\`*_[]()<>#|!&~" else ch for ch in " ".join(text.split()))


def _md_link(label: str, url: str | None) -> str:
    safe = safe_url(url)
    return f"[{md_text(label)}]({md_url(safe)})" if safe else md_text(label)


def _md_parts(c: Citation, ph: Phrases) -> list[str]:
    parts = [_md_link(c.title or c.url, c.url)]
    if c.platform:
        parts.append(md_text(c.platform))
    if c.edit_history_url:
        parts.append(_md_link(ph.edit_history, c.edit_history_url))
    if c.discussion_url:
        parts.append(_md_link(ph.discussion, c.discussion_url))
    if c.last_updated:
        parts.append(md_text(ph.updated_on.format(date=c.last_updated)))
    if c.license:
        parts.append(_md_link(c.license, c.license_url))
    if c.attribution:
        parts.append(md_text(c.attribution))
    return parts


def to_markdown(answer: ShapedAnswer) -> str:
    text = answer.text
    out: list[str] = []
    pos = 0
    for offset, group in sorted(_markers(answer).items()):
        out.append(text[pos:offset])
        out.append(
            "".join(
                f"[[{c.number}]]({md_url(c.url)})" if safe_url(c.url) else f"\\[{c.number}\\]"
                for c in group
            )
        )
        pos = offset
    out.append(text[pos:])
    body = "".join(out)
    sources = _sources(answer)
    if not sources:
        return body
    ph = _phrases(answer)
    lines = [body.rstrip("\n"), ""]
    if ph is not None:
        lines.append(ph.sources_heading)
    english = BUILT_IN["en"]
    for c in sources:
        lines.append(f"{c.number}. " + " · ".join(_md_parts(c, ph or english)))
    return "\n".join(lines)


def _html_link(url: str | None, label: str, title: str | None = None) -> str:
    safe = safe_url(url)
    text = html.escape(label)
    if not safe:
        return text
    title_attr = f' title="{html.escape(title, quote=True)}"' if title else ""
    return f'<a href="{html.escape(safe, quote=True)}"{title_attr}>{text}</a>'


def _html_parts(c: Citation, ph: Phrases) -> list[str]:
    parts = [_html_link(c.url, c.title or c.url)]
    if c.platform:
        parts.append(html.escape(c.platform))
    if c.edit_history_url:
        parts.append(_html_link(c.edit_history_url, ph.edit_history))
    if c.discussion_url:
        parts.append(_html_link(c.discussion_url, ph.discussion))
    if c.last_updated:
        parts.append(html.escape(ph.updated_on.format(date=c.last_updated)))
    if c.license:
        parts.append(_html_link(c.license_url, c.license))
    if c.attribution:
        parts.append(html.escape(c.attribution))
    return parts


_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def _plain(text: str) -> str:
    """Markdown text shown as plain text: backslash escapes resolved, then HTML-escaped."""
    return html.escape(_MD_ESCAPE.sub(r"\1", text))


def to_html(answer: ShapedAnswer) -> str:
    text = answer.text
    out: list[str] = []
    pos = 0
    for offset, group in sorted(_markers(answer).items()):
        out.append(_plain(text[pos:offset]))
        for c in group:
            out.append(f'<sup class="ff-cite">{_html_link(c.url, f"[{c.number}]", c.title)}</sup>')
        pos = offset
    out.append(_plain(text[pos:]))
    body = "".join(out)
    paragraphs = "".join(
        f"<p>{p.replace(chr(10), '<br>')}</p>" for p in body.split("\n\n") if p.strip()
    )
    parts = [f'<div class="ff-answer">{paragraphs}']
    sources = _sources(answer)
    ph = _phrases(answer) or BUILT_IN["en"]
    if sources:
        parts.append('<ol class="ff-sources">')
        for c in sources:
            parts.append(f'<li value="{c.number}">' + " · ".join(_html_parts(c, ph)) + "</li>")
        parts.append("</ol>")
    parts.append("</div>")
    return "".join(parts)
