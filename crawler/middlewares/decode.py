"""Content-Encoding, decoded strictly and as a stream: an undecodable body is an error, never its readable prefix.

Scrapy's ``HttpCompressionMiddleware`` keeps "as much data as possible" of a
gzip body that fails half-way (an invalid block, a stream cut short), so a
robots.txt whose readable prefix allowed everything was read as the whole
file. And it inflates signal documents (``download_maxsize`` 0) without limit:
a 1 MiB gzip bomb became a gibibyte in memory.

:class:`DecodeMiddleware` replaces it (same setting names, same
``Accept-Encoding``, same stats) and decodes gzip, deflate, br and zstd
chunk by chunk:

* a stream that is corrupt, ends before its end marker (unless *we* stopped
  the download at a byte cap) or fails its CRC raises :class:`Undecodable`
  (error kind ``protocol``); for robots.txt that means *unreachable*:
  complete disallow (RFC 9309 2.3.1.4);
* signal documents (``fairfetch_max_bytes`` in meta) keep their first
  ``max_bytes`` decoded bytes and are flagged ``decoded_truncated``: the
  rest is never inflated (RFC 9309 2.5 lets a parser stop at 500 KiB);
* pages that outgrow ``DOWNLOAD_MAXSIZE`` once decoded raise
  :class:`Oversized` (error kind ``oversized``), as Scrapy's own
  decompression-bomb guard does, at the same limit.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.http import TextResponse
from scrapy.responsetypes import responsetypes

from crawler.faults import Oversized, Undecodable

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.http import Response

MAX_BYTES_META = "fairfetch_max_bytes"  # keep this many decoded bytes and flag the rest as cut
DECODED_TRUNCATED = "decoded_truncated"  # response flag: decoding stopped at the byte cap
_CHUNK = 64 * 1024

# One step of a streaming decoder: (input or b"" to drain, most bytes to produce) -> output.
Step = Callable[[bytes, int], bytes]


class DecodeMiddleware(HttpCompressionMiddleware):
    """Strict, capped, streaming Content-Encoding decoding (see the module docstring)."""

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if request.method == "HEAD":
            return response
        encodings = response.headers.getlist("Content-Encoding")
        if not encodings or not response.body:  # no stream, nothing to be corrupt (a 204, a 304)
            return response
        to_decode, to_keep = self._split_encodings(encodings)
        cap = request.meta.get(MAX_BYTES_META)
        limit = int(cap or request.meta.get("download_maxsize", self._max_size) or 0)
        ours = "download_stopped" in response.flags  # the byte cap cut the wire, not the server
        body = response.body
        cut = False
        for encoding in to_decode:
            body, step_cut = decode(body, encoding, limit, stopped=ours)
            cut = cut or step_cut
        if cut and not cap:
            raise Oversized(
                f"body larger than {limit} bytes once decoded ({len(response.body)} bytes on the wire)"
            )
        if self.stats:
            self.stats.inc_value("httpcompression/response_bytes", len(body))
            self.stats.inc_value("httpcompression/response_count")
        if to_keep:
            self._warn_unknown_encoding(response, to_keep)
            response.headers["Content-Encoding"] = to_keep
        respcls = responsetypes.from_args(headers=response.headers, url=response.url, body=body)
        kwargs: dict[str, Any] = {"body": body}
        if issubclass(respcls, TextResponse):
            kwargs["encoding"] = None
        if cut:
            kwargs["flags"] = [*response.flags, DECODED_TRUNCATED]
        decoded = response.replace(cls=respcls, **kwargs)
        if not to_keep:
            del decoded.headers["Content-Encoding"]
        return decoded


def decode(data: bytes, encoding: bytes, limit: int, *, stopped: bool = False) -> tuple[bytes, bool]:
    """``data`` decoded from ``encoding``: (at most ``limit`` bytes, whether there was more). 0: no limit.

    Raises :class:`Undecodable` for a corrupt stream, and for one that ends
    early unless ``stopped`` (our own byte cap cut the download).
    """
    name = encoding.decode("latin-1")
    try:
        step, finished = _decoder(encoding, data)
        out = bytearray()
        feed = data
        while True:
            room = _CHUNK if not limit else min(_CHUNK, limit + 1 - len(out))
            chunk = step(feed, room)
            feed = b""
            out += chunk
            if limit and len(out) > limit:
                return bytes(out[:limit]), True
            if finished():
                return bytes(out), False
            if not chunk:
                break
    except Undecodable:
        raise
    except (zlib.error, EOFError, OSError, ValueError) as exc:
        raise Undecodable(f"{name} body is corrupt ({exc})") from exc
    except Exception as exc:  # brotli.error, zstd.ZstdError: no common base to name
        raise Undecodable(f"{name} body is corrupt ({type(exc).__name__}: {exc})") from exc
    if stopped:
        return bytes(out), True
    raise Undecodable(f"{name} body ends before the end of its stream (truncated)")


def _decoder(encoding: bytes, data: bytes) -> tuple[Step, Callable[[], bool]]:
    if encoding in (b"gzip", b"x-gzip"):
        return _zlib(16 + zlib.MAX_WBITS, gzip=True)
    if encoding == b"deflate":
        # RFC 9110 says zlib-wrapped; some servers send raw deflate.
        wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] * 256 + data[1]) % 31 == 0
        return _zlib(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS, gzip=False)
    if encoding == b"br":
        return _brotli()
    if encoding == b"zstd":
        return _zstd()
    raise Undecodable(f"unsupported content encoding {encoding!r}")  # pragma: no cover - filtered before


class _Zlib:
    """gzip (with further members, RFC 1952 2.2) or deflate, one bounded step at a time."""

    def __init__(self, wbits: int, *, gzip: bool) -> None:
        self.d = zlib.decompressobj(wbits)
        self.gzip = gzip
        self.pending = b""  # the start of the next gzip member

    def step(self, data: bytes, room: int) -> bytes:
        feed = data or self.pending or self.d.unconsumed_tail
        self.pending = b""
        out: bytes = self.d.decompress(feed, room)
        if self.d.eof and self.d.unused_data:
            rest = self.d.unused_data
            if self.gzip and rest[:2] == b"\x1f\x8b":
                self.d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self.pending = rest
                return out or self.step(b"", room)
            if rest.strip(b"\x00"):
                raise Undecodable("data after the end of the compressed stream")
        return out

    def finished(self) -> bool:
        return bool(self.d.eof) and not self.d.unconsumed_tail and not self.pending


def _zlib(wbits: int, *, gzip: bool) -> tuple[Step, Callable[[], bool]]:
    z = _Zlib(wbits, gzip=gzip)
    return z.step, z.finished


def _brotli() -> tuple[Step, Callable[[], bool]]:
    try:
        import brotli
    except ImportError:  # pragma: no cover - Scrapy's own dependency choice
        import brotlicffi as brotli
    d = brotli.Decompressor()

    def step(data: bytes, room: int) -> bytes:
        out: bytes = d.process(data, output_buffer_limit=room)
        return out

    return step, d.is_finished


def _zstd() -> tuple[Step, Callable[[], bool]]:
    import sys

    if sys.version_info >= (3, 14):  # pragma: no cover
        from compression import zstd
    else:
        from backports import zstd
    d = zstd.ZstdDecompressor()

    def step(data: bytes, room: int) -> bytes:
        if d.eof:
            return b""
        out: bytes = d.decompress(data, room)
        return out

    def finished() -> bool:
        return bool(d.eof)

    return step, finished
