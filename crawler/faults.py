"""Names for the ways a download can fail, as the summary and the fetch log show them.

Twisted and Scrapy raise a zoo of exception types for the same few situations,
and Scrapy wraps Twisted's (``DownloadFailedError`` around a ``ResponseFailed``
around a list of ``Failure``\\ s); operators want to read "connection: the
server closed the connection before its headers were complete", not a
``Failure`` repr. :func:`describe` gives the kind and the words.
"""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest
from twisted.internet import error as net_error
from twisted.internet.defer import CancelledError
from twisted.web._newclient import ParseError, ResponseFailed, ResponseNeverReceived

TIMEOUT = "timeout"
DNS = "dns"
CONNECTION = "connection"
OVERSIZED = "oversized"
REDIRECT_LOOP = "redirect-loop"
PROTOCOL = "protocol"
RETRY_AFTER = "retry-after"  # the origin asked for a longer pause than this crawl waits
OTHER = "other"
# Failures that mean the origin could not be reached at all: its robots.txt is
# unknown, so nothing is requested there, and that is an error, not a refusal.
NETWORK = (DNS, CONNECTION, TIMEOUT)

_CONNECTION_LOST = (net_error.ConnectionDone, net_error.ConnectionLost, net_error.ConnectionAborted)


class Undecodable(IgnoreRequest):
    """The body's Content-Encoding cannot be decoded (corrupt or cut-short stream)."""


class Oversized(IgnoreRequest):
    """The body is larger than the size limit (on the wire, or once decoded)."""


class OriginPaused(IgnoreRequest):
    """The origin asked (429/503 Retry-After, or backoff) for a pause longer than this crawl waits."""


def error_kind(exc: BaseException) -> str:
    """One word for what went wrong with a download."""
    return describe(exc)[0]


def describe(exc: BaseException) -> tuple[str, str]:
    """``(kind, message)`` for a download failure; the message reads well after ``kind: ``."""
    from scrapy import exceptions as scrapy_errors

    text = str(exc).strip() or type(exc).__name__
    lower = text.lower()
    if isinstance(exc, Undecodable):
        return PROTOCOL, text
    if isinstance(exc, Oversized):
        return OVERSIZED, text
    if isinstance(exc, OriginPaused):
        return RETRY_AFTER, text
    if isinstance(exc, IgnoreRequest) and "redirect" in lower:
        return REDIRECT_LOOP, text
    if (
        isinstance(exc, scrapy_errors.DownloadTimeoutError | net_error.TimeoutError | net_error.TCPTimedOutError)
        or "timed out" in lower
        or "took longer than" in lower
    ):
        return TIMEOUT, text
    if isinstance(exc, scrapy_errors.CannotResolveHostError | net_error.DNSLookupError):
        return DNS, text
    # Scrapy cancels a download that outgrows DOWNLOAD_MAXSIZE (announced or while streaming).
    if isinstance(exc, scrapy_errors.DownloadCancelledError | CancelledError) or "max size" in lower \
            or "download_maxsize" in lower:
        return OVERSIZED, text
    if isinstance(exc, scrapy_errors.DownloadConnectionRefusedError | net_error.ConnectError):
        return CONNECTION, text
    twisted = _twisted_cause(exc)
    if twisted is not None:
        return _describe_response_failed(twisted)
    if isinstance(exc, _CONNECTION_LOST):
        return CONNECTION, "the connection was closed before the response was complete"
    if isinstance(exc, scrapy_errors.ResponseDataLossError):
        return PROTOCOL, "the body ended before its announced length"
    return OTHER, text


def _twisted_cause(exc: BaseException) -> ResponseFailed | None:
    """The ``ResponseFailed`` behind ``exc`` (Scrapy wraps it in ``DownloadFailedError``), if any."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return None
        if isinstance(seen, ResponseFailed):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _describe_response_failed(exc: ResponseFailed) -> tuple[str, str]:
    reasons = [getattr(r, "value", r) for r in getattr(exc, "reasons", [])]
    for reason in reasons:
        if isinstance(reason, ParseError):
            detail = reason.args[0] if reason.args else "unparseable"
            data = reason.args[1] if len(reason.args) > 1 else b""
            shown = data[:80] if isinstance(data, bytes) else b""
            return PROTOCOL, f"malformed response ({detail}: {shown!r})"
    if any(type(r).__name__ == "_DataLoss" for r in reasons):
        return PROTOCOL, "the body ended before its announced length"
    if any(isinstance(r, _CONNECTION_LOST) for r in reasons):
        if isinstance(exc, ResponseNeverReceived):
            return CONNECTION, "the server closed the connection before its response headers were complete"
        return CONNECTION, "the server closed the connection before the body was complete"
    names = ", ".join(sorted({type(r).__name__ for r in reasons})) or type(exc).__name__
    return PROTOCOL, f"the response could not be read ({names})"


def http_error_kind(status: int) -> str:
    """The summary key for a server error status that survived the retries."""
    return f"http-{status}"
