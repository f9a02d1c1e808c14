"""The depth book (crawler.depthbook): whatever order pages are answered in, every page within
``--depth`` links of a seed is requested, and followed from its shortest depth.

The simulation is a crawl reduced to its bookkeeping: a frontier answered in an
arbitrary order (hypothesis picks it, as two workers and their network would),
links followed only through the book, pages expanded deeper before followed
again from their stored links. The Redis book must behave exactly like the local one.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.crawlkeys import CrawlKeys
from crawler.depthbook import DEEPER_BEFORE, NEW, SKIP, DepthBook, LocalDepthBook, RedisDepthBook

Graph = dict[str, list[str]]


def shortest(graph: Graph, seeds: list[str], limit: int) -> dict[str, int]:
    dist = {s: 0 for s in seeds}
    queue = deque(seeds)
    while queue:
        page = queue.popleft()
        if dist[page] >= limit:
            continue
        for link in graph[page]:
            if link not in dist:
                dist[link] = dist[page] + 1
                queue.append(link)
    return dist


def crawl(book: DepthBook, graph: Graph, seeds: list[str], limit: int,
          rng: random.Random) -> tuple[list[str], dict[str, int]]:
    """Requests made, and the depth each page was last followed from."""
    frontier: list[tuple[str, int]] = []
    requested: list[str] = []
    followed: dict[str, int] = {}
    fetched: set[str] = set()
    _, states = book.page(None, -1, seeds, limit)
    frontier += [(s, 0) for s, state in zip(seeds, states, strict=True) if state == NEW]
    redo: list[tuple[str, int]] = []

    def follow(page: str, depth: int) -> None:
        got, states = book.page(page, depth, graph[page], limit)
        followed[page] = got
        for link, state in zip(graph[page], states, strict=True):
            if state == NEW:
                frontier.append((link, got + 1))
            elif state == DEEPER_BEFORE:
                redo.append((link, got + 1))

    while frontier or redo:
        if redo and (not frontier or rng.random() < 0.5):
            page, depth = redo.pop(rng.randrange(len(redo)))
            if page in fetched:  # its links are in the ledger; otherwise its own parse will see the depth
                follow(page, depth)
            continue
        page, depth = frontier.pop(rng.randrange(len(frontier)))  # any order: workers, latency
        requested.append(page)
        fetched.add(page)
        follow(page, depth)
    return requested, followed


graphs = st.integers(2, 30).flatmap(lambda n: st.lists(
    st.lists(st.integers(0, n - 1), max_size=4), min_size=n, max_size=n))


@settings(max_examples=300, deadline=None)
@given(graphs, st.integers(1, 4), st.randoms(use_true_random=False))
def test_every_page_within_the_limit_is_requested_once_and_followed_from_its_shortest_depth(
    edges: list[list[int]], limit: int, rng: random.Random
) -> None:
    graph = {f"p{i}": [f"p{j}" for j in dict.fromkeys(links)] for i, links in enumerate(edges)}
    seeds = ["p0"]
    requested, followed = crawl(LocalDepthBook(), graph, seeds, limit, rng)
    dist = shortest(graph, seeds, limit)
    assert sorted(requested) == sorted(dist), "a page within the limit was never requested (or one beyond was)"
    assert len(requested) == len(set(requested)), "a page was requested twice"
    assert followed == dist


def test_a_page_followed_deep_first_is_followed_again_from_its_shortest_depth() -> None:
    """seed -> a -> b -> c -> d and seed -> x -> c, limit 3: c is answered first via a and b."""
    book = LocalDepthBook()
    assert book.page(None, -1, ["seed"], 3) == (-1, [NEW])
    assert book.page("seed", 0, ["a", "x"], 3) == (0, [NEW, NEW])
    assert book.page("a", 1, ["b"], 3) == (1, [NEW])
    assert book.page("b", 2, ["c"], 3) == (2, [NEW])
    assert book.page("c", 3, ["d"], 3) == (3, [SKIP])  # d would be at 4
    assert book.page("x", 1, ["c"], 3) == (1, [DEEPER_BEFORE])  # c is at 2: follow it again
    assert book.page("c", 2, ["d"], 3) == (2, [NEW])  # from its stored links: d at 3 is requested
    # a request still carrying the old depth is followed from the best one known
    assert book.page("b", 5, [], 3) == (2, [])


@pytest.fixture
def server(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.mark.services
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(graphs, st.integers(1, 4), st.integers(0, 2**32))
def test_the_redis_book_answers_like_the_local_one(
    server: redis.Redis, redis_prefix: str, edges: list[list[int]], limit: int, seed: int
) -> None:
    graph = {f"p{i}": [f"p{j}" for j in dict.fromkeys(links)] for i, links in enumerate(edges)}
    keys = CrawlKeys(redis_prefix, f"book{seed}-{limit}-{len(edges)}")
    server.delete(keys.namespace + "depth", keys.namespace + "expanded")
    lost: list[BaseException] = []
    shared = crawl(RedisDepthBook(server, keys, lost.append), graph, ["p0"], limit, random.Random(seed))
    local = crawl(LocalDepthBook(), graph, ["p0"], limit, random.Random(seed))
    assert shared == local and not lost
