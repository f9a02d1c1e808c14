"""How deep each URL of a depth-limited crawl really is: its shortest link distance from a seed.

``--depth N`` promises every page at most N links from a seed. A crawler that
takes a URL's depth from the *first* link it happened to see breaks that
promise whenever a longer path is seen first: the page is fetched at depth
N-1 instead of 2, its links at N+1 are dropped, and pages within reach are
never requested. A lone worker with a LIFO queue, and any two workers sharing
a frontier, see long paths first all the time (a 1,500-page crawl at
``--depth 5`` stored 1,416 pages alone and 1,457 with two workers).

Two measures fix it. The frontier is breadth-first (``DEPTH_PRIORITY`` and
FIFO queues in ``crawler.settings``), so short paths are usually seen first.
And this book keeps, per URL, the smallest depth seen so far and the depth
its links were followed at (*expanded*):

* a link offered at a smaller depth than known lowers the record; if the page
  has already been expanded deeper, the spider follows its links again from
  the new depth (from the ledger's stored links: the page is not fetched again);
* a page is expanded at the smallest depth known when its response is parsed,
  whatever depth its request carried.

Offering a link and expanding a page are each one atomic step (one Lua call on
Redis when scaled out, so that workers cannot interleave between the look and
the update). A crawl without a depth limit never uses a book.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # redis only with --redis: its import is a tenth of a crawl's start-up otherwise
    import redis

    from crawler.crawlkeys import CrawlKeys

SKIP, NEW, DEEPER_BEFORE = 0, 1, 2  # what to do with an offered link (see DepthBook.page)


class DepthBook(Protocol):
    def page(self, url: str | None, depth: int, links: Sequence[str], limit: int) -> tuple[int, list[int]]:
        """Expand ``url`` (None: offer ``links`` at ``depth`` + 1 without a page).

        Returns the depth ``url`` is expanded at (the smallest known, at most
        ``depth``) and, per link, ``NEW`` (first seen: request it),
        ``DEEPER_BEFORE`` (known, and already expanded deeper than it now is:
        follow its links again) or ``SKIP``. Links deeper than ``limit`` are
        neither recorded nor followed.
        """


class LocalDepthBook:
    """The book of a crawl on one machine."""

    def __init__(self) -> None:
        self.best: dict[str, int] = {}
        self.expanded: dict[str, int] = {}

    def page(self, url: str | None, depth: int, links: Sequence[str], limit: int) -> tuple[int, list[int]]:
        if url is not None:
            depth = min(depth, self.best.get(url, depth))
            self.best[url] = self.expanded[url] = depth
        child = depth + 1
        out: list[int] = []
        for link in links:
            state = SKIP
            if child <= limit:
                old = self.best.get(link)
                if old is None:
                    self.best[link] = child
                    state = NEW
                elif old > child:
                    self.best[link] = child
                    if self.expanded.get(link, -1) > child:
                        state = DEEPER_BEFORE
            out.append(state)
        return depth, out


# KEYS: best depth hash, expanded hash. ARGV: url ('' for none), depth, limit, links...
_PAGE = """
local d = tonumber(ARGV[2])
if ARGV[1] ~= '' then
  local known = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
  if known and known < d then d = known end
  redis.call('HSET', KEYS[1], ARGV[1], d)
  redis.call('HSET', KEYS[2], ARGV[1], d)
end
local child = d + 1
local limit = tonumber(ARGV[3])
local out = {d}
for i = 4, #ARGV do
  local state = 0
  if child <= limit then
    local old = tonumber(redis.call('HGET', KEYS[1], ARGV[i]))
    if not old then
      redis.call('HSET', KEYS[1], ARGV[i], child)
      state = 1
    elseif old > child then
      redis.call('HSET', KEYS[1], ARGV[i], child)
      local e = tonumber(redis.call('HGET', KEYS[2], ARGV[i]))
      if e and e > child then state = 2 end
    end
  end
  out[#out + 1] = state
end
return out
"""


class RedisDepthBook:
    """The book of a scaled-out crawl, shared by its workers under ``…:depth`` and ``…:expanded``."""

    def __init__(self, server: redis.Redis, keys: CrawlKeys, lost: Callable[[BaseException], None]) -> None:
        self.keys = [keys.namespace + "depth", keys.namespace + "expanded"]
        self._page = server.register_script(_PAGE)
        self._lost = lost  # stops the worker: without the book it cannot tell what to follow
        from redis import RedisError

        self._error: type[Exception] = RedisError

    def page(self, url: str | None, depth: int, links: Sequence[str], limit: int) -> tuple[int, list[int]]:
        try:
            found = self._page(keys=self.keys, args=[url or "", depth, limit, *links])
        except self._error as exc:
            self._lost(exc)
            return depth, [0] * len(links)
        return int(found[0]), [int(x) for x in found[1:]]
