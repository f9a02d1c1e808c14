"""Page-level robots rules: the ``X-Robots-Tag`` and draft ``Robots-Tag`` headers, robots metas, noai.

Every carrier can only *restrict* (draft-illyes-repext: "all rules are
restrictive"), so the result is the union of every restriction that applies to
our crawler: rules for everyone plus rules addressed to our product token,
from every header line and every meta element. A bot-specific rule can never
lift a general one.

Reading choices, each tested:

* ``X-Robots-Tag`` lines are split one by one; a ``<ua>:`` prefix scopes the
  rest of *that line* (until the next prefix) and never leaks into the next
  line, which is why lines must not be joined first. ``max-snippet:20``,
  ``unavailable_after: …`` and the other valued directives are not prefixes.
* Robots metas outside ``<head>`` are applied too. The draft says to consider
  only ``<head>``, but a lenient HTML parser (and a publisher's template) can
  easily misplace one, and a restriction the publisher wrote is never read
  away; the evidence says ``outside <head>`` so a reviewer can tell.
* A malformed ``Robots-Tag`` structured field is ignored as RFC 9651 requires
  (recorded in ``warnings``); ``X-Robots-Tag`` is read leniently instead.
* ``unavailable_after`` in the past (relative to ``now``) means ``noindex``.
* ``noarchive`` together with ``nocache`` keeps the ``noarchive`` denial (Bing
  would read the pair as ``nocache`` alone; we keep the union of restrictions).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import http_sf
from pydantic import BaseModel, Field

from norms.html import HtmlDoc, parse_html
from norms.http import HeadersLike, header_lines
from norms.lenient import shown, to_int
from norms.model import (
    AI_USAGES,
    Effect,
    Evidence,
    Obligation,
    ObligationKind,
    Signal,
    Statement,
    Usage,
)
from norms.problems import Finding, Severity
from norms.robots_tag_items import PREFIX, VALUED, meta_items, parse_date, split_items, valued
from norms.tokens import token_family
from norms.vocabulary import usages_for

#: Characters of a page an answer may quote when a rule allows "only URL, title
#: and snippet" without a number (Bing ``nocache``): the length of a typical
#: search-result snippet. A local policy, not a standard value.
DEFAULT_SNIPPET_CHARS = 160

#: What ``noimageai`` removes from a page before AI use.
IMAGE_SELECTORS: tuple[str, ...] = ("img", "picture", "svg", "video[poster]")

def product_token(user_agent: str) -> str:
    """The product token of a User-Agent string (``fairfetch/1.0 (+url)`` -> ``fairfetch``), lowercased."""
    head = user_agent.strip().split(None, 1)[0] if user_agent.strip() else ""
    return head.split("/", 1)[0].lower()


class RobotsDirectives(BaseModel):
    """The union of every page-level robots restriction that applies to one user agent.

    ``max_snippet`` is the smallest non-negative ``max-snippet`` seen
    (``None``: no limit). ``evidence`` holds one entry per restriction and
    carrier, in document order; ``warnings`` what was ignored and why.
    """

    noindex: bool = False
    nofollow: bool = False
    nosnippet: bool = False
    max_snippet: int | None = None
    noarchive: bool = False
    nocache: bool = False
    noai: bool = False
    noimageai: bool = False
    unavailable_after: datetime | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)  # the warnings as data (norms.problems)

    def union(self, other: RobotsDirectives) -> RobotsDirectives:
        """Both sets of restrictions at once: e.g. the initial HTML and the rendered DOM.

        The Robots-Tag draft requires the union for crawlers that run scripts,
        so a script that removes a ``noindex`` meta cannot lift it.
        """
        limits = [n for n in (self.max_snippet, other.max_snippet) if n is not None]
        dates = [d for d in (self.unavailable_after, other.unavailable_after) if d is not None]
        return RobotsDirectives(
            noindex=self.noindex or other.noindex,
            nofollow=self.nofollow or other.nofollow,
            nosnippet=self.nosnippet or other.nosnippet,
            max_snippet=min(limits) if limits else None,
            noarchive=self.noarchive or other.noarchive,
            nocache=self.nocache or other.nocache,
            noai=self.noai or other.noai,
            noimageai=self.noimageai or other.noimageai,
            unavailable_after=min(dates) if dates else None,
            evidence=[*self.evidence, *(e for e in other.evidence if e not in self.evidence)],
            warnings=[*self.warnings, *other.warnings],
            findings=[*self.findings, *other.findings],
        )

    def _first(self, rule_prefix: str) -> Evidence:
        for ev in self.evidence:
            if ev.rule.startswith(rule_prefix):
                return ev
        raise LookupError(rule_prefix)  # pragma: no cover - flags are only set with evidence

    def statements(self) -> list[Statement]:
        """What these rules say about each usage (see ``norms.vocabulary``).

        Denials come straight from the vocabulary table. Snippet limits and
        ``noimageai`` are conditions, not denials: ``ALLOW`` statements
        carrying a ``snippet-limit`` or ``exclude-parts`` obligation.
        """
        out: list[Statement] = []

        def deny(token: str, ev: Evidence) -> None:
            for usage, derived in usages_for("robots-tag", token):
                out.append(Statement(usage=usage, effect=Effect.DENY, evidence=ev, derived=derived))

        def allow(usages: tuple[Usage, ...], ob: Obligation, ev: Evidence) -> None:
            for usage in usages:
                out.append(Statement(usage=usage, effect=Effect.ALLOW, evidence=ev, obligations=(ob,)))

        if self.noindex:
            deny("noindex", self._first("noindex"))
        if self.noai:
            deny("noai", self._first("noai"))
        if self.noarchive:
            deny("noarchive", self._first("noarchive"))
        if self.nosnippet or self.max_snippet == 0:
            ev = self._first("nosnippet") if self.nosnippet else self._first("max-snippet:0 ")
            deny("nosnippet", ev)
            allow(
                (Usage.SEARCH,),
                Obligation(kind=ObligationKind.SNIPPET_LIMIT, limit=0, detail="nosnippet: no excerpt"),
                ev,
            )
        elif self.max_snippet is not None:
            ev = self._first(f"max-snippet:{self.max_snippet} ")
            ob = Obligation(
                kind=ObligationKind.SNIPPET_LIMIT,
                limit=self.max_snippet,
                detail=f"max-snippet: quote at most {self.max_snippet} characters",
            )
            allow((Usage.SEARCH, Usage.AI_INPUT), ob, ev)
        if self.nocache:
            limit = self.max_snippet if self.max_snippet is not None else DEFAULT_SNIPPET_CHARS
            ob = Obligation(
                kind=ObligationKind.SNIPPET_LIMIT,
                limit=limit,
                detail="nocache (Bing): only URL, title and snippet may be used",
            )
            allow((Usage.AI_INPUT, Usage.AI_TRAIN), ob, self._first("nocache"))
        if self.noimageai:
            ob = Obligation(
                kind=ObligationKind.EXCLUDE_PARTS,
                selectors=IMAGE_SELECTORS,
                detail="noimageai: images are not to be used for AI",
            )
            allow(AI_USAGES, ob, self._first("noimageai"))
        return out


_FLAGS = frozenset({"noindex", "nofollow", "nosnippet", "noarchive", "nocache", "noai", "noimageai"})
#: Distinct ``unavailable_after`` dates read per carrier; a page does not need more, and each costs a parse.
MAX_DATES = 32
#: Warnings kept per response (the rest are counted): a hostile page cannot grow them with its size.
MAX_WARNINGS = 50
_LABEL_LINE = re.compile(r" line (\d+)")
#: How much of a carrier's value each piece of evidence quotes.
MAX_RAW = 1000


class _Collector:
    """Accumulates restrictions and their evidence while carriers are read.

    Linear in the size of what is read, with one piece of evidence per
    distinct restriction: a carrier's items are deduplicated before any
    Python-level work, repeated carriers are read once, and a restriction
    already recorded for the same carrier and scope is not recorded again.
    """

    def __init__(self, source_url: str, now: datetime) -> None:
        self.d = RobotsDirectives()
        self.source = source_url
        self.now = now
        self._seen: set[tuple[Signal, str, str]] = set()
        self._dropped = 0

    def warn(self, text: str, code: str = "robots-tag-value") -> None:
        """``text`` is ``"<element label>: message"``; its ``Finding`` takes the label's line."""
        w = self.d.warnings
        if text in w:
            return
        if len(w) < MAX_WARNINGS:
            w.append(text)
            element, _, message = text.partition(": ")
            m = _LABEL_LINE.search(element)
            self.d.findings.append(Finding(code=code, severity=Severity.WARNING, message=message or text,
                                           element=element if message else None,
                                           line=int(m.group(1)) if m else None, source=self.source))
        else:
            self._dropped += 1

    def finish(self) -> RobotsDirectives:
        if self._dropped:
            self.d.warnings.append(f"{self._dropped} more warnings not listed")
        return self.d

    def batch(self, items: Iterable[tuple[str, str | None]], signal: Signal, element: str, raw: str,
              scope: str) -> None:
        """Apply one carrier's ``(directive, value)`` items that share a scope: each distinct one once."""
        d = self.d
        raw = shown(raw, MAX_RAW)

        def record(rule: str) -> None:
            key = (signal, raw, f"{rule} ({scope})")
            if key not in self._seen:
                self._seen.add(key)
                d.evidence.append(Evidence(signal=signal, source=self.source, element=element, raw=raw, rule=key[2]))

        snippets: list[int] = []
        dates: dict[str, None] = {}
        for directive, value in dict.fromkeys(items):
            name = directive.strip().lower()
            if name in _FLAGS:
                setattr(d, name, True)
                record(name)
            elif name == "none":
                d.noindex = d.nofollow = True
                record("noindex, nofollow: 'none'")
            elif name == "max-snippet":
                n = to_int((value or "").strip())
                if n is None:
                    self.warn(f"{element}: max-snippet value {shown(value or '')!r} is not a number; ignored")
                elif n >= 0:  # -1 means "no limit": nothing to restrict
                    snippets.append(n)
            elif name in ("unavailable_after", "unavailable-after"):
                dates[(value or "").strip()] = None
        if snippets:
            n = min(snippets)
            if d.max_snippet is None or n < d.max_snippet:
                d.max_snippet = n
            record(f"max-snippet:{n}")
        self._dates(list(dates), element, record)

    def _dates(self, values: list[str], element: str, record: Callable[[str], None]) -> None:
        if len(values) > MAX_DATES:
            self.warn(f"{element}: {len(values)} distinct unavailable_after dates; only the first {MAX_DATES} read")
        whens: list[datetime] = []
        for value in values[:MAX_DATES]:
            when = parse_date(value)
            if when is None:
                self.warn(f"{element}: unavailable_after date {shown(value)!r} is unreadable; ignored")
            else:
                whens.append(when)
        if not whens:
            return
        when = min(whens)
        d = self.d
        if d.unavailable_after is None or when < d.unavailable_after:
            d.unavailable_after = when
        if when <= self.now:
            d.noindex = True
            record(f"noindex: unavailable_after {when.isoformat()} has passed")
        else:
            record(f"unavailable_after {when.isoformat()}: noindex from then on")


def _read_x_robots_line(col: _Collector, value: str, index: int, token: frozenset[str]) -> None:
    element = f"header X-Robots-Tag #{index}"
    scope: str | None = None  # None: applies to every crawler
    scoped: dict[str | None, list[tuple[str, str | None]]] = {}
    for raw_item in split_items(value):
        item = raw_item
        while True:
            m = PREFIX.match(item)
            if not m or m.group(1).lower() in VALUED:
                break
            scope = m.group(1).lower()
            item = m.group(2).strip()
        if item and (scope is None or scope == "*" or scope in token):
            scoped.setdefault(None if scope == "*" else scope, []).append(valued(item))
    for who, items in scoped.items():
        where = "all crawlers" if who is None else f"addressed to {who}"
        col.batch(items, Signal.X_ROBOTS_TAG, element, value, where)


def _read_robots_tag_field(col: _Collector, value: str, index: int, token: frozenset[str]) -> None:
    element = f"header Robots-Tag #{index}"
    try:
        members = http_sf.parse(value.encode("latin-1", "replace"), tltype="list")
    except (http_sf.StructuredFieldError, ValueError, TypeError) as exc:
        col.warn(f"{element}: not a valid structured-field list ({shown(str(exc))}); ignored", "robots-tag-syntax")
        return
    if not isinstance(members, list):  # pragma: no cover - tltype="list" always yields a list
        return
    for member in members:
        target: object = member[0] if isinstance(member, tuple) else member
        params: object = member[1] if isinstance(member, tuple) and len(member) > 1 else {}
        if not isinstance(target, http_sf.Token) or not isinstance(params, dict):
            col.warn(f"{element}: member {shown(repr(target))} is not a product token; ignored", "robots-tag-syntax")
            continue
        name = str(target).lower()
        if name != "*" and name not in token:
            continue
        where = "all crawlers" if name == "*" else f"addressed to {name}"
        items = [(str(rule), None if arg is True else str(arg)) for rule, arg in params.items()]
        col.batch(items, Signal.X_ROBOTS_TAG, element, value, where)


def _read_metas(col: _Collector, doc: HtmlDoc, token: frozenset[str]) -> None:
    seen: set[tuple[str, str, bool]] = set()
    for meta in doc.metas:
        if meta.name != "robots" and meta.name not in token:
            continue
        key = (meta.name, meta.content, meta.in_head)
        if key in seen:  # the same tag repeated: read once, the first one is the evidence
            continue
        seen.add(key)
        where = "all crawlers" if meta.name == "robots" else f"addressed to {meta.name}"
        if not meta.in_head:
            where += ", outside <head>"
        line = f" line {meta.line}" if meta.line is not None else ""
        element = f'<meta name="{meta.name}">{line}'
        col.batch(meta_items(meta.content), Signal.META_ROBOTS, element, meta.content, where)


def robots_directives(
    headers: HeadersLike,
    html: str | bytes | HtmlDoc | None,
    user_agent: str,
    *,
    source_url: str,
    now: datetime | None = None,
) -> RobotsDirectives:
    """Collect the page-level robots rules that apply to ``user_agent`` from a response.

    ``user_agent`` is our product token (a full User-Agent string works too); rules
    addressed to its base token bind a purpose token too (:mod:`norms.tokens`).
    ``now`` decides whether ``unavailable_after`` has passed (default: the
    current time). Never raises: unreadable values are skipped and listed in
    ``warnings``.
    """
    token = token_family(product_token(user_agent))
    col = _Collector(source_url, now if now is not None else datetime.now(UTC))
    x_index = rt_index = 0
    read: set[tuple[str, str]] = set()  # a repeated line says nothing new: read once
    for name, value in header_lines(headers):
        if name == "x-robots-tag":
            x_index += 1
            if (name, value) not in read:
                read.add((name, value))
                _read_x_robots_line(col, value, x_index, token)
        elif name == "robots-tag":
            rt_index += 1
            if (name, value) not in read:
                read.add((name, value))
                _read_robots_tag_field(col, value, rt_index, token)
    if html is not None:
        doc = parse_html(html)
        if doc.truncated:
            col.warn(f"page: {doc.truncated}; <meta> tags after that point were read from the raw text",
                     "page-meta-truncated")
        _read_metas(col, doc, token)
    return col.finish()
