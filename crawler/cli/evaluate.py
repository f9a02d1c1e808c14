"""``fairfetch evaluate``: decide one URL from signal files on disk, offline.

For publishers checking a robots.txt, licence or page before they deploy it,
and for anyone who wants to see the rules at work without crawling.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import urljoin

from crawler.checker.agents import KNOWN_AGENTS
from crawler.cli.output import console, fail, print_json, print_table
from norms import ALL_USAGES, SignalError, Usage, evaluate
from norms.evaluate import signal_findings
from norms.model import LicenseRef
from norms.robots import parse_robots
from norms.rsl import LicenseSource
from norms.tdmrep import parse_tdmrep_json
from norms.urls import normalize_url


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "evaluate",
        help="decide one URL from signal files on disk (offline)",
        description=(
            "Decide, for every usage, whether URL may be used, from a robots.txt, RSL licences, a "
            "tdmrep.json and a saved response (headers and HTML) on disk. Nothing is fetched."
        ),
        epilog=(
            "Example: fairfetch evaluate https://news.example/story --robots robots.txt "
            "--license license.xml --html story.html --agent GPTBot --agent fairfetch"
        ),
    )
    p.add_argument("url", help="the URL to decide about")
    p.add_argument("--robots", type=Path, metavar="FILE", help="robots.txt of the URL's origin")
    p.add_argument(
        "--license",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="an RSL document that applies (repeatable); robots.txt License lines are matched by file name",
    )
    p.add_argument("--tdmrep", type=Path, metavar="FILE", help="the origin's /.well-known/tdmrep.json")
    p.add_argument(
        "--headers", type=Path, metavar="FILE", help="response headers, one 'Name: value' per line"
    )
    p.add_argument("--html", type=Path, metavar="FILE", help="the response body")
    p.add_argument("--status", type=int, default=None, help="the response status (default 200 with --html)")
    p.add_argument(
        "--agent",
        action="append",
        default=[],
        metavar="TOKEN",
        help="product token to decide for (repeatable; default fairfetch; 'known' = common AI crawlers)",
    )
    p.add_argument(
        "--purpose",
        action="append",
        default=[],
        choices=[u.value for u in ALL_USAGES],
        help="declared purpose (repeatable; default ai-input)",
    )
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.set_defaults(func=run)


def _read_headers(path: Path) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if ":" in raw and not raw.startswith(("HTTP/", " ", "\t")):
            name, value = raw.split(":", 1)
            lines.append((name.strip(), value.strip()))
    return lines


def run(args: argparse.Namespace) -> int:
    agents: list[str] = []
    for a in args.agent or ["fairfetch"]:
        agents.extend(KNOWN_AGENTS if a == "known" else [a])
    purposes = [Usage(p) for p in args.purpose] or [Usage.AI_INPUT]
    try:
        normalize_url(args.url)
    except SignalError as exc:
        return fail(f"invalid URL: {exc}")
    origin = urljoin(args.url, "/")
    try:
        robots = (
            parse_robots(args.robots.read_bytes(), source_url=urljoin(origin, "robots.txt"))
            if args.robots
            else None
        )
        tdmrep = (
            parse_tdmrep_json(args.tdmrep.read_bytes(), source_url=urljoin(origin, ".well-known/tdmrep.json"))
            if args.tdmrep
            else None
        )
        headers = _read_headers(args.headers) if args.headers else None
        html = args.html.read_bytes() if args.html else None
    except OSError as exc:
        return fail(f"cannot read {exc.filename}: {exc.strerror}")
    except SignalError as exc:
        return fail(str(exc))
    status = args.status if args.status is not None else (200 if html is not None or headers else None)

    verdicts = []
    for agent in agents:
        licenses = []
        declared = robots.licenses(agent) if robots else []
        for path in args.license:
            ref = next(
                (r for r in declared if r.url.rstrip("/").rsplit("/", 1)[-1] == path.name),
                LicenseRef(url=path.resolve().as_uri(), via="html-link", scope="page"),
            )
            licenses.append(LicenseSource.from_body(ref, path.read_bytes()))
        verdict = evaluate(
            args.url,
            user_agent=agent,
            purposes=purposes,
            robots=robots,
            licenses=licenses,
            tdmrep=tdmrep,
            status=status,
            headers=headers,
            html=html,
        )
        if not verdict.findings:  # before a response evaluate lists none: the files' own problems
            verdict = verdict.model_copy(
                update={"findings": tuple(signal_findings(robots, licenses, tdmrep))})
        verdicts.append(verdict)

    if args.json:
        print_json([v.model_dump(mode="json") for v in verdicts])
        return 0
    rows = []
    for v in verdicts:
        rows.append(
            [
                v.user_agent,
                "yes" if v.fetch.allowed else "no",
                *("allow" + ("*" if v.usages[u].conditional else "") if v.usages[u].allowed else "deny" for u in ALL_USAGES),
            ]
        )
    print_table(
        f"{args.url}",
        ["agent", "fetch", *(u.value for u in ALL_USAGES)],
        rows,
        caption="allow* = allowed with obligations",
    )
    first = verdicts[0]
    reasons = [["fetch", first.fetch.reason]]
    for u in ALL_USAGES:
        d = first.usages[u]
        reasons.append([u.value, d.reasons[0] if d.reasons else ""])
        for ob in d.obligations:
            reasons.append(["", f"obligation: {ob.kind.value} {ob.detail}".strip()])
    print_table(f"why, for {first.user_agent}", ["decision", "deciding signal and rule"], reasons)
    if first.findings:
        print_table(
            "problems in the files (fairfetch check lints them in full, with fixes)",
            ["severity", "code", "where", "problem"],
            [[f.severity.value, f.code, f.where(), f.message] for f in first.findings],
        )
    if first.exclude_selectors:
        console.print("parts to drop before use: " + ", ".join(first.exclude_selectors))
    return 0
