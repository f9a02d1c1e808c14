"""Scrapy's HTTP download handler, signing each request as it leaves (Web Bot Auth).

A downloader middleware would sign when the request *enters* the downloader,
before it waits in its origin's slot for a Crawl-delay that may last minutes;
signing here means the signature is seconds old when the publisher sees it,
and every request that reaches the network (robots.txt, licences, pages,
retries, redirect hops, paid re-requests) is signed the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.identity.signing import RequestSigner


def signer_from_settings(crawler: Crawler) -> RequestSigner | None:
    """The crawl's signer, from ``FAIRFETCH_SIGNING_KEY`` and ``FAIRFETCH_SIGNATURE_AGENT``, or None."""
    key_path = crawler.settings.get("FAIRFETCH_SIGNING_KEY")
    if not key_path:
        return None  # no signing: its modules (http_message_signatures, ~10 ms) are not even imported
    from crawler.identity.keys import load_signing_key
    from crawler.identity.signing import RequestSigner

    return RequestSigner(load_signing_key(key_path), crawler.settings.get("FAIRFETCH_SIGNATURE_AGENT") or "")


class SigningHTTPHandler(HTTP11DownloadHandler):
    """HTTP/1.1 handler that adds the signature headers right before sending (a no-op without a key)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.signer = signer_from_settings(crawler)

    async def download_request(self, request: Request) -> Response:
        if self.signer is not None:
            sign_request(self.signer, request)
        return await super().download_request(request)


def sign_request(signer: RequestSigner, request: Request) -> None:
    headers = {
        name.decode("latin-1"): b", ".join(values).decode("latin-1")
        for name, values in request.headers.items()
    }
    for name, value in signer.sign(request.method, request.url, headers).items():
        request.headers[name] = value
