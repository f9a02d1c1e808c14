"""The scheduler's state file and job locks, safe to share between a scheduler and cron ``--once`` calls.

The state file is rewritten atomically (a temporary file, ``fsync``, rename)
under an exclusive ``flock``, so two processes never lose each other's runs
and a reader never sees half a file. Each job has its own lock file, held
with ``flock`` while the job runs: a run still going in another process makes
the job be skipped, and a crashed process never leaves a stale lock (the
kernel drops it). What the state holds is ``crawler.schedule``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from crawler.schedule import State, dump_state, parse_state
from crawler.schedule_file import ScheduleError


def default_state_path(schedule_path: Path) -> Path:
    return schedule_path.with_name(schedule_path.stem + ".state.json")


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
