"""Problems in the site-wide files: robots.txt, RSL licences, tdmrep.json.

Most come straight from the readers' findings; the checks here are the ones
that need more than one line of a file at once (a group that blocks every
crawler), the fetch outcome (status, size, content type) or the checked URL
(a tdmrep.json rule shadowed for it).
"""

from __future__ import annotations

from difflib import get_close_matches
from urllib.parse import urljoin, urlsplit

from crawler.checker.agents import KNOWN_AGENTS, OWN_AGENT
from crawler.checker.problems import Problem, from_finding, problem
from norms.model import LicenseRef, SignalError
from norms.robots import RobotsTxt
from norms.robots_file import LEADING_TOKEN
from norms.rsl import LicenseSource
from norms.tdmrep import TdmRepFile, parse_tdmrep_json
from norms.tokens import purpose_tokens

_AI_TOKENS = {a.lower(): a for a in KNOWN_AGENTS}


def robots_problems(
    robots: RobotsTxt,
    url: str,
    *,
    truncated: bool = False,
    content_type: str | None = None,
    base: str = OWN_AGENT,
) -> list[Problem]:
    """robots.txt: outcome (unreachable, absent, HTML), size, content type, every line the reader flagged."""
    out: list[Problem] = []
    if robots.outcome == "unreachable":
        out.append(problem("robots-unreachable", url, robots.reason))
    elif robots.outcome == "unavailable" and robots.status is not None and robots.status < 300:
        out.append(problem("robots-html", url, robots.reason))
    elif robots.outcome == "unavailable":
        out.append(problem("robots-absent", url, robots.reason))
    if truncated:
        out.append(problem("robots-too-large", url, "robots.txt is larger than 500 KiB; the rest was not read"))
    if content_type is not None and robots.outcome == "parsed":
        media = content_type.split(";", 1)[0].strip().lower()
        if media != "text/plain":
            out.append(problem("robots-content-type", url,
                               f"robots.txt is served as {content_type!r}, not text/plain"))
    for found in robots.findings:
        if found.code == "robots-fetch" or (found.code == "robots-too-large" and truncated):
            continue  # said above, from the fetch outcome
        out.append(from_finding(found, url))
    if robots.outcome == "parsed":
        out.extend(_blocking_groups(robots, url))
        out.extend(_stray_purpose_tokens(robots, url, base))
    return out


def _stray_purpose_tokens(robots: RobotsTxt, url: str, base: str) -> list[Problem]:
    """``User-agent: fairfetch-ai-train``: shaped like our purpose tokens, but no crawl of ours obeys it."""
    ours = {token.lower(): usages for token, usages in purpose_tokens(base).items()}
    prefix = base.lower() + "-"
    out = []
    for group in robots.parsed.groups:
        for value, line in zip(group.agents, group.agent_lines, strict=True):
            lead = LEADING_TOKEN.match(value.lower())
            token = lead.group() if lead else value.lower()
            if not token.startswith(prefix) or token in ours:
                continue
            closest = get_close_matches(token, list(ours), n=1, cutoff=0)[0]
            named = ", ".join(f"{t} for {' and '.join(u.value for u in usages)}" for t, usages in ours.items())
            out.append(problem(
                "robots-unknown-purpose-token", url,
                f"'User-agent: {value}' is no token {base} crawls under ({named}); its group applies to none "
                f"of them, and each falls back to the group of its own token, of {base}, or of '*'",
                line=line, suggestion=closest,
            ))
    return out


def _blocking_groups(robots: RobotsTxt, url: str) -> list[Problem]:
    """A group naming ``*`` beside named crawlers that disallows everything: everyone is blocked."""
    out = []
    for group in robots.parsed.groups:
        agents = [a.strip() for a in group.agents]
        named = [a for a in agents if a != "*"]
        if "*" not in agents or not named:
            continue
        blocks = [(line, raw) for allow, pattern, line, raw in group.rules if not allow and pattern == "/"]
        opens = [1 for allow, pattern, _, _ in group.rules if allow and pattern in ("/", "/*")]
        if not blocks or opens:
            continue
        line, raw = blocks[0]
        ai = [_AI_TOKENS[a.lower()] for a in named if a.lower() in _AI_TOKENS]
        who = ", ".join(ai or named)
        out.append(problem(
            "robots-group-blocks-all", url,
            f"'{raw}' is in a group that names '*' as well as {who}: it blocks every crawler, "
            "search engines included",
            line=line, suggestion=who,
        ))
    return out


def resolve_ref(ref: LicenseRef, robots_url: str) -> tuple[LicenseRef, Problem | None]:
    """A relative robots.txt ``License:`` URL resolved against robots.txt, and the problem saying so."""
    try:
        scheme = urlsplit(ref.url).scheme
    except ValueError:  # not a URL at all: left to the caller, which reads it as unreadable
        return ref, None
    if ref.via != "robots" or ref.inline is not None or scheme:
        return ref, None
    absolute = urljoin(robots_url, ref.url)
    return ref.model_copy(update={"url": absolute}), problem(
        "rsl-relative-url", robots_url,
        f"License {ref.url!r} is a relative URL; read as {absolute}", line=ref.line, suggestion=absolute)


def licence_problems(source: LicenseSource, *, disallowed: bool = False, robots_url: str | None = None) -> list[Problem]:
    """An RSL licence: not obtained or unreadable, disallowed, each finding of the reader, over http."""
    ref = source.ref
    where = ref.url
    out: list[Problem] = []
    declared = f" (declared {_declared(source)})"
    if disallowed:
        in_robots = ref.via == "robots" and robots_url is not None
        out.append(problem("rsl-disallowed", robots_url if in_robots and robots_url else where,
                           f"the licence document {ref.url} is disallowed by robots.txt" + declared,
                           line=ref.line if in_robots else None))
    elif source.error is not None:
        out.append(problem(source.error_code or "rsl-unreadable", where, source.error + declared))
    if source.document is not None:
        out.extend(from_finding(f, where) for f in source.document.findings)
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


def read_tdmrep(body: bytes, url: str, page_url: str, problems: list[Problem], *,
                too_large: bool = False) -> TdmRepFile | None:
    """tdmrep.json as read (None if too large or unreadable), its problems added to ``problems``."""
    if too_large:
        problems.append(problem("tdmrep-too-large", url, "tdmrep.json is larger than 1 MB; ignored"))
        return None
    try:
        file = parse_tdmrep_json(body, source_url=url)
    except SignalError as exc:
        code = "tdmrep-invalid-json" if exc.line is not None else "tdmrep-invalid"
        problems.append(problem(code, url, str(exc), line=exc.line))
        return None
    problems.extend(tdmrep_problems(file, page_url))
    return file


def tdmrep_problems(file: TdmRepFile, page_url: str) -> list[Problem]:
    """tdmrep.json: each finding of the reader, and rules the checked URL never reaches."""
    where = file.source_url or "/.well-known/tdmrep.json"
    out = [from_finding(f, where) for f in file.findings]
    first = file.match(page_url)
    for rule in file.shadowed(page_url):
        out.append(
            problem(
                "tdmrep-shadowed",
                where,
                f"rule #{rule.index + 1} ({rule.location!r}) never applies to {page_url}: the earlier rule "
                f"#{first.index + 1 if first else '?'} ({first.location if first else '?'!r}) matches first",
                element=f"rule #{rule.index + 1}",
            )
        )
    return out


def licence_before_fetch(
    ref: LicenseRef, robots_url: str, problems: list[Problem]
) -> tuple[LicenseRef, LicenseSource | None]:
    """What the live and offline checks do before reading a licence: an inline one is read at once,
    a relative URL is resolved (with its problem), a URL that is not one fails. Returns the resolved
    ref and, when that already settles it, the licence source; problems go into ``problems``."""

    if ref.inline is not None:
        source = LicenseSource.from_body(ref, ref.inline)
        problems.extend(licence_problems(source))
        return ref, source
    ref, relative = resolve_ref(ref, robots_url)
    if relative is not None:
        problems.append(relative)
    try:
        urlsplit(ref.url)
    except ValueError:
        source = LicenseSource.failed(ref, f"the licence URL {ref.url[:200]!r} is not a URL")
        problems.extend(licence_problems(source))
        return ref, source
    return ref, None
