"""A problem in a publisher's files, as the checker reports it, built from the readers' findings.

Every problem is a catalogued code (``catalogue``) with the severity and fix
written there, where it is (document URL, and the local file in offline mode,
line or element) and the message for that occurrence. The readers in
``norms`` say what is wrong as ``Finding``s; nothing here parses their text.
"""

from __future__ import annotations

from pydantic import BaseModel

from crawler.checker.catalogue import entry
from norms.problems import Finding, Severity

_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


class Problem(BaseModel):
    """One thing to fix: what (code), how bad, where, why it matters and how to fix this one."""

    code: str
    severity: Severity
    where: str  # the URL of the document (robots.txt, licence, page)
    file: str | None = None  # the local file it came from (offline mode)
    line: int | None = None
    element: str | None = None
    message: str
    fix: str

    def location(self) -> str:
        """``robots.txt line 4`` / ``page <meta ...>``: the file (or URL) and the place in it."""
        base = self.file or self.where
        if self.line is not None:
            return f"{base} line {self.line}"
        if self.element:
            return f"{base} {self.element}"
        return base


def problem(
    code: str,
    where: str,
    message: str,
    *,
    line: int | None = None,
    element: str | None = None,
    suggestion: str | None = None,
) -> Problem:
    """A catalogued problem; the fix is filled with ``suggestion`` where the catalogue asks for one."""
    severity, _, fix = entry(code)
    if "{suggestion}" in fix:
        fix = fix.replace("{suggestion}", suggestion) if suggestion else fix.replace("'{suggestion}'", "the right form").replace("{suggestion}", "the right form")
    return Problem(code=code, severity=severity, where=where, line=line, element=element, message=message, fix=fix)


def from_finding(found: Finding, where: str | None = None) -> Problem:
    """The problem a reader's finding stands for, at the finding's own source unless ``where`` says."""
    return problem(found.code, found.source or where or "", found.message, line=found.line,
                   element=found.element, suggestion=found.suggestion)


def unique(problems: list[Problem]) -> list[Problem]:
    """Each problem once, errors first, then in file order."""
    seen: set[tuple[object, ...]] = set()
    out = []
    for p in problems:
        key = (p.code, p.where, p.line, p.element, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return sorted(out, key=lambda p: _ORDER[p.severity])
