"""Deploying fairfetch to a real Scrapyd and running the ``fair`` spider there.

Done as a Scrapy shop does it: ``scrapyd-deploy --build-egg`` from the directory
holding scrapy.cfg (the repository root), the egg uploaded to a ``scrapyd``
process this test starts (``addversion.json``), the spider scheduled against the
fixture web (``schedule.json``) and the job followed to its end (``listjobs.json``);
then the ledger is read.

The Scrapyd host must get everything from the egg: scrapyd runs on a Python
that has fairfetch's dependencies but *not* fairfetch itself (a bare venv
whose site-packages points at this one's, without its editable install of
fairfetch), with its working directory outside the repository.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import httpx
import pytest

from crawler.ledger import Ledger
from fixtures.web import FixtureWeb
from tests.crawler.crawlrun import REPO, path_of


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def python_without_fairfetch(where: Path) -> Path:
    """A venv that sees this one's packages (scrapy, scrapyd, ...) but not fairfetch's editable install."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    site = sysconfig.get_paths()["purelib"]
    own = Path(sysconfig.get_paths(vars={"base": str(where), "platbase": str(where)})["purelib"])
    own.mkdir(parents=True, exist_ok=True)
    (own / "host-dependencies.pth").write_text(site + "\n")  # a path line: the .pth files there are not run
    python = where / "bin" / "python"
    probe = subprocess.run([str(python), "-c", "import scrapy, scrapyd, trafilatura; import crawler"],
                           capture_output=True, text=True, cwd=where, check=False)
    assert "No module named 'crawler'" in probe.stderr, probe.stderr  # fairfetch comes only from the egg
    return python


@pytest.mark.slow
def test_deploy_to_scrapyd_and_crawl(tmp_path: Path) -> None:
    egg = tmp_path / "fairfetch.egg"
    built = subprocess.run([str(Path(sys.executable).with_name("scrapyd-deploy")), "--build-egg", str(egg)],
                           cwd=REPO, capture_output=True, text=True, check=False, timeout=120)
    assert built.returncode == 0 and egg.exists(), built.stderr

    python = python_without_fairfetch(tmp_path / "host")
    port = free_port()
    home = tmp_path / "scrapyd"
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\nbind_address = 127.0.0.1\n"
        f"http_port = {port}\neggs_dir = eggs\nlogs_dir = logs\ndbs_dir = dbs\nitems_dir =\n"
        "max_proc = 1\npoll_interval = 0.2\n"
    )
    db = tmp_path / "ledger.sqlite"
    api = f"http://127.0.0.1:{port}"
    with FixtureWeb() as web:
        env = {**os.environ, **web.env()}  # the crawl reaches the fixture web through its proxy
        env.pop("PYTHONPATH", None)
        daemon = subprocess.Popen([str(python), "-m", "scrapyd"], cwd=home, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            with httpx.Client(base_url=api, timeout=90, trust_env=False) as client:
                deadline = time.monotonic() + 30
                while True:
                    try:
                        if client.get("/daemonstatus.json").json()["status"] == "ok":
                            break
                    except httpx.TransportError:
                        pass
                    assert time.monotonic() < deadline and daemon.poll() is None, "scrapyd did not start"
                    time.sleep(0.1)
                added = client.post("/addversion.json", data={"project": "fairfetch", "version": "1"},
                                    files={"egg": egg.read_bytes()}).json()
                assert added["status"] == "ok" and added["spiders"] == 1, added
                assert client.get("/listspiders.json", params={"project": "fairfetch"}).json()["spiders"] == ["fair"]
                site = web.site("open.example")
                job = client.post("/schedule.json", data={
                    "project": "fairfetch", "spider": "fair", "seeds": site.seed_url,
                    "setting": [f"FAIRFETCH_DB=sqlite:///{db}", "FAIRFETCH_EXTRACT_PROCESSES=0"],
                }).json()
                assert job["status"] == "ok", job
                deadline = time.monotonic() + 90
                while True:
                    jobs = client.get("/listjobs.json", params={"project": "fairfetch"}).json()
                    if any(j["id"] == job["jobid"] for j in jobs["finished"]):
                        break
                    assert time.monotonic() < deadline, f"job did not finish: {jobs}"
                    time.sleep(0.2)
                log = client.get(f"/logs/fairfetch/fair/{job['jobid']}.log").text
        finally:
            daemon.terminate()
            daemon.wait(10)
        requests = web.requests_for("open.example")

    assert "No module named" not in log and "Traceback" not in log, log[-3000:]
    assert "'finish_reason': 'finished'" in log, log[-3000:]
    assert requests[0].path == "/robots.txt"  # the deployed crawler enforces, as fairfetch crawl does
    with Ledger(f"sqlite:///{db}") as ledger:
        pages = {path_of(row["url"]): row for row in ledger.export()}
    expected = site.expected["stored_paths"]
    assert set(expected) <= set(pages), f"not stored: {sorted(set(expected) - set(pages))}"
    assert all(pages[p]["text"] for p in expected)
    assert json.loads(json.dumps(pages[expected[0]]["decisions"]))["ai-input"]["allowed"] is True
