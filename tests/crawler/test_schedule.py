"""``fairfetch schedule``: the schedule file, due times with a fake clock, no overlap, failures, end to end.

The scheduling decisions are pure and are tested against an injected clock
without sleeping. The runs themselves are real ``fairfetch crawl``
subprocesses: a job whose options the crawl rejects (``--delay -1``) fails in
about a second without any network, and the end-to-end test crawls the
fixture web into a SQLite ledger.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.cli import main
from crawler.cli.schedule_runner import Scheduler, StopFlag, crawl_command
from crawler.cli.schedule_state import StateStore, default_state_path
from crawler.ledger import Ledger
from crawler.schedule import (
    HISTORY,
    RunRecord,
    State,
    due_jobs,
    dump_state,
    is_due,
    jitter_offset,
    next_due,
    next_wake,
    parse_state,
)
from crawler.schedule_file import (
    Job,
    Schedule,
    ScheduleError,
    format_interval,
    load_schedule,
    parse_interval,
    parse_schedule,
)
from fixtures.web import FixtureWeb
from norms.model import Usage
from tests.crawler.crawlrun import FAIRFETCH, REPO, crawl_env

FIXTURES = REPO / "fixtures" / "schedule"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """The scheduler's clock, moved by hand (and by ``sleep``) instead of by time."""

    def __init__(self, start: datetime = T0) -> None:
        self.at = start
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += timedelta(seconds=seconds)


def job(**values: Any) -> Job:
    base: dict[str, Any] = {
        "name": "news",
        "seeds": ("http://open.example/",),
        "every": timedelta(hours=6),
        "db": "sqlite:///ledger.sqlite",
    }
    return Job(**{**base, **values})


def schedule_text(*jobs: str, top: str = "") -> str:
    return top + "\n" + "\n".join(f"[[jobs]]\n{j}\n" for j in jobs)


GOOD_JOB = 'name = "news"\nseeds = ["http://open.example/"]\nevery = "6h"\ndb = "sqlite:///l.sqlite"'


# --- intervals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("30m", 1800), ("6h", 21600), ("1d", 86400), ("2w", 1209600),
     ("1h30m", 5400), (" 1H 30M ", 5400), ("90m", 5400)],
)
def test_interval_forms(text: str, seconds: int) -> None:
    assert parse_interval(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "6", "h", "6x", "-1h", "0s", "1.5h", "6h later", "400d", "h6"])
def test_bad_intervals_say_what_is_expected(text: str) -> None:
    with pytest.raises(ScheduleError, match="interval"):
        parse_interval(text)


@given(st.text(max_size=30))
@settings(max_examples=300, deadline=None)
def test_any_interval_text_parses_or_raises_schedule_error(text: str) -> None:
    try:
        value = parse_interval(text)
    except ScheduleError:
        return
    assert value > timedelta(0)


@given(st.integers(min_value=1, max_value=366 * 86400))
@settings(max_examples=200, deadline=None)
def test_format_interval_reads_back(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_interval(format_interval(value)) == value


# --- the schedule file ------------------------------------------------------------------


def test_example_schedule_parses_with_paths_anchored_at_its_directory() -> None:
    schedule = load_schedule(FIXTURES / "example.toml")
    news, docs = schedule.jobs
    assert news.name == "news" and news.every == timedelta(hours=6)
    assert news.purposes == (Usage.SEARCH, Usage.AI_INPUT)
    assert news.jitter == timedelta(minutes=10)  # the top-level default
    assert docs.jitter == timedelta(hours=1)  # its own
    assert docs.purposes == (Usage.AI_INPUT,)  # the crawl's default purpose
    assert news.db == f"sqlite:///{FIXTURES}/ledger.sqlite"
    assert news.crawl_args() == [
        "https://news.example/", "https://wire.example/", "--db", news.db, "--json",
        "--purpose", "search", "--purpose", "ai-input", "--max-pages", "500", "--depth", "2",
        "--contact", "https://crawler.example.org/about", "--max-price", "USD 0.01",
        "--delay", "1", "--robots-timeout", "5",
    ]
    assert news.timeout == timedelta(hours=2) and docs.timeout is None
    assert schedule.job("docs") is docs and schedule.job("nope") is None


def test_absolute_and_server_databases_and_jobdir(tmp_path: Path) -> None:
    text = schedule_text(
        'name = "a"\nseeds = ["https://a.example/"]\nevery = "1h"\ndb = "sqlite:////var/l.sqlite"\njobdir = "jobs/a"',
        'name = "b"\nseeds = "https://b.example/"\nevery = "1h"\ndb = "postgresql+psycopg://u@h/db"\njobdir = "/srv/b"',
    )
    a, b = parse_schedule(text, base_dir=tmp_path).jobs
    assert a.db == "sqlite:////var/l.sqlite" and a.jobdir == str(tmp_path / "jobs" / "a")
    assert b.db == "postgresql+psycopg://u@h/db" and b.jobdir == "/srv/b"
    assert b.seeds == ("https://b.example/",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("jobs = [", "not valid TOML"),
        ("", "no jobs"),
        ("[[jobs]]\nname = 'x'\n" + 'seeds = ["http://a.example/"]\nevery = "1h"\n', "job 'x': missing required key 'db'"),
        (schedule_text(GOOD_JOB.replace('"6h"', '"soon"')), "job 'news': 'every'"),
        (schedule_text(GOOD_JOB.replace("http://open.example/", "ftp://x")), "job 'news': 'seeds'"),
        (schedule_text(GOOD_JOB + '\npurposes = ["ai-snack"]'), "job 'news': 'purposes': 'ai-snack'"),
        (schedule_text(GOOD_JOB + "\nmax_pages = -1"), "job 'news': 'max_pages'"),
        (schedule_text(GOOD_JOB + "\ntimeout = 30"), "job 'news': 'timeout': an interval must be a string"),
        (schedule_text(GOOD_JOB + "\ndepth = true"), "job 'news': 'depth'"),
        (schedule_text(GOOD_JOB + "\nevry = '1h'"), "job 'news': unknown key 'evry'"),
        (schedule_text(GOOD_JOB + '\nargs = ["--db", "x"]'), "job 'news': 'args' must not contain --db"),
        (schedule_text(GOOD_JOB + '\nargs = ["--json"]'), "must not contain --json"),
        (schedule_text(GOOD_JOB + '\nargs = ["http://b.example/"]'), "seeds go in 'seeds'"),
        (schedule_text(GOOD_JOB + "\nargs = '--no-extract'"), "'args' must be a list"),
        (schedule_text(GOOD_JOB + '\njitter = "7h"'), "'jitter' must not be longer than 'every'"),
        (schedule_text(GOOD_JOB, GOOD_JOB), "two jobs are named 'news'"),
        (schedule_text(GOOD_JOB.replace('"news"', '"../etc"')), "needs a 'name'"),
        (schedule_text(GOOD_JOB, top='jitter = "often"'), "top-level 'jitter'"),
        (schedule_text(GOOD_JOB, top="job = 1"), "unknown top-level key 'job'"),
    ],
)
def test_schedule_errors_name_the_job_and_key(text: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message.replace("(", r"\(")):
        parse_schedule(text, source="s.toml")


def test_missing_and_binary_schedule_files(tmp_path: Path) -> None:
    with pytest.raises(ScheduleError, match="cannot read schedule"):
        load_schedule(tmp_path / "absent.toml")
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ScheduleError, match="not UTF-8"):
        load_schedule(tmp_path / "bin.toml")


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_schedule_text_parses_or_raises_schedule_error(text: str) -> None:
    try:
        schedule = parse_schedule(text)
    except ScheduleError:
        return
    assert schedule.jobs


@given(st.binary(max_size=300))
@settings(max_examples=200, deadline=None)
def test_any_schedule_file_bytes_load_or_raise_schedule_error(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.toml"
        path.write_bytes(raw)
        try:
            schedule = load_schedule(path)
        except ScheduleError as exc:
            assert str(exc)
            return
        assert schedule.jobs


@given(st.dictionaries(st.sampled_from(["name", "seeds", "every", "db", "purposes", "jitter", "args", "depth"]),
                       st.one_of(st.text(max_size=12), st.integers(-3, 3), st.lists(st.text(max_size=12), max_size=3)),
                       max_size=8))
@settings(max_examples=300, deadline=None)
def test_any_job_table_parses_or_raises_schedule_error(table: dict[str, Any]) -> None:
    text = "[[jobs]]\n" + "\n".join(f"{k} = {json.dumps(v)}" for k, v in table.items())
    try:
        schedule = parse_schedule(text)
    except ScheduleError as exc:
        assert str(exc)
        return
    assert [j.name for j in schedule.jobs] == [table["name"]]


# --- due times (fake clock, no sleeping) ---------------------------------------------------


def test_a_job_that_never_ran_is_due_at_once() -> None:
    assert next_due(job(), None, T0) == T0
    assert is_due(job(), State(), T0)


def test_due_every_interval_after_the_last_start_whatever_its_outcome() -> None:
    j = job(every=timedelta(hours=6))
    for record in (
        RunRecord(job="news", started_at=T0, finished_at=T0 + timedelta(minutes=5), exit_code=0),
        RunRecord(job="news", started_at=T0, finished_at=T0 + timedelta(seconds=2), exit_code=2,
                  error="crawl exited with 2"),
        RunRecord(job="news", started_at=T0),  # still going (or abandoned): no second run meanwhile
    ):
        state = State()
        state.record(record)
        assert not is_due(j, state, T0 + timedelta(hours=6) - timedelta(seconds=1))
        assert is_due(j, state, T0 + timedelta(hours=6))
        assert next_wake(Schedule(jobs=(j,)), state, T0) == T0 + timedelta(hours=6)


def test_naive_times_are_utc() -> None:
    state = State()
    state.record(RunRecord(job="news", started_at=T0.replace(tzinfo=None), finished_at=T0, exit_code=0))
    assert next_due(job(every=timedelta(hours=1)), state.last_run("news"), T0) == T0 + timedelta(hours=1)


def test_jitter_is_bounded_stable_and_spreads_jobs() -> None:
    offsets = set()
    for i in range(50):
        j = job(name=f"job{i}", jitter=timedelta(minutes=30))
        offset = jitter_offset(j, T0)
        assert timedelta(0) <= offset < timedelta(minutes=30)
        assert jitter_offset(j, T0) == offset  # a --once from cron sees the same due time
        offsets.add(offset)
    assert len(offsets) > 40
    j = job(jitter=timedelta(minutes=30))
    assert len({jitter_offset(j, T0 + timedelta(hours=k)) for k in range(20)}) > 10  # run to run
    assert jitter_offset(job(), T0) == timedelta(0)


def test_due_jobs_most_overdue_first_then_file_order() -> None:
    a, b, c, d = (job(name=n, every=timedelta(hours=1)) for n in "abcd")
    state = State()
    state.record(RunRecord(job="a", started_at=T0 - timedelta(hours=2), finished_at=T0, exit_code=0))
    state.record(RunRecord(job="b", started_at=T0 - timedelta(hours=3), finished_at=T0, exit_code=0))
    state.record(RunRecord(job="c", started_at=T0 - timedelta(minutes=10), finished_at=T0, exit_code=0))
    schedule = Schedule(jobs=(a, b, c, d))
    assert [j.name for j in due_jobs(schedule, state, T0)] == ["b", "a", "d"]
    assert next_wake(schedule, state, T0) == T0 - timedelta(hours=2)


# --- the run history ------------------------------------------------------------------------


def test_history_is_bounded_and_a_finishing_run_replaces_its_start() -> None:
    state = State()
    for i in range(HISTORY + 5):
        start = T0 + timedelta(hours=i)
        state.record(RunRecord(job="news", started_at=start))
        state.record(RunRecord(job="news", started_at=start, finished_at=start, exit_code=0))
    runs = state.jobs["news"].runs
    assert len(runs) == HISTORY and all(r.ok for r in runs)
    assert runs[-1].started_at == T0 + timedelta(hours=HISTORY + 4)
    assert parse_state(dump_state(state)) == state


def test_an_unfinished_run_is_abandoned_and_counts_as_failed() -> None:
    state = State()
    state.record(RunRecord(job="news", started_at=T0))
    assert state.jobs["news"].failures_in_a_row() == 0  # still going, perhaps
    abandoned = state.abandon_unfinished("news", T0 + timedelta(hours=1))
    assert abandoned is not None and not abandoned.ok and "abandoned" in (abandoned.error or "")
    assert state.abandon_unfinished("news", T0 + timedelta(hours=2)) is None
    assert state.jobs["news"].failures_in_a_row() == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "damaged"),
        ('{"version": 1, "jobs": {"a": {"runs": [{"job": "a"}]}}}', r"damaged \(jobs.a.runs.0.started_at"),
        ('{"version": 7, "jobs": {}}', "version 7"),
        ('{"jobs": {"a": {"runs": [{"job": "b", "started_at": "2026-01-01T00:00:00Z"}]}}}', "filed under 'a'"),
    ],
)
def test_damaged_state_is_a_plain_error(text: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_state(text)
    assert parse_state("  \n") == State()


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_any_state_text_parses_or_raises_schedule_error(text: str) -> None:
    try:
        state = parse_state(text)
    except ScheduleError:
        return
    assert parse_state(dump_state(state)) == state


# --- running jobs: locks, failures, the loop -----------------------------------------------------

FAILING_JOB = 'name = "broken"\nseeds = ["http://open.example/"]\nevery = "1m"\ndb = "sqlite:///l.sqlite"\nargs = ["--delay", "-1"]'


def write_schedule(tmp_path: Path, *jobs: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(schedule_text(*jobs), encoding="utf-8")
    return path


def test_state_path_and_crawl_command() -> None:
    assert default_state_path(Path("/etc/ff/sched.toml")) == Path("/etc/ff/sched.state.json")
    command = crawl_command(job())
    assert command[0] == str(FAIRFETCH) and command[1] == "crawl" and command[2] == "http://open.example/"


def test_a_job_running_elsewhere_is_skipped_without_touching_the_state(tmp_path: Path) -> None:
    path = write_schedule(tmp_path, FAILING_JOB)
    store = StateStore(default_state_path(path))
    scheduler = Scheduler(path, store, clock=FakeClock())
    events: list[str] = []
    scheduler.report = lambda event, _data: events.append(event)
    with store.job_lock("broken") as mine:  # another run of the job holds its lock
        assert mine
        assert store.running("broken")
        with store.job_lock("broken") as again:
            assert not again
        outcome = scheduler.run_due()
    assert outcome.ran == [] and outcome.skipped == [{"job": "broken", "reason": "a previous run is still going"}]
    assert events == ["skipped"]
    assert store.read() == State() and not store.running("broken")


def test_a_job_another_process_has_just_run_is_not_run_again(tmp_path: Path) -> None:
    path = write_schedule(tmp_path, FAILING_JOB)
    store = StateStore(default_state_path(path))
    scheduler = Scheduler(path, store, clock=FakeClock())
    (due,) = due_jobs(scheduler.schedule, store.read(), T0)
    done = RunRecord(job="broken", started_at=T0, finished_at=T0, exit_code=0, summary={})
    store.update(lambda state: state.record(done))  # what the other process wrote meanwhile
    assert scheduler.run_job(due) == "another process has just run it"
    assert store.read().jobs["broken"].runs == [done]


def test_an_unwritable_state_is_a_plain_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_schedule(tmp_path, FAILING_JOB)
    (tmp_path / "file").write_text("not a directory", encoding="utf-8")
    state = tmp_path / "file" / "s.state.json"
    with pytest.raises(ScheduleError, match="cannot create the lock"):
        StateStore(state).update(lambda _state: None)
    assert main(["schedule", "run", str(path), "--once", "--state", str(state)]) == 2  # checked before any run
    assert "cannot read state file" in capsys.readouterr().err


def test_reload_takes_valid_edits_and_keeps_the_jobs_on_a_broken_one(tmp_path: Path) -> None:
    path = write_schedule(tmp_path, GOOD_JOB)
    scheduler = Scheduler(path, StateStore(default_state_path(path)), clock=FakeClock())
    events: list[tuple[str, dict[str, Any]]] = []
    scheduler.report = lambda event, data: events.append((event, data))
    write_schedule(tmp_path, GOOD_JOB.replace('"6h"', '"2h"'))
    scheduler.reload()
    assert scheduler.schedule.jobs[0].every == timedelta(hours=2) and events == []
    write_schedule(tmp_path, GOOD_JOB + '\nargs = ["--no-such-option"]')
    scheduler.reload()
    assert scheduler.schedule.jobs[0].every == timedelta(hours=2)
    assert events[0][0] == "reload-failed" and "not valid crawl options" in events[0][1]["error"]


def test_failed_run_is_recorded_and_retried_at_the_next_interval_not_at_once(tmp_path: Path) -> None:
    path = write_schedule(tmp_path, FAILING_JOB)
    clock = FakeClock()
    store = StateStore(default_state_path(path))
    scheduler = Scheduler(path, store, clock=clock)
    first = scheduler.run_due()
    assert [r.exit_code for r in first.ran] == [2] and first.failed == first.ran
    record = store.read().jobs["broken"].runs[0]
    assert record.started_at == T0 and record.summary is None
    assert "--delay must not be negative" in (record.error or "")
    clock.at += timedelta(seconds=59)
    assert scheduler.run_due().ran == []  # no tight retry loop
    clock.at += timedelta(seconds=1)
    assert len(scheduler.run_due().ran) == 1
    assert store.read().jobs["broken"].failures_in_a_row() == 2


def test_the_loop_sleeps_until_due_and_stops_on_request(tmp_path: Path) -> None:
    path = write_schedule(tmp_path, FAILING_JOB)
    stop = StopFlag()

    class StoppingClock(FakeClock):
        def sleep(self, seconds: float) -> None:
            super().sleep(seconds)
            if self.at >= T0 + timedelta(minutes=2, seconds=30):
                stop.requested = True  # what SIGTERM does

    clock = StoppingClock()
    store = StateStore(default_state_path(path))
    Scheduler(path, store, clock=clock, stop=stop).loop()
    starts = [r.started_at for r in store.read().jobs["broken"].runs]
    assert starts == [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    assert max(clock.slept) <= 1.0  # naps, so a signal is noticed quickly


def test_cli_once_exit_codes_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_schedule(tmp_path, FAILING_JOB)
    assert main(["schedule", "run", str(path), "--once", "--json"]) == 1  # a run failed
    out = json.loads(capsys.readouterr().out)
    assert [r["exit_code"] for r in out["ran"]] == [2] and out["jobs"][0]["failures_in_a_row"] == 1
    assert main(["schedule", "run", str(path), "--once", "--json"]) == 0  # nothing due
    assert json.loads(capsys.readouterr().out)["ran"] == []
    assert main(["schedule", "list", str(path)]) == 0
    assert "broken" in capsys.readouterr().out

    typo = write_schedule(tmp_path, GOOD_JOB + '\nargs = ["--dleay", "1"]')
    assert main(["schedule", "run", str(typo), "--once"]) == 2
    assert "job 'news': 'args' are not valid crawl options" in capsys.readouterr().err
    default_state_path(typo).write_text("{not json", encoding="utf-8")
    assert main(["schedule", "list", str(typo)]) == 2
    assert "damaged" in capsys.readouterr().err
    assert main(["schedule", "list", str(tmp_path / "absent.toml")]) == 2


def test_sigterm_stops_a_sleeping_scheduler_cleanly(tmp_path: Path) -> None:
    path = write_schedule(tmp_path, FAILING_JOB.replace('"1m"', '"1d"'))
    state = State()
    now = datetime.now(UTC)
    state.record(RunRecord(job="broken", started_at=now, finished_at=now, exit_code=0))
    default_state_path(path).write_text(dump_state(state), encoding="utf-8")
    proc = subprocess.Popen([str(FAIRFETCH), "schedule", "run", str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 20
    for line in proc.stderr or ():  # wait until it sleeps
        if "next job due" in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert parse_state(default_state_path(path).read_text()) == state  # nothing ran


# --- end to end: three --once calls against the fixture web ------------------------------------


@pytest.fixture(scope="module")
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb() as running:
        yield running


def test_once_crawls_then_waits_then_crawls_again(tmp_path: Path, web: FixtureWeb) -> None:
    db = tmp_path / "ledger.sqlite"
    path = tmp_path / "s.toml"
    template = (FIXTURES / "fixture-web.toml").read_text(encoding="utf-8")
    path.write_text(template, encoding="utf-8")  # every = "1h"; db relative to the schedule
    state_path = default_state_path(path)

    first = run_once(web, path)
    assert len(first["ran"]) == 1
    summary = first["ran"][0]["summary"]
    assert summary["stored"] > 0 and summary["ledger"] == f"sqlite:///{db}"

    second = run_once(web, path)  # an hour has not passed
    assert second["ran"] == [] and second["jobs"][0]["due"] is False

    path.write_text(template.replace('every = "1h"', 'every = "1s"'), encoding="utf-8")
    time.sleep(1.1)
    third = run_once(web, path)
    assert len(third["ran"]) == 1

    runs = parse_state(state_path.read_text(encoding="utf-8")).jobs["open"].runs
    assert [r.exit_code for r in runs] == [0, 0]
    assert runs[0].started_at < runs[1].started_at and all(r.finished_at for r in runs)
    crawl_ids = [r.summary["crawl_id"] for r in runs if r.summary]
    assert len(set(crawl_ids)) == 2
    assert third["ran"][0]["summary"]["crawl_id"] == crawl_ids[1]

    with Ledger(f"sqlite:///{db}") as ledger:
        counts = ledger.counts()
        assert counts["crawls"] == 2
        assert all((ledger.crawl(c) or {}).get("finished_at") for c in crawl_ids)
        pages = list(ledger.export())
        assert len(pages) == counts["pages"] == summary["stored"] + summary["metadata_only"]
        assert len({p["url"] for p in pages}) == len(pages)  # updated, not duplicated
        assert {p["crawl_id"] for p in pages} == {crawl_ids[1]}
        assert all(p["first_seen_at"] < p["fetched_at"] for p in pages)


def test_a_crawl_past_its_timeout_is_stopped_gracefully_and_reported(tmp_path: Path, web: FixtureWeb) -> None:
    # slow-delay.example asks for 2 s between requests: its six pages take over 12 s. The
    # timeout leaves a loaded machine time to start Scrapy (imports alone can take seconds
    # there), so that the stop finds a running crawl rather than an interpreter starting up.
    path = write_schedule(
        tmp_path,
        'name = "slow"\nseeds = ["http://slow-delay.example/"]\nevery = "1h"\ntimeout = "8s"\ndb = "sqlite:///l.sqlite"',
    )
    started = time.monotonic()
    result = run_once(web, path, expect=1)
    # Requests waiting for their Crawl-delay turn are dropped at the stop (test_crawl_stop.py):
    # well inside the scheduler's 60 s kill grace.
    assert time.monotonic() - started < 8 + 15
    (run,) = result["ran"]
    assert run["error"] == "stopped at the job's timeout of 8s"
    assert run["summary"]["finish_reason"] == "shutdown"  # Scrapy's graceful stop, the summary kept
    assert run["summary"]["stored"] < 6  # stopped part-way
    assert result["jobs"][0]["failures_in_a_row"] == 1 and result["jobs"][0]["ok"] is False
    with Ledger(f"sqlite:///{tmp_path}/l.sqlite") as ledger:
        assert (ledger.crawl(run["summary"]["crawl_id"]) or {}).get("finished_at")


def run_once(web: FixtureWeb, path: Path, expect: int = 0) -> dict[str, Any]:
    proc = subprocess.run([str(FAIRFETCH), "schedule", "run", str(path), "--once", "--json"],
                          env=crawl_env(web), cwd=REPO, capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == expect, proc.stderr[-2000:]
    result: dict[str, Any] = json.loads(proc.stdout)
    return result
