"""What the ``fetch`` tool gives back: the page text in pieces, or the refusal with its evidence.

An allowed page comes as text (paragraphs of the main text, or with
``raw`` the HTML with the paywalled parts removed), capped at the
publisher's snippet limit *before* it is cut into ``max_length`` pieces, so
paging with ``start_index`` never reaches past the limit. A truncated piece
ends with the reference fetch server's hint to call again with a
``start_index``. A refusal names the deciding signal and where it was found
(file and line) and carries no page text at all.
"""

from __future__ import annotations

from urllib.parse import quote

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from crawler.mcp.pipeline import PageOutcome
from norms.model import Evidence, ObligationKind

LEDGER_URI = "ledger://page/{url}"


def ledger_uri(url: str) -> str:
    return "ledger://page/" + quote(url, safe="")


class EvidenceOut(BaseModel):
    """Where a signal was found and what it said (``norms.Evidence``)."""

    signal: str
    source: str = Field(description="URL of the document the signal is in")
    line: int | None = None
    element: str | None = None
    raw: str = Field(description="what the publisher wrote, verbatim")
    rule: str

    @classmethod
    def of(cls, ev: Evidence) -> EvidenceOut:
        return cls(signal=ev.signal.value, source=ev.source, line=ev.line, element=ev.element, raw=ev.raw,
                   rule=ev.rule)


class Obligations(BaseModel):
    """What using the page obliges the agent to do."""

    attribution: str | None = Field(None, description="credit text to show with what is used")
    license: str | None = None
    license_url: str | None = None
    snippet_limit: int | None = Field(None, description="most characters of the page that may be used")
    payment: str | None = Field(None, description="what was paid for this page (HTTP 402 / Pay Per Crawl)")
    all: list[str] = Field(default_factory=list, description="every obligation of the allowed purpose")


class CitationAnchor(BaseModel):
    """How to cite the page."""

    url: str
    title: str | None = None
    source_class: str = "unknown"
    publisher: str | None = None
    permalink: str | None = None
    edit_history_url: str | None = None
    discussion_url: str | None = None
    last_updated: str | None = None


class FetchOutput(BaseModel):
    """The structured result of ``fetch``: allowed with obligations and a citation, or refused with evidence."""

    url: str
    final_url: str
    allowed: bool
    purpose: str
    initiated: str = Field(description="autonomous (the model chose the URL) or user-initiated")
    status: int | None = None
    reason: str
    decided_by: EvidenceOut | None = Field(None, description="the signal that decided a refusal")
    evidence: list[EvidenceOut] = Field(default_factory=list)
    obligations: Obligations | None = None
    citation: CitationAnchor | None = None
    format: str | None = Field(None, description="text or html")
    start_index: int = 0
    length: int | None = Field(None, description="characters available in total (after the snippet limit)")
    next_start_index: int | None = Field(None, description="start_index of the next piece, if any")
    ledger: str = Field(description="resource with the page's provenance")


def where(ev: Evidence) -> str:
    """``robots.txt http://a.example/robots.txt line 4``: the signal and its place."""
    return f"{ev.signal.value} at {ev.where()}"


def refusal_text(out: PageOutcome) -> str:
    ev = out.decided_by
    lines = [f"Refused: fairfetch may not fetch or use {out.final_url} for {out.purpose.value}."]
    if ev is not None:
        lines.append(f"Deciding signal: {where(ev)}: {ev.raw!r}.")
        lines.append(f"Rule: {ev.rule}")
    lines.append(f"Reason: {out.reason}")
    lines.append("No page text is returned. Tell the user the publisher does not allow this use; "
                 "you may link to the page.")
    return "\n".join(lines)


def _obligations(out: PageOutcome) -> Obligations:
    verdict = out.verdict
    source = out.source
    links = source.links if source is not None else None
    obligations = verdict.usages[out.purpose].obligations if verdict is not None else ()
    attribution = next((o.detail for o in obligations if o.kind is ObligationKind.ATTRIBUTION and o.detail), None)
    limits = [o.limit for o in obligations if o.kind is ObligationKind.SNIPPET_LIMIT and o.limit is not None]
    return Obligations(
        attribution=(links.attribution if links else None) or attribution,
        license=links.license if links else None,
        license_url=links.license_url if links else None,
        snippet_limit=min(limits) if limits else None,
        payment=out.charged,
        all=[f"{o.kind.value}: {o.detail}".rstrip(": ") for o in obligations],
    )


def _citation(out: PageOutcome) -> CitationAnchor:
    source = out.source
    if source is None:
        return CitationAnchor(url=out.final_url)
    links = source.links
    return CitationAnchor(url=source.url, title=source.title, source_class=source.source_class,
                          publisher=source.publisher, permalink=links.permalink,
                          edit_history_url=links.edit_history_url, discussion_url=links.discussion_url,
                          last_updated=links.last_modified)


def fetch_result(out: PageOutcome, *, max_length: int, start_index: int, raw: bool) -> CallToolResult:
    base = FetchOutput(url=out.url, final_url=out.final_url, allowed=out.allowed, purpose=out.purpose.value,
                       initiated="user-initiated" if out.initiated == "user" else "autonomous",
                       status=out.status, reason=out.reason, ledger=ledger_uri(out.final_url))
    if not out.allowed:
        base.decided_by = EvidenceOut.of(out.decided_by) if out.decided_by is not None else None
        verdict = out.verdict
        base.evidence = [EvidenceOut.of(e) for e in (verdict.evidence if verdict is not None else ())]
        return CallToolResult(content=[TextContent(type="text", text=refusal_text(out))],
                              structured_content=base.model_dump(mode="json"), is_error=True)
    obligations = _obligations(out)
    content = (out.html if raw else out.text) or ""
    notes: list[str] = []
    if obligations.snippet_limit is not None and len(content) > obligations.snippet_limit:
        content = content[: obligations.snippet_limit]
        notes.append(f"The publisher allows at most {obligations.snippet_limit} characters of this page: "
                     "the rest is not given.")
    piece = content[start_index : start_index + max_length]
    end = start_index + len(piece)
    base.obligations = obligations
    base.citation = _citation(out)
    base.format = "html" if raw else "text"
    base.start_index = start_index
    base.length = len(content)
    base.next_start_index = end if end < len(content) else None
    head = [f"Contents of {out.final_url}" + (f" ({base.citation.title})" if base.citation.title else "") + ":"]
    duties = []
    if obligations.attribution:
        duties.append(f"attribute: {obligations.attribution}")
    if obligations.license:
        duties.append(f"licence: {obligations.license}")
    if obligations.snippet_limit is not None:
        duties.append(f"quote at most {obligations.snippet_limit} characters")
    if obligations.payment:
        duties.append(f"paid: {obligations.payment}")
    if duties:
        head.append("Obligations: " + "; ".join(duties) + ".")
    if start_index >= len(content) and content:
        body = "<error>No more content available.</error>"
    elif not content:
        body = "<error>The page has no text.</error>"
    else:
        body = piece
        if base.next_start_index is not None:
            body += (f"\n\n<error>Content truncated. Call the fetch tool with a start_index of "
                     f"{base.next_start_index} to get more content.</error>")
    text = "\n".join([*head, *notes, "", body])
    return CallToolResult(content=[TextContent(type="text", text=text)],
                          structured_content=base.model_dump(mode="json"))
