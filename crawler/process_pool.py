"""Worker processes driven from the event loop: one pipe each, no helper threads.

``concurrent.futures.ProcessPoolExecutor`` moves every task through a queue
feeder thread and a manager thread, with wake-up pipes between them and the
loop: measured on this project's 2-core machine it cost the crawl process
~0.12 ms of CPU per task, most of it on threads that hold the GIL the reactor
needs, and the reactor is what limits a crawl's pages per second. Here each
worker has a duplex pipe whose end is watched by the event loop
(``loop.add_reader``): a task is one ``send_bytes`` on the loop thread, its
result one ``recv_bytes`` in the reader callback (~0.03 ms per task).

* Tasks wait in one queue and are handed out from the loop's callbacks: when
  a result is read, the worker's next task is written before the loop turns
  again (a worker that waited for a coroutine to wake up and send it more sat
  idle for a loop turn per page, and under load the pages queued for seconds).
  Each worker holds up to ``TASKS_PER_WORKER`` tasks, the next waiting in its
  pipe; a task too big to wait there is sent only to an idle worker. The
  queue is bounded by the callers (the crawl's scraper slot holds the pages).
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
from collections import deque
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


#: Tasks a worker holds at once: the next one waits in its pipe while it works on the current one,
#: so a worker never idles until the event loop gets round to reading its result.
TASKS_PER_WORKER = 2
#: A task this big or bigger is sent only to an idle worker: it could fill the pipe's buffer
#: (~200 KB for the socket pair behind a duplex Pipe) and a write would then block the loop.
QUEUED_TASK_MAX_BYTES = 64 * 1024


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    tasks: int = 0  # tasks sent to it
    held: deque[asyncio.Future[Any]] = field(default_factory=deque, repr=False)  # sent, not answered


class ProcessPool:
    """``processes`` workers fed from the event loop (see the module docstring)."""

    def __init__(self, processes: int, *, preload: list[str], max_tasks: int) -> None:
        if processes < 1:
            raise ValueError("a process pool needs at least one process")
        self.processes = processes
        self.max_tasks = max_tasks
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(preload)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: deque[tuple[bytes, asyncio.Future[Any]]] = deque()  # tasks no worker holds yet
        self._workers: list[_Worker] = []
        self._closed = False
        self.replaced = 0  # workers started again after one died

    def start(self) -> None:
        """Start the workers in the background (call on the event loop); tasks wait for the first."""
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
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
        assert self._loop is not None
        self._workers.append(worker)
        self._loop.add_reader(worker.conn.fileno(), self._readable, worker)
        self._dispatch()

    def _dispatch(self) -> None:
        """Hand queued tasks to the workers with room, least loaded first; called whenever room appears.

        Called from the reader callback, not from the waiting coroutines: a
        worker's next task is in its pipe before the loop turns again.
        """
        queue = self._queue
        while queue:
            payload, future = queue[0]
            if future.done():  # its caller went away (cancelled)
                queue.popleft()
                continue
            room = TASKS_PER_WORKER if len(payload) < QUEUED_TASK_MAX_BYTES else 1
            open_workers = [w for w in self._workers if len(w.held) < room and w.tasks < self.max_tasks]
            if not open_workers:
                return
            worker = min(open_workers, key=lambda w: len(w.held))
            queue.popleft()
            try:
                worker.conn.send_bytes(payload)
            except (BrokenPipeError, OSError) as exc:
                queue.appendleft((payload, future))  # not sent: another worker takes it
                self._lost(worker, exc)
                continue
            worker.tasks += 1
            worker.held.append(future)

    def _readable(self, worker: _Worker) -> None:
        """A result arrived, or the pipe closed because the worker died."""
        try:
            ok, value = pickle.loads(worker.conn.recv_bytes())
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            self._lost(worker, exc)
            self._dispatch()
            return
        future = worker.held.popleft() if worker.held else None
        if future is not None and not future.done():
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        if worker.tasks >= self.max_tasks and not worker.held:
            self._retire(worker)  # its caches go with it
            self._spawn(1)
        self._dispatch()

    def _lost(self, worker: _Worker, exc: BaseException) -> None:
        """A worker died: its tasks fail with WorkerDied (their callers resubmit), a new one starts."""
        self._retire(worker)
        if self._closed:
            return
        self.replaced += 1
        logger.warning("an extraction process died (%s): started again, its pages resubmitted",
                       type(exc).__name__)
        while worker.held:
            future = worker.held.popleft()
            if not future.done():
                future.set_exception(WorkerDied(f"worker {worker.process.pid} died"))
        self._spawn(1)

    def _retire(self, worker: _Worker) -> None:
        if worker in self._workers:
            self._workers.remove(worker)
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
        future = asyncio.get_running_loop().create_future()
        self._queue.append((pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL), future))
        self._dispatch()
        return await future


    def close(self) -> None:
        """Stop every worker: each ends at the end-of-file on its pipe; one that does not is killed."""
        self._closed = True
        workers, self._workers = list(self._workers), []
        for worker in workers:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(worker.conn.fileno())
            worker.conn.close()
        for worker in workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=5)
