"""``fairfetch schedule``: re-crawl the jobs of a schedule file, unattended.

``schedule run FILE`` starts each due job as a ``fairfetch crawl``
subprocess — the real command, so every enforcement applies — one job at a
time, records the run in the state file and sleeps until the next job is due.
``--once`` runs what is due now and exits (for cron and systemd timers).
``schedule list FILE`` shows every job's last run and next due time.

The decisions (what is due, jitter, history) are in ``crawler.schedule``;
this module does the I/O: the state file (rewritten atomically under a lock,
so a scheduler and a cron ``--once`` can share it), one lock file per job
(``flock``: a run still going in another process makes the job be skipped,
and a crashed process never leaves a stale lock), the subprocess and signals.
SIGINT/SIGTERM stop the scheduler after the current run; a second one asks
the running crawl to stop too (Scrapy's graceful shutdown).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import IO, Any, Protocol

from crawler.cli.output import err_console, fail, print_json, print_table
from crawler.schedule import (
    Job,
    RunRecord,
    Schedule,
    ScheduleError,
    State,
    due_jobs,
    dump_state,
    format_interval,
    load_schedule,
    next_due,
    next_wake,
    parse_state,
    summarise_output,
    tail,
    utc,
)

STOP_GRACE = 60.0
"""Seconds a crawl stopped at its job's timeout gets to shut down gracefully before it is killed."""

IDLE_RETRY = timedelta(seconds=5)
"""Pause before looking again when due jobs were all skipped (running elsewhere): no busy loop."""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "schedule",
        help="re-crawl the jobs of a schedule file at their intervals",
        description=(
            "Run the crawl jobs of a TOML schedule file at their intervals, each as a 'fairfetch crawl' "
            "subprocess, and keep a history of the runs in a state file next to the schedule."
        ),
    )
    sub = p.add_subparsers(dest="schedule_command", metavar="ACTION", required=True)
    run = sub.add_parser("run", help="run the due jobs, then sleep until the next one is due")
    run.add_argument("file", type=Path, metavar="FILE", help="the schedule (TOML)")
    run.add_argument("--once", action="store_true", help="run what is due now and exit (for cron/systemd)")
    _common(run)
    run.set_defaults(func=run_command)
    ls = sub.add_parser("list", help="jobs, their last run and when each is next due")
    ls.add_argument("file", type=Path, metavar="FILE", help="the schedule (TOML)")
    _common(ls)
    ls.set_defaults(func=list_command)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state", type=Path, metavar="FILE",
                   help="the run history (default: FILE with the suffix .state.json, next to the schedule)")
    p.add_argument("--json", action="store_true", help="JSON on stdout instead of tables and log lines")


def default_state_path(schedule_path: Path) -> Path:
    return schedule_path.with_name(schedule_path.stem + ".state.json")


# -- clock ----------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


# -- the state file and the job locks -------------------------------------------------


class StateStore:
    """The state file: read, and changed only under an exclusive lock with an atomic rename."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.locks = path.with_name(path.name + ".locks")

    def _lock_file(self, name: str) -> IO[str]:
        try:
            self.locks.mkdir(parents=True, exist_ok=True)
            return open(self.locks / name, "a")
        except OSError as exc:
            raise ScheduleError(f"cannot create the lock {str(self.locks / name)!r}: {exc.strerror or exc}") from None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock_file("state.lock") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read(self) -> State:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return State()
        except (OSError, UnicodeDecodeError) as exc:
            raise ScheduleError(f"cannot read state file {str(self.path)!r}: {exc}") from None
        return parse_state(text, source=f"state file {str(self.path)!r}")

    def update(self, change: Callable[[State], Any]) -> State:
        """Apply ``change`` to the current state and write it back; returns the new state."""
        try:
            return self._update(change)
        except OSError as exc:
            raise ScheduleError(f"cannot write state file {str(self.path)!r}: {exc.strerror or exc}") from None

    def _update(self, change: Callable[[State], Any]) -> State:
        with self._locked():
            state = self.read()
            change(state)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(dump_state(state))
                    out.flush()
                    os.fsync(out.fileno())
                os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the history from other operators
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            return state

    @contextlib.contextmanager
    def job_lock(self, name: str) -> Iterator[bool]:
        """Hold the job's lock for the block; yields False (and holds nothing) when another process has it."""
        handle = self._lock_file(f"{name}.lock")
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            handle.close()

    def running(self, name: str) -> bool:
        """Whether some process is running the job right now."""
        if not (self.locks / f"{name}.lock").exists():
            return False
        with self.job_lock(name) as mine:
            return not mine


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
            self.report("finished", _run_dict(record))
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


# -- the commands ---------------------------------------------------------------------


def _store(args: argparse.Namespace) -> StateStore:
    return StateStore(args.state or default_state_path(args.file))


def _run_dict(record: RunRecord) -> dict[str, Any]:
    return record.model_dump(mode="json")


def run_command(args: argparse.Namespace) -> int:
    stop = StopFlag()

    def report(event: str, data: dict[str, Any]) -> None:
        if args.json and not args.once and event in ("finished", "skipped", "reload-failed"):
            sys.stdout.write(json.dumps({"event": event, **data}, default=str) + "\n")
            sys.stdout.flush()
        err_console.print(_log_line(event, data), soft_wrap=True)

    try:
        scheduler = Scheduler(args.file, _store(args), stop=stop, report=report)
        scheduler.store.read()
    except ScheduleError as exc:
        return fail(str(exc))
    stop.install()
    try:
        if not args.once:
            scheduler.loop()
            return 0
        outcome = scheduler.run_due()
    except ScheduleError as exc:
        return fail(str(exc), code=1)
    finally:
        stop.uninstall()
    if args.json:
        print_json({
            "ran": [_run_dict(r) for r in outcome.ran],
            "skipped": outcome.skipped,
            "jobs": _job_rows(scheduler.schedule, scheduler.store, scheduler.clock.now()),
        })
    return 1 if outcome.failed else 0


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


def list_command(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        schedule = load_schedule(args.file)
        rows = _job_rows(schedule, store, datetime.now(UTC))
    except ScheduleError as exc:
        return fail(str(exc))
    if args.json:
        print_json(rows)
        return 0
    print_table(
        f"fairfetch schedule {args.file}",
        ("job", "every", "last run", "exit", "stored", "refused", "next due"),
        [
            (
                r["job"], r["every"], _when(r["last_started_at"]) + (" (running)" if r["running"] else ""),
                _exit(r), r["stored"], r["refused"], "now" if r["due"] else _when(r["next_due"]),
            )
            for r in rows
        ],
        caption=f"state: {store.path}",
    )
    return 0


def _job_rows(schedule: Schedule, store: StateStore, now: datetime) -> list[dict[str, Any]]:
    state = store.read()
    rows = []
    for job in schedule.jobs:
        last = state.last_run(job.name)
        due_at = next_due(job, last, now)
        job_state = state.jobs.get(job.name)
        rows.append({
            "job": job.name,
            "every": format_interval(job.every),
            "jitter": format_interval(job.jitter),
            "seeds": list(job.seeds),
            "running": store.running(job.name),
            "last_started_at": last.started_at.isoformat() if last else None,
            "last_finished_at": last.finished_at.isoformat() if last and last.finished_at else None,
            "exit_code": last.exit_code if last else None,
            "ok": last.ok if last else None,
            "error": last.error if last else None,
            "stored": last.stored if last else None,
            "refused": last.refused if last else None,
            "crawl_id": (last.summary or {}).get("crawl_id") if last else None,
            "failures_in_a_row": job_state.failures_in_a_row() if job_state else 0,
            "next_due": due_at.isoformat(),
            "due": due_at <= utc(now),
        })
    return rows


def _when(value: str | None) -> str:
    if value is None:
        return "never"
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _exit(row: dict[str, Any]) -> str:
    if row["last_started_at"] is None:
        return ""
    if row["exit_code"] is None:
        return "running" if row["running"] else "failed"
    code = str(row["exit_code"])
    failures = row["failures_in_a_row"]
    return code if not failures else f"{code} ({failures} failed in a row)"


def _log_line(event: str, data: dict[str, Any]) -> str:
    if event == "started":
        return f"{data['job']}: crawl started"
    if event == "finished":
        if data["error"]:
            return f"{data['job']}: FAILED ({data['error']}); retried at its next interval"
        summary = data["summary"] or {}
        return (
            f"{data['job']}: crawl {summary.get('crawl_id')} done, stored {summary.get('stored')}, "
            f"refused {summary.get('refused')}, errors {summary.get('errors')}"
        )
    if event == "skipped":
        return f"{data['job']}: skipped, {data['reason']}"
    if event == "sleeping":
        return f"next job due at {_when(data['until'])}"
    return f"schedule not reloaded: {data['error']}"
