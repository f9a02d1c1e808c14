"""Per-crawler view of a robots.txt: the group selection for one product token and its indexes.

The second half of ``norms.robots`` (which documents the reading rules):
given a ``ParsedRobots`` and a product token, ``Selection`` picks the
groups, builds the longest-match index of their Allow/Disallow rules and the
path-scoped Content-Signal / Content-Usage rules, once per token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from norms.aipref import describe_exceptions
from norms.model import Evidence, Gate, LicenseRef, Signal, Statement
from norms.robots_file import LEADING_TOKEN, ParsedRobots
from norms.robots_match import PathIndex, Pattern
from norms.usage_statements import most_restrictive, statements_for

# --------------------------------------------------------------------------- access records


@dataclass(frozen=True, slots=True)
class RobotsRule:
    """One Allow/Disallow line: ``directive`` is ``allow`` or ``disallow``, ``raw`` the line as written."""

    directive: str
    pattern: str
    line: int
    raw: str


@dataclass(frozen=True, slots=True)
class RobotsMatch:
    """The access decision for one URL: ``rule`` is the deciding line, None when none matched.

    ``group`` names the group selection used (the token, ``*`` or None when
    no group applies); it is None as well for unavailable/unreachable files.
    """

    allowed: bool
    rule: RobotsRule | None
    group: str | None

# --------------------------------------------------------------------------- per-crawler view


class _ContentRule:
    """A path-scoped preference rule prepared for matching, with its Statements built once."""

    __slots__ = ("match", "priority", "statements")

    def __init__(self, path: str | None, statements: list[Statement]) -> None:
        self.match: Callable[[str], bool] | None
        if path is None:
            self.priority = 0
            self.match = None
        else:
            pattern = Pattern(path)
            self.priority = pattern.priority
            self.match = pattern.match
        self.statements = statements


class Selection:
    """Everything about one product token, computed once: the group choice and its indexes."""

    __slots__ = (
        "constant",
        "delay",
        "gates",
        "group_rule",
        "groups",
        "index",
        "label",
        "licenses",
        "rate",
        "scopes",
        "signal_rules",
        "signals",
        "statement_cache",
        "token",
        "usage_rules",
        "usages",
    )

    def __init__(
        self, parsed: ParsedRobots, token: str, source: str,
        indexes: dict[tuple[int, ...], PathIndex[RobotsRule]] | None = None,
    ) -> None:
        named = parsed.tokens.get(token)
        if not named:
            # Called with "fairfetch/1.0" rather than the bare product token:
            # the same leading-token reading as for the file's own values.
            lead = LEADING_TOKEN.match(token)
            if lead and lead.group() != token:
                token = lead.group()
                named = parsed.tokens.get(token)
        chosen = named if named else parsed.star
        self.token = token
        self.label: str | None = token if named else ("*" if chosen else None)
        self.groups = [parsed.groups[i] for i in chosen]
        self.group_rule = f"group '{self.label}'" if self.label else "no group applies"
        # Tokens that fall to the same groups (every unnamed crawler to '*') share one index:
        # building it is the whole cost of a big file.
        shared = indexes.get(tuple(chosen)) if indexes is not None else None
        self.index: PathIndex[RobotsRule] = shared if shared is not None else PathIndex(
            (pattern, allow, RobotsRule("allow" if allow else "disallow", pattern, line, raw))
            for g in self.groups
            for allow, pattern, line, raw in g.rules
        )
        if indexes is not None:
            indexes[tuple(chosen)] = self.index
        self.gates: dict[int, Gate] = {}
        delays = [d for g in self.groups for d in g.delays]
        self.delay = max(delays) if delays else None
        rates = [r for g in self.groups for r in g.rates]
        self.rate = min(rates, key=lambda r: r.requests / r.seconds) if rates else None

        group_licenses = [(u, n) for g in self.groups for u, n in g.licenses]
        if group_licenses:
            self.licenses = [LicenseRef(url=u, via="robots", scope="group", line=n) for u, n in group_licenses]
        else:
            self.licenses = [
                LicenseRef(url=u, via="robots", scope="global", line=n) for u, n in parsed.global_licenses
            ]

        signals = [s for g in self.groups for s in g.signals] or list(parsed.global_signals)
        self.signals = signals
        self.signal_rules = _sorted_rules(
            _ContentRule(
                s.path,
                statements_for(
                    "content-signal",
                    s.signals,
                    Evidence(
                        signal=Signal.CONTENT_SIGNAL,
                        source=source,
                        line=s.line,
                        raw=s.raw,
                        rule=(
                            f"Content-Signal in robots.txt {self.group_rule}; longest path match"
                            if s.scope == "group"
                            else "Content-Signal outside any robots.txt group (global fallback)"
                        ),
                    ),
                ),
            )
            for s in signals
        )
        usages = [u for g in self.groups for u in g.usages]
        self.usages = [u for u, _ in usages]
        self.usage_rules = _sorted_rules(
            _ContentRule(
                u.path,
                statements_for(
                    "aipref",
                    reading.prefs,
                    Evidence(
                        signal=Signal.CONTENT_USAGE,
                        source=source,
                        line=u.line,
                        raw=u.raw,
                        rule=f"AIPREF Content-Usage in robots.txt {self.group_rule}; longest path match"
                        + describe_exceptions(reading),
                    ),
                ),
            )
            for u, reading in usages
        )
        self.statement_cache: dict[int, tuple[Statement, ...]] = {}
        # Per standard: its path rules as (priority, match, bit), longest
        # first, and the bits of its path-less rules, which win when no path rule matches.
        self.scopes: list[tuple[list[tuple[int, Callable[[str], bool], int]], int]] = []
        offset = 0
        for rules in (self.signal_rules, self.usage_rules):
            path_rules = [
                (r.priority, r.match, 1 << (offset + i)) for i, r in enumerate(rules) if r.match is not None
            ]
            fallback = sum(1 << (offset + i) for i, r in enumerate(rules) if r.match is None)
            self.scopes.append((path_rules, fallback))
            offset += len(rules)
        # No path-scoped preference rule: every allowed URL gets the same list.
        self.constant: tuple[Statement, ...] | None = None
        if all(r.match is None for r in self.signal_rules + self.usage_rules):
            self.constant = tuple(combine_statements(self.signal_rules, self.usage_rules, self._all_positions()))

    def _all_positions(self) -> tuple[int, ...]:
        return tuple(range(len(self.signal_rules) + len(self.usage_rules)))


def _sorted_rules(rules: Iterable[_ContentRule]) -> list[_ContentRule]:
    out = list(rules)
    out.sort(key=lambda r: r.priority, reverse=True)
    return out


def combine_statements(
    signal_rules: list[_ContentRule], usage_rules: list[_ContentRule], positions: tuple[int, ...]
) -> list[Statement]:
    """The statements of the winning rules, one per usage and standard, most restrictive first."""
    n = len(signal_rules)
    cs = [st for i in positions if i < n for st in signal_rules[i].statements]
    cu = [st for i in positions if i >= n for st in usage_rules[i - n].statements]
    return most_restrictive(cs) + most_restrictive(cu)



def query_at(path: str) -> int:
    at = path.find("?")
    return at if at >= 0 else len(path)


def winners(sel: Selection, path: str) -> int:
    """Which path-scoped preference rules win for ``path``, as a bit set (see ``RobotsTxt.decide``)."""
    key = 0
    for path_rules, fallback in sel.scopes:
        best = -1
        hit = 0
        for priority, match, bit in path_rules:
            if priority < best:
                break
            if match(path):
                best = priority
                hit |= bit
        key |= hit or fallback
    return key


def invalid_url_gate(url: str, source: str) -> Gate:
    return Gate(
        reason=f"{url[:200]!r} is not a valid URL: nothing may be requested for it",
        evidence=Evidence(
            signal=Signal.ROBOTS,
            source=source,
            raw=url[:200],
            rule="an invalid URL cannot be matched against robots.txt rules; refused to protect the publisher",
        ),
    )
