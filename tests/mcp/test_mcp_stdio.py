"""``fairfetch mcp`` end to end: the SDK's stdio client spawns the server; the fixture web serves the pages.

Judged from outside: the tool results the client receives, the fixture
server's request log, and the ledger's rows.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jsonschema
import lxml.html
import pytest

from crawler.ledger import Ledger
from fixtures.web import FixtureWeb
from tests.mcp.session import Mcp, stdio_session, text_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb(bench_hosts=0, bench_pages_per_host=0, hang_seconds=5) as w:
        yield w


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('mcp') / 'ledger.sqlite'}"


@pytest.fixture(scope="module")
def mcp(web: FixtureWeb, db_url: str) -> Iterator[Mcp]:
    with stdio_session(web, "--db", db_url) as session:
        yield session


def paragraphs(web: FixtureWeb, url: str) -> list[str]:
    """Sentences of the page as served (fetched directly through the proxy), to look for leaks."""
    body = httpx.get(url, proxy=web.proxy_url, timeout=10).text
    doc = lxml.html.fromstring(body)
    found = [" ".join(p.text_content().split()) for p in doc.iter("p", "section")]
    return [s[:60] for s in found if len(s) >= 60]


def ours(web: FixtureWeb, host: str) -> list[Any]:
    return [r for r in web.requests_for(host) if "fairfetch" in (r.user_agent or "")]


def test_tools_prompt_and_resource_template_are_declared(mcp: Mcp) -> None:
    tools = {t.name: t for t in mcp.run("list_tools").tools}
    assert set(tools) == {"fetch", "check_url", "shape_answer", "attribution_instructions"}
    fetch = tools["fetch"]
    assert fetch.output_schema is not None and {"allowed", "final_url", "citation", "obligations"} <= set(
        fetch.output_schema["properties"])
    assert set(fetch.input_schema["properties"]) >= {"url", "purpose", "max_length", "start_index", "raw"}
    assert fetch.input_schema["required"] == ["url"]
    assert fetch.annotations.open_world_hint is True and fetch.annotations.read_only_hint is False
    shape = tools["shape_answer"].annotations
    assert shape.read_only_hint is True and shape.open_world_hint is False
    prompts = mcp.run("list_prompts").prompts
    assert [p.name for p in prompts] == ["fetch"]
    assert [(a.name, a.required) for a in prompts[0].arguments] == [("url", True), ("purpose", False)]
    templates = mcp.run("list_resource_templates").resource_templates
    assert [t.uri_template for t in templates] == ["ledger://page/{url}"]


def test_allowed_page_gives_its_text_with_citation_and_obligations(mcp: Mcp, web: FixtureWeb) -> None:
    url = "http://open.example/news/dredging-plan"
    result = mcp.call("fetch", url=url, max_length=100_000)
    assert not result.is_error, text_of(result)
    text = text_of(result)
    for sentence in paragraphs(web, url)[:3]:
        assert sentence in " ".join(text.split())
    data = result.structured_content
    assert data["allowed"] is True and data["url"] == url and data["final_url"] == url
    assert data["citation"]["title"] and data["citation"]["url"] == url
    assert data["obligations"] is not None and data["next_start_index"] is None
    schema = next(t for t in mcp.run("list_tools").tools if t.name == "fetch").output_schema
    jsonschema.validate(data, schema)
    # As in a crawl: signal documents under the base token, the page under its purpose's token.
    agents = {r.path: r.user_agent for r in ours(web, "open.example")}
    assert agents["/robots.txt"].startswith("fairfetch/0.1.0 (+")
    assert agents["/news/dredging-plan"].startswith("fairfetch-ai/0.1.0 (+")
    assert all("MCP; autonomous" in a for a in agents.values())


REFUSALS = [
    # url, deciding signal, where it must be found, robots forbids requesting the page
    ("http://agents.example/members/welcome", "robots.txt", "http://agents.example/robots.txt", True),
    ("http://robots5xx.example/", "robots.txt", "http://robots5xx.example/robots.txt", True),
    ("http://noai.example/recipes/bread", "meta-robots", "http://noai.example/recipes/bread", False),
    ("http://paywall.example/news/council-vote", "paywall", "http://paywall.example/news/council-vote", False),
    ("http://rsl.example/premium/investigation", "rsl", "http://rsl.example/license.xml", True),
    ("http://pay.example/articles/comet-season", "pay-per-crawl", "http://pay.example/articles/comet-season", False),
    ("http://signals.example/stories/viaduct", "content-signal", "http://signals.example/robots.txt", True),
    ("http://signals.example/open/station-cafe", "content-usage", "http://signals.example/open/station-cafe",
     False),
    ("http://tdm.example/reports/soil-survey", "tdmrep", "http://tdm.example/.well-known/tdmrep.json", True),
]


@pytest.mark.parametrize(("url", "signal", "source", "never_requested"), REFUSALS,
                         ids=[u.split("//")[1] for u, *_ in REFUSALS])
def test_refused_with_the_deciding_signal_and_no_text(
    mcp: Mcp, web: FixtureWeb, url: str, signal: str, source: str, never_requested: bool
) -> None:
    result = mcp.call("fetch", url=url)
    assert result.is_error
    text = text_of(result)
    data = result.structured_content
    assert data["allowed"] is False
    assert data["decided_by"]["signal"] == signal, data["decided_by"]
    assert data["decided_by"]["source"] == source
    assert f"{signal} at {source}" in text
    ev = data["decided_by"]
    if signal == "robots.txt" and "robots5xx" not in url:
        assert ev["line"] is not None and f"{source} line {ev['line']}" in text  # file and line
    elif signal != "robots.txt":
        assert ev["line"] is not None or ev["element"], ev  # where in the document
        assert f"{source} {ev['element']}" in text if ev["line"] is None else f"line {ev['line']}" in text
    dumped = text + json.dumps(data)
    path = url.split("/", 3)[3]
    if never_requested:
        assert all(r.path != "/" + path for r in ours(web, url.split("/")[2]))
    else:
        for sentence in paragraphs(web, url):
            assert sentence not in " ".join(dumped.split())


def test_redirect_targets_are_checked_like_new_urls(mcp: Mcp, web: FixtureWeb) -> None:
    result = mcp.call("fetch", url="http://cross-redirect.example/go/members")
    data = result.structured_content
    assert result.is_error and data["final_url"] == "http://agents.example/members/welcome"
    assert data["decided_by"]["source"] == "http://agents.example/robots.txt"
    assert all(r.path != "/members/welcome" for r in ours(web, "agents.example"))


def test_partly_paywalled_page_comes_without_its_walled_section(mcp: Mcp, web: FixtureWeb) -> None:
    url = "http://paywall.example/news/dredging-costs"
    doc = lxml.html.fromstring(httpx.get(url, proxy=web.proxy_url, timeout=10).text)
    section = doc.xpath("//section[@class='paywalled-content']")[0]
    walled = [" ".join(p.text_content().split()) for p in section.iter("p")]
    section.drop_tree()
    free = " ".join(doc.text_content().split())
    free_first = next(" ".join(p.text_content().split()) for p in doc.iter("p") if len(p.text_content()) > 80)
    only_walled = [s for s in walled if s not in free]  # the prose generator repeats sentences
    assert only_walled
    for raw in (False, True):
        result = mcp.call("fetch", url=url, raw=raw, max_length=200_000)
        assert not result.is_error
        got = " ".join(text_of(result).split())
        assert free_first[:60] in got  # the free text is there
        assert not any(s in got for s in only_walled)
    assert 'class="paywalled-content"' not in text_of(result)  # raw HTML: the element is gone


def test_truncation_and_start_index(mcp: Mcp, web: FixtureWeb) -> None:
    url = "http://open.example/news/ferry-timetable"
    first = mcp.call("fetch", url=url, max_length=120)
    data = first.structured_content
    assert data["next_start_index"] == 120 and data["length"] > 240
    assert "Call the fetch tool with a start_index of 120" in text_of(first)
    second = mcp.call("fetch", url=url, max_length=120, start_index=120)
    whole = mcp.call("fetch", url=url, max_length=100_000)
    full = whole.structured_content
    assert full["next_start_index"] is None and full["length"] == data["length"]
    piece = lambda r: text_of(r).split("\n\n", 1)[1].split("\n\n<error>")[0]  # noqa: E731
    assert piece(first) + piece(second) == piece(whole)[:240]
    past = mcp.call("fetch", url=url, start_index=10**6)
    assert "No more content available" in text_of(past)
    # Paging reads the page once: the pieces come from the server's cache.
    assert len([r for r in ours(web, "open.example") if r.path == "/news/ferry-timetable"]) == 1


def test_crawl_delay_spaces_two_fetches_to_one_origin(mcp: Mcp, web: FixtureWeb) -> None:
    for path in ("/diary/week-1", "/diary/week-2"):
        assert not mcp.call("fetch", url=f"http://slow-delay.example{path}").is_error
    log = ours(web, "slow-delay.example")
    paths = [r.path for r in log]
    assert paths[0] == "/robots.txt" and "/diary/week-1" in paths and "/diary/week-2" in paths
    times = [r.time for r in log]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps and min(gaps) >= 2.0, (paths, gaps)


def test_shape_answer_over_fetched_sources(mcp: Mcp, web: FixtureWeb) -> None:
    good = "http://open.example/about"
    bad = "http://noai.example/recipes/stock"
    assert not mcp.call("fetch", url=good).is_error
    assert mcp.call("fetch", url=bad).is_error
    sentence = paragraphs(web, good)[0]
    full = next(s for s in text_of(mcp.call("fetch", url=good, max_length=100_000)).split(". ") if sentence[:40] in s)
    answer = f"{full.strip()}."
    result = mcp.call("shape_answer", answer=answer, sources=[good, bad], query="What about the harbour?")
    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert [c["url"] for c in data["citations"]] and all(c["url"] == good for c in data["citations"])
    assert any(d["url"] == bad for d in data["dropped_sources"])
    assert data["openai_annotations"] and data["openai_annotations"][0]["type"] == "url_citation"
    assert data["anthropic_citations"] and data["actions"]
    guide = mcp.call("attribution_instructions", sources=[good], query="What about the harbour?")
    assert not guide.is_error and good in text_of(guide)
    # A community page: the citation carries the same edit-history and discussion links as fetch gave.
    wiki = "http://wiki.example/wiki/Porthbay_Harbour"
    anchor = mcp.call("fetch", url=wiki).structured_content["citation"]
    assert anchor["source_class"] == "community" and anchor["edit_history_url"] and anchor["discussion_url"]
    first = text_of(mcp.call("fetch", url=wiki, max_length=100_000)).split("\n\n", 2)[1].split(". ")[1]
    cited = mcp.call("shape_answer", answer=first + ".", sources=[wiki]).structured_content["citations"][0]
    assert (cited["edit_history_url"], cited["discussion_url"]) == (anchor["edit_history_url"], anchor["discussion_url"])
    missing = mcp.call("shape_answer", answer="x", sources=["http://open.example/never-fetched"])
    assert missing.is_error and "fetch" in text_of(missing)


def test_check_url_gives_the_matrix_with_deciding_signals(mcp: Mcp) -> None:
    result = mcp.call("check_url", url="http://agents.example/", agents=["fairfetch", "GPTBot"])
    assert not result.is_error, text_of(result)
    agents = {a["agent"]: a for a in result.structured_content["agents"]}
    gpt = agents["GPTBot"]["usages"]["ai-input"]
    assert gpt["allowed"] is False and gpt["signal"] == "robots.txt" and gpt["line"] == 10
    assert agents["fairfetch"]["usages"]["ai-input"]["allowed"] is True
    assert "GPTBot" in text_of(result) and "line 10" in text_of(result)


def test_agent_errors_are_clear_tool_errors(mcp: Mcp, web: FixtureWeb) -> None:
    cases = {
        "ftp://open.example/file": "only http and https",
        "not a url": "http",
        "http://127.0.0.1:9/": "--allow-private",
        "http://[::1]/": "loopback",
        "http://10.0.0.1/": "private",
        "http://gates.example/huge": "larger than",
        "http://storm.example/status/1": "HTTP 50",
    }
    for url, words in cases.items():
        result = mcp.call("fetch", url=url)
        assert result.is_error, url
        text = text_of(result)
        assert words in text, (url, text)
        assert "Traceback" not in text
    bad = mcp.call("fetch", url="http://open.example/", max_length=-1)
    assert bad.is_error
    assert not mcp.call("fetch", url="http://open.example/").is_error  # the server is still up


def test_prompt_fetch_is_user_initiated_and_enforced_alike(mcp: Mcp, web: FixtureWeb, db_url: str) -> None:
    allowed = mcp.run("get_prompt", "fetch", {"url": "http://tdm.example/press/new-glasshouse"})
    assert "Contents of http://tdm.example/press/new-glasshouse" in allowed.messages[0].content.text
    refused = mcp.run("get_prompt", "fetch", {"url": "http://noai.example/recipes/pastry"})
    assert refused.messages[0].content.text.startswith("Refused:")
    agents = {r.user_agent for r in ours(web, "tdm.example") if r.path == "/press/new-glasshouse"}
    assert agents and all("user-initiated" in a for a in agents)
    with Ledger(db_url) as ledger:
        page = ledger.page("http://tdm.example/press/new-glasshouse")
        assert page is not None and page["metadata"]["initiated"] == "user-initiated"
        assert "user-initiated" in page["user_agent"] and page["crawl_id"].endswith("-user")


def test_ledger_rows_and_provenance_resource(mcp: Mcp, db_url: str) -> None:
    url = "http://open.example/about"
    assert not mcp.call("fetch", url=url).is_error
    for refused_url in ("http://agents.example/members/plot-allocations", "http://noai.example/recipes/bread",
                        "http://pay.example/articles/comet-season"):
        assert mcp.call("fetch", url=refused_url).is_error
    with Ledger(db_url) as ledger:
        page = ledger.page(url)
        assert page is not None and page["text"] and page["decisions"]["ai-input"]["allowed"] is True
        assert page["signals"] and page["fetch_log"][-1]["outcome"] == "fetched"
        refused = ledger.page("http://noai.example/recipes/bread")
        assert refused is not None and refused["text"] is None
        assert refused["decisions"]["ai-input"]["allowed"] is False
        log = ledger.fetch_log()
        rows = {(r["url"], r["outcome"]) for r in log}
        assert ("http://agents.example/members/plot-allocations", "refused") in rows
        assert ("http://pay.example/articles/comet-season", "refused") in rows
        crawls = {r["crawl_id"] for r in log}
        assert all(c.startswith("mcp-") for c in crawls)
    resource = mcp.run("read_resource", f"ledger://page/{quote(url, safe='')}")
    data = json.loads(resource.contents[0].text)
    assert data["url"] == url and data["decisions"]["ai-input"]["allowed"] is True
    assert Path(db_url.removeprefix("sqlite:///")).exists()
    start = time.monotonic()
    with pytest.raises(Exception, match="no page"):
        mcp.run("read_resource", "ledger://page/" + quote("http://open.example/nowhere", safe=""))
    assert time.monotonic() - start < 10
