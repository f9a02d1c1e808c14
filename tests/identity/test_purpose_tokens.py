"""One product token per purpose: robots.txt groups chosen per purpose, never bypassed, sent in the User-Agent."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.web import FixtureWeb
from fixtures.web.sites_identity import TOKENS_HOST, TOKENS_ROBOTS
from norms import Usage, evaluate
from norms.purposes import (
    GroupChoice,
    evaluate_purposes,
    governing_group,
    request_tokens,
    robots_token,
)
from norms.robots import parse_robots
from norms.robots_tags import robots_directives
from norms.tokens import purpose_token, purpose_tokens, token_family
from tests.crawler.crawlrun import run_crawl

ROBOTS = parse_robots(TOKENS_ROBOTS.encode(), source_url=f"http://{TOKENS_HOST}/robots.txt")
URL = f"http://{TOKENS_HOST}/drafts/plan"


def test_tokens_and_their_family() -> None:
    assert [purpose_token("fairfetch", u) for u in Usage] == [
        "fairfetch-search", "fairfetch-ai", "fairfetch-ai", "fairfetch-train"]
    assert token_family("fairfetch-train") == {"fairfetch-train", "fairfetch"}
    assert token_family("FairFetch") == {"fairfetch"}
    assert token_family("-ai") == {"-ai"}


def test_each_purpose_uses_its_tokens_group_else_the_base_group() -> None:
    assert robots_token(ROBOTS, "fairfetch", Usage.AI_TRAIN) == "fairfetch-train"
    assert robots_token(ROBOTS, "fairfetch", Usage.SEARCH) == "fairfetch-search"
    assert robots_token(ROBOTS, "fairfetch", Usage.AI_INPUT) == "fairfetch"  # no fairfetch-ai group
    assert robots_token(None, "fairfetch", Usage.AI_TRAIN) == "fairfetch"


def test_the_governing_group_and_its_user_agent_lines() -> None:
    """What the checker shows: which group governs each purpose, and the User-agent line naming it."""
    assert purpose_tokens("acme") == {"acme-search": (Usage.SEARCH,), "acme-ai": (Usage.AI_INDEX, Usage.AI_INPUT),
                                      "acme-train": (Usage.AI_TRAIN,)}
    assert governing_group(ROBOTS, "fairfetch", Usage.AI_TRAIN) == GroupChoice(
        token="fairfetch-train", chosen="purpose", group="fairfetch-train", lines=(2,))
    assert governing_group(ROBOTS, "fairfetch", Usage.AI_INPUT) == GroupChoice(
        token="fairfetch", chosen="base", group="fairfetch", lines=(8,))
    assert governing_group(ROBOTS, "acme", Usage.SEARCH) == GroupChoice(
        token="acme", chosen="*", group="*", lines=(12,))
    assert governing_group(None, "fairfetch", Usage.SEARCH).chosen == "none"
    # a versioned value names the token; two groups naming it both apply, each with its own line
    two = parse_robots(b"User-agent: other\nUser-agent: FairFetch-Train/2.0\nDisallow: /a\n\n"
                       b"User-agent: fairfetch-train\nDisallow: /b\n")
    assert governing_group(two, "fairfetch", Usage.AI_TRAIN).lines == (2, 5)
    assert governing_group(two, "fairfetch", Usage.SEARCH) == GroupChoice(token="fairfetch", chosen="none", group=None)


def test_a_train_group_disallow_is_never_bypassed() -> None:
    train = evaluate_purposes(f"http://{TOKENS_HOST}/guide", base_token="fairfetch", purposes=["ai-train"],
                              robots=ROBOTS)
    assert not train.fetch.allowed
    # ...while the base group alone (Content-Signal: ai-train=yes) would have let it be fetched.
    assert evaluate(f"http://{TOKENS_HOST}/guide", user_agent="fairfetch", purposes=["ai-train"],
                    robots=ROBOTS).fetch.allowed


def test_several_purposes_fetch_if_one_group_allows_and_keep_each_decision() -> None:
    verdict = evaluate_purposes(URL, base_token="fairfetch", purposes=["search", "ai-train", "ai-input"],
                                robots=ROBOTS)
    assert verdict.fetch.allowed  # fairfetch-search may fetch /drafts/
    assert verdict.allowed("search")
    assert not verdict.allowed("ai-train") and not verdict.allowed("ai-input")
    assert verdict.permitted_purposes == (Usage.SEARCH,)
    assert request_tokens("fairfetch", verdict) == ("fairfetch-search",)
    assert set(verdict.user_agent.split()) == {"fairfetch-search", "fairfetch-train", "fairfetch"}


def test_page_directives_to_the_base_token_bind_every_purpose_token() -> None:
    html = '<html><head><meta name="fairfetch" content="noindex"></head><body>x</body></html>'
    for token in ("fairfetch", "fairfetch-ai", "fairfetch-train"):
        assert robots_directives({}, html, token, source_url="http://a.example/").noindex, token
    assert not robots_directives({}, html, "otherbot", source_url="http://a.example/").noindex
    header = {"X-Robots-Tag": "fairfetch-train: noai"}
    assert robots_directives(header, None, "fairfetch-train", source_url="http://a.example/").noai
    assert not robots_directives(header, None, "fairfetch-ai", source_url="http://a.example/").noai



def crawl(web: FixtureWeb, tmp_path: Path, *purposes: str) -> tuple[list, object]:
    web.reset_log()
    options = [a for p in purposes for a in ("--purpose", p)]
    run = run_crawl(web, [f"http://{TOKENS_HOST}/"], f"sqlite:///{tmp_path / 'tokens.sqlite'}", *options)
    assert run.returncode == 0, run.stderr[-2000:]
    return web.requests_for(TOKENS_HOST), run


UA = "/0.1.0 (+https://github.com/fairfetch/fairfetch)"


@pytest.mark.slow
def test_a_training_crawl_requests_nothing_its_group_forbids(web: FixtureWeb, tmp_path: Path) -> None:
    sent, run = crawl(web, tmp_path, "ai-train")
    assert [r.path for r in sent if not r.path.startswith("/.well-known/")] == ["/robots.txt"]
    rows = [r for r in run.ledger().fetch_log() if r["url"] == f"http://{TOKENS_HOST}/"]  # type: ignore[attr-defined]
    assert rows and rows[0]["outcome"] == "refused" and "fairfetch-train" in rows[0]["reason"]


@pytest.mark.slow
def test_an_ai_input_crawl_goes_out_as_fairfetch_ai_under_the_base_group(web: FixtureWeb, tmp_path: Path) -> None:
    sent, _ = crawl(web, tmp_path)
    pages = [r for r in sent if r.path != "/robots.txt" and not r.path.startswith(("/.well-known", "/sitemap"))]
    assert {r.path for r in pages} == {"/", "/guide"}  # /drafts/ is the base group's Disallow
    assert {r.user_agent for r in pages} == {"fairfetch-ai" + UA}
    assert {r.user_agent for r in sent if r.path == "/robots.txt"} == {"fairfetch" + UA}


@pytest.mark.slow
def test_search_and_training_fetch_for_search_and_store_no_training_use(web: FixtureWeb, tmp_path: Path) -> None:
    sent, run = crawl(web, tmp_path, "search", "ai-train")
    pages = [r for r in sent if r.path in web.site(TOKENS_HOST).expected["search_paths"]]
    assert {r.path for r in pages} == {"/", "/guide", "/drafts/plan"}
    assert {r.user_agent for r in pages} == {"fairfetch-search" + UA}
    page = run.ledger().page(f"http://{TOKENS_HOST}/drafts/plan")  # type: ignore[attr-defined]
    assert page is not None
    assert page["decisions"]["search"]["allowed"] is True
    assert page["decisions"]["ai-train"]["allowed"] is False
