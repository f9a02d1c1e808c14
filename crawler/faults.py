"""Names for the ways a download can fail, as the summary and the fetch log show them.

Twisted and Scrapy raise a zoo of exception types for the same few situations;
operators want to read "timeout" or "oversized", not a class path.
"""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest
from twisted.internet import error as net_error
from twisted.internet.defer import CancelledError
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

TIMEOUT = "timeout"
DNS = "dns"
CONNECTION = "connection"
OVERSIZED = "oversized"
REDIRECT_LOOP = "redirect-loop"
PROTOCOL = "protocol"
OTHER = "other"


def error_kind(exc: BaseException) -> str:
    """One word for what went wrong with a download."""
    text = str(exc).lower()
    if isinstance(exc, IgnoreRequest) and "redirect" in text:
        return REDIRECT_LOOP
    if isinstance(exc, net_error.TimeoutError | net_error.TCPTimedOutError) or "timed out" in text or "timeout" in text:
        return TIMEOUT
    if isinstance(exc, net_error.DNSLookupError):
        return DNS
    if "max size" in text or "maxsize" in text or "larger than download" in text:
        return OVERSIZED
    if isinstance(exc, CancelledError) or type(exc).__name__ == "DownloadCancelledError":
        # Scrapy cancels a download that outgrows DOWNLOAD_MAXSIZE.
        return OVERSIZED
    if isinstance(exc, net_error.ConnectError | net_error.ConnectionLost | net_error.ConnectionDone):
        return CONNECTION
    if isinstance(exc, ResponseFailed | ResponseNeverReceived):
        return PROTOCOL
    return OTHER


def http_error_kind(status: int) -> str:
    """The summary key for a server error status that survived the retries."""
    return f"http-{status}"
