"""The report in the terminal: one table of crawlers by usage, one of problems."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from crawler.checker.report import CheckReport, Decision


def cell(d: Decision) -> str:
    """``allow`` / ``allow*`` (with obligations) / ``deny``, then the deciding signal and line."""
    verdict = ("allow*" if d.conditional else "allow") if d.allowed else "deny"
    if d.signal is None:
        return verdict
    where = f":{d.line}" if d.line is not None else ""
    return f"{verdict} ({d.signal}{where})"


def render_text(report: CheckReport, console: Console) -> None:
    """Print ``report``; every value from the site is escaped for rich markup."""
    table = Table(title=escape(report.url), caption="allow* = allowed with obligations; (signal:line) decided",
                  header_style="bold")
    for col in ["crawler", "fetch", *report.usages]:
        table.add_column(col, overflow="fold")
    for agent in report.agents:
        table.add_row(escape(agent.agent), escape(cell(agent.fetch)),
                      *(escape(cell(agent.usages[u])) for u in report.usages))
    console.print(table)

    why = Table(title="deciding signals", header_style="bold")
    for col in ("signal", "where", "as written", "rule"):
        why.add_column(col, overflow="fold")
    seen: set[tuple[str | None, str | None, int | None, str | None]] = set()
    for agent in report.agents:
        for d in (agent.fetch, *agent.usages.values()):
            key = (d.signal, d.source, d.line, d.raw)
            if d.signal is None or key in seen:
                continue
            seen.add(key)
            where = (d.source or "") + (f" line {d.line}" if d.line is not None else "") + (
                f" {d.element}" if d.element else "")
            why.add_row(escape(d.signal), escape(where), escape(d.raw or ""), escape(d.rule or ""))
    console.print(why)

    docs = Table(title="fetched", header_style="bold")
    for col in ("document", "url", "status", "bytes", "note"):
        docs.add_column(col, overflow="fold")
    for doc in report.documents:
        note = doc.error or doc.note or ("truncated at the size limit" if doc.truncated else "")
        docs.add_row(doc.kind, escape(doc.url), "" if doc.status is None else str(doc.status), str(doc.bytes),
                     escape(note))
    console.print(docs)

    if not report.problems:
        console.print("no problems found in the markup")
        return
    probs = Table(title=f"{len(report.problems)} problem(s)", header_style="bold")
    for col in ("severity", "kind", "where", "problem", "fix"):
        probs.add_column(col, overflow="fold")
    for p in report.problems:
        where = p.where + (f" line {p.line}" if p.line is not None else "")
        probs.add_row(p.severity.value, p.kind, escape(where), escape(p.message), escape(p.fix))
    console.print(probs)
    console.print(f"checked in {report.seconds:.2f} s")
