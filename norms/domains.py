"""Registrable domains and public-suffix facts, offline.

tldextract fetches the Public Suffix List from the network by default; we pin
it to the snapshot bundled in the package (``suffix_list_urls=()``) and never
write a cache, so norms stays I/O-free apart from reading that packaged file.
One extractor answers both questions (with and without the private section),
built on first use: tldextract's import (it brings ``requests``) and the
snapshot's parse are paid by a process that classifies pages, not by every
process that imports norms (the crawler hands classification to its pool).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from tldextract.tldextract import ExtractResult


@cache
def _extractor() -> Callable[..., ExtractResult]:
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def _with_private(host: str) -> ExtractResult:
    """Private (user-hosting) suffixes such as github.io and pages.dev make the user's subdomain the unit."""
    return _extractor()(host)


def _icann_only(host: str) -> ExtractResult:
    return _extractor()(host, include_psl_private_domains=False)


def _host(url_or_host: str) -> str:
    if "://" in url_or_host:
        return (urlsplit(url_or_host).hostname or "").lower()
    return url_or_host.split(":")[0].strip().lower()


@lru_cache(maxsize=65536)
def registrable_domain(url_or_host: str) -> str:
    """The registrable unit (``bbc.co.uk``, ``alice.github.io``); the host itself for IPs."""
    host = _host(url_or_host)
    ext = _with_private(host)
    return ext.top_domain_under_public_suffix or host


@lru_cache(maxsize=65536)
def public_suffix(url_or_host: str) -> str:
    """ICANN public suffix (``gov.uk``, ``com``) of the host, ignoring private suffixes."""
    return _icann_only(_host(url_or_host)).suffix


@lru_cache(maxsize=65536)
def private_suffix(url_or_host: str) -> str | None:
    """The PSL PRIVATE-section suffix the host sits under (``github.io``), if any."""
    host = _host(url_or_host)
    with_private = _with_private(host).suffix
    icann = _icann_only(host).suffix
    if with_private and with_private != icann:
        return with_private
    return None
