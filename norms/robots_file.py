"""Reading a robots.txt body into groups and records, keeping every line number.

This is the I/O-free first half of ``norms.robots``: bytes in, a ``ParsedRobots``
out (groups with their agents, rules and group-scoped records; the global
records; warnings). Choosing a group and matching URLs is ``norms.robots``'s
job. The reading rules are documented in ``norms.robots``'s module docstring.
``norms.robots_body`` turns the bytes into text and ``norms.robots_fields``
knows the field names (misspellings included); what stays here is the loop
over the lines, kept in one piece because it is the whole cost of reading a
500 KiB file.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from norms.aipref import ContentUsageReading, read_content_usage
from norms.content_signal import read_content_signal
from norms.problems import Severity
from norms.robots_body import LINE_BREAK, MAX_LINE_BYTES, RobotsWarnings, decode_body, truncate_line
from norms.robots_fields import (
    ALLOW,
    CANONICAL,
    CONTENT_SIGNAL,
    CONTENT_USAGE,
    CRAWL_DELAY,
    DISALLOW,
    FIELDS,
    LICENSE,
    REQUEST_RATE,
    SITEMAP,
    SPELLING,
    UNKNOWN,
    USER_AGENT,
    split_field,
    suggest_field,
)

# Crawl-delay values past this are honoured by no major crawler (fairfetch does not crawl at all).
CRAWL_DELAY_CEILING = 120.0

# The leading product-token run of a User-agent value ("googlebot" in "googlebot/2.1").
LEADING_TOKEN = re.compile(r"[a-z_-]+")
_RATE_VALUE = re.compile(r"\s*(\d{1,18})\s*/\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*(?:\s.*)?$", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


# --------------------------------------------------------------------------- records

@dataclass(frozen=True, slots=True)
class RequestRate:
    """``Request-rate: 10/1m`` -> ``RequestRate(requests=10, seconds=60.0)``."""

    requests: int
    seconds: float


@dataclass(frozen=True, slots=True)
class SitemapRef:
    """A ``Sitemap:`` line: global wherever it appears in the file."""

    url: str
    line: int


@dataclass(frozen=True, slots=True)
class ContentSignalRule:
    """A ``Content-Signal: [path] pairs`` line; ``scope`` is ``group`` or ``global``."""

    path: str | None
    signals: dict[str, bool]
    line: int
    raw: str
    scope: str = "group"


@dataclass(frozen=True, slots=True)
class ContentUsageRule:
    """A ``Content-Usage: [path] pref`` line (AIPREF); ``prefs`` as ``norms.aipref`` reads them."""

    path: str | None
    prefs: dict[str, bool]
    line: int
    raw: str
    exceptions: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- parsing


class Group:
    """One RFC 9309 group: its ``User-agent`` values and everything scoped to it, in file order."""

    __slots__ = ("agent_lines", "agents", "delays", "licenses", "rates", "rules", "signals", "usages")

    def __init__(self) -> None:
        self.agents: list[str] = []
        self.agent_lines: list[int] = []  # the line of each User-agent value, for the checker's evidence
        # (allow, pattern, line, raw): RobotsRule objects are built only for
        # the groups a crawler selects, which keeps reading a big file cheap.
        self.rules: list[tuple[bool, str, int, str]] = []
        self.licenses: list[tuple[str, int]] = []
        self.signals: list[ContentSignalRule] = []
        self.usages: list[tuple[ContentUsageRule, ContentUsageReading]] = []
        self.delays: list[float] = []
        self.rates: list[RequestRate] = []


def _url_path(value: str) -> str:
    """``https://host/a?b`` -> ``/a?b`` (the part RFC 9309 rules match against)."""
    rest = value.split("://", 1)[1]
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    path = rest[cut:]
    return path if path.startswith("/") else "/" + path


def _split_path(value: str) -> tuple[str | None, str]:
    """``"/blog/ ai-train=no"`` -> ``("/blog/", "ai-train=no")``; no leading ``/`` -> no path."""
    if not value.startswith("/"):
        return None, value
    parts = value.split(None, 1)
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


def _parse_rate(value: str) -> RequestRate | None:
    m = _RATE_VALUE.match(value)
    if not m:
        return None
    requests = int(m.group(1))
    seconds = float(m.group(2)) * _UNIT_SECONDS[m.group(3).lower()]
    if requests <= 0 or seconds <= 0:
        return None
    return RequestRate(requests=requests, seconds=seconds)


class ParsedRobots:
    """A read robots.txt: groups, which groups name which token, global records, warnings.

    ``tokens`` maps each lowercased ``User-agent`` value and its leading
    ``[a-z_-]+`` run to the groups naming it; ``star`` lists the ``*`` groups.
    """

    __slots__ = (
        "global_licenses",
        "global_signals",
        "groups",
        "sitemaps",
        "star",
        "tokens",
        "warnings",
    )

    def __init__(self) -> None:
        self.groups: list[Group] = []
        self.tokens: dict[str, list[int]] = {}
        self.star: list[int] = []
        self.sitemaps: list[SitemapRef] = []
        self.global_licenses: list[tuple[str, int]] = []
        self.global_signals: list[ContentSignalRule] = []
        self.warnings = RobotsWarnings()


def read_robots(body: bytes | str) -> ParsedRobots:
    """Read a robots.txt body line by line; what cannot be read becomes a warning, never an error."""
    out = ParsedRobots()
    warn = out.warnings.add
    text = decode_body(body, out.warnings)
    group: Group | None = None
    in_rules = False
    # Bound once: Python 3.11 compiles a method call on an imported name
    # (``FIELDS.get(...)``) as a slower attribute load plus call.
    kind_of = FIELDS.get
    for number, raw_line in enumerate(LINE_BREAK.split(text), 1):
        if len(raw_line) > MAX_LINE_BYTES // 4 and len(raw_line.encode("utf-8", "replace")) > MAX_LINE_BYTES:
            raw_line = truncate_line(raw_line, number, warn)
        hash_at = raw_line.find("#")
        line = (raw_line[:hash_at] if hash_at >= 0 else raw_line).strip()
        if not line:
            continue
        # Fast path for "Field: value" with a known field, inlined: this loop
        # is the whole cost of reading a 500 KiB file.
        name, colon, value = line.partition(":")
        key = name.rstrip().lower()
        kind = kind_of(key) if colon else None
        if kind is not None:
            value = value.strip()
        else:
            parsed = split_field(line)
            if parsed is None:
                warn(f"line {number}: not a 'field: value' line; skipped", "robots-no-colon", number)
                continue
            kind, key, value = parsed
            if not colon and kind >= 0:
                warn(f"line {number}: {line!r} has no colon; read as '{SPELLING.get(kind, key)}: {value}'",
                     "robots-missing-colon", number, Severity.WARNING, f"{SPELLING.get(kind, key)}: {value}")
        if kind >= 0 and key not in CANONICAL:
            spelt = SPELLING[kind]
            warn(f"line {number}: {key!r} read as {spelt!r}; strict parsers ignore this line",
                 "robots-misspelt-directive", number, Severity.WARNING, spelt)
        if kind in (DISALLOW, ALLOW):
            if group is None:
                warn(f"line {number}: {line!r} comes before any User-agent line; ignored (RFC 9309 2.1)",
                     "robots-rule-before-user-agent", number, Severity.ERROR)
                continue
            in_rules = True
            if value[:1] == "/" or value[:1] == "*" or not value:
                group.rules.append((kind == ALLOW, value, number, line))
                continue
            pattern = value
            if value.lower().startswith(("http://", "https://")):
                # "Disallow: https://site/path" means the path; protego matches
                # it against "/https://site/path", i.e. never.
                pattern = _url_path(value)
                warn(f"line {number}: rule written as a full URL; its path {pattern!r} is used",
                     "robots-rule-full-url", number, Severity.WARNING, pattern)
            else:
                warn(f"line {number}: path {value!r} does not start with '/' or '*'; it can never match",
                     "robots-path-no-slash", number, Severity.ERROR, "/" + value)
            group.rules.append((kind == ALLOW, pattern, number, line))
        elif kind == USER_AGENT:
            if group is None or in_rules:
                group = Group()
                out.groups.append(group)
                in_rules = False
            index = len(out.groups) - 1
            if " " in value or "\t" in value:
                # "User-agent: Foo Bar" names Foo, "User-agent: * FooBot" is the
                # global group: the value ends at its first space (as Google reads it).
                value = value.split(None, 1)[0]
            agent = value.lower()
            if not agent:
                warn(f"line {number}: User-agent without a value names no crawler", "robots-empty-user-agent", number)
                continue
            group.agents.append(value)
            group.agent_lines.append(number)
            if agent == "*":
                if not out.star or out.star[-1] != index:
                    out.star.append(index)
                continue
            names = {agent}
            lead = LEADING_TOKEN.match(agent)
            if lead:
                names.add(lead.group())
            for name in names:
                slots = out.tokens.setdefault(name, [])
                if not slots or slots[-1] != index:
                    slots.append(index)
        elif kind == SITEMAP:
            if value:
                out.sitemaps.append(SitemapRef(value, number))
            else:
                warn(f"line {number}: Sitemap without a URL; ignored", "robots-empty-value", number)
        elif kind == LICENSE:
            if not value:
                warn(f"line {number}: License without a URL; ignored", "robots-empty-value", number)
            elif group is None:
                out.global_licenses.append((value, number))
            else:
                # Worth a note: publishers often append License after the last
                # group meaning "for everyone", but RFC 9309 puts it in that group.
                warn(
                    f"line {number}: License inside a User-agent group applies only to the "
                    "crawlers that group selects",
                    "robots-license-in-group", number, Severity.INFO,
                )
                group.licenses.append((value, number))
        elif kind == CONTENT_SIGNAL:
            path, pairs = _split_path(value)
            reading = read_content_signal(pairs)
            for w, f in zip(reading.warnings, reading.findings, strict=True):
                warn(f"line {number}: Content-Signal {w}", f.code, number, f.severity)
            if not reading.pairs:
                warn(f"line {number}: Content-Signal {value!r} holds no key=value pair; skipped",
                     "content-signal-empty", number)
                continue
            scope = "group" if group is not None else "global"
            rule = ContentSignalRule(path, reading.signals, number, value, scope)
            if group is None:
                warn(
                    f"line {number}: Content-Signal outside any User-agent group; "
                    "used as a fallback for crawlers whose group has none",
                    "content-signal-global", number, Severity.INFO,
                )
                out.global_signals.append(rule)
            else:
                group.signals.append(rule)
        elif kind == CONTENT_USAGE:
            if group is None:
                warn(f"line {number}: Content-Usage outside any User-agent group; ignored",
                     "content-usage-outside-group", number)
                continue
            path, pref = _split_path(value)
            if not pref:
                warn(f"line {number}: Content-Usage {value!r} holds no preference; skipped",
                     "content-usage-empty", number)
                continue
            usage = read_content_usage(pref)
            for w, f in zip(usage.warnings, usage.findings, strict=True):
                warn(f"line {number}: Content-Usage {w}", f.code, number, f.severity)
            if not usage.valid:
                continue
            group.usages.append(
                (ContentUsageRule(path, usage.prefs, number, value, usage.exceptions), usage)
            )
        elif kind == CRAWL_DELAY:
            if group is None:
                warn(f"line {number}: Crawl-delay outside any User-agent group; ignored",
                     "robots-crawl-delay-outside-group", number)
                continue
            try:
                delay = float(value)
            except ValueError:
                delay = -1.0
            if not math.isfinite(delay) or delay < 0:
                warn(f"line {number}: Crawl-delay {value!r} is not a number of seconds; ignored",
                     "robots-crawl-delay-invalid", number)
                continue
            if delay > CRAWL_DELAY_CEILING:
                warn(f"line {number}: Crawl-delay {value!r} is more than {CRAWL_DELAY_CEILING:g} s",
                     "robots-crawl-delay-too-long", number)
            group.delays.append(delay)
        elif kind == REQUEST_RATE:
            rate = _parse_rate(value)
            if group is None or rate is None:
                warn(f"line {number}: Request-rate {value!r} ignored (outside a group or not n/period)",
                     "robots-request-rate-invalid", number)
                continue
            group.rates.append(rate)
        elif kind == UNKNOWN:
            guess = None if out.warnings.full else suggest_field(key)
            if guess is not None:
                warn(f"line {number}: unknown record {key!r}; ignored (did you mean {guess!r}?)",
                     "robots-unknown-misspelling", number, Severity.ERROR, guess)
            else:
                warn(f"line {number}: unknown record {key!r}; ignored", "robots-unknown-directive", number)
    return out
