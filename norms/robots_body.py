"""From the bytes of a robots.txt body to the text its lines are read from, and the warnings on the way.

Real bodies are cut at the size limit, start with (mangled) BOMs, are not
UTF-8 or hold lines of megabytes; each is read the way that keeps the most
of what the publisher wrote without reading more into it (the rules are in
``norms.robots``'s docstring, "Reading the file"). Every such repair is a
warning with its line: ``RobotsWarnings`` is the list, capped so that a
hostile file cannot grow it without bound. ``norms.robots_file`` reads the
lines themselves.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from norms.problems import Finding, Severity

ROBOTS_MAX_BYTES = 512_000
# Google's reference parser reads at most this many bytes of a line (8 x 2083 - 1).
MAX_LINE_BYTES = 16_663
MAX_WARNINGS = 50

_MOJIBAKE_BOM = "\u00ef\u00bb\u00bf"
# Lines end at CR, LF or CRLF only, so line numbers are the publisher's.
LINE_BREAK = re.compile(r"\r\n|\r|\n")


class RobotsWarnings(list[str]):
    """A warning list that stops growing at MAX_WARNINGS and counts the rest.

    Each text has its ``Finding`` (code, severity, line) in ``findings``.
    """

    dropped = 0

    def __init__(self) -> None:
        super().__init__()
        self.findings: list[Finding] = []

    @property
    def full(self) -> bool:
        return len(self) >= MAX_WARNINGS

    def add(
        self,
        text: str,
        code: str = "robots-file",
        line: int | None = None,
        severity: Severity = Severity.WARNING,
        suggestion: str | None = None,
    ) -> None:
        if len(self) < MAX_WARNINGS:
            self.append(text)
            message = text.split(": ", 1)[1] if line is not None and text.startswith("line ") else text
            self.findings.append(
                Finding(code=code, severity=severity, message=message, line=line, suggestion=suggestion)
            )
        else:
            self.dropped += 1

    def close(self) -> list[str]:
        out = list(self)
        if self.dropped:
            out.append(f"{self.dropped} more warnings not shown")
        return out

    def close_findings(self) -> list[Finding]:
        out = list(self.findings)
        if self.dropped:
            out.append(Finding(code="robots-more-warnings", severity=Severity.INFO,
                               message=f"{self.dropped} more warnings not shown"))
        return out


def decode_body(body: bytes | str, warnings: RobotsWarnings) -> str:
    """Apply the 500 KiB limit on whole lines, drop a BOM, decode (UTF-8, else Latin-1)."""
    data = body.encode("utf-8", "replace") if isinstance(body, str) else bytes(body)
    # A body of exactly the limit may be a download cut at the limit (the
    # crawler caps it there), so its last line counts as complete only if a
    # line break ends it: a cut "Allow: /public-x" must not become "Allow: /p".
    if len(data) >= ROBOTS_MAX_BYTES:
        cut = data[:ROBOTS_MAX_BYTES]
        ends_line = cut.endswith((b"\n", b"\r")) or data[ROBOTS_MAX_BYTES : ROBOTS_MAX_BYTES + 1] in (
            b"\n",
            b"\r",
        )
        if not ends_line:
            end = max(cut.rfind(b"\n"), cut.rfind(b"\r"))
            cut = cut[: end + 1] if end >= 0 else b""
        if len(cut) < len(data):
            warnings.add(
                f"robots.txt reached {ROBOTS_MAX_BYTES} bytes; only the complete lines within "
                "them were read (RFC 9309 2.5)",
                "robots-too-large",
            )
        data = cut
    # A BOM, or the first one or two bytes of one (Google's reference parser
    # skips any prefix of it; so do we, or a stray byte would hide the first line).
    for bom in (b"\xef\xbb\xbf", b"\xef\xbb", b"\xef"):
        if data.startswith(bom):
            data = data[len(bom) :]
            break
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        warnings.add(f"robots.txt is not UTF-8 (byte {exc.start}); read as Latin-1", "robots-not-utf8")
        text = data.decode("latin-1")
    if text.startswith(_MOJIBAKE_BOM):
        # A BOM that went through a Latin-1 decode on its way to the server
        # (seen on cnnturk.com and hindustantimes.com): left in place it would
        # hide the first User-agent line and with it the whole first group.
        warnings.add("robots.txt starts with a BOM mangled into 'ï»¿'; skipped", "robots-mangled-bom")
        text = text[len(_MOJIBAKE_BOM) :]
    return text


def truncate_line(line: str, number: int, warn: Callable[[str], None]) -> str:
    """A line cut at ``MAX_LINE_BYTES`` UTF-8 bytes, as Google's reference parser cuts it.

    An ``Allow`` line is kept whole: cut, it would allow more than the
    publisher wrote (the reference does that; we stay stricter).
    """
    if line.lstrip()[:6].lower() == "allow:" or line.lstrip()[:6].lower() == "allow ":
        warn(f"line {number}: longer than {MAX_LINE_BYTES} bytes; an Allow line is read whole")
        return line
    warn(f"line {number}: longer than {MAX_LINE_BYTES} bytes; the rest of the line is ignored")
    return line.encode("utf-8", "replace")[:MAX_LINE_BYTES].decode("utf-8", "ignore")
