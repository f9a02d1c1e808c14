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
    from scrapy import exceptions as scrapy_errors

    text = str(exc).lower()
    if isinstance(exc, IgnoreRequest) and "redirect" in text:
        return REDIRECT_LOOP
    if (
        isinstance(exc, scrapy_errors.DownloadTimeoutError | net_error.TimeoutError | net_error.TCPTimedOutError)
        or "timed out" in text
        or "took longer than" in text
    ):
        return TIMEOUT
    if isinstance(exc, scrapy_errors.CannotResolveHostError | net_error.DNSLookupError):
        return DNS
    # Scrapy cancels a download that outgrows DOWNLOAD_MAXSIZE (announced or while streaming).
    if isinstance(exc, scrapy_errors.DownloadCancelledError | CancelledError) or "max size" in text:
        return OVERSIZED
    if isinstance(
        exc,
        scrapy_errors.DownloadConnectionRefusedError
        | net_error.ConnectError
        | net_error.ConnectionLost
        | net_error.ConnectionDone,
    ):
        return CONNECTION
    if isinstance(exc, scrapy_errors.ResponseDataLossError | ResponseFailed | ResponseNeverReceived):
        return PROTOCOL
    return OTHER


def http_error_kind(status: int) -> str:
    """The summary key for a server error status that survived the retries."""
    return f"http-{status}"
