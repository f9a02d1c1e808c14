"""The report in the terminal: the matrix of crawlers by usage, obligations, signals, problems.

Every value from the site (or the files) goes through ``clean``: control
characters (ESC, BEL, CR, the C1 range) and bidirectional overrides are shown
as ``\\x1b``-style escapes, so a robots.txt line carrying ``ESC]0;…`` cannot
retitle the terminal, move the cursor or hide text. Then rich markup is
escaped, so ``[red]`` in a value is printed as typed.
"""

from __future__ import annotations

import re

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from crawler.checker.report import (
    AgentReport,
    CheckReport,
    Decision,
    binds_all,
    deciding_signals,
    describe_group,
)

# C0 controls but tab and newline, DEL, C1 controls, and the bidi/isolate overrides (Trojan Source).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(value: object) -> str:
    """``value`` as text that is safe to print: unsafe characters as escapes, rich markup escaped."""
    text = _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                       else f"\\u{ord(m.group()):04x}", str(value))
    return escape(text)


def cell(d: Decision | None) -> str:
    """``allow`` / ``allow*`` (with obligations) / ``deny``, then the deciding signal and line; ``n/a``."""
    if d is None:
        return "n/a"
    verdict = ("allow*" if d.conditional else "allow") if d.allowed else "deny"
    if d.signal is None:
        return verdict
    where = f":{d.line}" if d.line is not None else ""
    return f"{verdict} ({d.signal}{where})"


def crawler_cell(agent: AgentReport) -> str:
    """The row's token and, for a purpose token, the robots.txt group it obeys."""
    if agent.group is None:
        return clean(agent.agent)
    return f"{clean(agent.agent)}\n[dim]{clean(describe_group(agent.group, agent.agent))}[/dim]"


def _table(title: str, columns: list[str]) -> Table:
    table = Table(title=title, header_style="bold")
    for col in columns:
        table.add_column(col, overflow="fold")
    return table


def render_text(report: CheckReport, console: Console) -> None:
    """Print ``report`` as tables; every value from the site is cleaned first."""
    mode = "offline check of" if report.mode == "offline" else "check of"
    matrix = Table(title=f"{mode} {clean(report.url)}", header_style="bold",
                   caption="allow* = allowed with obligations; (signal:line) decided; "
                           "n/a = the token does not crawl for that use")
    for col in ["crawler", "fetch", *report.usages]:
        matrix.add_column(col, overflow="fold")
    for agent in report.agents:
        matrix.add_row(crawler_cell(agent), clean(cell(agent.fetch)),
                       *(clean(cell(agent.usages[u])) for u in report.usages))
    console.print(matrix)

    if report.obligations:
        obl = _table("obligations of the allowed uses", ["use", "obligation", "detail", "crawlers"])
        for row in report.obligations:
            who = "every crawler" if binds_all(report, row.usage, row.agents) else ", ".join(row.agents)
            obl.add_row(clean(row.usage), clean(row.kind), clean(row.detail), clean(who))
        console.print(obl)

    why = _table("deciding signals", ["signal", "where", "as written", "rule"])
    for d, where in deciding_signals(report):
        why.add_row(clean(d.signal), clean(where), clean(d.raw or ""), clean(d.rule or ""))
    console.print(why)

    docs = _table("read" if report.mode == "offline" else "fetched",
                  ["document", "url", "file" if report.mode == "offline" else "status", "bytes", "note"])
    for doc in report.documents:
        note = doc.error or doc.note or ("truncated at the size limit" if doc.truncated else "")
        third = doc.file or "" if report.mode == "offline" else ("" if doc.status is None else str(doc.status))
        docs.add_row(clean(doc.kind), clean(doc.url), clean(third), str(doc.bytes), clean(note))
    console.print(docs)

    if not report.problems:
        console.print("no problems found")
    else:
        probs = _table(f"{len(report.problems)} problem(s)", ["severity", "code", "where", "problem", "fix"])
        for p in report.problems:
            probs.add_row(p.severity.value, clean(p.code), clean(p.location()), clean(p.message), clean(p.fix))
        console.print(probs)
    counts = ", ".join(f"{n} {s}" for s, n in report.counts.items())
    console.print(f"checked in {report.seconds:.2f} s" + (f"; {counts}" if counts else ""))
