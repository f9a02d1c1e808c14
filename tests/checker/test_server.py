"""The checker's web service over real HTTP (uvicorn): forms, escaped reports, JSON, refusals, headers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from crawler.checker.fetch import Limits
from crawler.checker.server import ServiceConfig
from tests.checker.service import running_service
from tests.checker.site import Reply, local_site

HOSTILE = '<script>alert("x")</script>'


@contextmanager
def running(allow_private: bool) -> Iterator[str]:
    config = ServiceConfig(limits=Limits(timeout=2, deadline=6, allow_private=allow_private), rate_per_minute=1000)
    with running_service(config) as base:
        yield base


@pytest.fixture(scope="module")
def strict() -> Iterator[str]:
    with running(False) as base:
        yield base


@pytest.fixture(scope="module")
def lenient() -> Iterator[str]:
    with running(True) as base:
        yield base


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=20) as c:
        yield c


def test_form_page_and_security_headers(client: httpx.Client, strict: str) -> None:
    r = client.get(strict + "/")
    assert r.status_code == 200
    assert '<form method=get action="/check">' in r.text and 'name=url' in r.text
    assert '<form method=post action="/check" enctype="multipart/form-data">' in r.text
    csp = r.headers["content-security-policy"]
    assert csp.startswith("default-src 'none'; style-src 'sha256-") and "frame-ancestors 'none'" in csp
    assert "script" not in csp and "unsafe" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "server" not in r.headers


@pytest.mark.parametrize("target", ["http://127.0.0.1/", "http://localhost:9/", "http://[::1]/", "http://2130706433/"])
def test_local_targets_are_refused_with_400(client: httpx.Client, strict: str, target: str) -> None:
    page = client.get(strict + "/check", params={"url": target})
    data = client.get(strict + "/api/check", params={"url": target})
    assert page.status_code == 400 and "Cannot check this" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert data.status_code == 400 and "address" in data.json()["error"]


def test_malformed_target_page_escapes_what_was_typed(client: httpx.Client, strict: str) -> None:
    r = client.get(strict + "/check", params={"url": f"javascript:{HOSTILE}"})
    assert r.status_code == 400
    assert "<script>" not in r.text and "&lt;script&gt;" in r.text


def test_missing_url_long_request_and_other_methods(client: httpx.Client, strict: str) -> None:
    base = strict
    assert client.get(base + "/check").status_code == 400
    assert client.get(base + "/check", params={"url": "http://a.example/" + "x" * 3000}).status_code == 400
    assert client.post(base + "/check", data={"url": "http://a.example/"}).status_code == 400  # no files
    assert client.put(base + "/check").status_code == 405
    for status in (404, 405):
        r = client.get(base + "/nothing") if status == 404 else client.delete(base + "/api/check")
        assert r.status_code == status
        assert r.headers["content-security-policy"].startswith("default-src 'none'")  # on errors too


def _hostile_site() -> dict[str, Reply]:
    return {
        "/robots.txt": Reply(200, f"User-agent: GPTBot\nDisallow: /{HOSTILE}\nDisallow: /\n{HOSTILE}\n",
                             (("Content-Type", "text/plain"),)),
        "/page": Reply(200, f"<html><head><title>t</title></head><body><meta name=robots content='noai, {HOSTILE}'>"
                            "</body></html>",
                       (("Content-Type", "text/html"), ("Content-Signal", f"{HOSTILE}=yes"))),
    }


def test_report_escapes_hostile_values_from_the_site(client: httpx.Client, lenient: str) -> None:
    with local_site(_hostile_site()) as site:
        r = client.get(lenient + "/check", params={"url": site.base + "/page"})
    assert r.status_code == 200, r.text
    assert "<script" not in r.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in r.text
    assert "meta-outside-head" in r.text and "robots.txt:3" in r.text
    assert "\x1b" not in r.text


def test_json_endpoint_with_allow_private(client: httpx.Client, lenient: str) -> None:
    with local_site(_hostile_site()) as site:
        r = client.get(lenient + "/api/check", params={"url": site.base + "/page"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    data = r.json()
    gpt = next(a for a in data["agents"] if a["agent"] == "GPTBot")
    assert gpt["fetch"]["allowed"] is False and gpt["fetch"]["line"] == 3
    assert {p["code"] for p in data["problems"]} >= {"robots-no-colon", "meta-outside-head",
                                                     "content-signal-unknown-key"}


def test_an_oversized_request_head_gets_400_with_the_security_headers(strict: str) -> None:
    host, port = strict.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
        # Just over the 16 KiB head limit, then nothing more: the server answers once it has seen
        # too much, and we stop writing so no reset can race the answer.
        for _ in range(33):
            sock.sendall(b"a" * 512)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode().lower()
    assert head.startswith("http/1.1 400")
    assert "content-security-policy: default-src 'none'" in head and "x-content-type-options: nosniff" in head


def test_post_api_check_takes_pasted_and_uploaded_files(client: httpx.Client, strict: str) -> None:
    r = client.post(strict + "/api/check", data={"url": "https://news.example/a", "robots": "User-agent: *\nDisalow: /x\n",
                                                 "status": "200"},
                    files={"html_file": ("a.html", b"<html><head><meta name=robots content=noai></head></html>")})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    data = r.json()
    assert data["mode"] == "offline" and data["schema_version"] == 3
    misspelt = next(p for p in data["problems"] if p["code"] == "robots-misspelt-directive")
    assert misspelt["file"] == "robots (pasted)" and misspelt["line"] == 2
    page = next(d for d in data["documents"] if d["kind"] == "page")
    assert page["file"] == "a.html"
    ours = next(a for a in data["agents"] if a["agent"] == "fairfetch-ai")
    assert ours["usages"]["ai-input"]["allowed"] is False and ours["usages"]["ai-input"]["signal"] == "meta-robots"
