"""The offline check: the same report as a live check, from files before they are published.

Nothing is fetched. The files stand for what the live check would fetch for
``url``: robots.txt at the origin, the RSL licences robots.txt and the page
declare (matched to ``--rsl`` files by the last segment of their URL, or the
only file given), tdmrep.json, and the page's headers and body. Problems
point at the local file as well as the URL it stands for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from crawler.checker.agents import OWN_AGENT, checked_agents, licence_tokens, page_agents
from crawler.checker.lint_files import (
    licence_before_fetch,
    licence_problems,
    read_tdmrep,
    robots_problems,
)
from crawler.checker.problems import Problem, problem
from crawler.checker.report import CheckReport, Document, analyse
from crawler.checker.signals import PageRead, SiteSignals, read_page
from norms.model import LicenseRef
from norms.robots import RobotsTxt, robots_from_fetch
from norms.rsl import LicenseSource
from norms.tdmrep import TdmRepFile

TDMREP_PATH = "/.well-known/tdmrep.json"


@dataclass
class LocalFile:
    """A file's name as the publisher knows it (shown in problems) and its bytes."""

    name: str
    data: bytes


@dataclass
class OfflineInputs:
    url: str
    robots: LocalFile | None = None
    rsl: list[LocalFile] = field(default_factory=list)
    tdmrep: LocalFile | None = None
    html: LocalFile | None = None
    headers: LocalFile | None = None
    status: int | None = None
    agents: tuple[str, ...] | None = None  # default: checked_agents(base)
    base: str = OWN_AGENT  # the crawler's base token (--user-agent)


def read_headers(text: str) -> tuple[int | None, tuple[tuple[str, str], ...]]:
    """``Name: value`` lines (an ``HTTP/1.1 200`` status line gives the status; continuation lines join)."""
    status: int | None = None
    lines: list[tuple[str, str]] = []
    for raw in text.splitlines():
        if raw.startswith("HTTP/"):
            parts = raw.split()
            if len(parts) > 1 and parts[1].isdigit():
                status = int(parts[1])
            continue
        if raw[:1] in (" ", "\t") and lines:
            name, value = lines[-1]
            lines[-1] = (name, f"{value} {raw.strip()}")
        elif ":" in raw:
            name, value = raw.split(":", 1)
            if name.strip():
                lines.append((name.strip().lower(), value.strip()))
    return status, tuple(lines)


def _last_segment(url: str) -> str:
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1].lower()


class _Offline:
    def __init__(self, inputs: OfflineInputs) -> None:
        self.inputs = inputs
        parts = urlsplit(inputs.url)
        self.origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        self.documents: list[Document] = []
        self.problems: list[Problem] = []
        self.files: dict[str, str] = {}  # document URL -> local file name
        self.used: set[int] = set()  # indexes of --rsl files some declaration matched

    def robots(self) -> RobotsTxt:
        url = f"{self.origin}/robots.txt"
        given = self.inputs.robots
        if given is None:
            self.documents.append(Document(kind="robots.txt", url=url, note="not supplied: read as absent"))
            return robots_from_fetch(status=404, source_url=url)
        self.files[url] = given.name
        self.documents.append(Document(kind="robots.txt", url=url, file=given.name, bytes=len(given.data)))
        robots = robots_from_fetch(status=200, body=given.data, source_url=url)
        self.problems.extend(robots_problems(robots, url, base=self.inputs.base))
        return robots

    def licence(self, ref: LicenseRef, robots: RobotsTxt) -> LicenseSource:
        ref, settled = licence_before_fetch(ref, robots.source_url or f"{self.origin}/robots.txt", self.problems)
        if settled is not None:
            return settled
        if urlsplit(ref.url).scheme.lower() in ("http", "https") and not robots.allowed(ref.url, self.inputs.base) \
                and ref.url.lower().startswith(self.origin + "/"):
            source = LicenseSource.failed(ref, "the licence document is disallowed by the origin's robots.txt")
            self.problems.extend(licence_problems(source, disallowed=True, robots_url=robots.source_url))
            index = self._match(ref.url)
            if index is not None:  # still lint the file: it will be read once robots.txt allows it
                self._use(ref, index)
            return source
        index = self._match(ref.url)
        if index is None:
            source = LicenseSource.failed(ref, "the licence file was not supplied (--rsl)")
            self.problems.append(problem("rsl-not-supplied", ref.url,
                                         f"the licence {ref.url} is declared but no --rsl file matches it",
                                         line=ref.line if ref.via == "robots" else None))
            return source
        return self._use(ref, index)

    def _use(self, ref: LicenseRef, index: int) -> LicenseSource:
        given = self.inputs.rsl[index]
        self.used.add(index)
        if ref.url not in self.files:
            self.files[ref.url] = given.name
            self.documents.append(Document(kind="rsl", url=ref.url, file=given.name, bytes=len(given.data)))
        source = LicenseSource.from_body(ref, given.data)
        self.problems.extend(licence_problems(source))
        return source

    def _match(self, url: str) -> int | None:
        files = self.inputs.rsl
        wanted = _last_segment(url)
        for i, f in enumerate(files):
            if f.name.replace("\\", "/").rsplit("/", 1)[-1].lower() == wanted:
                return i
        return 0 if len(files) == 1 else None

    def undeclared(self) -> None:
        for i, given in enumerate(self.inputs.rsl):
            if i in self.used:
                continue
            base = given.name.replace("\\", "/").rsplit("/", 1)[-1]
            url = urljoin(self.origin + "/", base)
            self.files.setdefault(url, given.name)
            self.documents.append(Document(kind="rsl", url=url, file=given.name, bytes=len(given.data),
                                           note="not declared: not applied"))
            ref = LicenseRef(url=url, via="html-link", scope="page")
            self.problems.append(problem("rsl-not-declared", url,
                                         f"{given.name} is not declared in robots.txt or the page, so crawlers "
                                         "never read it; it is not applied", suggestion=base))
            self.problems.extend(licence_problems(LicenseSource.from_body(ref, given.data)))

    def tdmrep(self) -> TdmRepFile | None:
        given = self.inputs.tdmrep
        if given is None:
            return None
        url = f"{self.origin}{TDMREP_PATH}"
        self.files[url] = given.name
        self.documents.append(Document(kind="tdmrep", url=url, file=given.name, bytes=len(given.data)))
        file = read_tdmrep(given.data, url, self.inputs.url, self.problems, too_large=len(given.data) > 1_000_000)
        if file is None:
            return None
        for rule in file.rules:
            if rule.policy is not None and not urlsplit(rule.policy).scheme:
                self.problems.append(problem("tdmrep-policy-invalid", url,
                                             f"tdm-policy {rule.policy!r} is not an absolute URL",
                                             element=f"rule #{rule.index + 1}"))
        return file

    def page(self) -> PageRead | None:
        inputs = self.inputs
        if inputs.html is None and inputs.headers is None:
            return None
        header_status, headers = read_headers(inputs.headers.data.decode("utf-8", "replace")) \
            if inputs.headers is not None else (None, ())
        status = inputs.status or header_status or 200
        body = inputs.html.data if inputs.html is not None else None
        name = " + ".join(f.name for f in (inputs.headers, inputs.html) if f is not None)
        self.files[inputs.url] = name
        self.documents.append(Document(kind="page", url=inputs.url, file=name, status=status,
                                       bytes=len(body or b""),
                                       content_type=next((v for k, v in headers if k == "content-type"), None)))
        agents = page_agents(inputs.agents or checked_agents(inputs.base), inputs.base)
        return read_page(inputs.url, inputs.url, status, headers, body, agents, inputs.base)


def check_files(inputs: OfflineInputs) -> CheckReport:
    """The report for ``inputs.url`` from local files; never fetches, never raises on content."""
    started = time.monotonic()
    run = _Offline(inputs)
    agents = inputs.agents or checked_agents(inputs.base)
    robots = run.robots()
    per_agent: dict[str, list[LicenseSource]] = {}
    by_ref: dict[LicenseRef, LicenseSource] = {}
    for agent in licence_tokens(agents, inputs.base):
        sources = []
        for ref in robots.licenses(agent):
            if ref not in by_ref:
                by_ref[ref] = run.licence(ref, robots)
            sources.append(by_ref[ref])
        per_agent[agent] = sources
    tdmrep = run.tdmrep()
    page = run.page()
    page_sources = [run.licence(ref, robots) for ref in page.refs] if page is not None else []
    run.undeclared()
    if page is not None and page.status is not None and page.status >= 400:
        run.problems.append(problem("page-unreachable", inputs.url, f"the page answers HTTP {page.status}"))
    site = SiteSignals(robots=robots, licences=per_agent, page_licences=page_sources, tdmrep=tdmrep,
                       page=page or PageRead())
    report = analyse(url=inputs.url, agents=agents, site=site, documents=run.documents, problems=run.problems,
                     started=started, mode="offline", base=inputs.base)
    for p in report.problems:
        p.file = run.files.get(p.where)
    for row in report.agents:
        if row.group is not None and row.group.source is not None:
            row.group.file = run.files.get(row.group.source)
    return report


__all__ = ["LocalFile", "OfflineInputs", "check_files", "read_headers"]
