"""Ctrl-C stops a crawl promptly: requests queued for an origin's Crawl-delay turn are not sent.

Scrapy's graceful stop would still send every request already handed to the
downloader, each after its Crawl-delay: minutes of fetching after Ctrl-C on a
slow origin. Judged from the fixture server's log: nothing is requested after
the signal, the process exits 130 quickly, and the summary counts what was
left unsent (to be fetched by the next run).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from fixtures.web import FixtureWeb
from tests.crawler.crawlrun import REPO, crawl_command, crawl_env


@pytest.mark.slow
def test_ctrl_c_sends_nothing_more_and_exits_130(tmp_path: Path) -> None:
    with FixtureWeb() as web:
        command = crawl_command(["http://slow-delay.example/"], f"sqlite:///{tmp_path / 'l.sqlite'}")
        proc = subprocess.Popen(command, env=crawl_env(web), cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        deadline = time.monotonic() + 60
        while not any(r.path == "/" and r.status == 200 for r in web.requests_for("slow-delay.example")):
            assert time.monotonic() < deadline and proc.poll() is None, "the crawl never fetched its seed"
            time.sleep(0.05)
        time.sleep(1.0)  # the seed's links are queued in the downloader for their 2 s turns
        os.killpg(proc.pid, signal.SIGINT)
        signalled = time.time()
        out, err = proc.communicate(timeout=60)
        stopped_in = time.time() - signalled
        later = [r for r in web.requests_for("slow-delay.example") if r.time > signalled + 0.05]
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err  # extraction pool processes leave Ctrl-C to the crawl
    assert later == []
    assert stopped_in < 5
    summary = json.loads(out)
    assert summary["finish_reason"] == "shutdown"
    assert summary["not_sent_at_stop"] >= 1
