"""IETF AI Preferences: the ``Content-Usage`` field (vocab-07/-08, attach-05).

A preference is an RFC 9651 Dictionary such as ``train-ai=n, search=y``. We
parse it with ``http_sf`` (a spec-exact parser) and apply the vocabulary
draft's processing rules (signals.md 3.2):

* a member whose value is the Token ``y`` allows, the Token ``n`` disallows;
  anything else (the String ``"n"``, a bare key, ``no``, an inner list) is
  unknown, not an error;
* labels we do not know (``bots``, ``all``, ...) are ignored; the known ones
  are those ``norms.vocabulary`` maps for ``aipref`` (``train-genai`` from an
  older draft is honoured there as a documented, derived local policy);
* a dictionary that fails to parse as a whole (``Train-AI=n``, a trailing
  comma, spaces around ``=``) means every category is unknown;
* duplicate keys: the last one wins (RFC 9651);
* parameters are ignored, except Creative Commons' ``exceptions`` (CC signals
  proposal 0.1), which is kept so the evidence shows it.

The robots.txt ``Content-Usage: [path] pref`` rule is read in ``norms.robots``
with the same parser; its path semantics live there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import http_sf
from http_sf import Token

from norms.http import HeadersLike, header_lines, header_values
from norms.model import Evidence, Signal, Statement
from norms.problems import Finding, Severity, finding
from norms.usage_statements import most_restrictive, statements_for
from norms.vocabulary import usages_for

_VALUES = {"y": True, "n": False}


@dataclass(frozen=True, slots=True)
class ContentUsageReading:
    """One parsed preference.

    ``prefs`` holds the known labels that resolved to allow (True) or disallow
    (False); everything absent is unknown. ``exceptions`` keeps a label's CC
    ``exceptions`` parameter verbatim. ``valid`` is False when the whole
    dictionary failed to parse (then ``prefs`` is empty).
    """

    prefs: dict[str, bool]
    exceptions: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    valid: bool = True
    findings: tuple[Finding, ...] = ()  # one per warning, same order


def read_content_usage(value: str) -> ContentUsageReading:
    """Parse a Content-Usage value; failures become warnings, never exceptions."""
    data = value.encode("utf-8", "surrogatepass")
    try:
        parsed = http_sf.parse(data, tltype="dictionary")
    except (ValueError, TypeError, IndexError) as exc:
        # StructuredFieldError is a ValueError; anything else http_sf raises on
        # hostile input is caught too, so a bad header can never stop a crawl.
        text = f"not an RFC 9651 dictionary ({exc}); every category unknown"
        return ContentUsageReading(
            prefs={}, warnings=(text,), valid=False, findings=(finding("content-usage-syntax", text),)
        )
    if not isinstance(parsed, dict):  # pragma: no cover - tltype="dictionary" guarantees it
        return ContentUsageReading(prefs={}, valid=False)
    prefs: dict[str, bool] = {}
    exceptions: dict[str, str] = {}
    warnings: list[str] = []
    found: list[Finding] = []

    def note(code: str, text: str, severity: Severity = Severity.WARNING) -> None:
        warnings.append(text)
        found.append(finding(code, text, severity))

    for label, member in parsed.items():
        if not usages_for("aipref", label):
            # vocab-08: unknown labels are ignored by design, so this is information, not an error.
            note("content-usage-unknown-label", f"unknown label {label!r} ignored", Severity.INFO)
            continue
        item, params = cast(tuple[object, dict[str, object]], member)
        if isinstance(item, Token) and str(item) in _VALUES:
            prefs[label] = _VALUES[str(item)]
        else:
            note("content-usage-value", f"{label}: value {_show(item)} is neither token y nor n; unknown")
        for name in params:
            if name != "exceptions":
                note("content-usage-unknown-parameter", f"{label}: parameter {name!r} ignored", Severity.INFO)
        exc_param = params.get("exceptions")
        if exc_param is not None:
            exceptions[label] = _show(exc_param)
    return ContentUsageReading(
        prefs=prefs, exceptions=exceptions, warnings=tuple(warnings), findings=tuple(found)
    )


def parse_content_usage(value: str) -> dict[str, bool]:
    """``train-ai=n, search=y`` -> ``{"train-ai": False, "search": True}``; unknown -> absent."""
    return read_content_usage(value).prefs


def content_usage_statements(reading: ContentUsageReading, evidence: Evidence) -> list[Statement]:
    """One Statement per usage the reading's labels speak about, via the vocabulary table."""
    return statements_for("aipref", reading.prefs, evidence)


def describe_exceptions(reading: ContentUsageReading) -> str:
    """``"; CC exceptions kept as evidence: ai-use=cc-cr"`` or ``""``."""
    if not reading.exceptions:
        return ""
    kept = ", ".join(f"{k}={v}" for k, v in reading.exceptions.items())
    return f"; CC exceptions kept as evidence, not applied: {kept}"


@dataclass(frozen=True, slots=True)
class HeaderPreferences:
    """Statements read from ``Content-Usage`` response headers, plus what was ignored."""

    statements: list[Statement]
    reading: ContentUsageReading | None = None
    warnings: list[str] = field(default_factory=list)


def read_content_usage_headers(headers: HeadersLike, source_url: str) -> HeaderPreferences:
    """Join every ``Content-Usage`` line with ``,`` (RFC 9651 section 4.2) and read the result."""
    values = header_values(header_lines(headers), "content-usage")
    if not values:
        return HeaderPreferences(statements=[])
    joined = ", ".join(values)
    reading = read_content_usage(joined)
    evidence = Evidence(
        signal=Signal.CONTENT_USAGE,
        source=source_url,
        raw=joined,
        rule="AIPREF attach: Content-Usage header, RFC 9651 dictionary" + describe_exceptions(reading),
        element="header Content-Usage",
    )
    statements = most_restrictive(content_usage_statements(reading, evidence))
    warnings = [f"Content-Usage header: {w}" for w in reading.warnings]
    return HeaderPreferences(statements=statements, reading=reading, warnings=warnings)


def content_usage_header_statements(headers: HeadersLike, source_url: str) -> list[Statement]:
    """Statements from the ``Content-Usage`` HTTP response header(s) of one response."""
    return read_content_usage_headers(headers, source_url).statements


def _show(value: object) -> str:
    if isinstance(value, Token):
        return str(value)
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)
