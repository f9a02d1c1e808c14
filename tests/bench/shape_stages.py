"""Where ``attribution.shape`` spends its time on the 300-word benchmark answer, stage by stage.

Thread CPU time (other processes on a shared machine do not count), per
call, for each step ``attribution.shaping._run`` calls: the names it
imports are wrapped with a timer for the duration of the run. Blocks of
calls are timed and the best block is reported, since a loaded machine
slows some blocks down. To compare with another revision, give a folder
holding that revision's ``attribution`` package (the benchmark's answer and
sources still come from this checkout)::

    .venv/bin/python -m tests.bench.shape_stages
    mkdir /tmp/old && git archive e8d9a46 attribution | tar -x -C /tmp/old
    .venv/bin/python -m tests.bench.shape_stages /tmp/old
"""

from __future__ import annotations

import functools
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

# The names shaping._run calls (Document: parsing the answer; parse: re-parsing the result).
STAGES = (
    "Document", "detect_language", "build_units", "tokenize", "analyse", "_match_facts", "infer_kind",
    "stances", "parse", "block_signature", "build_citations", "build_usage", "_drop_denied", "_prose_sample",
)  # fmt: skip
BLOCKS = 10
CALLS = 30
_spent: dict[str, float] = {}


def _timed(name: str, f: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(f)
    def run(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return f(*args, **kwargs)
        finally:
            _spent[name] = _spent.get(name, 0.0) + time.thread_time() - start

    return run


def main(argv: list[str]) -> None:
    if argv:
        sys.path.insert(0, argv[0])
    import attribution.shaping as shaping
    from attribution import shape
    from tests.bench.test_bench_attribution import corpus, sources_for

    # Methods first: wrapping a class's name replaces it with a function.
    for cls, method in (("Writer", "write"), ("Decider", "decide")):
        owner = getattr(shaping, cls, None)
        if owner is not None:
            setattr(owner, method, _timed(f"{cls}.{method}", getattr(owner, method)))
    for name in STAGES:
        if hasattr(shaping, name):
            setattr(shaping, name, _timed(name, getattr(shaping, name)))
    sources = sources_for(10)
    _, answer = corpus(10)
    shape(answer, sources)  # indexes, language model
    totals: list[float] = []
    stages: list[dict[str, float]] = []
    for _ in range(BLOCKS):
        _spent.clear()
        start = time.thread_time()
        for _ in range(CALLS):
            shape(answer, sources)
        totals.append((time.thread_time() - start) / CALLS * 1000)
        stages.append({k: v / CALLS * 1000 for k, v in _spent.items()})
    print(f"{shaping.__file__}: best block {min(totals):.2f} ms/call, median block {statistics.median(totals):.2f}")
    names = {n for block in stages for n in block}
    for name in sorted(names, key=lambda n: -min(b.get(n, 0.0) for b in stages)):
        best = min(b.get(name, 0.0) for b in stages)
        if best >= 0.01:
            print(f"  {name:18s} {best:.3f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
