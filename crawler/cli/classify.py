"""``fairfetch classify``: is a page canonical, an aggregator or a community platform, and why.

Online it fetches the page, the origin's robots.txt (and obeys it for our
token) and the first sitemap robots.txt declares, every fetch with a timeout
and a size limit; offline (``--html FILE --url URL``) it reads a saved page.
The proxy settings of the environment (``http_proxy`` ...) are honoured.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from crawler import DEFAULT_TOKEN, user_agent
from crawler.cli.output import console, fail, print_json, print_table
from norms.classify import (
    Classification,
    Registry,
    SitemapStats,
    classify_page,
    load_registry,
    sitemap_stats,
)
from norms.classify.footprint import MAX_BYTES as SITEMAP_MAX_BYTES
from norms.model import SignalError
from norms.robots import RobotsTxt, robots_from_fetch

PAGE_MAX_BYTES = 5 * 1024 * 1024
ROBOTS_MAX_BYTES = 512 * 1024
MAX_REDIRECTS = 5
EXIT_REFUSED = 3


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "classify",
        help="classify a page as canonical, aggregator or community, with evidence",
        description=(
            "Classify a page and its host as canonical (the site is the source), aggregator "
            "(hosts others' content) or community (wiki, Q&A, forum), and derive its permalink, "
            "edit-history and discussion links. 'unknown' means too close to call: treat it like an "
            "aggregator. Online, robots.txt is obeyed for the 'fairfetch' token."
        ),
        epilog=(
            "Examples: 'fairfetch classify https://en.wikipedia.org/wiki/Paris --json'; "
            "'fairfetch classify --html page.html --url https://wiki.example/wiki/Paris'. "
            "Exit codes: 0 classified, 2 usage or fetch error, 3 robots.txt (or an unreachable "
            "robots.txt) forbids fetching the page."
        ),
    )
    p.add_argument("target", nargs="?", metavar="URL", help="the page to fetch and classify")
    p.add_argument("--html", type=Path, metavar="FILE", help="classify this saved page instead of fetching (needs --url)")
    p.add_argument("--url", metavar="URL", help="the address the saved page came from (with --html)")
    p.add_argument("--sitemap", type=Path, metavar="FILE", help="a saved sitemap of the host (with --html)")
    p.add_argument("--registry", type=Path, metavar="FILE", help="platform registry (JSON or TOML) merged over the bundled one")
    p.add_argument("--no-sitemap", action="store_true", help="online: do not fetch the host's sitemap")
    p.add_argument("--timeout", type=_seconds, default=15.0, metavar="SECONDS", help="per-request timeout (default 15)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 300:
        raise argparse.ArgumentTypeError("the timeout must be more than 0 and at most 300 seconds")
    return value


def run(args: argparse.Namespace) -> int:
    try:
        registry = load_registry(args.registry)
    except SignalError as exc:
        return fail(str(exc))
    if args.html is not None:
        if args.target or not args.url:
            return fail("--html needs --url (the page's address) and no positional URL")
        return _offline(args, registry)
    if not args.target:
        return fail("give a URL to fetch, or --html FILE --url URL")
    if args.url or args.sitemap:
        return fail("--url and --sitemap go with --html")
    return _online(args, registry)


def _offline(args: argparse.Namespace, registry: Registry) -> int:
    try:
        body = args.html.read_bytes()
        stats = sitemap_stats(args.sitemap.read_bytes(), url=str(args.sitemap)) if args.sitemap else None
        result = classify_page(args.url, body, sitemap=stats, registry=registry)
    except OSError as exc:
        return fail(f"cannot read {exc.filename}: {exc.strerror}")
    except SignalError as exc:
        return fail(str(exc))
    _show(result, args.json, notes=[])
    return 0


# -- fetching -----------------------------------------------------------------------------


@dataclass
class Fetched:
    url: str
    status: int | None = None
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    redirects: int = 0
    truncated: bool = False
    error: str | None = None


def _fetch(client: httpx.Client, url: str, limit: int) -> Fetched:
    """GET ``url`` reading at most ``limit`` bytes of the (decoded) body."""
    out = Fetched(url=url)
    try:
        with client.stream("GET", url) as resp:
            out.status, out.url = resp.status_code, str(resp.url)
            out.redirects = len(resp.history)
            out.headers = [(k, v) for k, v in resp.headers.multi_items()]
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= limit:
                    out.truncated = True
                    break
            out.body = b"".join(chunks)[:limit]
    except httpx.TooManyRedirects:
        out.error = f"more than {MAX_REDIRECTS} redirects"
    except httpx.HTTPError as exc:
        out.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return out


def _robots(client: httpx.Client, origin: str) -> RobotsTxt:
    url = origin + "/robots.txt"
    got = _fetch(client, url, ROBOTS_MAX_BYTES)
    return robots_from_fetch(status=got.status, body=got.body, redirects=got.redirects, error=got.error, source_url=url)


def _sitemap(client: httpx.Client, robots: RobotsTxt, page_url: str, notes: list[str]) -> SitemapStats | None:
    host = urlsplit(page_url).hostname
    declared = [u for u in robots.sitemaps if urlsplit(urljoin(page_url, u)).hostname == host]
    if not declared:
        notes.append("no same-host sitemap declared in robots.txt")
        return None
    first = urljoin(page_url, declared[0])
    stats = _read_sitemap(client, robots, first, notes)
    if stats is None or stats.kind != "sitemapindex" or not stats.children:
        return stats
    child = stats.children[0]
    if urlsplit(child).hostname != host:
        return stats
    sample = _read_sitemap(client, robots, child, notes)
    if sample is None:
        return stats
    # The index gives the size, its first child a sample of URL shapes.
    return stats.model_copy(update={"templates": sample.templates})


def _read_sitemap(client: httpx.Client, robots: RobotsTxt, url: str, notes: list[str]) -> SitemapStats | None:
    if not robots.allowed(url, DEFAULT_TOKEN):
        notes.append(f"robots.txt disallows the sitemap {url}")
        return None
    got = _fetch(client, url, SITEMAP_MAX_BYTES)
    if got.error or got.status != 200:
        notes.append(f"sitemap {url}: {got.error or f'HTTP {got.status}'}")
        return None
    try:
        return sitemap_stats(got.body, url=url)
    except SignalError as exc:
        notes.append(str(exc))
        return None


def _online(args: argparse.Namespace, registry: Registry) -> int:
    url: str = args.target
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return fail(f"{url!r} is not an http(s) URL")
    origin = f"{parts.scheme}://{parts.netloc}"
    notes: list[str] = []
    timeout = httpx.Timeout(args.timeout)
    headers = {"User-Agent": user_agent(), "Accept": "text/html,application/xhtml+xml,*/*;q=0.5"}
    with httpx.Client(timeout=timeout, headers=headers, follow_redirects=True, max_redirects=MAX_REDIRECTS,
                      trust_env=True) as client:
        robots = _robots(client, origin)
        gate = robots.gate(url, DEFAULT_TOKEN)
        if gate is not None:
            return fail(f"not fetched: {gate.reason} ({gate.evidence.where()})", EXIT_REFUSED)
        page = _fetch(client, url, PAGE_MAX_BYTES)
        if page.error:
            return fail(f"cannot fetch {url}: {page.error}")
        if page.status is None or page.status >= 400:
            return fail(f"cannot classify {url}: HTTP {page.status}")
        if page.url != url and not robots.allowed(page.url, DEFAULT_TOKEN):
            return fail(f"not used: {url} redirected to {page.url}, which robots.txt disallows", EXIT_REFUSED)
        if page.truncated:
            notes.append(f"page body cut at {PAGE_MAX_BYTES:,} bytes")
        stats = None if args.no_sitemap else _sitemap(client, robots, page.url, notes)
    try:
        result = classify_page(page.url, page.body, headers=page.headers, sitemap=stats, registry=registry)
    except SignalError as exc:
        return fail(str(exc))
    _show(result, args.json, notes=notes)
    return 0


# -- output -------------------------------------------------------------------------------


def as_json(result: Classification, notes: list[str]) -> dict[str, Any]:
    data = result.model_dump(mode="json")
    if notes:
        data["notes"] = notes
    return data


def _show(result: Classification, json_out: bool, *, notes: list[str]) -> None:
    if json_out:
        print_json(as_json(result, notes))
        return
    scores = ", ".join(f"{k} {v:g}" for k, v in result.scores.items())
    rows: list[tuple[str, Any]] = [
        ("url", result.url),
        ("source class", result.source_class.value),
        ("host class", result.host_class.value),
        ("page role", result.page_role),
        ("platform", result.platform),
        ("scores", f"{scores} (margin {result.margin:g})"),
    ]
    rows += [(name.replace("_", " "), value) for name, value in result.links.model_dump().items() if value]
    print_table("classification", ("field", "value"), rows)
    print_table(
        "evidence",
        ("marker", "class", "points", "where", "value"),
        [(e.marker, e.source_class.value, f"{e.weight:+g}", e.where, e.raw) for e in result.evidence],
    )
    if result.source_class.value == "unknown":
        console.print("unknown: the evidence is too close to call; treat this source like an aggregator.")
    for note in notes:
        console.print(f"note: {note}")
