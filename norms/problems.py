"""Structured warnings: what a reader noticed in a publisher's file, as data rather than prose.

Every reader (robots.txt, RSL, TDMRep, paywall markup) keeps its plain-text
``warnings`` for people and, alongside, a ``Finding`` per warning: a stable
``code`` (the compliance checker's catalogue maps it to a fix), a
``severity``, and where it is (``line`` in the file, or the ``element``).
Callers never have to parse a message to learn its line again.

Severity is the reader's view of the effect on the signal: ``error`` — the
signal does not work as the publisher surely meant (content then treated as
unlicensed, a rule ignored that protects them); ``warning`` — part of it is
ignored or read leniently; ``info`` — worth knowing, nothing lost (AIPREF
vocab-08: unknown labels and parameters are ignored by design).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Finding(BaseModel):
    """One problem a reader found: code, severity, location and the message for people.

    ``suggestion`` carries the likely intended text when the reader can tell
    (``Disallow`` for ``Disalow``); ``source`` is the document's URL when known.
    """

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    message: str
    line: int | None = None
    element: str | None = None
    source: str | None = None
    suggestion: str | None = None

    def where(self) -> str:
        """``https://a.example/robots.txt line 4``, or the element, or the source alone."""
        base = self.source or ""
        if self.line is not None:
            return f"{base} line {self.line}".strip()
        if self.element:
            return f"{base} {self.element}".strip()
        return base


def finding(
    code: str,
    message: str,
    severity: Severity = Severity.WARNING,
    *,
    line: int | None = None,
    element: str | None = None,
    suggestion: str | None = None,
) -> Finding:
    """A ``Finding`` without a source (readers fill ``source`` in with ``located``)."""
    return Finding(code=code, severity=severity, message=message, line=line, element=element,
                   suggestion=suggestion)


def located(findings: list[Finding], source: str | None) -> list[Finding]:
    """``findings`` with ``source`` set where they have none."""
    if source is None:
        return list(findings)
    return [f if f.source else f.model_copy(update={"source": source}) for f in findings]


__all__ = ["Finding", "Severity", "finding", "located"]
