"""One live check of a URL: fetch what the site publishes, then ``report.analyse`` it.

The checker fetches like fairfetch crawls: robots.txt first, then only what
robots.txt allows for the ``fairfetch`` token (or ``--user-agent``'s; RSL licences on the same
origin, ``/.well-known/tdmrep.json``, the ``tdm-policy`` it names, the page).
A site that disallows fairfetch still gets its robots.txt analysed, but its
page is not requested. Every fetch goes through the guard and shares one
deadline (``fetch``).
"""

from __future__ import annotations

import contextlib
import time
from functools import partial
from urllib.parse import urljoin, urlsplit

import anyio

from crawler.checker.agents import OWN_AGENT, checked_agents, licence_tokens, page_agents
from crawler.checker.fetch import Fetched, Fetcher, Limits, proxy_for
from crawler.checker.guard import Refused, Unresolvable, guard
from crawler.checker.lint_files import (
    licence_before_fetch,
    licence_problems,
    read_tdmrep,
    robots_problems,
)
from crawler.checker.problems import Problem, problem
from crawler.checker.report import CheckReport, Document, analyse
from crawler.checker.signals import PageRead, SiteSignals, read_page
from norms import ALL_USAGES, SignalError
from norms.model import LicenseRef
from norms.purposes import tokens_for
from norms.robots import ROBOTS_MAX_BYTES, RobotsTxt, robots_from_fetch
from norms.rsl import MAX_DOCUMENT_BYTES, LicenseSource
from norms.tdmrep import TdmRepFile
from norms.urls import normalize_url

TDMREP_PATH = "/.well-known/tdmrep.json"
TDMREP_MAX_BYTES = 1_000_000
POLICY_MAX_BYTES = 64 * 1024


def validate_target(url: str, *, allow_private: bool = False) -> None:
    """Raise ``Refused`` for a URL the checker will not fetch (before anything is fetched)."""
    try:
        normalize_url(url)  # what norms.evaluate decides on; a URL it cannot read is refused here
    except SignalError as exc:
        raise Refused(str(exc)) from exc
    # An unresolvable name is no refusal: the check runs and reports the documents unreachable.
    with contextlib.suppress(Unresolvable):
        guard(url, allow_private=allow_private, proxied=proxy_for(url) is not None, timeout=5.0)


def _document(kind: str, doc: Fetched, note: str | None = None) -> Document:
    ctype = next((v for k, v in doc.headers if k == "content-type"), None)
    return Document(kind=kind, url=doc.url, status=doc.status, error=doc.error, redirects=doc.redirects,
                    bytes=len(doc.body or b""), truncated=doc.truncated, content_type=ctype, note=note)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


class _Check:
    def __init__(self, url: str, limits: Limits, base: str) -> None:
        self.url = url
        self.base = base
        self.fetcher = Fetcher(limits)
        self.origin = _origin(url)
        self.documents: list[Document] = []
        self.problems: list[Problem] = []
        self._licences: dict[str, Fetched] = {}

    async def robots(self) -> RobotsTxt:
        robots_url = f"{self.origin}/robots.txt"
        doc = await self.fetcher.fetch(robots_url, max_bytes=ROBOTS_MAX_BYTES)
        self.documents.append(_document("robots.txt", doc))
        robots = robots_from_fetch(status=doc.status, body=doc.body, redirects=doc.redirects, error=doc.error,
                                   source_url=robots_url)
        ctype = next((v for k, v in doc.headers if k == "content-type"), None)
        self.problems.extend(robots_problems(robots, robots_url, truncated=doc.truncated,
                                             content_type=ctype if doc.status == 200 else None, base=self.base))
        return robots

    async def licence(self, ref: LicenseRef, robots: RobotsTxt) -> LicenseSource:
        ref, settled = licence_before_fetch(ref, robots.source_url or f"{self.origin}/robots.txt", self.problems)
        if settled is not None:
            return settled
        if urlsplit(ref.url).scheme.lower() in ("http", "https") and not robots.allowed(ref.url, self.base) \
                and _origin(ref.url) == self.origin:
            source = LicenseSource.failed(ref, "the licence document is disallowed by the origin's robots.txt")
            self.problems.extend(licence_problems(source, disallowed=True, robots_url=robots.source_url))
            return source
        got = self._licences.get(ref.url)
        if got is None:
            got = await self.fetcher.fetch(ref.url, max_bytes=MAX_DOCUMENT_BYTES)
            self._licences[ref.url] = got
            self.documents.append(_document("rsl", got))
        if got.error is not None:
            source = LicenseSource.failed(ref, got.error)
        elif got.status != 200 or got.body is None:
            source = LicenseSource.failed(ref, f"HTTP {got.status} for the licence document")
        elif got.truncated:
            source = LicenseSource.failed(ref, "licence document larger than the size limit")
        else:
            source = LicenseSource.from_body(ref, got.body)
        self.problems.extend(licence_problems(source))
        return source

    async def tdmrep(self, robots: RobotsTxt) -> TdmRepFile | None:
        url = f"{self.origin}{TDMREP_PATH}"
        if not robots.allowed(url, self.base):
            self.documents.append(Document(kind="tdmrep", url=url, note="not fetched: robots.txt disallows it"))
            return None
        doc = await self.fetcher.fetch(url, max_bytes=TDMREP_MAX_BYTES)
        self.documents.append(_document("tdmrep", doc))
        if doc.error is not None or doc.status != 200 or doc.body is None:
            return None
        file = read_tdmrep(doc.body, url, self.url, self.problems, too_large=doc.truncated)
        if file is not None:
            await self.policies(file)
        return file

    async def policies(self, file: TdmRepFile) -> None:
        """Each tdm-policy the file names must answer: miners who want a licence look there."""
        seen: set[str] = set()
        for rule in file.rules:
            if rule.policy is None or rule.policy in seen:
                continue
            seen.add(rule.policy)
            url = urljoin(file.source_url or self.origin, rule.policy)
            got = await self.fetcher.fetch(url, max_bytes=POLICY_MAX_BYTES)
            self.documents.append(_document("tdm-policy", got))
            if got.error is not None or got.status is None or got.status >= 400:
                self.problems.append(problem(
                    "tdmrep-policy-unreachable", file.source_url or url,
                    f"rule #{rule.index + 1}: tdm-policy {rule.policy} cannot be fetched "
                    f"({got.error or f'HTTP {got.status}'})", element=f"rule #{rule.index + 1}"))


async def check_async(url: str, *, limits: Limits | None = None, agents: tuple[str, ...] | None = None,
                      base: str = OWN_AGENT) -> CheckReport:
    """Check ``url`` live as ``base`` (``--user-agent``) crawls; ``agents`` default to ``checked_agents(base)``.

    Raises ``Refused`` for a target the guard refuses; otherwise always reports.
    """
    limits = limits or Limits()
    agents = agents or checked_agents(base)
    await anyio.to_thread.run_sync(partial(validate_target, url, allow_private=limits.allow_private))
    started = time.monotonic()
    run = _Check(url, limits, base)
    robots = await run.robots()

    # robots.txt License lines: each token's group may name its own; fetch each URL once.
    per_agent: dict[str, list[LicenseSource]] = {}
    by_ref: dict[LicenseRef, LicenseSource] = {}
    for agent in licence_tokens(agents, base):
        sources = []
        for ref in robots.licenses(agent):
            if ref not in by_ref:
                by_ref[ref] = await run.licence(ref, robots)
            sources.append(by_ref[ref])
        per_agent[agent] = sources
    tdmrep = await run.tdmrep(robots)

    page: PageRead | None = None
    page_sources: list[LicenseSource] = []
    if any(robots.allowed(url, token) for token in tokens_for(robots, base, ALL_USAGES)):
        got = await run.fetcher.fetch(url)
        run.documents.append(_document("page", got))
        if got.error is not None or got.status is None:
            run.problems.append(problem("page-unreachable", url, got.error or "no answer"))
        else:
            page = read_page(url, got.final_url, got.status, got.headers, got.body, page_agents(agents, base), base)
            for ref in page.refs:
                page_sources.append(await run.licence(ref, robots))
            if got.status >= 400:
                run.problems.append(problem("page-unreachable", url, f"the page answered HTTP {got.status}"))
    else:
        run.documents.append(
            Document(kind="page", url=url, note=f"not fetched: robots.txt disallows it for {base}"))
    site = SiteSignals(robots=robots, licences=per_agent, page_licences=page_sources, tdmrep=tdmrep,
                       page=page or PageRead())
    return analyse(url=url, agents=agents, site=site, documents=run.documents, problems=run.problems,
                   started=started, mode="live", base=base)


def check(url: str, *, limits: Limits | None = None, agents: tuple[str, ...] | None = None,
          base: str = OWN_AGENT) -> CheckReport:
    """``check_async`` from synchronous code (the CLI, tests)."""
    return anyio.run(partial(check_async, url, limits=limits, agents=agents, base=base))


__all__ = ["Limits", "Refused", "check", "check_async", "validate_target"]
