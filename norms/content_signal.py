"""Cloudflare Content Signals: ``search=yes, ai-input=no, ai-train=no``.

The policy (contentsignals.org, CC0) has no normative grammar, so the reading
here is ours and deliberately forgiving (signals.md section 4):

* comma-separated ``key=value`` pairs; keys and values are compared
  case-insensitively after trimming;
* only ``search``, ``ai-input`` and ``ai-train`` with ``yes``/``no`` mean
  anything; other keys (``search-ai``, ``use``) and values (``allow``) are
  ignored and reported as warnings, never guessed at;
* a key repeated with conflicting values in one line reads as ``no``: the
  policy defines no tie-break, so the publisher's restriction stands;
* an absent key means "neither granted nor restricted" (unknown), never a
  default.

The same reading serves the robots.txt ``Content-Signal:`` line (see
``norms.robots``) and the non-standard ``Content-Signal`` HTTP response header
(Cloudflare "Markdown for Agents"), whose lines are combined most-restrictively.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from norms.http import HeadersLike, header_lines, header_values
from norms.model import Evidence, Signal, Statement
from norms.problems import Finding, Severity, finding
from norms.usage_statements import most_restrictive, statements_for

CONTENT_SIGNAL_KEYS: tuple[str, ...] = ("search", "ai-input", "ai-train")
_VALUES = {"yes": True, "no": False}


@dataclass(frozen=True, slots=True)
class ContentSignalReading:
    """What one Content-Signal value says: ``signals`` maps key -> allowed.

    ``pairs`` counts the ``key=value`` shaped items seen (meaningful or not),
    so a caller can tell a line of unknown keys from a line that is not a
    Content-Signal value at all.
    """

    signals: dict[str, bool]
    warnings: tuple[str, ...] = ()
    pairs: int = 0
    findings: tuple[Finding, ...] = ()  # one per warning, same order


def read_content_signal(value: str) -> ContentSignalReading:
    """Read a Content-Signal value, keeping what was ignored as warnings."""
    signals: dict[str, bool] = {}
    warnings: list[str] = []
    found: list[Finding] = []

    def note(code: str, text: str, severity: Severity = Severity.WARNING) -> None:
        warnings.append(text)
        found.append(finding(code, text, severity))

    pairs = 0
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        key, eq, raw = item.partition("=")
        key = key.strip().lower()
        raw = raw.strip().lower()
        if not eq or not key:
            note("content-signal-syntax", f"{item!r} is not a key=value pair; ignored")
            continue
        pairs += 1
        if key not in CONTENT_SIGNAL_KEYS:
            note("content-signal-unknown-key", f"unknown Content-Signal key {key!r}; ignored", Severity.INFO)
            continue
        if raw not in _VALUES:
            note("content-signal-value", f"{key}={raw!r}: only 'yes' or 'no' mean anything; ignored")
            continue
        allowed = _VALUES[raw]
        if key in signals and signals[key] != allowed:
            note("content-signal-conflict", f"{key} given both yes and no; reading 'no'")
            allowed = False
        signals[key] = allowed
    return ContentSignalReading(signals=signals, warnings=tuple(warnings), pairs=pairs, findings=tuple(found))


def parse_content_signal(value: str) -> dict[str, bool]:
    """``search=yes, ai-train=no`` -> ``{"search": True, "ai-train": False}``.

    Unknown keys and values are left out (use ``read_content_signal`` to see them).
    """
    return read_content_signal(value).signals


def content_signal_statements(signals: Mapping[str, bool], evidence: Evidence) -> list[Statement]:
    """One Statement per usage the signals speak about, via the vocabulary table."""
    return statements_for("content-signal", signals, evidence)


@dataclass(frozen=True, slots=True)
class HeaderSignals:
    """Statements read from ``Content-Signal`` response headers, plus what was ignored."""

    statements: list[Statement]
    warnings: list[str] = field(default_factory=list)


def read_content_signal_headers(headers: HeadersLike, source_url: str) -> HeaderSignals:
    """Read every ``Content-Signal`` header line and combine them most-restrictively."""
    collected: list[Statement] = []
    warnings: list[str] = []
    for value in header_values(header_lines(headers), "content-signal"):
        reading = read_content_signal(value)
        warnings.extend(f"Content-Signal header: {w}" for w in reading.warnings)
        evidence = Evidence(
            signal=Signal.CONTENT_SIGNAL,
            source=source_url,
            raw=value,
            rule="Content-Signal response header (non-standard); lines combined most-restrictively",
            element="header Content-Signal",
        )
        collected.extend(content_signal_statements(reading.signals, evidence))
    return HeaderSignals(statements=most_restrictive(collected), warnings=warnings)


def content_signal_header_statements(headers: HeadersLike, source_url: str) -> list[Statement]:
    """Statements from the non-standard ``Content-Signal`` HTTP response header.

    Several lines (or a header contradicting robots.txt) combine
    most-restrictively: one ``ai-train=no`` anywhere stands.
    """
    return read_content_signal_headers(headers, source_url).statements
