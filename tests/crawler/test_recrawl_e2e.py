"""Re-crawls end to end: a publisher changes robots.txt, a licence and page markup between two scheduled runs.

Both runs go through ``fairfetch schedule run --once`` with a ``jobdir`` (the
second must be a new crawl run, not "stored 0"), against ``recrawl.example``
(fixtures.web.mutable), whose files the test rewrites in between. Judged from
outside: the fixture server's request log (validators sent, 304s answered,
the newly disallowed page never requested), the CLI's JSON, the ledger's
export, ``Source.from_ledger`` and the bytes of the SQLite file.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from attribution import Source, SourceRevoked
from crawler.ledger import Ledger
from fixtures.web import FixtureWeb
from fixtures.web.mutable import MUTABLE_HOST
from tests.crawler.crawlrun import FAIRFETCH, REPO, crawl_env

pytestmark = pytest.mark.slow

ORIGIN = f"http://{MUTABLE_HOST}"
RSL = """<?xml version="1.0" encoding="UTF-8"?>
<rsl xmlns="https://rslstandard.org/rsl">
  <content url="/">
    <license><permits type="usage">search ai-index ai-input</permits></license>
  </content>
  <content url="/lic.html">
    <license><{verb} type="usage">ai-input</{verb}></license>
  </content>
</rsl>
"""
# Each page carries its own sentence: whether it is in the database file's bytes is the test.
SENTENCES = {
    "a.html": "Aldermen approved the harbour lighting scheme after a long debate on costs.",
    "b.html": "Bakers in the old quarter reported record sales during the winter festival.",
    "c.html": "Cyclists asked the council for a protected lane along the river embankment.",
    "lic.html": "Librarians catalogued the donated maps of the coastline from the last century.",
    "e.html": "Engineers inspected the footbridge and found the bearings in good order.",
    "plain/d.html": "Dockworkers unloaded the first grain ship of the season on Tuesday morning.",
}


def page(name: str, extra_head: str = "", extra: str = "") -> str:
    links = "".join(f'<li><a href="/{n}">{n}</a></li>' for n in SENTENCES)
    body = " ".join([SENTENCES[name]] * 6)
    return (f"<!doctype html><html lang=en><head><title>Town news</title>{extra_head}</head><body>"
            f"<article><h1>Town news</h1><p>{body}</p><p>{extra}</p></article><ul>{links}</ul></body></html>")


def write_site(root: Path, *, second: bool) -> None:
    robots = f"License: {ORIGIN}/license.xml\n\nUser-agent: *\nAllow: /\n"
    if second:
        robots += "Disallow: /b.html\n"
    files = {
        "robots.txt": robots,
        "license.xml": RSL.format(verb="prohibits" if second else "permits"),
        "index.html": page("a.html").replace(SENTENCES["a.html"], "Index of the town news."),
        **{name: page(name) for name in SENTENCES},
    }
    if second:
        files["c.html"] = page("c.html", extra_head='<meta name="robots" content="noai">')
        files["e.html"] = page("e.html", extra="Update: the footbridge reopens on Friday.")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def run(command: list[str], web: FixtureWeb, expect: int = 0) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(FAIRFETCH), *command], env=crawl_env(web), cwd=REPO, capture_output=True,
                          text=True, timeout=90, check=False)
    assert proc.returncode == expect, (proc.stdout[-2000:], proc.stderr[-3000:])
    return proc


def scheduled_run(web: FixtureWeb, schedule: Path) -> dict[str, Any]:
    proc = run(["schedule", "run", str(schedule), "--once", "--json"], web)
    (ran,) = json.loads(proc.stdout)["ran"]
    assert ran["exit_code"] == 0, ran
    summary: dict[str, Any] = ran["summary"]
    return summary


def database_bytes(db: Path) -> bytes:
    data = db.read_bytes()
    for suffix in ("-wal", "-journal"):
        extra = db.with_name(db.name + suffix)
        if extra.exists():
            data += extra.read_bytes()
    return data


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def test_recrawl_after_the_publisher_changes_robots_licence_and_markup(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    site = tmp_path / "site"
    write_site(site, second=False)
    db = tmp_path / "ledger.sqlite"
    db_url = f"sqlite:///{db}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    schedule = tmp_path / "recrawl.toml"
    schedule.write_text(
        f'[[jobs]]\nname = "town"\nseeds = ["{ORIGIN}/"]\nevery = "1s"\ndb = "{db_url}"\n'
        'jobdir = "job"\ndepth = 2\nargs = ["--concurrency", "4"]\n',
        encoding="utf-8",
    )
    with FixtureWeb(mutable_dir=site) as web:
        first = scheduled_run(web, schedule)
        assert first["stored"] == 7 and first["revoked"] == 0 and first["not_modified"] == 0
        if backend == "sqlite":
            data = database_bytes(db)
            assert all(s.encode() in data for s in SENTENCES.values())  # the check below can fail

        time.sleep(1.1)  # the job is due again, and changed files get a later mtime
        write_site(site, second=True)
        web.reset_log()
        second = scheduled_run(web, schedule)
        log = web.requests_for(MUTABLE_HOST)

    # a new crawl run, not a resumed one that replays "stored 0"
    assert second["crawl_id"] != first["crawl_id"] and second["resumed"] is False
    by_path = {r.path: r for r in log}
    # conditional requests: validators sent, unchanged pages answered 304
    assert "if-none-match" in by_path["/a.html"].headers and by_path["/a.html"].status == 304
    assert "if-modified-since" in by_path["/a.html"].headers
    assert by_path["/index.html" if "/index.html" in by_path else "/"].status == 304
    assert by_path["/e.html"].status == 200 and by_path["/c.html"].status == 200
    # the server without validators: a plain 200 with the same bytes
    assert by_path["/plain/d.html"].status == 200 and "if-none-match" not in by_path["/plain/d.html"].headers
    # robots.txt now disallows /b.html: never requested again, revoked without a refetch
    assert "/b.html" not in by_path
    assert second["not_modified"] >= 2 and second["unchanged"] >= 1 and second["revoked"] == 3

    revocations = json.loads(run(["ledger", "revocations", "--db", db_url, "--json"], web).stdout)
    found = {r["url"].removeprefix(ORIGIN): r for r in revocations}
    assert set(found) == {"/b.html", "/lic.html", "/c.html"}
    assert found["/b.html"]["scope"] == "site" and "disallow" in found["/b.html"]["reason"].lower()
    assert found["/lic.html"]["scope"] == "site" and found["/c.html"]["scope"] == "page"
    assert all(r["purposes"] == ["ai-input"] and r["text_purged"] for r in revocations)
    assert all(r["old_decisions"]["ai-input"]["allowed"] for r in revocations)
    assert not any(r["new_decisions"]["ai-input"]["allowed"] for r in revocations)
    assert any(e.get("raw") and "noai" in str(e["raw"]) for e in found["/c.html"]["new_evidence"])

    with Ledger(db_url, create=False) as ledger:
        pages = {p["url"].removeprefix(ORIGIN): p for p in ledger.export()}
        log_rows = ledger.fetch_log(second["crawl_id"])
    assert len(pages) == 7  # no new rows: one per URL
    for path in ("/b.html", "/lic.html", "/c.html"):
        assert pages[path]["revoked"] is True and pages[path]["text"] is None
    assert pages["/a.html"]["text"] and pages["/a.html"]["crawl_id"] == first["crawl_id"]  # 304: row kept
    assert pages["/plain/d.html"]["text"] and pages["/plain/d.html"]["crawl_id"] == second["crawl_id"]
    assert "reopens on Friday" in pages["/e.html"]["text"] and not pages["/e.html"]["revoked"]
    assert {r["outcome"] for r in log_rows if r["url"] == f"{ORIGIN}/a.html"} == {"not-modified"}

    shown = json.loads(run(["ledger", "show", f"{ORIGIN}/c.html", "--db", db_url, "--json"], web).stdout)
    assert shown["revoked"] and [r["scope"] for r in shown["revocations"]] == ["page"]
    assert "Revocations" in run(["ledger", "show", f"{ORIGIN}/c.html", "--db", db_url], web).stdout

    with pytest.raises(SourceRevoked, match="revoked"):
        Source.from_ledger(db_url, f"{ORIGIN}/b.html")
    assert Source.from_ledger(db_url, f"{ORIGIN}/a.html").text

    if backend == "sqlite":
        # purged text is gone from the file, kept text is still there
        data = database_bytes(db)
        for name in ("b.html", "lic.html", "c.html"):
            assert SENTENCES[name].encode() not in data, name
        assert SENTENCES["a.html"].encode() in data and SENTENCES["plain/d.html"].encode() in data
    else:
        # PostgreSQL: the column is NULL in the live row (dead versions are VACUUMed, docs/operators.md)
        with Ledger(db_url, create=False) as ledger, ledger.engine.connect() as conn:
            texts = dict(conn.exec_driver_sql("SELECT url, text FROM pages").all())
        assert all(texts[f"{ORIGIN}/{name}"] is None for name in ("b.html", "lic.html", "c.html"))

    history = json.loads(run(["ledger", "history", ORIGIN, "--db", db_url, "--json"], web).stdout)
    robots = [v for v in history if v["kind"] == "robots.txt"]
    assert [v["version"] for v in robots] == [1, 2]
    assert "+ [User-agent: *] Disallow: /b.html" in robots[1]["changes"]
    licence = [v for v in history if v["kind"] == "rsl"]
    assert any(line.startswith("+ ") and "prohibits" in line for line in licence[-1]["changes"])
    table = run(["ledger", "history", MUTABLE_HOST, "--db", db_url], web).stdout
    assert "Disallow: /b.html" in table


def test_resuming_an_interrupted_jobdir_with_other_seeds_or_purposes_is_refused(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    jobdir = tmp_path / "job"
    jobdir.mkdir()
    with Ledger(db_url) as ledger:  # a run that was killed: started, never finished
        ledger.start_crawl("interrupted-1", user_agent="fairfetch", purposes=["ai-input"],
                           seeds=["http://open.example/"], settings={})
    (jobdir / "fairfetch-crawl.json").write_text(json.dumps({"crawl_id": "interrupted-1"}), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "FAIRFETCH_DB"}
    for extra, words in (
        (["http://other.example/"], "other seeds"),
        (["http://open.example/", "--purpose", "ai-train"], "purposes ai-input"),
    ):
        proc = subprocess.run([str(FAIRFETCH), "crawl", *extra, "--db", db_url, "--jobdir", str(jobdir)],
                              env=env, cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
        message = " ".join(proc.stderr.split())  # one line, wrapped by the terminal width
        assert proc.returncode == 2, proc.stderr
        assert words in message and "interrupted-1" in message
        assert "Traceback" not in message and message.count("error:") == 1
