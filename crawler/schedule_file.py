"""The schedule file: what a job is, and reading a TOML schedule into jobs, every problem named.

A schedule is edited by hand and read unattended (by cron or a long-running
``fairfetch schedule run``), so a mistake must be found when the file is read
and said in words naming the file, the job and the key, never met at 3 am as
a crawl that fails. Paths in the file are anchored at its directory, so it
means the same whatever directory cron starts it from. When jobs are due and
what their runs left is ``crawler.schedule``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError

from norms.model import Usage

_INTERVAL_PART = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

# Crawl options the schedule sets itself: repeating them in ``args`` would make
# the job say two things at once, so the parser refuses them there.
_MANAGED_OPTIONS = {
    "--db": "db",
    "--json": None,
    "--purpose": "purposes",
    "--max-pages": "max_pages",
    "--depth": "depth",
    "--user-agent": "user_agent",
    "--contact": "contact",
    "--max-price": "max_price",
    "--jobdir": "jobdir",
}
_JOB_KEYS = (
    "name", "seeds", "purposes", "every", "db", "max_pages", "depth", "user_agent",
    "contact", "max_price", "jobdir", "jitter", "timeout", "args",
)


class ScheduleError(ValueError):
    """The schedule or its state file is not usable. The message names the file, job and key in plain words."""


def parse_interval(text: str) -> timedelta:
    """``"30m"``, ``"6h"``, ``"1d"``, ``"1h30m"`` (units s, m, h, d, w) as a positive timedelta."""
    if not isinstance(text, str):
        raise ScheduleError(f"an interval must be a string such as \"6h\", not {text!r}")
    compact = text.strip().lower()
    pos = 0
    seconds = 0
    for match in _INTERVAL_PART.finditer(compact):
        if compact[pos : match.start()].strip():
            break
        seconds += int(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not compact or pos == 0 or compact[pos:].strip():
        raise ScheduleError(
            f"{text!r} is not an interval: use a number and a unit s, m, h, d or w, e.g. \"30m\" or \"1h30m\""
        )
    if seconds <= 0:
        raise ScheduleError(f"interval {text!r} must be longer than zero")
    if seconds > 366 * 86400:
        raise ScheduleError(f"interval {text!r} is longer than a year")
    return timedelta(seconds=seconds)


def format_interval(value: timedelta) -> str:
    """The compact form ``parse_interval`` reads back (``5400 s`` -> ``"1h30m"``)."""
    seconds = int(value.total_seconds())
    if seconds <= 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        n, seconds = divmod(seconds, _UNITS[unit])
        if n:
            parts.append(f"{n}{unit}")
    return "".join(parts)


class Job(BaseModel):
    """One crawl to repeat: ``fairfetch crawl`` with these options, every ``every``."""

    model_config = ConfigDict(frozen=True)

    name: str
    seeds: tuple[str, ...]
    purposes: tuple[Usage, ...] = (Usage.AI_INPUT,)
    every: timedelta
    db: str
    max_pages: int | None = None
    depth: int | None = None
    user_agent: str | None = None
    contact: str | None = None
    max_price: str | None = None
    jobdir: str | None = None
    jitter: timedelta = timedelta(0)
    timeout: timedelta | None = None
    args: tuple[str, ...] = ()

    def crawl_args(self) -> list[str]:
        """The arguments after ``fairfetch crawl`` (``--json`` included: the summary goes into the state)."""
        out: list[str] = [*self.seeds, "--db", self.db, "--json"]
        for purpose in self.purposes:
            out += ["--purpose", purpose.value]
        for option, value in (
            ("--max-pages", self.max_pages),
            ("--depth", self.depth),
            ("--user-agent", self.user_agent),
            ("--contact", self.contact),
            ("--max-price", self.max_price),
            ("--jobdir", self.jobdir),
        ):
            if value is not None:
                out += [option, str(value)]
        return [*out, *self.args]


class Schedule(BaseModel):
    """The jobs of one schedule file, in file order."""

    model_config = ConfigDict(frozen=True)

    jobs: tuple[Job, ...]

    def job(self, name: str) -> Job | None:
        return next((j for j in self.jobs if j.name == name), None)


# -- the schedule file ----------------------------------------------------------------


def parse_schedule(text: str, *, base_dir: Path | None = None, source: str = "schedule") -> Schedule:
    """Read a TOML schedule (see ``fixtures/schedule/``) into a :class:`Schedule`.

    ``base_dir`` (the schedule file's directory) anchors relative ``jobdir``
    paths and relative SQLite paths in ``db``, so a schedule means the same
    whatever directory cron starts it from. Every problem is a
    :class:`ScheduleError` naming ``source``, the job and the key.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleError(f"{source} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"jitter", "jobs"})
    if unknown:
        raise ScheduleError(f"{source}: unknown top-level key {unknown[0]!r} (expected 'jitter' and [[jobs]])")
    default_jitter = timedelta(0)
    if "jitter" in data:
        default_jitter = _jitter(data["jitter"], f"{source}: top-level 'jitter'")
    tables = data.get("jobs")
    if not isinstance(tables, list) or not tables:
        raise ScheduleError(f"{source} has no jobs: add at least one [[jobs]] table")
    jobs: list[Job] = []
    for index, table in enumerate(tables, start=1):
        if not isinstance(table, dict):  # pragma: no cover - TOML arrays of tables are always dicts
            raise ScheduleError(f"{source}: job #{index} is not a table")
        job = _job(table, index, default_jitter, base_dir, source)
        if any(j.name == job.name for j in jobs):
            raise ScheduleError(f"{source}: two jobs are named {job.name!r}; job names must be unique")
        jobs.append(job)
    return Schedule(jobs=tuple(jobs))


def load_schedule(path: Path) -> Schedule:
    """Read and parse a schedule file; a missing or unreadable file is a :class:`ScheduleError` too."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScheduleError(f"cannot read schedule {str(path)!r}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScheduleError(f"schedule {str(path)!r} is not UTF-8 text") from None
    return parse_schedule(text, base_dir=path.resolve().parent, source=f"schedule {str(path)!r}")


def _job(table: Mapping[str, Any], index: int, jitter: timedelta, base_dir: Path | None, source: str) -> Job:
    name = table.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ScheduleError(
            f"{source}: job #{index} needs a 'name' of letters, digits, '.', '_' or '-' "
            f"(at most 64, starting with a letter or digit), got {name!r}"
        )
    where = f"{source}: job {name!r}"
    unknown = sorted(set(table) - set(_JOB_KEYS))
    if unknown:
        raise ScheduleError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(_JOB_KEYS)})")
    for key in ("seeds", "every", "db"):
        if key not in table:
            raise ScheduleError(f"{where}: missing required key {key!r}")
    values: dict[str, Any] = {"name": name}
    values["seeds"] = tuple(_seeds(table["seeds"], where))
    if "purposes" in table:
        values["purposes"] = tuple(_purposes(table["purposes"], where))
    try:
        values["every"] = parse_interval(table["every"])
    except ScheduleError as exc:
        raise ScheduleError(f"{where}: 'every': {exc}") from None
    values["jitter"] = _jitter(table["jitter"], f"{where}: 'jitter'") if "jitter" in table else jitter
    if values["jitter"] > values["every"]:
        raise ScheduleError(f"{where}: 'jitter' must not be longer than 'every'")
    if "timeout" in table:
        try:
            values["timeout"] = parse_interval(table["timeout"])
        except ScheduleError as exc:
            raise ScheduleError(f"{where}: 'timeout': {exc}") from None
    values["db"] = _db(_string(table["db"], where, "db"), base_dir)
    for key in ("max_pages", "depth"):
        if key in table:
            value = table[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ScheduleError(f"{where}: {key!r} must be a whole number of at least 0, got {value!r}")
            values[key] = value
    for key in ("user_agent", "contact", "max_price"):
        if key in table:
            values[key] = _string(table[key], where, key)
    if "jobdir" in table:
        jobdir = Path(_string(table["jobdir"], where, "jobdir"))
        values["jobdir"] = str(base_dir / jobdir if base_dir is not None and not jobdir.is_absolute() else jobdir)
    if "args" in table:
        values["args"] = tuple(_extra_args(table["args"], where))
    try:
        return Job(**values)
    except ValidationError as exc:  # pragma: no cover - every field is checked above
        raise ScheduleError(f"{where}: {exc.errors()[0]['msg']}") from None


def _string(value: Any, where: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScheduleError(f"{where}: {key!r} must be a non-empty string, got {value!r}")
    return value.strip()


def _jitter(value: Any, where: str) -> timedelta:
    if value in (0, "0"):
        return timedelta(0)
    try:
        return parse_interval(value)
    except ScheduleError as exc:
        raise ScheduleError(f"{where}: {exc}") from None


def _seeds(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ScheduleError(f"{where}: 'seeds' must be a non-empty list of http(s) URLs")
    seeds = []
    for seed in value:
        parts = urlsplit(seed) if isinstance(seed, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ScheduleError(f"{where}: 'seeds': {seed!r} is not an http(s) URL")
        seeds.append(seed)
    return seeds


def _purposes(value: Any, where: str) -> list[Usage]:
    if isinstance(value, str):
        value = [value]
    known = ", ".join(u.value for u in Usage)
    if not isinstance(value, list) or not value:
        raise ScheduleError(f"{where}: 'purposes' must be a non-empty list of {known}")
    out: list[Usage] = []
    for item in value:
        try:
            usage = Usage(item)
        except ValueError:
            raise ScheduleError(f"{where}: 'purposes': {item!r} is not one of {known}") from None
        if usage not in out:
            out.append(usage)
    return out


def _db(value: str, base_dir: Path | None) -> str:
    prefix = "sqlite:///"
    if base_dir is None or not value.startswith(prefix):
        return value
    path = value[len(prefix) :]
    if not path or path.startswith("/") or path == ":memory:":
        return value
    return prefix + str(base_dir / path)


def _extra_args(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise ScheduleError(f"{where}: 'args' must be a list of strings, e.g. [\"--delay\", \"1\"]")
    if value and not value[0].startswith("-"):
        raise ScheduleError(
            f"{where}: 'args' starts with {value[0]!r}; seeds go in 'seeds', args holds crawl options"
        )
    for arg in value:
        option = arg.split("=", 1)[0]
        if option in _MANAGED_OPTIONS:
            key = _MANAGED_OPTIONS[option]
            hint = f"use the job key {key!r}" if key else "the scheduler always passes it"
            raise ScheduleError(f"{where}: 'args' must not contain {option} ({hint})")
    return list(value)
