"""robots.txt (RFC 9309) with the records publishers now put in it: License, Content-Signal, Content-Usage.

One pass over the file records every line with its 1-based line number
(the line is the evidence; ``norms.robots_file``, which leaves the bytes to
``norms.robots_body`` and the field names to ``norms.robots_fields``); URLs
are matched in their RFC 3986 normal form (``norms.urls``) by the linear
matcher of ``norms.pathpattern`` through ``norms.robots_match``; the group
selection is ``norms.robots_select``, the result one crawler obeys
(``RobotsTxt``) ``norms.robots_txt``. Where protego
leaves a choice to the caller or reads the RFC differently, this module
decides, and tests/norms/test_robots.py pins each decision:

Reading the file
    * At most ``ROBOTS_MAX_BYTES`` (500 KiB, RFC 9309 2.5) are read; a
      partial last line at the cut is dropped, every complete line is used.
      A body of exactly that size whose last line has no line break counts
      as cut too (the crawler caps downloads at the limit).
    * A UTF-8 BOM, or any prefix of one (``\\xef\\xbb``, ``\\xef``), is skipped;
      a line is cut at 16,663 bytes as Google's reference parser cuts it,
      except an ``Allow`` line, read whole. Lines end at CR, LF or CRLF only (not at the
      other characters ``str.splitlines`` knows), so line numbers are the
      publisher's. A file that is not UTF-8 is read as Latin-1 (RFC 9309
      allows bridging encodings) with a warning.
    * A BOM mangled into ``ï»¿`` by a Latin-1 round trip is skipped too, and
      a rule written as a full URL (``Disallow: https://site/x``) uses its
      path; both with warnings (protego would lose the first group, and
      never match the rule).
    * Field names are case-insensitive; a few common misspellings
      (``Dissallow``, ``User agent``) are accepted as protego does; a line
      without ``:`` is read as ``field value`` only if it starts with a known
      field. Unparseable lines are skipped with a warning naming the line.

Groups (RFC 9309 2.1, 2.2.1)
    * A group is one or more ``User-agent`` lines followed by rules. Only a
      rule (``Allow``/``Disallow``, even empty) ends the list of agents.
      Every other record (Sitemap, Crawl-delay, Request-rate, License,
      Content-Signal, Content-Usage, unknown ones) neither ends nor splits a
      group (RFC 9309 2.2.4: they must not interfere), so ``User-agent: * /
      Content-Signal: .. / User-agent: GPTBot / Disallow: /`` is one group for
      both agents and its Content-Signal line applies to both, as Google's
      reference parser reads it (tests/norms/test_robots_reference.py).
      protego ends the agent list at any non-agent record.
    * A ``User-agent`` value ends at its first space: ``Foo Bar`` names
      ``foo``, ``* FooBot`` is the global group.
    * Allow/Disallow before the first ``User-agent`` belong to no group and
      are ignored, with a warning.
    * Selection for a product token (case-insensitive): a group applies when
      one of its ``User-agent`` values, lowercased, equals the token, or its
      leading ``[A-Za-z_-]+`` run does (``Googlebot/2.1`` and ``Brightbot
      1.0`` name ``googlebot`` and ``brightbot``); a caller passing
      ``fairfetch/1.0`` is read the same way when the full value names no
      group. Every applicable group is merged; only when none applies are
      the ``*`` groups used (merged too); a named group replaces ``*``
      entirely. protego instead matches the group's value as a substring of
      the query at a token boundary and keeps only the best-scoring group, so
      ``User-agent: Google`` would apply to ``Google-Extended`` and
      ``Googlebot`` / ``Googlebot/2.1`` groups are not merged.

Rules (RFC 9309 2.2.2)
    * Longest normalised pattern wins; an Allow wins an equal-length tie; no
      matching rule means allowed; ``/robots.txt`` itself (not with a query)
      is always allowed. A reserved character and its escape differ (``?``
      vs ``%3F``). A path with empty segments (``//x``) is judged as written
      and collapsed, the stricter answer holding; an invalid URL is refused.

Records outside the RFC
    * ``Sitemap`` is global wherever it appears.
    * ``Crawl-delay`` and ``Request-rate`` are group-scoped; when merged
      groups disagree the most polite value (longest delay, lowest rate) is used.
    * ``License`` (RSL, signals.md 2.1): lines inside the selected groups
      replace the global ones (lines before the first group). A License line
      after a group's rules belongs to that group, as RFC 9309 grouping
      says, even when it sits at the end of the file (theguardian.com); a
      warning points such lines out.
    * ``Content-Signal`` (signals.md 4) and ``Content-Usage`` (AIPREF
      attach, signals.md 3.3) are group-scoped and may start with a path.
      Content-Signal lines before the first group are a global fallback used
      when the selected groups have none (a warning says so; RFC 9309 would
      ignore them). Content-Usage before the first group is ignored, as the
      draft defines it as a rule inside a group.
    * Per URL, within each standard the rule(s) with the longest matching
      path apply as a whole; a path-less rule applies where no path rule
      matches; rules of identical length combine most-restrictively. A line
      whose value cannot be read at all is skipped (RFC 9309 2.3.1.5), so it
      shadows nothing. Disallowed URLs carry no preferences.

Fetch outcomes (RFC 9309 2.3.1) are mapped by ``robots_from_fetch``; its
docstring lists the choices (429 and more than five redirects disallow all).
"""

from __future__ import annotations

import re

from norms.model import SignalError
from norms.robots_body import ROBOTS_MAX_BYTES
from norms.robots_file import (
    ContentSignalRule,
    ContentUsageRule,
    ParsedRobots,
    RequestRate,
    SitemapRef,
    read_robots,
)
from norms.robots_select import RobotsMatch, RobotsRule
from norms.robots_txt import Outcome, RobotsTxt

__all__ = [
    "MAX_REDIRECTS",
    "ROBOTS_MAX_BYTES",
    "ContentSignalRule",
    "ContentUsageRule",
    "RequestRate",
    "RobotsMatch",
    "RobotsRule",
    "RobotsTxt",
    "SitemapRef",
    "parse_robots",
    "robots_from_fetch",
]

MAX_REDIRECTS = 5

_HTML_START = re.compile(rb"\s*<(?:!doctype|html|head|body|\?xml)", re.IGNORECASE)


# --------------------------------------------------------------------------- constructors


def parse_robots(body: bytes | str, *, source_url: str | None = None) -> RobotsTxt:
    """Parse a robots.txt body. Never raises on content: what cannot be read becomes a warning."""
    if not isinstance(body, bytes | bytearray | memoryview | str):
        raise SignalError(f"robots.txt body must be bytes or str, not {type(body).__name__}")
    parsed = read_robots(bytes(body) if isinstance(body, bytearray | memoryview) else body)
    return RobotsTxt(
        outcome="parsed", reason="robots.txt parsed", source_url=source_url, parsed=parsed
    )


def robots_from_fetch(
    *,
    status: int | None,
    body: bytes | None = None,
    redirects: int = 0,
    error: str | None = None,
    source_url: str | None = None,
) -> RobotsTxt:
    """The RobotsTxt a fetch outcome means (RFC 9309 2.3.1), without doing any I/O.

    * more than ``MAX_REDIRECTS`` redirects: unreachable, complete disallow.
      RFC 9309 2.3.1.2 lets a crawler treat this as unavailable (allow all);
      we choose the reading that protects the publisher. A final 3xx (a
      redirect the caller could not follow) is read the same way.
    * ``error`` (timeout, connection reset, body cut short), with or without
      a status: unreachable, complete disallow.
    * 2xx: parse; an HTML body (a soft 404) is no robots.txt: allow all, with a warning.
    * 429 and 5xx: unreachable, complete disallow (429 as Google reads it).
    * other 4xx, including 401 and 403: unavailable, allow all (RFC 9309 2.3.1.3).
    """
    if redirects < 0:
        raise SignalError(f"redirects cannot be negative (got {redirects})")
    if status is not None and not 100 <= status <= 599:
        raise SignalError(f"{status} is not an HTTP status code")
    if status is None and error is None and redirects <= MAX_REDIRECTS:
        raise SignalError("robots_from_fetch needs a status or an error describing the failure")

    def make(
        outcome: Outcome,
        reason: str,
        *,
        warnings: list[str] | None = None,
        parsed: ParsedRobots | None = None,
        cause: str | None = None,
    ) -> RobotsTxt:
        return RobotsTxt(
            outcome=outcome,
            reason=reason,
            source_url=source_url,
            status=status,
            warnings=warnings,
            parsed=parsed,
            cause=cause,
        )

    if redirects > MAX_REDIRECTS:
        return make(
            "unreachable",
            f"robots.txt redirected {redirects} times (more than {MAX_REDIRECTS}): treated as "
            "unreachable, complete disallow (RFC 9309 2.3.1.2 permits allow-all; we protect the publisher)",
            cause=f"{redirects} redirects",
        )
    if error is not None:
        got = f"answered {status} but failed" if status is not None else "could not be fetched"
        return make(
            "unreachable",
            f"robots.txt {got} ({error}): complete disallow (RFC 9309 2.3.1.4)",
            cause=f"HTTP {status}, {error}" if status is not None else error,
        )
    assert status is not None
    if 200 <= status < 300:
        data = body.encode("utf-8", "replace") if isinstance(body, str) else bytes(body or b"")
        if _HTML_START.match(data[3:] if data.startswith(b"\xef\xbb\xbf") else data):
            return make(
                "unavailable",
                f"robots.txt answered {status} with an HTML page (soft 404): no robots.txt, allow all",
                warnings=[f"robots.txt answered {status} with HTML instead of text; treated as absent"],
            )
        parsed = read_robots(data)
        return make("parsed", f"robots.txt answered {status}: parsed (RFC 9309 2.3.1.1)", parsed=parsed)
    if 300 <= status < 400:
        return make(
            "unreachable",
            f"robots.txt answered {status} and the redirect was not followed: treated as "
            "unreachable, complete disallow",
            cause=f"HTTP {status}, redirect not followed",
        )
    if status == 429:
        return make(
            "unreachable",
            "robots.txt answered 429 (too many requests): complete disallow (treated like 5xx, as Google does)",
        )
    if 400 <= status < 500:
        return make("unavailable", f"robots.txt answered {status}: unavailable, allow all (RFC 9309 2.3.1.3)")
    if status >= 500:
        return make("unreachable", f"robots.txt answered {status}: complete disallow (RFC 9309 2.3.1.4)")
    return make(
        "unreachable",
        f"robots.txt answered {status} (no final response): treated as unreachable, complete disallow",
    )
