"""What is broken in a publisher's markup, from what the norms readers already report.

Every problem kind below is detected from a diagnostic a norms reader gives
(warnings, non-conformities, ``SignalError``, ``in_head``, fetch outcomes),
never guessed at; ``KINDS`` lists them with their fix hints, which
docs/publishers.md repeats.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel

from norms.aipref import read_content_usage_headers
from norms.content_signal import read_content_signal_headers
from norms.html import HtmlDoc
from norms.http import HeaderLines, header_values
from norms.paywall import PaywallReport
from norms.robots import RobotsTxt
from norms.robots_tags import RobotsDirectives
from norms.rsl import RSL_MEDIA_TYPE, LicenseSource
from norms.tdmrep import TdmRepFile


class Severity(StrEnum):
    ERROR = "error"  # a signal does not work as the publisher surely meant
    WARNING = "warning"  # part of a signal is ignored, or crawlers may read it differently
    INFO = "info"  # worth knowing, nothing broken


class Problem(BaseModel):
    """One thing to fix: what, how bad, where (URL and line when known) and how to fix it."""

    kind: str
    severity: Severity
    where: str
    line: int | None = None
    message: str
    fix: str


# kind -> (severity, fix hint)
KINDS: dict[str, tuple[Severity, str]] = {
    "robots-unreachable": (
        Severity.ERROR,
        "Serve /robots.txt with status 200 (or 404 if you have none) quickly and without redirect "
        "loops: crawlers read a 5xx, 429, timeout or more than 5 redirects as 'disallow everything'.",
    ),
    "robots-absent": (
        Severity.INFO,
        "No robots.txt: every crawler may fetch everything. Add one to state your rules.",
    ),
    "robots-html": (
        Severity.WARNING,
        "/robots.txt answers an HTML page: serve a text/plain robots.txt, or a 404.",
    ),
    "robots-too-large": (
        Severity.WARNING,
        "Keep robots.txt under 500 KiB (RFC 9309 2.5): rules past the limit are ignored.",
    ),
    "robots-line": (
        Severity.WARNING,
        "Write each record as 'Field: value' inside a User-agent group; see RFC 9309.",
    ),
    "robots-file": (
        Severity.WARNING,
        "Save robots.txt as plain UTF-8 without a byte order mark.",
    ),
    "rsl-unreadable": (
        Severity.ERROR,
        "Make the licence URL answer 200 with a well-formed RSL 1.0 document: until then "
        "crawlers treat your content as unlicensed.",
    ),
    "rsl-disallowed": (
        Severity.ERROR,
        "Allow the licence document in robots.txt: a crawler may not fetch what robots.txt disallows, "
        "so it cannot read your licence.",
    ),
    "rsl-nonconformant": (
        Severity.ERROR,
        "Fix the RSL document to conform to RSL 1.0: content under a non-conformant licence is "
        "treated as unlicensed.",
    ),
    "rsl-lenient": (
        Severity.WARNING,
        "Update the RSL document to RSL 1.0 syntax (space-separated lists, known tokens).",
    ),
    "rsl-insecure": (
        Severity.WARNING,
        "Serve RSL licences over HTTPS and point to them with https:// URLs.",
    ),
    "tdmrep-invalid": (
        Severity.ERROR,
        "Make /.well-known/tdmrep.json a JSON array of {\"location\", \"tdm-reservation\": 0|1} objects.",
    ),
    "tdmrep-rule": (
        Severity.WARNING,
        "Give every tdmrep.json rule a location and a tdm-reservation of 0 or 1.",
    ),
    "tdmrep-too-large": (
        Severity.WARNING,
        "Keep tdmrep.json under 1 MB.",
    ),
    "tdmrep-shadowed": (
        Severity.WARNING,
        "tdmrep.json applies the first matching rule: put longer, more specific locations first.",
    ),
    "tdm-header-invalid": (
        Severity.WARNING,
        "tdm-reservation must be the text 0 or 1.",
    ),
    "page-unreachable": (
        Severity.ERROR,
        "The page could not be fetched; page-level signals (meta tags, headers) could not be checked.",
    ),
    "meta-outside-head": (
        Severity.WARNING,
        "Move the tag into <head>: it is honoured here, but many crawlers read only <head>.",
    ),
    "robots-tag-value": (
        Severity.WARNING,
        "Use values crawlers understand: max-snippet:<number>, unavailable_after:<RFC 822/ISO 8601 date>.",
    ),
    "content-signal-malformed": (
        Severity.WARNING,
        "Write Content-Signal as comma-separated search|ai-input|ai-train=yes|no pairs.",
    ),
    "content-usage-malformed": (
        Severity.WARNING,
        "Write Content-Usage as an RFC 9651 dictionary of known labels set to y or n "
        "(e.g. train-ai=n, search=y).",
    ),
    "paywall-markup": (
        Severity.WARNING,
        "Fix the schema.org paywall markup: valid JSON-LD, isAccessibleForFree true/false, hasPart "
        "with a valid cssSelector.",
    ),
    # A walled hasPart the page does not let anyone locate: the whole page is walled for AI use.
    "paywall-part-unmatched": (
        Severity.ERROR,
        "The hasPart cssSelector matches nothing in the page, so the walled text cannot be told from the "
        "free text and the whole page is treated as paywalled for AI use. Put the selector's class on the "
        "element that holds the walled text (e.g. <div class=\"paywall\">), or drop hasPart if the whole "
        "page is walled.",
    ),
    "paywall-part-invalid-selector": (
        Severity.ERROR,
        "The hasPart cssSelector is not a valid CSS selector, so the whole page is treated as paywalled for "
        "AI use. Write a plain CSS selector such as .paywall or #premium.",
    ),
    "paywall-part-no-selector": (
        Severity.ERROR,
        "A walled hasPart has no cssSelector, so the whole page is treated as paywalled for AI use. Give "
        "each walled part a cssSelector naming its element, or drop hasPart if the whole page is walled.",
    ),
    "paywall-unmarked": (
        Severity.WARNING,
        "A paywall script was found but no schema.org isAccessibleForFree markup: add it (with hasPart "
        "cssSelector for the walled parts) so crawlers know exactly what is free.",
    ),
}


def problem(kind: str, where: str, message: str, *, line: int | None = None) -> Problem:
    severity, fix = KINDS[kind]
    return Problem(kind=kind, severity=severity, where=where, line=line, message=message, fix=fix)


_LINE = re.compile(r"^line (\d+): (.*)$", re.S)
_SIZE_WARNING = "reached"


def robots_problems(robots: RobotsTxt, url: str, *, truncated: bool) -> list[Problem]:
    """robots.txt: unreachable (5xx, 429, timeout, redirects), absent, HTML, too big, lines ignored."""
    out: list[Problem] = []
    if robots.outcome == "unreachable":
        out.append(problem("robots-unreachable", url, robots.reason))
    elif robots.outcome == "unavailable" and robots.status is not None and robots.status < 300:
        out.append(problem("robots-html", url, robots.reason))
    elif robots.outcome == "unavailable":
        out.append(problem("robots-absent", url, robots.reason))
    if truncated:
        out.append(problem("robots-too-large", url, "robots.txt is larger than 500 KiB; the rest was not read"))
    for text in robots.warnings:
        m = _LINE.match(text)
        if m:
            out.append(problem("robots-line", url, m.group(2), line=int(m.group(1))))
        elif _SIZE_WARNING in text and "bytes" in text:
            if not truncated:
                out.append(problem("robots-too-large", url, text))
        elif robots.outcome == "parsed":
            out.append(problem("robots-file", url, text))
    return out


def license_problems(source: LicenseSource, *, disallowed: bool = False) -> list[Problem]:
    """An RSL licence: not fetched or unreadable, disallowed, non-conformant, read leniently, over http."""
    ref = source.ref
    where = ref.url
    out: list[Problem] = []
    declared = f" (declared {_declared(source)})"
    if disallowed:
        out.append(problem("rsl-disallowed", where, "the licence document is disallowed by robots.txt" + declared))
    elif source.error is not None:
        out.append(problem("rsl-unreadable", where, source.error + declared))
    if source.document is not None:
        out.extend(problem("rsl-nonconformant", where, text) for text in source.document.nonconformities)
        out.extend(problem("rsl-lenient", where, text) for text in source.document.warnings)
    if source.insecure:
        out.append(problem("rsl-insecure", where, "the licence is declared with a plain http:// URL" + declared))
    return out


def _declared(source: LicenseSource) -> str:
    ref = source.ref
    if ref.via == "robots":
        return f"in robots.txt line {ref.line}" if ref.line else "in robots.txt"
    if ref.via == "link-header":
        return "in a Link header"
    return f"in the page, line {ref.line}" if ref.line else "in the page"


def tdmrep_problems(file: TdmRepFile, page_url: str) -> list[Problem]:
    where = file.source_url or "/.well-known/tdmrep.json"
    out = [problem("tdmrep-rule", where, text) for text in file.warnings]
    first = file.match(page_url)
    for rule in file.shadowed(page_url):
        out.append(
            problem(
                "tdmrep-shadowed",
                where,
                f"rule #{rule.index + 1} ({rule.location!r}) never applies to {page_url}: the earlier rule "
                f"#{first.index + 1 if first else '?'} ({first.location if first else '?'!r}) matches first",
            )
        )
    return out


_PAGE_META_NAMES = frozenset({"robots", "tdm-reservation", "tdm-policy"})


def page_problems(
    url: str,
    lines: HeaderLines,
    doc: HtmlDoc | None,
    directives: RobotsDirectives,
    paywall: PaywallReport | None,
    agents: tuple[str, ...],
) -> list[Problem]:
    """Page-level markup: tags outside <head>, unreadable values, malformed headers, paywall markup."""
    out: list[Problem] = []
    names = _PAGE_META_NAMES | {a.lower() for a in agents}
    if doc is not None:
        for meta in doc.metas:
            if meta.name in names and not meta.in_head:
                out.append(
                    problem("meta-outside-head", url, f'<meta name="{meta.name}"> is outside <head>', line=meta.line)
                )
        for link in doc.links:
            if "license" in link.rel and link.type == RSL_MEDIA_TYPE and not link.in_head:
                out.append(
                    problem("meta-outside-head", url, f'<link rel="license" type="{RSL_MEDIA_TYPE}"> is outside <head>',
                            line=link.line)
                )
    for text in directives.warnings:
        out.append(problem("robots-tag-value", url, text, line=_line_of(text)))
    for text in read_content_signal_headers(lines, url).warnings:
        out.append(problem("content-signal-malformed", url, text))
    for text in read_content_usage_headers(lines, url).warnings:
        out.append(problem("content-usage-malformed", url, text))
    for value in header_values(lines, "tdm-reservation"):
        if value.strip() not in ("0", "1"):
            out.append(problem("tdm-header-invalid", url, f"tdm-reservation header {value!r} is neither 0 nor 1; ignored"))
    if doc is not None:
        for meta in doc.meta("tdm-reservation"):
            if meta.content.strip() not in ("0", "1"):
                out.append(problem("tdm-header-invalid", url,
                                   f'<meta name="tdm-reservation" content="{meta.content}"> is neither 0 nor 1; ignored',
                                   line=meta.line))
    if paywall is not None:
        out.extend(problem("paywall-markup", url, text, line=_line_of(text)) for text in paywall.warnings)
        for miss in paywall.unlocated:
            out.append(problem(_UNLOCATED_KINDS[miss.kind], url, f"{miss.element}: {miss.rule}",
                               line=_line_of(miss.element)))
        if paywall.paywalled and paywall.strength == "vendor":
            first = paywall.evidence[0] if paywall.evidence else None
            what = f": {first.raw}" if first is not None else ""
            out.append(problem("paywall-unmarked", url, "paywall vendor markers without isAccessibleForFree" + what))
    return out


_UNLOCATED_KINDS = {
    "selector-matches-nothing": "paywall-part-unmatched",
    "invalid-selector": "paywall-part-invalid-selector",
    "no-selector": "paywall-part-no-selector",
}
_WHERE_LINE = re.compile(r" line (\d+)")


def _line_of(text: str) -> int | None:
    m = _WHERE_LINE.search(text)
    return int(m.group(1)) if m else None
