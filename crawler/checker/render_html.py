"""The checker's pages: the form (a URL, or files to lint) and the report. No script, ever.

Only the fixed markup below is written unescaped; every string from a report
(URLs, evidence quoted from the site, file names, messages) goes through
``html.escape`` (quotes included), so a hostile robots.txt line, file name or
URL can neither open a tag nor leave an attribute. The style sheet is
inline and fixed: the server's Content-Security-Policy allows exactly its
hash and nothing else (``STYLE_HASH``).
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from urllib.parse import quote

from crawler.checker.report import (
    AgentReport,
    CheckReport,
    Decision,
    binds_all,
    deciding_signals,
    describe_group,
)

STYLE = """
body{font:16px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:76rem;padding:0 1rem;color:#1b1b1b;background:#fff}
h1{font-size:1.6rem;margin:.2rem 0 .6rem}h2{font-size:1.25rem;margin:1.6rem 0 .4rem}
table{border-collapse:collapse;margin:.6rem 0;width:100%}caption{text-align:left;color:#444;padding:.2rem 0}
th,td{border:1px solid #bbb;padding:.35rem .5rem;text-align:left;vertical-align:top}
thead th{background:#f1f1f1}
td.allow{background:#e3f4e3}td.cond{background:#fff4d6}td.deny{background:#fbe2e2}td.na{color:#444;background:#f6f6f6}
.sig{display:block;font-size:.85em;color:#333}th .sig{font-weight:400}
.sev{font-weight:700;padding:.05rem .4rem;border-radius:.3rem;white-space:nowrap}
.sev-error{background:#8b0000;color:#fff}.sev-warning{background:#7a4a00;color:#fff}.sev-info{background:#3d4b5c;color:#fff}
.summary{font-size:1.05rem;margin:.4rem 0}
.forms{display:grid;grid-template-columns:repeat(auto-fit,minmax(22rem,1fr));gap:1.2rem}
fieldset{border:1px solid #bbb;border-radius:.4rem;padding:.8rem}legend{font-weight:700;padding:0 .3rem}
label{display:block;margin:.5rem 0 .15rem;font-weight:600}
input[type=url],input[type=text],input[type=number],textarea{width:100%;box-sizing:border-box;font:inherit;padding:.3rem}
textarea{font-family:ui-monospace,monospace;font-size:.9rem;min-height:5rem}
button{font:inherit;font-weight:700;padding:.4rem 1rem;margin-top:.6rem;background:#0b4f8a;color:#fff;border:0;border-radius:.3rem}
code{overflow-wrap:anywhere;font-family:ui-monospace,monospace}
#problems td:nth-child(2) code{white-space:nowrap}
.fix{color:#1b1b1b}.muted{color:#444}
details{margin:.8rem 0}summary{cursor:pointer;font-weight:600}
.refused{color:#8b0000;font-weight:700}
"""
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()

USAGE_TITLES = {"search": "search", "ai-index": "AI index", "ai-input": "AI input (RAG)", "ai-train": "AI training"}


def page(title: str, body: str) -> str:
    """A complete page around ``body`` (already safe HTML); ``title`` is escaped here."""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def forms(url: str = "") -> str:
    """The two ways in: a live URL (GET, no script needed) or files pasted or uploaded (POST)."""
    live = (
        '<form method=get action="/check"><fieldset><legend>Check a live page</legend>'
        '<label for=url>Page URL</label>'
        f'<input type=url id=url name=url required placeholder="https://your.site/story" value="{escape(url)}">'
        "<button type=submit>Check URL</button></fieldset></form>"
    )
    fields = "".join(
        f'<label for={name}>{label}</label><textarea id={name} name={name} rows=4 spellcheck=false></textarea>'
        f'<label for={name}_file class=muted>or upload {label}</label>'
        f'<input type=file id={name}_file name={name}_file>'
        for name, label in (("robots", "robots.txt"), ("rsl", "RSL licence"), ("tdmrep", "tdmrep.json"),
                            ("html", "page HTML"), ("headers", "response headers"))
    )
    offline = (
        '<form method=post action="/check" enctype="multipart/form-data"><fieldset>'
        "<legend>Check files before publishing</legend>"
        '<label for=offline_url>The page URL they are for</label>'
        f'<input type=url id=offline_url name=url required placeholder="https://your.site/story" value="{escape(url)}">'
        f"{fields}"
        '<label for=status>Page status</label><input type=number id=status name=status min=100 max=599 value=200>'
        "<button type=submit>Check files</button></fieldset></form>"
    )
    return f'<div class=forms>{live}{offline}</div>'


def _decision_cell(d: Decision) -> str:
    css = ("cond" if d.conditional else "allow") if d.allowed else "deny"
    mark = ("✓ allowed, with obligations" if d.conditional else "✓ allowed") if d.allowed else "✗ denied"
    sig = ""
    if d.signal is not None:
        sig = f'<span class=sig>{escape(d.signal)}{escape(f":{d.line}" if d.line is not None else "")}</span>'
    title = ""
    if d.signal is not None:
        where = (d.source or "") + (f" line {d.line}" if d.line is not None else "")
        title = f"{where}: {d.raw or ''} ({d.rule or ''})"
    return f'<td class={css} title="{escape(title)}">{escape(mark)}{sig}</td>'


def _usage_cell(agent: AgentReport, usage: str) -> str:
    d = agent.usages.get(usage)
    if d is not None:
        return _decision_cell(d)
    title = f"{agent.agent} does not crawl for {usage}"
    return f'<td class=na title="{escape(title)}">not applicable</td>'


def _crawler_cell(agent: AgentReport) -> str:
    """The row's token; for a purpose token, the robots.txt group it obeys (with the full URL on hover)."""
    if agent.group is None:
        return f"<th scope=row>{escape(agent.agent)}</th>"
    group = agent.group
    title = f"{group.source or ''}" + (f" line {group.line}" if group.line is not None else "")
    return (f"<th scope=row>{escape(agent.agent)}<span class=sig title=\"{escape(title)}\">"
            f"{escape(describe_group(group, agent.agent))}</span></th>")


def _matrix(report: CheckReport) -> str:
    head = "".join(f"<th scope=col>{escape(USAGE_TITLES.get(u, u))}</th>" for u in report.usages)
    rows = "".join(
        f"<tr data-agent=\"{escape(a.agent)}\">{_crawler_cell(a)}{_decision_cell(a.fetch)}"
        f"{''.join(_usage_cell(a, u) for u in report.usages)}</tr>"
        for a in report.agents
    )
    return (
        "<table id=matrix><caption>What each crawler may do with this page, and the signal that decided "
        "(hover a cell, or open the evidence below); fairfetch's rows are its purpose tokens, each under "
        "the robots.txt group named beneath it</caption>"
        f"<thead><tr><th scope=col>crawler</th><th scope=col>fetch</th>{head}</tr></thead><tbody>{rows}</tbody></table>"
    )


def _obligations(report: CheckReport) -> str:
    if not report.obligations:
        return "<h2>Obligations</h2><p>No allowed use carries an obligation.</p>"
    rows = "".join(
        f"<tr><td>{escape(r.usage)}</td><td>{escape(r.kind)}</td><td>{escape(r.detail)}</td>"
        f"<td>{escape('every crawler' if binds_all(report, r.usage, r.agents) else ', '.join(r.agents))}</td></tr>"
        for r in report.obligations
    )
    return ("<h2>Obligations</h2><table id=obligations><caption>Conditions on the allowed uses: snippet limits, "
            "parts to drop, attribution, payment</caption><thead><tr><th scope=col>use</th><th scope=col>obligation"
            f"</th><th scope=col>detail</th><th scope=col>crawlers</th></tr></thead><tbody>{rows}</tbody></table>")


def _problems(report: CheckReport) -> str:
    if not report.problems:
        return "<h2>Problems</h2><p id=problems>No problems found.</p>"
    rows = "".join(
        f"<tr class=problem data-code=\"{escape(p.code)}\"><td><span class=\"sev sev-{escape(p.severity.value)}\">"
        f"{escape(p.severity.value)}</span></td><td><code>{escape(p.code)}</code></td>"
        f"<td><code>{escape(p.location())}</code></td><td>{escape(p.message)}</td>"
        f"<td class=fix>{escape(p.fix)}</td></tr>"
        for p in report.problems
    )
    return (f"<h2>Problems ({len(report.problems)})</h2><table id=problems><caption>Each with what to change"
            "</caption><thead><tr><th scope=col>severity</th><th scope=col>code</th><th scope=col>where</th>"
            f"<th scope=col>problem</th><th scope=col>fix</th></tr></thead><tbody>{rows}</tbody></table>")


def _evidence(report: CheckReport) -> str:
    rows = [f"<tr><td>{escape(d.signal or '')}</td><td><code>{escape(where)}</code></td>"
            f"<td><code>{escape(d.raw or '')}</code></td><td>{escape(d.rule or '')}</td></tr>"
            for d, where in deciding_signals(report)]
    docs = "".join(
        f"<tr><td>{escape(d.kind)}</td><td><code>{escape(d.url)}</code></td><td>{escape(d.file or '')}</td>"
        f"<td>{'' if d.status is None else d.status}</td><td>{d.bytes}</td>"
        f"<td>{escape(d.error or d.note or ('truncated at the size limit' if d.truncated else ''))}</td></tr>"
        for d in report.documents
    )
    return (
        "<details id=evidence><summary>Deciding signals, as you wrote them</summary><table><thead><tr>"
        "<th scope=col>signal</th><th scope=col>where</th><th scope=col>as written</th><th scope=col>rule</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></details>"
        "<details id=documents><summary>Documents read</summary><table><thead><tr><th scope=col>document</th>"
        "<th scope=col>url</th><th scope=col>file</th><th scope=col>status</th><th scope=col>bytes</th>"
        f"<th scope=col>note</th></tr></thead><tbody>{docs}</tbody></table></details>"
    )


def render_html(report: CheckReport) -> str:
    counts = report.counts
    verdict = (f"{counts.get('error', 0)} error(s), {counts.get('warning', 0)} warning(s), "
               f"{counts.get('info', 0)} note(s)")
    mode = "Offline check of" if report.mode == "offline" else "Check of"
    json_link = ""
    if report.mode == "live":
        json_link = f' · <a href="/api/check?url={escape(quote(report.url.encode("utf-8", "replace"), safe=""))}">JSON</a>'
    parts = [
        f"<h1>{mode} <code>{escape(report.url)}</code></h1>",
        f"<p class=summary id=summary>{escape(verdict)} · checked in {report.seconds:.2f} s{json_link}</p>",
        _matrix(report),
        _problems(report),
        _obligations(report),
        "<h2>Evidence</h2>",
        _evidence(report),
        f"<details id=again><summary>Check again</summary>{forms(report.url)}</details>",
    ]
    return page(f"fairfetch check: {report.url}", "".join(parts))


def render_refusal(message: str, url: str = "", title: str = "Cannot check this") -> str:
    """An error page (refused target, bad input, busy): the message, escaped, and the forms again."""
    return page(f"fairfetch check: {title}",
                f"<h1>{escape(title)}</h1><p class=refused role=alert>{escape(message)}</p>{forms(url)}")


def render_form() -> str:
    return page(
        "fairfetch check",
        "<h1>Check your site as AI crawlers see it</h1><p>What each known AI crawler may do with a page, "
        "which of your signals decided, what obligations apply, and what is broken in robots.txt, RSL "
        "licences, tdmrep.json and the page markup — live, or from files before you publish them.</p>"
        + forms(),
    )
