"""Registrable domains and public-suffix facts, offline.

tldextract fetches the Public Suffix List from the network by default; we pin
it to the snapshot bundled in the package (``suffix_list_urls=()``) and never
write a cache, so norms stays I/O-free apart from reading that packaged file.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

import tldextract

# Private (user-hosting) suffixes such as github.io and pages.dev make the
# user's subdomain the unit; the ICANN-only extractor tells them apart.
_WITH_PRIVATE = tldextract.TLDExtract(
    suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
)
_ICANN_ONLY = tldextract.TLDExtract(
    suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False
)


def _host(url_or_host: str) -> str:
    if "://" in url_or_host:
        return (urlsplit(url_or_host).hostname or "").lower()
    return url_or_host.split(":")[0].strip().lower()


@lru_cache(maxsize=65536)
def registrable_domain(url_or_host: str) -> str:
    """The registrable unit (``bbc.co.uk``, ``alice.github.io``); the host itself for IPs."""
    host = _host(url_or_host)
    ext = _WITH_PRIVATE(host)
    return ext.top_domain_under_public_suffix or host


@lru_cache(maxsize=65536)
def public_suffix(url_or_host: str) -> str:
    """ICANN public suffix (``gov.uk``, ``com``) of the host, ignoring private suffixes."""
    return _ICANN_ONLY(_host(url_or_host)).suffix


@lru_cache(maxsize=65536)
def private_suffix(url_or_host: str) -> str | None:
    """The PSL PRIVATE-section suffix the host sits under (``github.io``), if any."""
    host = _host(url_or_host)
    with_private = _WITH_PRIVATE(host).suffix
    icann = _ICANN_ONLY(host).suffix
    if with_private and with_private != icann:
        return with_private
    return None
