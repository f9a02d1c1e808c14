"""Where each RSL 1.0 element may appear and what it may carry, and the reader base that checks a tree against it.

RSL 1.0 §2 asks processors to read leniently but to tell a conformant
document from one that is not: an unknown element or attribute in the RSL
namespace, or one in the wrong place, makes the document non-conformant
(the crawler then treats its content as unlicensed), while elements from
other namespaces are extensions to ignore. ``SchemaReader`` applies that
to one element at a time and keeps the warnings and non-conformities as it
goes; ``norms.rsl.reader`` turns the elements it admits into values.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from norms.problems import Finding, Severity, finding
from norms.rsl.document import RSL_NAMESPACE

# Element -> (allowed attributes, allowed child elements)
SCHEMA: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "rsl": (frozenset({"max-age"}), frozenset({"content"})),
    "content": (
        frozenset({"url", "server", "encrypted", "lastmod"}),
        frozenset({"license", "alternate", "schema", "copyright", "terms"}),
    ),
    "license": (frozenset(), frozenset({"permits", "prohibits", "payment", "reporting", "legal"})),
    "permits": (frozenset({"type"}), frozenset()),
    "prohibits": (frozenset({"type"}), frozenset()),
    "payment": (frozenset({"type"}), frozenset({"standard", "custom", "amount", "accepts"})),
    "standard": (frozenset(), frozenset()),
    "custom": (frozenset(), frozenset()),
    "amount": (frozenset({"currency"}), frozenset()),
    "accepts": (frozenset({"type"}), frozenset()),
    "reporting": (frozenset({"type", "profile", "endpoint"}), frozenset()),
    "legal": (frozenset({"type"}), frozenset()),
    "alternate": (frozenset({"type"}), frozenset()),
    "schema": (frozenset({"type"}), frozenset()),
    "copyright": (frozenset({"type", "contactEmail", "contactUrl"}), frozenset()),
    "terms": (frozenset(), frozenset()),
}


def split_tag(tag: str) -> tuple[str, str]:
    """``{ns}local`` -> (ns, local)."""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


class SchemaReader:
    """Checks elements against ``SCHEMA``, collecting warnings and non-conformities as it goes."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.nonconformities: list[str] = []
        self.findings: list[Finding] = []  # both lists as data (norms.problems)
        self.legacy = False

    def warn(self, message: str, code: str = "rsl-lenient", element: str | None = None) -> None:
        if message not in self.warnings:
            self.warnings.append(message)
            self.findings.append(finding(code, message, Severity.WARNING, element=element))

    def fault(self, message: str, code: str = "rsl-nonconformant", element: str | None = None) -> None:
        if message not in self.nonconformities:
            self.nonconformities.append(message)
            self.findings.append(finding(code, message, Severity.ERROR, element=element))

    # -- structure -----------------------------------------------------------

    def attrs(self, el: Element, name: str) -> dict[str, str]:
        """Attributes of an RSL element; unknown ones are non-conformities, foreign ones ignored."""
        allowed = SCHEMA[name][0]
        out: dict[str, str] = {}
        for key, value in el.attrib.items():
            ns, local = split_tag(key)
            if ns and ns != RSL_NAMESPACE:
                continue
            if local not in allowed:
                self.fault(f"unknown attribute {local!r} on <{name}>", "rsl-unknown-attribute", f"<{name}>")
                continue
            out[local] = value.strip()
        return out

    def children(self, el: Element, name: str) -> list[tuple[str, Element]]:
        """RSL children allowed under ``name``; everything else is reported and skipped."""
        allowed = SCHEMA[name][1]
        out: list[tuple[str, Element]] = []
        for child in el:
            if not isinstance(child.tag, str):
                continue
            ns, local = split_tag(child.tag)
            if ns != RSL_NAMESPACE:
                self.warn(f"extension element <{local}> ({ns or 'no namespace'}) in <{name}> ignored",
                          "rsl-extension-ignored", f"<{local}>")
            elif local not in SCHEMA:
                self.fault(f"unknown RSL element <{local}> in <{name}>", "rsl-unknown-element", f"<{local}>")
            elif local not in allowed:
                self.fault(f"<{local}> is not allowed inside <{name}>", "rsl-misplaced-element", f"<{local}>")
            else:
                self.attrs(child, local)  # report unknown attributes once, whatever is read later
                out.append((local, child))
        return out

    @staticmethod
    def text(el: Element) -> str:
        return (el.text or "").strip()

    def tokens(self, el: Element, where: str) -> list[str]:
        """A space-separated list; commas mark a 0.9 document, read all the same."""
        raw = self.text(el)
        if "," in raw:
            self.legacy = True
            self.warn(f"{where}: comma-separated list (RSL 0.9 style) read as a list", "rsl-comma-list", where)
            raw = raw.replace(",", " ")
        return raw.split()
