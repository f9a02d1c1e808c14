"""The parsed robots.txt as one crawler obeys it: ``RobotsTxt`` (``norms.robots`` reads the file and documents the rules).

Per product token the group selection (``norms.robots_select``) and its
longest-match index (``norms.robots_match``) are computed once and cached;
per URL, ``_decide`` normalises the URL, asks the index, and judges a path
with empty segments twice (as written and collapsed; the stricter answer
holds). The last answer is memoised: the evaluator asks ``gate`` and
``statements`` about the same URL in a row.
"""

from __future__ import annotations

from typing import Literal

from norms.model import Evidence, Gate, LicenseRef, Signal, SignalError, Statement
from norms.problems import Finding, finding, located
from norms.robots_file import (
    ContentSignalRule,
    ContentUsageRule,
    ParsedRobots,
    RequestRate,
    SitemapRef,
)
from norms.robots_match import PathIndex, normalise_url
from norms.robots_select import (
    RobotsMatch,
    RobotsRule,
    Selection,
    combine_statements,
    invalid_url_gate,
    query_at,
    winners,
)
from norms.urls import collapse_empty_segments

__all__ = ["Outcome", "RobotsTxt"]

Outcome = Literal["parsed", "unavailable", "unreachable"]


class RobotsTxt:
    """A robots.txt as one crawler should obey it: access rules, sitemaps, licences, preferences.

    ``outcome`` is ``parsed`` (rules apply), ``unavailable`` (no usable file:
    everything allowed) or ``unreachable`` (complete disallow). Per product
    token the group selection and its indexes are computed once and cached.
    """

    __slots__ = (
        "_indexes",
        "_memo",
        "_parsed",
        "_selections",
        "_unreachable_gate",
        "findings",
        "outcome",
        "reason",
        "sitemap_entries",
        "source_url",
        "status",
        "warnings",
    )

    def __init__(
        self,
        *,
        outcome: Outcome,
        reason: str,
        source_url: str | None = None,
        status: int | None = None,
        warnings: list[str] | None = None,
        parsed: ParsedRobots | None = None,
        cause: str | None = None,
    ) -> None:
        """``cause`` is what the evidence of an unreachable file quotes (``HTTP 503``, ``timeout``)."""
        self.source_url = source_url
        self.outcome: Outcome = outcome
        self.reason = reason
        self.status = status
        self._parsed = parsed if parsed is not None else ParsedRobots()
        self.warnings: list[str] = list(warnings or []) + self._parsed.warnings.close()
        # The same warnings as data (code, severity, line): norms.problems.
        self.findings: list[Finding] = located(
            [finding("robots-fetch", w) for w in warnings or []] + self._parsed.warnings.close_findings(),
            source_url,
        )
        self.sitemap_entries: list[SitemapRef] = list(self._parsed.sitemaps)
        self._selections: dict[str, Selection] = {}
        self._indexes: dict[tuple[int, ...], PathIndex[RobotsRule]] = {}
        self._memo: tuple[str, str, str, bool, RobotsRule | None, Selection] | None = None
        self._unreachable_gate: Gate | None = None
        if outcome == "unreachable":
            self._unreachable_gate = Gate(
                reason=reason,
                evidence=Evidence(
                    signal=Signal.ROBOTS,
                    source=self._source,
                    raw=cause or (f"HTTP {status}" if status is not None else reason),
                    rule="RFC 9309 2.3.1.4: an unreachable robots.txt means complete disallow",
                ),
            )

    def __repr__(self) -> str:
        return f"RobotsTxt(source_url={self.source_url!r}, outcome={self.outcome!r}, status={self.status!r})"

    @property
    def _source(self) -> str:
        return self.source_url or "robots.txt"

    @property
    def parsed(self) -> ParsedRobots:
        """The file as read: groups, their agents and rules with line numbers (for linting)."""
        return self._parsed

    @property
    def sitemaps(self) -> list[str]:
        """Sitemap URLs in file order (global records, wherever they appear)."""
        return [s.url for s in self.sitemap_entries]

    # -- selection ------------------------------------------------------------------------

    def _select(self, user_agent: str) -> Selection:
        sel = self._selections.get(user_agent)
        if sel is None:
            token = user_agent.strip().lower()
            sel = self._selections.get(token)
            if sel is None:
                sel = Selection(self._parsed, token, self._source, self._indexes)
                self._selections[token] = sel
            self._selections[user_agent] = sel
        return sel

    def group_for(self, user_agent: str) -> str | None:
        """Which group applies to ``user_agent``: the token itself, ``*``, or None."""
        return self._select(user_agent).label

    # -- access ---------------------------------------------------------------------------

    def _decide(self, url: str, user_agent: str) -> tuple[str, bool, RobotsRule | None, Selection]:
        memo = self._memo
        if memo is not None and memo[0] == url and memo[1] == user_agent:
            return memo[2], memo[3], memo[4], memo[5]
        sel = self._selections.get(user_agent) or self._select(user_agent)
        try:
            path = normalise_url(url)
        except SignalError:
            # Not a URL anyone can request: nothing is allowed for it.
            self._memo = (url, user_agent, "", False, None, sel)
            return "", False, None, sel
        if self.outcome == "parsed" and path != "/robots.txt":  # _path_decision's usual case, inline
            hit = sel.index.best(path)
            allowed, rule = (True, None) if hit is None else hit
        else:
            allowed, rule = self._path_decision(path, sel)
        if "//" in path and path.find("//", 0, query_at(path)) >= 0:
            # Empty segments: many servers merge the slashes, so the URL is
            # judged as written and collapsed, and the stricter answer holds.
            other_allowed, other_rule = self._path_decision(collapse_empty_segments(path), sel)
            if allowed and not other_allowed:
                allowed, rule = other_allowed, other_rule
        self._memo = (url, user_agent, path, allowed, rule, sel)
        return path, allowed, rule, sel

    def _path_decision(self, path: str, sel: Selection) -> tuple[bool, RobotsRule | None]:
        if path == "/robots.txt":
            # RFC 9309 2.2.2: the /robots.txt URI itself (not /robots.txt?query) is implicitly allowed.
            return True, None
        if self.outcome != "parsed":
            return self.outcome == "unavailable", None
        hit = sel.index.best(path)
        return (True, None) if hit is None else hit

    def allowed(self, url: str, user_agent: str) -> bool:
        """May ``user_agent`` (a product token such as ``fairfetch``) fetch ``url``?"""
        return self._decide(url, user_agent)[1]

    def match(self, url: str, user_agent: str) -> RobotsMatch:
        """The access decision with the deciding rule (None when no rule matched)."""
        _, allowed, rule, sel = self._decide(url, user_agent)
        return RobotsMatch(allowed, rule, sel.label if self.outcome == "parsed" else None)

    def gate(self, url: str, user_agent: str) -> Gate | None:
        """A Gate when the URL must not be fetched, citing the deciding line; None when allowed."""
        _, allowed, rule, sel = self._decide(url, user_agent)
        if allowed:
            return None
        if rule is None:
            if self.outcome == "parsed":
                return invalid_url_gate(url, self._source)
            return self._unreachable_gate
        gate = sel.gates.get(rule.line)
        if gate is None:
            gate = Gate(
                reason=f"robots.txt line {rule.line} '{rule.raw}' disallows this URL for {sel.token}",
                evidence=Evidence(
                    signal=Signal.ROBOTS,
                    source=self._source,
                    line=rule.line,
                    raw=rule.raw,
                    rule=f"RFC 9309 longest match, {sel.group_rule}",
                ),
            )
            sel.gates[rule.line] = gate
        return gate

    # -- group-scoped records -------------------------------------------------------------

    def crawl_delay(self, user_agent: str) -> float | None:
        """Seconds between requests asked of this crawler's group, if any."""
        return self._select(user_agent).delay

    def request_rate(self, user_agent: str) -> RequestRate | None:
        return self._select(user_agent).rate

    def licenses(self, user_agent: str) -> list[LicenseRef]:
        """RSL ``License`` lines: the selected group's, else the global ones (signals.md 2.1)."""
        if self.outcome != "parsed":
            return []
        return list(self._select(user_agent).licenses)

    def content_signals(self, user_agent: str) -> list[ContentSignalRule]:
        """The Content-Signal lines that apply to this crawler (group's, else global fallback)."""
        return list(self._select(user_agent).signals)

    def content_usage(self, user_agent: str) -> list[ContentUsageRule]:
        """The AIPREF Content-Usage lines of this crawler's group."""
        return list(self._select(user_agent).usages)

    def statements(self, url: str, user_agent: str) -> list[Statement]:
        """Content-Signal and Content-Usage statements for ``url``; none for a disallowed URL."""
        return list(self.decide(url, user_agent)[1])

    def decide(self, url: str, user_agent: str) -> tuple[Gate | None, tuple[Statement, ...]]:
        """``gate`` and ``statements`` in one match, as the evaluator asks before every request.

        The statements tuple is shared and cached per winning rule set: callers
        must not mutate it (it is a tuple so they cannot).
        """
        path, allowed, _, sel = self._decide(url, user_agent)
        if not allowed:
            return self.gate(url, user_agent), ()
        if self.outcome != "parsed":
            return None, ()
        if sel.constant is not None:
            return None, sel.constant
        # Which rules win, as a bit set over (signal rules + usage rules); the
        # statements of each distinct winner set are combined once and cached.
        key = winners(sel, path)
        if "//" in path and path.find("//", 0, query_at(path)) >= 0:
            # Both readings of a path with empty segments: every winning rule counts.
            key |= winners(sel, collapse_empty_segments(path))
        cached = sel.statement_cache.get(key)
        if cached is None:
            positions = tuple(i for i in range(key.bit_length()) if key >> i & 1)
            cached = tuple(combine_statements(sel.signal_rules, sel.usage_rules, positions))
            sel.statement_cache[key] = cached
        return None, cached
