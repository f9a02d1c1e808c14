"""``fairfetch crawl``'s start-up shortcuts (crawler.startup, crawler.gcpolicy) change nothing but its CPU time.

Scrapy's deprecated TLS aliases keep the ``__module__`` its stack walk gives
them, and the garbage collector is paused only until the crawl's policy is
applied, or the command returns.
"""

from __future__ import annotations

import gc
import subprocess
import sys

from crawler.cli import main
from crawler.gcpolicy import YOUNG_THRESHOLD, apply_crawl_gc_policy, collections_paused
from tests.crawler.crawlrun import REPO

_ALIASES = """
import inspect, warnings
warnings.simplefilter("error")
from crawler.startup import import_tls_factories
import_tls_factories()
from scrapy.core.downloader import contextfactory, tls
from scrapy.utils import deprecate
assert deprecate.inspect is inspect
print(contextfactory.ScrapyClientContextFactory.__module__, contextfactory.AcceptableProtocolsContextFactory.__module__,
      tls.ScrapyClientTLSOptions.__module__)
"""


def test_the_tls_aliases_keep_their_modules() -> None:
    plain = "import scrapy.core.downloader.contextfactory\n" + _ALIASES  # Scrapy's own stack walk
    shown = [subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60,
                            check=True).stdout.split() for code in (_ALIASES, plain)]
    assert shown[0] == shown[1] == ["scrapy.core.downloader.contextfactory"] * 2 + ["scrapy.core.downloader.tls"]


def test_collections_pause_until_the_policy_is_applied() -> None:
    threshold = gc.get_threshold()
    try:
        with collections_paused():
            assert not gc.isenabled()
            apply_crawl_gc_policy()
            assert gc.isenabled() and gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert gc.isenabled()
        with collections_paused():
            assert not gc.isenabled()
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_a_crawl_that_does_not_start_leaves_collection_on() -> None:
    assert main(["crawl", "--join"]) == 2  # a usage error, inside the paused start-up
    assert gc.isenabled()
