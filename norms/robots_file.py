"""Reading a robots.txt body into groups and records, keeping every line number.

This is the I/O-free first half of ``norms.robots``: bytes in, a ``ParsedRobots``
out (groups with their agents, rules and group-scoped records; the global
records; warnings). Choosing a group and matching URLs is ``norms.robots``'s
job. The reading rules are documented in ``norms.robots``'s module docstring.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from norms.aipref import ContentUsageReading, read_content_usage
from norms.content_signal import read_content_signal
from norms.problems import Finding, Severity

ROBOTS_MAX_BYTES = 512_000
# Google's reference parser reads at most this many bytes of a line (8 x 2083 - 1).
MAX_LINE_BYTES = 16_663
MAX_WARNINGS = 50

# Record kinds.
_UA, _ALLOW, _DISALLOW, _SITEMAP, _DELAY, _RATE, _LICENSE, _CSIG, _CUSE, _KNOWN = range(10)

_FIELDS: dict[str, int] = {
    "user-agent": _UA,
    "useragent": _UA,
    "user agent": _UA,
    "allow": _ALLOW,
    "disallow": _DISALLOW,
    # Misspellings protego (and Google's parser) accept.
    "dissallow": _DISALLOW,
    "dissalow": _DISALLOW,
    "disalow": _DISALLOW,
    "diasllow": _DISALLOW,
    "disallaw": _DISALLOW,
    "sitemap": _SITEMAP,
    "sitemaps": _SITEMAP,
    "site-map": _SITEMAP,
    "crawl-delay": _DELAY,
    "crawl delay": _DELAY,
    "request-rate": _RATE,
    "request rate": _RATE,
    "license": _LICENSE,
    "content-signal": _CSIG,
    "content-usage": _CUSE,
    # Known records we deliberately do not act on.
    "host": _KNOWN,
    "clean-param": _KNOWN,
    "visit-time": _KNOWN,
    "noindex": _KNOWN,
    "nofollow": _KNOWN,
    "noarchive": _KNOWN,
}

# The spelling each record kind is written with; any other key of that kind is a misspelling
# that lenient parsers (ours, Google's, protego) honour and strict ones ignore.
_SPELLING = {
    _UA: "User-agent", _ALLOW: "Allow", _DISALLOW: "Disallow", _SITEMAP: "Sitemap", _DELAY: "Crawl-delay",
    _RATE: "Request-rate", _LICENSE: "License", _CSIG: "Content-Signal", _CUSE: "Content-Usage",
}
_CANONICAL = frozenset(name.lower() for name in _SPELLING.values()) | {
    k for k, v in _FIELDS.items() if v == _KNOWN
}
# Crawl-delay values past this are honoured by no major crawler (fairfetch does not crawl at all).
CRAWL_DELAY_CEILING = 120.0

_MOJIBAKE_BOM = "\u00ef\u00bb\u00bf"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
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


class _Warnings(list[str]):
    """A warning list that stops growing at MAX_WARNINGS and counts the rest.

    Each text has its ``Finding`` (code, severity, line) in ``findings``.
    """

    dropped = 0

    def __init__(self) -> None:
        super().__init__()
        self.findings: list[Finding] = []

    @property
    def full(self) -> bool:
        return len(self) >= MAX_WARNINGS

    def add(
        self,
        text: str,
        code: str = "robots-file",
        line: int | None = None,
        severity: Severity = Severity.WARNING,
        suggestion: str | None = None,
    ) -> None:
        if len(self) < MAX_WARNINGS:
            self.append(text)
            message = text.split(": ", 1)[1] if line is not None and text.startswith("line ") else text
            self.findings.append(
                Finding(code=code, severity=severity, message=message, line=line, suggestion=suggestion)
            )
        else:
            self.dropped += 1

    def close(self) -> list[str]:
        out = list(self)
        if self.dropped:
            out.append(f"{self.dropped} more warnings not shown")
        return out

    def close_findings(self) -> list[Finding]:
        out = list(self.findings)
        if self.dropped:
            out.append(Finding(code="robots-more-warnings", severity=Severity.INFO,
                               message=f"{self.dropped} more warnings not shown"))
        return out


def suggest_field(key: str) -> str | None:
    """The known record ``key`` most likely stands for (``user-agnet`` -> ``User-agent``), or None."""
    close = difflib.get_close_matches(key.lower(), sorted(_CANONICAL), n=1, cutoff=0.75)
    if not close:
        return None
    kind = _FIELDS[close[0]]
    return _SPELLING.get(kind, close[0].capitalize())


def _decode(body: bytes | str, warnings: _Warnings) -> str:
    """Apply the 500 KiB limit on whole lines, drop a BOM, decode (UTF-8, else Latin-1)."""
    data = body.encode("utf-8", "replace") if isinstance(body, str) else bytes(body)
    # A body of exactly the limit may be a download cut at the limit (the
    # crawler caps it there), so its last line counts as complete only if a
    # line break ends it: a cut "Allow: /public-x" must not become "Allow: /p".
    if len(data) >= ROBOTS_MAX_BYTES:
        cut = data[:ROBOTS_MAX_BYTES]
        ends_line = cut.endswith((b"\n", b"\r")) or data[ROBOTS_MAX_BYTES : ROBOTS_MAX_BYTES + 1] in (
            b"\n",
            b"\r",
        )
        if not ends_line:
            end = max(cut.rfind(b"\n"), cut.rfind(b"\r"))
            cut = cut[: end + 1] if end >= 0 else b""
        if len(cut) < len(data):
            warnings.add(
                f"robots.txt reached {ROBOTS_MAX_BYTES} bytes; only the complete lines within "
                "them were read (RFC 9309 2.5)",
                "robots-too-large",
            )
        data = cut
    # A BOM, or the first one or two bytes of one (Google's reference parser
    # skips any prefix of it; so do we, or a stray byte would hide the first line).
    for bom in (b"\xef\xbb\xbf", b"\xef\xbb", b"\xef"):
        if data.startswith(bom):
            data = data[len(bom) :]
            break
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        warnings.add(f"robots.txt is not UTF-8 (byte {exc.start}); read as Latin-1", "robots-not-utf8")
        text = data.decode("latin-1")
    if text.startswith(_MOJIBAKE_BOM):
        # A BOM that went through a Latin-1 decode on its way to the server
        # (seen on cnnturk.com and hindustantimes.com): left in place it would
        # hide the first User-agent line and with it the whole first group.
        warnings.add("robots.txt starts with a BOM mangled into 'ï»¿'; skipped", "robots-mangled-bom")
        text = text[len(_MOJIBAKE_BOM) :]
    return text


def _truncate_line(line: str, number: int, warn: Callable[[str], None]) -> str:
    """A line cut at ``MAX_LINE_BYTES`` UTF-8 bytes, as Google's reference parser cuts it.

    An ``Allow`` line is kept whole: cut, it would allow more than the
    publisher wrote (the reference does that; we stay stricter).
    """
    if line.lstrip()[:6].lower() == "allow:" or line.lstrip()[:6].lower() == "allow ":
        warn(f"line {number}: longer than {MAX_LINE_BYTES} bytes; an Allow line is read whole")
        return line
    warn(f"line {number}: longer than {MAX_LINE_BYTES} bytes; the rest of the line is ignored")
    return line.encode("utf-8", "replace")[:MAX_LINE_BYTES].decode("utf-8", "ignore")


def _split_field(line: str) -> tuple[int, str, str] | None:
    """``(kind, field, value)`` of a comment-free, stripped, non-empty line, or None."""
    name, colon, value = line.partition(":")
    if colon:
        key = name.strip().lower()
        kind = _FIELDS.get(key)
        if kind is not None:
            return kind, key, value.strip()
        if key and not any(c.isspace() for c in key):
            return -1, key, value.strip()
    # No usable colon: accept "Field value" for a known field, as protego does.
    for size in (2, 1):
        parts = line.split(None, size)
        if len(parts) < size:
            continue
        key = " ".join(parts[:size]).lower()
        kind = _FIELDS.get(key)
        if kind is not None:
            return kind, key, parts[size].strip() if len(parts) > size else ""
    return None


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
        self.warnings = _Warnings()


def read_robots(body: bytes | str) -> ParsedRobots:
    """Read a robots.txt body line by line; what cannot be read becomes a warning, never an error."""
    out = ParsedRobots()
    warn = out.warnings.add
    text = _decode(body, out.warnings)
    group: Group | None = None
    in_rules = False
    for number, raw_line in enumerate(_LINE_BREAK.split(text), 1):
        if len(raw_line) > MAX_LINE_BYTES // 4 and len(raw_line.encode("utf-8", "replace")) > MAX_LINE_BYTES:
            raw_line = _truncate_line(raw_line, number, warn)
        hash_at = raw_line.find("#")
        line = (raw_line[:hash_at] if hash_at >= 0 else raw_line).strip()
        if not line:
            continue
        # Fast path for "Field: value" with a known field, inlined: this loop
        # is the whole cost of reading a 500 KiB file.
        name, colon, value = line.partition(":")
        key = name.rstrip().lower()
        kind = _FIELDS.get(key) if colon else None
        if kind is not None:
            value = value.strip()
        else:
            parsed = _split_field(line)
            if parsed is None:
                warn(f"line {number}: not a 'field: value' line; skipped", "robots-no-colon", number)
                continue
            kind, key, value = parsed
            if not colon and kind >= 0:
                warn(f"line {number}: {line!r} has no colon; read as '{_SPELLING.get(kind, key)}: {value}'",
                     "robots-missing-colon", number, Severity.WARNING, f"{_SPELLING.get(kind, key)}: {value}")
        if kind >= 0 and key not in _CANONICAL:
            spelt = _SPELLING[kind]
            warn(f"line {number}: {key!r} read as {spelt!r}; strict parsers ignore this line",
                 "robots-misspelt-directive", number, Severity.WARNING, spelt)
        if kind in (_DISALLOW, _ALLOW):
            if group is None:
                warn(f"line {number}: {line!r} comes before any User-agent line; ignored (RFC 9309 2.1)",
                     "robots-rule-before-user-agent", number, Severity.ERROR)
                continue
            in_rules = True
            if value[:1] == "/" or value[:1] == "*" or not value:
                group.rules.append((kind == _ALLOW, value, number, line))
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
            group.rules.append((kind == _ALLOW, pattern, number, line))
        elif kind == _UA:
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
        elif kind == _SITEMAP:
            if value:
                out.sitemaps.append(SitemapRef(value, number))
            else:
                warn(f"line {number}: Sitemap without a URL; ignored", "robots-empty-value", number)
        elif kind == _LICENSE:
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
        elif kind == _CSIG:
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
        elif kind == _CUSE:
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
        elif kind == _DELAY:
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
        elif kind == _RATE:
            rate = _parse_rate(value)
            if group is None or rate is None:
                warn(f"line {number}: Request-rate {value!r} ignored (outside a group or not n/period)",
                     "robots-request-rate-invalid", number)
                continue
            group.rates.append(rate)
        elif kind == -1:
            guess = None if out.warnings.full else suggest_field(key)
            if guess is not None:
                warn(f"line {number}: unknown record {key!r}; ignored (did you mean {guess!r}?)",
                     "robots-unknown-misspelling", number, Severity.ERROR, guess)
            else:
                warn(f"line {number}: unknown record {key!r}; ignored", "robots-unknown-directive", number)
    return out
