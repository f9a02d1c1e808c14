"""Worker processes driven from the event loop: one pipe each, no helper threads.

``concurrent.futures.ProcessPoolExecutor`` moves every task through a queue
feeder thread and a manager thread, with wake-up pipes between them and the
loop: measured on this project's 2-core machine it cost the crawl process
~0.12 ms of CPU per task, most of it on threads that hold the GIL the reactor
needs, and the reactor is what limits a crawl's pages per second. Here each
worker has a duplex pipe whose end is watched by the event loop
(``loop.add_reader``): a task is one ``send_bytes`` on the loop thread, its
result one ``recv_bytes`` in the reader callback (~0.04 ms per task).

* A worker runs one task at a time; callers wait for an idle worker, which is
  the back-pressure (pages waiting hold their download slot, so memory stays
  bounded by the crawl's concurrency).
* A worker that dies (killed, out of memory) is noticed as end-of-file on its
  pipe, replaced, and its task handed to the caller as :class:`WorkerDied` to
  resubmit. A worker is also replaced after ``max_tasks`` tasks, so that a
  library's caches cannot grow without end.
* Workers are forked by a *forkserver* that imported ``preload`` once, so a
  start costs milliseconds and nothing is forked from the multi-threaded
  crawler. Starting one waits for that server, which is why workers are
  started on a short-lived thread and handed to the loop when ready.
* A worker ends when its pipe closes (the crawl closed it, or died: the
  kernel closes it then), and its SIGINT is ignored: Ctrl-C is the crawl's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import pickle
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

logger = logging.getLogger(__name__)


class WorkerDied(RuntimeError):
    """The worker running a task died before answering; the task may be submitted again."""


def _serve(conn: Connection, parent_pid: int) -> None:
    """A worker's life: run each task that arrives on ``conn`` and send back its result or exception."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _yield_to_the_crawler()
    threading.Thread(target=_exit_when_gone, args=(parent_pid,), name="fairfetch-orphan-check",
                     daemon=True).start()
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        function, args = pickle.loads(data)
        try:
            reply: tuple[bool, Any] = (True, function(*args))
        except Exception as exc:  # the task's own error goes back to its caller
            reply = (False, exc)
        conn.send_bytes(pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))


def _yield_to_the_crawler() -> None:
    """Do not let a task's wake-up preempt the crawl's reactor thread.

    The reactor is what paces a crawl; a worker's page can wait a moment. A
    task written to an idle worker's pipe wakes it, and Linux then preempted
    the writer (the reactor) in favour of the freshly woken worker: sampled, 7%
    of the reactor's time went to that one ``send_bytes``, 2% with the worker
    marked ``SCHED_BATCH`` (batch work, not woken ahead of running threads).
    Its share of the CPU is unchanged: a niced worker starved on a machine busy
    with other work, and its pages held their download slots meanwhile.
    Unprivileged; where unsupported, nothing changes.
    """
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


ORPHAN_CHECK_SECONDS = 1.0


def _exit_when_gone(parent_pid: int) -> None:
    """Belt and braces next to the pipe's end-of-file: end the worker when its crawl is gone."""
    import time

    while True:
        time.sleep(ORPHAN_CHECK_SECONDS)
        try:
            os.kill(parent_pid, 0)
        except (ProcessLookupError, PermissionError):  # gone, or the pid is now another user's process
            os._exit(0)


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    tasks: int = 0
    waiting: asyncio.Future[Any] | None = field(default=None, repr=False)


class ProcessPool:
    """``processes`` workers, each running one task at a time (see the module docstring)."""

    def __init__(self, processes: int, *, preload: list[str], max_tasks: int) -> None:
        if processes < 1:
            raise ValueError("a process pool needs at least one process")
        self.processes = processes
        self.max_tasks = max_tasks
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(preload)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: asyncio.Queue[_Worker] | None = None
        self._workers: set[_Worker] = set()
        self._closed = False
        self.replaced = 0  # workers started again after one died

    def start(self) -> None:
        """Start the workers in the background (call on the event loop); tasks wait for the first."""
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._idle = asyncio.Queue()
        self._spawn(self.processes)

    def _spawn(self, count: int) -> None:
        loop = self._loop
        assert loop is not None
        multiprocessing.active_children()  # reaps the workers retired or dead so far

        def start_workers() -> None:
            for _ in range(count):
                if self._closed:
                    return
                parent_end, child_end = self._context.Pipe(duplex=True)
                process = self._context.Process(target=_serve, args=(child_end, os.getpid()), daemon=True,
                                                name="fairfetch-extract")
                process.start()
                child_end.close()
                worker = _Worker(process, parent_end)
                try:
                    loop.call_soon_threadsafe(self._ready, worker)
                except RuntimeError:  # the loop has closed: the crawl is over
                    self._stop(worker)
                    return

        threading.Thread(target=start_workers, name="fairfetch-pool-start", daemon=True).start()

    def _ready(self, worker: _Worker) -> None:
        if self._closed:
            self._stop(worker)
            return
        assert self._loop is not None and self._idle is not None
        self._workers.add(worker)
        self._loop.add_reader(worker.conn.fileno(), self._readable, worker)
        self._idle.put_nowait(worker)

    def _readable(self, worker: _Worker) -> None:
        """A result arrived, or the pipe closed because the worker died."""
        waiting, worker.waiting = worker.waiting, None
        try:
            ok, value = pickle.loads(worker.conn.recv_bytes())
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            self._lost(worker, waiting, exc)
            return
        if waiting is not None and not waiting.done():
            if ok:
                waiting.set_result(value)
            else:
                waiting.set_exception(value)
        worker.tasks += 1
        if worker.tasks >= self.max_tasks:
            self._retire(worker)
            self._spawn(1)
        else:
            assert self._idle is not None
            self._idle.put_nowait(worker)

    def _lost(self, worker: _Worker, waiting: asyncio.Future[Any] | None, exc: BaseException) -> None:
        self._retire(worker)
        if self._closed:
            return
        self.replaced += 1
        logger.warning("an extraction process died (%s): started again, its page resubmitted",
                       type(exc).__name__)
        if waiting is not None and not waiting.done():
            waiting.set_exception(WorkerDied(f"worker {worker.process.pid} died"))
        self._spawn(1)

    def _retire(self, worker: _Worker) -> None:
        if worker in self._workers:
            self._workers.discard(worker)
            assert self._loop is not None
            self._loop.remove_reader(worker.conn.fileno())
        self._stop(worker)

    @staticmethod
    def _stop(worker: _Worker) -> None:
        worker.conn.close()  # the worker reads end-of-file and returns
        worker.process.join(timeout=0)  # reap it if it has already gone

    async def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` in a worker; raises its exception, or :class:`WorkerDied`."""
        if self._loop is None:
            self.start()
        assert self._idle is not None
        while True:
            worker = await self._idle.get()
            if worker in self._workers:
                break  # else it died while idle, and was replaced
        loop = asyncio.get_running_loop()
        worker.waiting = future = loop.create_future()
        try:
            worker.conn.send_bytes(pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL))
        except (BrokenPipeError, OSError) as exc:
            worker.waiting = None
            self._lost(worker, None, exc)
            raise WorkerDied(f"worker {worker.process.pid} died") from exc
        return await future

    @property
    def pids(self) -> list[int]:
        return sorted(w.process.pid for w in self._workers if w.process.pid is not None)

    def close(self) -> None:
        """Stop every worker: each ends at the end-of-file on its pipe; one that does not is killed."""
        self._closed = True
        workers, self._workers = list(self._workers), set()
        for worker in workers:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(worker.conn.fileno())
            worker.conn.close()
        for worker in workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=5)
