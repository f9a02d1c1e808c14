"""``fairfetch schedule``: re-crawl the jobs of a schedule file, unattended.

``schedule run FILE`` starts each due job as a ``fairfetch crawl``
subprocess — the real command, so every enforcement applies — one job at a
time, records the run in the state file and sleeps until the next job is due.
``--once`` runs what is due now and exits (for cron and systemd timers).
``schedule list FILE`` shows every job's last run and next due time.

The decisions (what is due, jitter, history) are in ``crawler.schedule``
and the schedule file in ``crawler.schedule_file``; the state file and the
job locks (shared safely with cron ``--once`` calls) in
``crawler.cli.schedule_state``; running the jobs, the subprocess and the stop
signals in ``crawler.cli.schedule_runner``. This module is the command line:
its options, the log lines and the tables.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.cli.output import err_console, fail, print_json, print_table
from crawler.cli.schedule_runner import Scheduler, StopFlag, run_dict
from crawler.cli.schedule_state import StateStore, default_state_path
from crawler.schedule import next_due, utc
from crawler.schedule_file import Schedule, ScheduleError, format_interval, load_schedule


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


# -- the commands ---------------------------------------------------------------------


def _store(args: argparse.Namespace) -> StateStore:
    return StateStore(args.state or default_state_path(args.file))


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
            "ran": [run_dict(r) for r in outcome.ran],
            "skipped": outcome.skipped,
            "jobs": _job_rows(scheduler.schedule, scheduler.store, scheduler.clock.now()),
        })
    return 1 if outcome.failed else 0


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
