"""The report as a self-contained HTML page. Every value is escaped: the site controls most of them.

Only the fixed markup below is written unescaped; every string that comes from
a report (URLs, evidence quoted from the site, messages) goes through
``html.escape`` (quotes included), so a hostile robots.txt line or URL can
neither open a tag nor leave an attribute. No script, no external resource:
the server's Content-Security-Policy (``default-src 'none'``) allows none.
"""

from __future__ import annotations

from html import escape

from crawler.checker.render_text import cell
from crawler.checker.report import CheckReport, Decision

STYLE = """
body{font:15px/1.4 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:1rem 0;width:100%}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
td.allow{background:#e8f6e8}td.deny{background:#fbe9e9}
.error{color:#a00}.warning{color:#a60}.info{color:#555}
input[type=url]{width:40rem;max-width:100%}code{word-break:break-all}
"""


def page(title: str, body: str) -> str:
    """A complete page around ``body`` (already safe HTML); ``title`` is escaped here."""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )


def form(value: str = "") -> str:
    return (
        '<form method=get action="check"><label>URL to check: '
        f'<input type=url name=url required value="{escape(value)}"></label> '
        "<button>Check</button></form>"
    )


def _decision_cell(d: Decision) -> str:
    css = "allow" if d.allowed else "deny"
    title = ""
    if d.signal is not None:
        where = (d.source or "") + (f" line {d.line}" if d.line is not None else "")
        title = f"{where}: {d.raw or ''} ({d.rule or ''})"
    return f'<td class={css} title="{escape(title)}">{escape(cell(d))}</td>'


def render_html(report: CheckReport) -> str:
    rows = []
    for agent in report.agents:
        cells = "".join(_decision_cell(agent.usages[u]) for u in report.usages)
        rows.append(f"<tr><th>{escape(agent.agent)}</th>{_decision_cell(agent.fetch)}{cells}</tr>")
    head = "".join(f"<th>{escape(u)}</th>" for u in report.usages)
    parts = [
        f"<h1>Check of <code>{escape(report.url)}</code></h1>",
        form(report.url),
        f"<table><caption>allow* = allowed with obligations; (signal:line) decided</caption>"
        f"<tr><th>crawler</th><th>fetch</th>{head}</tr>{''.join(rows)}</table>",
    ]
    seen: set[tuple[str | None, str | None, int | None, str | None]] = set()
    why = []
    for agent in report.agents:
        for d in (agent.fetch, *agent.usages.values()):
            key = (d.signal, d.source, d.line, d.raw)
            if d.signal is None or key in seen:
                continue
            seen.add(key)
            line = f" line {d.line}" if d.line is not None else ""
            element = f" {d.element}" if d.element else ""
            why.append(
                f"<tr><td>{escape(d.signal)}</td><td><code>{escape((d.source or '') + line + element)}</code></td>"
                f"<td><code>{escape(d.raw or '')}</code></td><td>{escape(d.rule or '')}</td></tr>"
            )
    parts.append("<h2>Deciding signals</h2><table><tr><th>signal</th><th>where</th><th>as written</th>"
                 f"<th>rule</th></tr>{''.join(why)}</table>")
    if report.problems:
        probs = "".join(
            f"<tr><td class={escape(p.severity.value)}>{escape(p.severity.value)}</td><td>{escape(p.kind)}</td>"
            f"<td><code>{escape(p.where + (f' line {p.line}' if p.line is not None else ''))}</code></td>"
            f"<td>{escape(p.message)}</td><td>{escape(p.fix)}</td></tr>"
            for p in report.problems
        )
        parts.append(f"<h2>{len(report.problems)} problem(s)</h2><table><tr><th>severity</th><th>kind</th>"
                     f"<th>where</th><th>problem</th><th>fix</th></tr>{probs}</table>")
    else:
        parts.append("<h2>No problems found in the markup</h2>")
    docs = "".join(
        f"<tr><td>{escape(d.kind)}</td><td><code>{escape(d.url)}</code></td>"
        f"<td>{'' if d.status is None else d.status}</td><td>{d.bytes}</td>"
        f"<td>{escape(d.error or d.note or ('truncated at the size limit' if d.truncated else ''))}</td></tr>"
        for d in report.documents
    )
    parts.append("<h2>Fetched</h2><table><tr><th>document</th><th>url</th><th>status</th><th>bytes</th>"
                 f"<th>note</th></tr>{docs}</table><p>checked in {report.seconds:.2f} s</p>")
    return page(f"fairfetch check: {report.url}", "".join(parts))


def render_refusal(message: str, url: str = "") -> str:
    """The 400 page: the refusal, escaped, and the form again."""
    return page("fairfetch check: refused",
                f"<h1>Cannot check this URL</h1><p class=error>{escape(message)}</p>{form(url)}")


def render_form() -> str:
    return page(
        "fairfetch check",
        "<h1>Check your site</h1><p>What each known AI crawler may do with a page, which signal "
        "decided, and what is broken in the markup.</p>" + form(),
    )
