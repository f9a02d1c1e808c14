"""What a check read from the site (or from files), bundled once for the decisions and the contradictions.

``live`` fetches and ``offline`` reads the same documents; both parse the page
with ``read_page`` and hand a ``SiteSignals`` to ``report.analyse``, which
decides every row from it and gives the same bundle to
``contradictions``: one list of what was read, not two parameter lists that
must be kept in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crawler.checker.agents import OWN_AGENT
from crawler.checker.lint_page import page_problems
from crawler.checker.problems import Problem
from norms.html import HtmlDoc, parse_html
from norms.http import HeaderLines, header_lines
from norms.model import LicenseRef
from norms.paywall import detect_paywall
from norms.robots import RobotsTxt
from norms.robots_tags import RobotsDirectives, robots_directives
from norms.rsl import LicenseSource, discover_from_headers, discover_from_html
from norms.tdmrep import TdmRepFile


@dataclass
class PageRead:
    """A page's response as the analysis needs it: headers, parsed HTML, licences it links, problems."""

    status: int | None = None
    headers: tuple[tuple[str, str], ...] | None = None
    html: bytes | None = None
    lines: HeaderLines = field(default_factory=lambda: header_lines([]))
    doc: HtmlDoc | None = None
    refs: list[LicenseRef] = field(default_factory=list)
    directives: RobotsDirectives | None = None
    problems: list[Problem] = field(default_factory=list)


def read_page(
    url: str, final_url: str, status: int, headers: tuple[tuple[str, str], ...], body: bytes | None,
    agents: tuple[str, ...],
    base: str = OWN_AGENT,
) -> PageRead:
    """Parse a page response (from the network or from files) and list its markup problems."""
    lines = header_lines(list(headers))
    page = PageRead(status=status, headers=headers, lines=lines, refs=discover_from_headers(lines, final_url))
    if body is not None and _is_html(lines):
        page.html = body
        page.doc = parse_html(body)
        page.refs += discover_from_html(page.doc, final_url)
    page.directives = robots_directives(lines, page.doc, base, source_url=url)
    paywall = detect_paywall(page.doc, url) if page.doc is not None and page.doc.root is not None else None
    page.problems = page_problems(url, lines, page.doc, page.directives, paywall, agents)
    return page


def _is_html(lines: HeaderLines) -> bool:
    ctype = next((v for k, v in lines if k == "content-type"), "")
    return not ctype or "html" in ctype.lower()


@dataclass
class SiteSignals:
    """The documents a check read: robots.txt, the licences it and the page declare, tdmrep.json, the page."""

    robots: RobotsTxt
    licences: dict[str, list[LicenseSource]]  # per token of agents.licence_tokens (robots.txt License lines)
    page_licences: list[LicenseSource]
    tdmrep: TdmRepFile | None
    page: PageRead = field(default_factory=PageRead)

    def licences_for(self, token: str) -> list[LicenseSource]:
        """The licences that apply to ``token``: its robots.txt group's, then the page's."""
        return [*self.licences.get(token, []), *self.page_licences]


__all__ = ["PageRead", "SiteSignals", "read_page"]
