"""Running a schedule's due jobs, one at a time, each as a ``fairfetch crawl`` subprocess.

The real command, so every enforcement applies, in its own session: a
Ctrl-C at the terminal reaches the scheduler only, which lets the crawl
finish; a second SIGINT/SIGTERM asks the running crawl to stop too
(Scrapy's graceful shutdown), and a job's ``timeout`` does the same. A run
is claimed in the state file before it starts, under the job's lock, so a
scheduler and a cron ``--once`` never run one job twice. The clock is a
parameter, so the tests drive the loop with a fake one.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from crawler.cli.output import err_console
from crawler.cli.schedule_state import StateStore
from crawler.schedule import (
    RunRecord,
    State,
    due_jobs,
    next_due,
    next_wake,
    summarise_output,
    tail,
    utc,
)
from crawler.schedule_file import Job, Schedule, ScheduleError, format_interval, load_schedule

STOP_GRACE = 60.0
"""Seconds a crawl stopped at its job's timeout gets to shut down gracefully before it is killed."""

IDLE_RETRY = timedelta(seconds=5)
"""Pause before looking again when due jobs were all skipped (running elsewhere): no busy loop."""


# -- clock ----------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


# -- running one job ------------------------------------------------------------------


def crawl_command(job: Job) -> list[str]:
    """``fairfetch crawl ...`` for ``job``, through the console script next to this Python when there is one."""
    script = Path(sys.executable).parent / "fairfetch"
    if script.exists():
        prefix = [str(script)]
    else:  # pragma: no cover - only outside an installed environment
        prefix = [sys.executable, "-c", "import sys; from crawler.cli import main; sys.exit(main())"]
    return [*prefix, "crawl", *job.crawl_args()]


@dataclass
class StopFlag:
    """Set by SIGINT/SIGTERM; a second signal also interrupts the running crawl."""

    requested: bool = False
    child: subprocess.Popen[str] | None = None
    previous: dict[int, Any] = field(default_factory=dict)

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.previous[sig] = signal.signal(sig, self._handle)

    def uninstall(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        self.previous.clear()

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.requested and self.child is not None and self.child.poll() is None:
            err_console.print("second stop signal: asking the running crawl to stop")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.child.pid, signal.SIGINT)
        self.requested = True


@dataclass
class Outcome:
    """What one pass over the due jobs did."""

    ran: list[RunRecord] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    @property
    def failed(self) -> list[RunRecord]:
        return [r for r in self.ran if not r.ok]


class Scheduler:
    """Runs the due jobs of one schedule, one at a time, against a state store and a clock."""

    def __init__(
        self,
        schedule_path: Path,
        store: StateStore,
        *,
        clock: Clock | None = None,
        stop: StopFlag | None = None,
        report: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.schedule_path = schedule_path
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.stop = stop or StopFlag()
        self.report = report or (lambda _event, _data: None)
        self.schedule: Schedule = checked_schedule(schedule_path)

    def reload(self) -> None:
        """Pick up edits of the schedule file; a broken edit is reported and the old jobs kept."""
        try:
            self.schedule = checked_schedule(self.schedule_path)
        except ScheduleError as exc:
            self.report("reload-failed", {"error": str(exc)})

    def run_due(self) -> Outcome:
        outcome = Outcome()
        for job in due_jobs(self.schedule, self.store.read(), self.clock.now()):
            if self.stop.requested:
                break
            record = self.run_job(job)
            if isinstance(record, str):
                outcome.skipped.append({"job": job.name, "reason": record})
                self.report("skipped", outcome.skipped[-1])
            else:
                outcome.ran.append(record)
        return outcome

    def run_job(self, job: Job) -> RunRecord | str:
        """Run ``job`` once if it is still due and no other process runs it; else why it was skipped."""
        with self.store.job_lock(job.name) as mine:
            if not mine:
                return "a previous run is still going"
            started = self.clock.now()
            claimed: list[RunRecord] = []

            def claim(state: State) -> None:
                # Under the state lock, with the job lock held: an unfinished last
                # run belongs to a scheduler that died; a run another process just
                # finished may have made the job not due any more.
                state.abandon_unfinished(job.name, started)
                if next_due(job, state.last_run(job.name), started) <= utc(started):
                    claimed.append(RunRecord(job=job.name, started_at=started))
                    state.record(claimed[0])

            self.store.update(claim)
            if not claimed:
                return "another process has just run it"
            self.report("started", {"job": job.name, "started_at": started.isoformat()})
            record = self._crawl(job, claimed[0])
            self.store.update(lambda state: state.record(record))
            self.report("finished", run_dict(record))
            return record

    def _crawl(self, job: Job, record: RunRecord) -> RunRecord:
        command = crawl_command(job)
        try:
            # Own session: a Ctrl-C at the terminal reaches the scheduler only,
            # which lets the crawl finish (see StopFlag for the second signal).
            child = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                start_new_session=True,
            )
        except OSError as exc:
            return record.model_copy(
                update={"finished_at": self.clock.now(), "error": f"could not start the crawl: {exc}"}
            )
        self.stop.child = child
        try:
            stdout, stderr, timed_out = _wait(child, job.timeout)
        finally:
            self.stop.child = None
        # A crawl stopped by a signal (exit 128 + N, e.g. at the timeout) still printed its summary.
        summary = summarise_output(stdout) if child.returncode == 0 or child.returncode >= 128 else None
        error = None
        if timed_out:
            error = f"stopped at the job's timeout of {format_interval(job.timeout or timedelta(0))}"
        elif child.returncode != 0:
            error = f"crawl exited with {child.returncode}: {tail(stderr) or 'no message'}"
        elif summary is None:
            error = "crawl printed no JSON summary"
        return record.model_copy(
            update={"finished_at": self.clock.now(), "exit_code": child.returncode,
                    "summary": summary, "error": error}
        )

    def loop(self) -> None:
        """Run due jobs and sleep until the next is due, until a stop signal."""
        while not self.stop.requested:
            self.reload()
            outcome = self.run_due()
            if self.stop.requested:
                break
            now = self.clock.now()
            wake = next_wake(self.schedule, self.store.read(), now)
            if wake <= now and not outcome.ran:
                wake = now + IDLE_RETRY
            if wake > now:
                self.report("sleeping", {"until": wake.isoformat()})
            self._sleep_until(wake)

    def _sleep_until(self, wake: datetime) -> None:
        # Short naps: a stop signal is noticed within a second.
        while not self.stop.requested:
            left = (wake - self.clock.now()).total_seconds()
            if left <= 0:
                return
            self.clock.sleep(min(left, 1.0))


def _wait(child: subprocess.Popen[str], timeout: timedelta | None) -> tuple[str, str, bool]:
    """Wait for the crawl; past ``timeout`` (wall time) stop it like Ctrl-C would, and kill it if it lingers."""
    try:
        stdout, stderr = child.communicate(timeout=timeout.total_seconds() if timeout else None)
        return stdout, stderr, False
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGINT)  # Scrapy's graceful shutdown: what was stored stays
    try:
        stdout, stderr = child.communicate(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        stdout, stderr = child.communicate()
    return stdout, stderr, True


def checked_schedule(path: Path) -> Schedule:
    """The schedule, with every job's command parsed by the real ``crawl`` parser: a typo in ``args`` fails now, not at 3 am."""
    from crawler.cli import crawl

    schedule = load_schedule(path)

    class Raising(argparse.ArgumentParser):
        def error(self, message: str) -> Any:
            raise ScheduleError(message)

    for job in schedule.jobs:
        parser = Raising(prog="fairfetch", add_help=False)
        crawl.register(parser.add_subparsers(parser_class=Raising))
        try:
            parser.parse_args(["crawl", *job.crawl_args()])
        except ScheduleError as exc:
            raise ScheduleError(f"job {job.name!r}: 'args' are not valid crawl options: {exc}") from None
        except SystemExit:
            raise ScheduleError(f"job {job.name!r}: 'args' must not ask for --help") from None
    return schedule


def run_dict(record: RunRecord) -> dict[str, Any]:
    return record.model_dump(mode="json")
