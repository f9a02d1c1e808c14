"""The pure parts behind the hostile-web behaviour: strict decoding, Retry-After, pauses, failure names."""

from __future__ import annotations

import gzip
import zlib
from email.utils import formatdate

import brotli
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.python.failure import Failure
from twisted.web._newclient import ParseError, ResponseFailed, ResponseNeverReceived

from crawler.faults import CONNECTION, OVERSIZED, PROTOCOL, RETRY_AFTER, Oversized, describe
from crawler.middlewares.decode import decode
from crawler.pauses import Pauses, retry_after_seconds
from fixtures.hostile.encoding import corrupt_gzip, gzip_bomb, truncated_gzip

try:
    from backports import zstd
except ImportError:  # pragma: no cover - Python 3.14 has it in the standard library
    from compression import zstd  # type: ignore[import-not-found,no-redef]

ENCODERS = {
    b"gzip": gzip.compress,
    b"x-gzip": gzip.compress,
    b"deflate": zlib.compress,
    b"br": brotli.compress,
    b"zstd": zstd.compress,
}


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=3000), encoding=st.sampled_from(sorted(ENCODERS)), limit=st.integers(0, 4000))
def test_a_valid_stream_decodes_whole_or_cut_exactly_at_the_limit(data: bytes, encoding: bytes, limit: int) -> None:
    out, cut = decode(ENCODERS[encoding](data), encoding, limit)
    if limit and len(data) > limit:
        assert (out, cut) == (data[:limit], True)
    else:
        assert (out, cut) == (data, False)


@settings(max_examples=60, deadline=None)
@given(junk=st.binary(max_size=200), encoding=st.sampled_from(sorted(ENCODERS)))
def test_arbitrary_bytes_decode_or_are_undecodable(junk: bytes, encoding: bytes) -> None:
    from crawler.faults import Undecodable

    try:
        out, _ = decode(junk, encoding, 10_000)
    except Undecodable as exc:
        assert str(exc)
    else:
        assert isinstance(out, bytes)


@settings(max_examples=40, deadline=None)
@given(data=st.binary(min_size=50, max_size=2000), encoding=st.sampled_from(sorted(ENCODERS)), cut=st.integers(1, 12))
def test_a_stream_cut_short_is_never_read_as_its_prefix(data: bytes, encoding: bytes, cut: int) -> None:
    """Near-valid input: a real stream missing its last bytes (the trailer, the end marker)."""
    from crawler.faults import Undecodable

    stream = ENCODERS[encoding](data)
    with pytest.raises(Undecodable):
        decode(stream[:-cut], encoding, 0)
    # ... unless our own byte cap cut the download: then it is a truncated document, not a corrupt one
    try:
        out, truncated = decode(stream[:-cut], encoding, 0, stopped=True)
    except Undecodable:
        return  # the cut left a stream that is invalid, not just short
    assert truncated and data.startswith(out)


def test_corrupt_and_truncated_gzip_and_the_bomb() -> None:
    from crawler.faults import Undecodable

    with pytest.raises(Undecodable, match="corrupt"):
        decode(corrupt_gzip(b"User-agent: *\nAllow: /\n"), b"gzip", 0)
    with pytest.raises(Undecodable, match="truncated"):
        decode(truncated_gzip(b"User-agent: *\nAllow: /\n", b"Disallow: /\n" * 200), b"gzip", 0)
    bad_crc = bytearray(gzip.compress(b"hello" * 100))
    bad_crc[-6] ^= 0xFF
    with pytest.raises(Undecodable, match="corrupt"):
        decode(bytes(bad_crc), b"gzip", 0)
    with pytest.raises(Undecodable, match="after the end"):
        decode(gzip.compress(b"x") + b"trailing junk", b"gzip", 0)
    assert decode(gzip.compress(b"a") + gzip.compress(b"b"), b"gzip", 0) == (b"ab", False)  # two members
    out, cut = decode(gzip_bomb(b"User-agent: *\n"), b"gzip", 500 * 1024)
    assert cut and len(out) == 500 * 1024 and out.startswith(b"User-agent: *\n")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("3", 3.0), (" 120 ", 120.0), ("0", 0.0), ("-1", None), ("soon", None), ("", None), (None, None),
     ("9" * 40, float(int("9" * 12)))],
)
def test_retry_after_in_seconds(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value) == seconds


def test_retry_after_as_an_http_date() -> None:
    now = 1_800_000_000.0
    assert retry_after_seconds(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30, abs=1)
    assert retry_after_seconds(formatdate(now - 30, usegmt=True), now=now) == 0.0  # in the past: no wait
    assert retry_after_seconds("Sun, 06 Nov 1994 08:49:37 GMT", now=now) == 0.0


@given(st.text(max_size=60))
def test_retry_after_never_raises(value: str) -> None:
    seconds = retry_after_seconds(value)
    assert seconds is None or seconds >= 0


def test_pauses_follow_retry_after_then_back_off_and_reset() -> None:
    now = [100.0]
    pauses = Pauses(max_pause=120, base=1.0, clock=lambda: now[0])
    assert pauses.answered("http://a.example", 200, None) == 0
    assert pauses.answered("http://a.example", 429, "3") == 3
    assert pauses.remaining("http://a.example") == 3
    # without Retry-After: exponential from the base, counting the answers in a row
    assert pauses.answered("http://a.example", 503, None) == 2
    assert pauses.answered("http://a.example", 503, None) == 4
    assert pauses.remaining("http://a.example") == 4
    assert pauses.remaining("http://b.example") == 0  # per origin
    now[0] += 4
    assert pauses.remaining("http://a.example") == 0
    pauses.answered("http://a.example", 200, None)  # a normal answer resets the count
    assert pauses.answered("http://a.example", 429, None) == 1
    # a shorter pause never shortens a longer one
    pauses.answered("http://a.example", 429, "86400")
    pauses.answered("http://a.example", 429, "1")
    assert pauses.remaining("http://a.example") == pytest.approx(86400)
    message = str(pauses.give_up("http://a.example"))
    assert "Retry-After: 86400" in message and "120 s" in message


def _failure(exc: BaseException) -> Failure:
    try:
        raise exc
    except BaseException:
        return Failure()


def test_twisted_failures_have_names_not_reprs() -> None:
    from scrapy.exceptions import DownloadFailedError

    def wrapped(inner: ResponseFailed) -> BaseException:
        try:
            try:
                raise inner
            except ResponseFailed as exc:
                raise DownloadFailedError(str(exc)) from exc
        except DownloadFailedError as outer:
            return outer

    cut = wrapped(ResponseNeverReceived([_failure(ConnectionDone())]))
    bad = wrapped(ResponseFailed([_failure(ParseError("non-integer status code", b"HTTP/1.1 two OK"))]))
    lost = wrapped(ResponseFailed([_failure(ConnectionLost())]))
    assert describe(cut)[0] == CONNECTION and "headers" in describe(cut)[1]
    assert describe(bad) == (PROTOCOL, "malformed response (non-integer status code: b'HTTP/1.1 two OK')")
    assert describe(lost)[0] == CONNECTION
    assert describe(Oversized("too big"))[0] == OVERSIZED
    assert describe(Pauses().give_up("http://a.example"))[0] == RETRY_AFTER
    for exc in (cut, bad, lost):
        assert "Failure" not in describe(exc)[1]
