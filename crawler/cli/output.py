"""Output helpers shared by every command: tables for people, JSON for programs."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console(stderr=False, highlight=False, soft_wrap=False)
err_console = Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    """One JSON document on stdout (pydantic models and dates serialised)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def print_table(
    title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, caption: str | None = None
) -> None:
    table = Table(title=title, caption=caption, show_lines=False, header_style="bold")
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


def printable(text: str) -> str:
    """``text`` with control characters shown as escapes: input must not drive the terminal."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def fail(message: str, code: int = 2) -> int:
    """Print a one-line error for people and return the exit code to use.

    The message often quotes user input: it is printed as text (no rich markup, no
    control characters) and on one line whatever the terminal width.
    """
    from rich.markup import escape

    err_console.print(f"[bold red]error:[/] {escape(printable(message))}", soft_wrap=True)
    return code
