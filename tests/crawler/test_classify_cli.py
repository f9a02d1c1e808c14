"""``fairfetch classify``: offline on saved pages, online through the fixture web (robots.txt obeyed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.cli import main
from fixtures.web.harness import FixtureWeb

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "classify" / "pages"
SITEMAPS = PAGES.parent / "sitemaps"


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["classify", *argv, "--json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


# -- offline -----------------------------------------------------------------------------


def test_offline_json_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "--html", str(PAGES / "wikipedia-article.html"),
                    "--url", "https://en.wikipedia.org/wiki/Amsterdam_Airport_Schiphol")
    assert {"source_class", "host_class", "page_role", "platform", "scores", "evidence", "links"} <= set(data)
    assert data["source_class"] == "community" and data["platform"] == "wikipedia"
    links = data["links"]
    assert isinstance(links, dict)
    assert links["edit_history_url"] == "https://en.wikipedia.org/w/index.php?title=Amsterdam_Airport_Schiphol&action=history"
    evidence = data["evidence"]
    assert isinstance(evidence, list) and {"marker", "where", "raw", "weight", "source_class"} <= set(evidence[0])


def test_offline_with_sitemap_file(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "--html", str(PAGES / "plain-small-site.html"), "--url", "https://pmrc.example/",
                    "--sitemap", str(SITEMAPS / "small-club.xml"))
    assert data["source_class"] == "canonical"


def test_offline_human_output_is_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", "--html", str(PAGES / "plain-small-site.html"), "--url", "https://pmrc.example/"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "source class" in out and "unknown" in out and "first-party-quiet" in out
    assert "treat this source like an aggregator" in out


def test_registry_option_overrides_the_bundled_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reg = tmp_path / "reg.toml"
    reg.write_text('[platforms.hackernews]\nsource_class = "aggregator"\n', encoding="utf-8")
    data = run_json(capsys, "--html", str(PAGES / "hackernews-item.html"),
                    "--url", "https://news.ycombinator.com/item?id=41876543", "--registry", str(reg))
    assert data["host_class"] == "aggregator"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--html", "x.html"], "--html needs --url"),
        ([], "give a URL"),
        (["https://a.example/", "--sitemap", "s.xml"], "go with --html"),
        (["--html", "/nonexistent/page.html", "--url", "https://a.example/"], "cannot read"),
        (["--html", str(PAGES / "plain-small-site.html"), "--url", "not-a-url"], "not an http"),
        (["ftp://a.example/"], "not an http"),
        (["--html", str(PAGES / "plain-small-site.html"), "--url", "https://a.example/", "--registry", "/nonexistent.json"],
         "cannot be read"),
    ],
)
def test_usage_errors_exit_2_with_a_message(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", *argv]) == 2
    assert message in " ".join(capsys.readouterr().err.split())


# -- online, through the fixture web proxy ---------------------------------------------------


@pytest.fixture(scope="module")
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb(hang_seconds=2.0) as running:
        yield running


@pytest.fixture
def proxied(web: FixtureWeb, monkeypatch: pytest.MonkeyPatch) -> FixtureWeb:
    for name in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", web.proxy_url)
    monkeypatch.setenv("HTTP_PROXY", web.proxy_url)
    return web


def test_online_fetches_robots_page_and_sitemap(proxied: FixtureWeb, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "http://wiki.example/wiki/Porthbay_Harbour")
    assert data["source_class"] == "community" and data["platform"] == "mediawiki"
    markers = {e["marker"] for e in data["evidence"]}
    assert "generator-wiki" in markers and "small-footprint" in markers
    requested = [r.path for r in proxied.requests() if r.host == "wiki.example"]
    assert requested[0] == "/robots.txt"
    assert "/wiki/Porthbay_Harbour" in requested and "/sitemap.xml" in requested
    assert all(r.user_agent.startswith("fairfetch/") for r in proxied.requests() if r.host == "wiki.example")


def test_online_samples_the_first_child_of_a_sitemap_index(proxied: FixtureWeb, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "http://reviews.example/Hotel_Review-g2001-d1001-Reviews-Harbour_View_Inn-Porthbay.html")
    assert data["source_class"] == "aggregator"
    markers = {e["marker"]: e["weight"] for e in data["evidence"]}
    assert markers["platform-scale"] == 2


def test_online_obeys_robots_disallow(proxied: FixtureWeb, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", "http://wiki.example/index.php?title=Porthbay_Harbour&action=history"]) == 3
    assert "not fetched" in capsys.readouterr().err
    paths = [r.path for r in proxied.requests() if r.host == "wiki.example"]
    assert not any(p.startswith("/index.php") for p in paths)


def test_online_unreachable_robots_means_no_fetch(proxied: FixtureWeb, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", "http://robots5xx.example/", "--json"]) == 3
    assert "not fetched" in capsys.readouterr().err
    assert [r.path for r in proxied.requests() if r.host == "robots5xx.example"] == ["/robots.txt"]


def test_online_http_errors_are_reported(proxied: FixtureWeb, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", "http://gates.example/forbidden"]) == 2
    assert "HTTP 403" in capsys.readouterr().err


def test_online_caps_the_page_size(proxied: FixtureWeb, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "http://gates.example/huge", "--no-sitemap")
    assert any("cut at" in n for n in data["notes"])


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1000"])
def test_timeout_must_be_sane(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["classify", "https://a.example/", "--timeout", value])
    assert exc.value.code == 2
    assert "seconds" in capsys.readouterr().err
