"""Start-up shortcuts of ``fairfetch crawl``: what it spent CPU on before its first request and need not.

Scrapy builds its deprecated TLS aliases (``ScrapyClientContextFactory`` and
two more) with ``create_deprecated_class``, which names the module that
defines each alias by walking ``inspect.stack()``: source lines and a
``getmodule`` scan of ``sys.modules`` for every frame above it, deep in the
import machinery. On a crawl's start-up path that was ~40 ms of CPU, every
worker, for three ``__module__`` strings. :func:`import_tls_factories` imports
those modules while ``scrapy.utils.deprecate`` looks up its caller directly
(the calling frame's module, what the stack walk finds too); everything else
there still reaches the real :mod:`inspect`.
"""

from __future__ import annotations

import inspect
import sys
from types import FrameType, ModuleType
from typing import Any


class _CallerLookup:
    """``inspect`` for ``scrapy.utils.deprecate`` while the TLS modules load: the caller without a stack walk."""

    def __init__(self, real: ModuleType) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    @staticmethod
    def stack(context: int = 1) -> list[tuple[FrameType]]:
        """The two innermost entries the alias builder reads: itself and the module defining the alias."""
        here = sys._getframe(1)  # create_deprecated_class
        return [(here,), (here.f_back or here,)]

    @staticmethod
    def getmodule(obj: Any, _filename: str | None = None) -> ModuleType | None:
        if isinstance(obj, FrameType):
            return sys.modules.get(obj.f_globals.get("__name__", ""))
        return inspect.getmodule(obj, _filename)


def import_tls_factories() -> None:
    """Import ``scrapy.core.downloader.contextfactory`` (and its ``tls``) without the stack walks (see above)."""
    if "scrapy.core.downloader.contextfactory" in sys.modules:
        return
    from scrapy.utils import deprecate

    real = deprecate.inspect
    deprecate.inspect = _CallerLookup(real)  # type: ignore[assignment]
    try:
        import scrapy.core.downloader.contextfactory  # noqa: F401
    finally:
        deprecate.inspect = real
