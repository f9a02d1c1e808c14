"""Re-crawling on a schedule: the schedule file, the run history and when each job is next due.

Publishers change robots.txt and licences, and RFC 9309 caps a cached
robots.txt at 24 hours, so an operator re-crawls their seeds unattended. This
module holds the decisions only — what the state file says and which jobs
are due at a given instant — as pure functions of their inputs and of
``now``, so they are tested with a fake clock and never sleep. What a job is
(the schedule file) is ``crawler.schedule_file``; running the crawls, locking
and the state file on disk live in ``crawler.cli.schedule_runner`` and
``crawler.cli.schedule_state``.

Semantics, chosen so that cron-style ``--once`` calls and a long-running
scheduler agree:

* a job that never ran is due at once;
* otherwise it is due ``every`` after the *start* of its last run, plus a
  jitter offset (below). A failed or abandoned run counts like any other:
  it is retried at the next interval, never in a tight loop;
* every run is a new crawl run over the job's seeds and re-crawls what
  earlier runs stored (``crawler.recrawl``: conditional requests,
  revocation). A job's ``jobdir`` only resumes a run that was interrupted
  (killed, or stopped at the job's ``timeout``); resuming one after the
  job's seeds or purposes were edited is refused, and the run fails with
  that message until the jobdir is moved aside (``crawler.jobdir``);
* the jitter offset lies in ``[0, jitter)`` and is derived from the job name
  and the last start, so it is stable between two evaluations (a ``--once``
  from cron sees the same due time as the scheduler would) yet differs from
  job to job and run to run, which spreads jobs that share an interval.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from crawler.schedule_file import Job, Schedule, ScheduleError

HISTORY = 20
"""Runs kept per job in the state file; older ones are dropped so the file stays small."""

STATE_VERSION = 1

# -- the run history ------------------------------------------------------------------


class RunRecord(BaseModel):
    """One run of a job: when, how it ended and the crawl's own summary.

    ``finished_at`` is None while the run is going, or for a run whose
    scheduler died mid-run (``abandoned``). ``exit_code`` is that of
    ``fairfetch crawl`` (None when it could not be started or never ended);
    ``error`` says in words why a run failed.
    """

    job: str
    started_at: datetime
    finished_at: datetime | None = None
    exit_code: int | None = None
    summary: dict[str, Any] | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Ended with exit code 0, a summary and no complaint (a run stopped at its timeout is not ok)."""
        return self.finished_at is not None and self.exit_code == 0 and self.error is None

    @property
    def stored(self) -> int | None:
        value = (self.summary or {}).get("stored")
        return value if isinstance(value, int) else None

    @property
    def refused(self) -> int | None:
        value = (self.summary or {}).get("refused")
        return value if isinstance(value, int) else None


class JobState(BaseModel):
    runs: list[RunRecord] = Field(default_factory=list)

    @property
    def last(self) -> RunRecord | None:
        return self.runs[-1] if self.runs else None

    def failures_in_a_row(self) -> int:
        count = 0
        for run in reversed(self.runs):
            if run.ok or (run.finished_at is None and run.error is None):
                break
            count += 1
        return count


class State(BaseModel):
    """What the state file holds: the recent runs of every job, newest last."""

    version: int = STATE_VERSION
    jobs: dict[str, JobState] = Field(default_factory=dict)

    def last_run(self, name: str) -> RunRecord | None:
        job = self.jobs.get(name)
        return job.last if job is not None else None

    def record(self, run: RunRecord) -> None:
        """Add ``run``, or replace the job's last run when it is the same run (same start) finishing."""
        runs = self.jobs.setdefault(run.job, JobState()).runs
        if runs and runs[-1].started_at == run.started_at:
            runs[-1] = run
        else:
            runs.append(run)
        del runs[:-HISTORY]

    def abandon_unfinished(self, name: str, now: datetime) -> RunRecord | None:
        """Mark the job's unfinished last run as abandoned (its scheduler is gone); returns it, or None."""
        last = self.last_run(name)
        if last is None or last.finished_at is not None:
            return None
        abandoned = last.model_copy(
            update={"finished_at": now, "error": "abandoned: the scheduler stopped before the crawl ended"}
        )
        self.record(abandoned)
        return abandoned


def parse_state(text: str, *, source: str = "state file") -> State:
    """The state file's JSON as a :class:`State`; a damaged file is a :class:`ScheduleError`, never a traceback."""
    if not text.strip():
        return State()
    try:
        state = State.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(p) for p in first["loc"]) or "top level"
        raise ScheduleError(
            f"{source} is damaged ({location}: {first['msg']}); move it aside to start a fresh history"
        ) from None
    if state.version != STATE_VERSION:
        raise ScheduleError(f"{source} has version {state.version}; this fairfetch reads version {STATE_VERSION}")
    for name, job in state.jobs.items():
        for run in job.runs:
            if run.job != name:
                raise ScheduleError(f"{source} is damaged: a run of {run.job!r} is filed under {name!r}")
    return state


def dump_state(state: State) -> str:
    return state.model_dump_json(indent=2) + "\n"


# -- when jobs are due ----------------------------------------------------------------


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (naive means UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def jitter_offset(job: Job, last_start: datetime) -> timedelta:
    """A stable offset in ``[0, job.jitter)`` for the run after the one started at ``last_start``."""
    if job.jitter <= timedelta(0):
        return timedelta(0)
    digest = hashlib.sha256(f"{job.name}\n{utc(last_start).isoformat()}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    return timedelta(seconds=int(job.jitter.total_seconds() * fraction))


def next_due(job: Job, last: RunRecord | None, now: datetime) -> datetime:
    """When ``job`` should next start: ``now`` if it never ran, else ``every`` (+ jitter) after the last start."""
    if last is None:
        return utc(now)
    start = utc(last.started_at)
    return start + job.every + jitter_offset(job, start)


def is_due(job: Job, state: State, now: datetime) -> bool:
    return next_due(job, state.last_run(job.name), now) <= utc(now)


def due_jobs(schedule: Schedule, state: State, now: datetime) -> list[Job]:
    """The jobs due at ``now``, the most overdue first (file order breaks ties)."""
    due = [
        (next_due(job, state.last_run(job.name), now), index, job)
        for index, job in enumerate(schedule.jobs)
        if is_due(job, state, now)
    ]
    return [job for _, _, job in sorted(due, key=lambda t: (t[0], t[1]))]


def next_wake(schedule: Schedule, state: State, now: datetime) -> datetime:
    """The earliest due time of any job (``now`` or earlier when one is due already)."""
    return min(next_due(job, state.last_run(job.name), now) for job in schedule.jobs)


def summarise_output(stdout: str) -> dict[str, Any] | None:
    """The JSON summary ``fairfetch crawl --json`` printed, or None when its stdout holds none."""
    text = stdout.strip()
    start = text.find("{")
    if start < 0:
        return None
    try:
        data = json.loads(text[start:])
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def tail(text: str, lines: int = 5, chars: int = 1500) -> str:
    """The last few lines of a process's stderr, for the run record."""
    kept = "\n".join(text.strip().splitlines()[-lines:])
    return kept[-chars:]
