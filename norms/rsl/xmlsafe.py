"""Hardened XML parsing for documents we fetch from publishers (RSL files, RSS feeds).

Publisher XML is untrusted input: a DTD can declare entities that expand
exponentially ("billion laughs") or pull files and URLs into the document
(external entities). defusedxml refuses both; we also refuse any DOCTYPE at
all, since RSL and RSS never need one, and cap the size. Every failure
becomes a ``SignalError`` in plain words, never a parser traceback.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml.common import (
    DefusedXmlException,
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)

from norms.model import SignalError

MiB = 1024 * 1024


def _size(body: bytes | str) -> int:
    if isinstance(body, bytes):
        return len(body)
    return len(body) if body.isascii() else len(body.encode("utf-8", "surrogatepass"))


def parse_xml(body: bytes | str, *, what: str, limit: int) -> Element:
    """Parse ``body`` safely and return the root element, or raise ``SignalError``.

    ``what`` names the document in messages ("RSL document", "RSS feed").
    """
    if not isinstance(body, bytes | str):
        raise SignalError(f"{what} must be bytes or text, not {type(body).__name__}")
    if _size(body) > limit:
        raise SignalError(f"{what} is larger than {limit // MiB} MiB, refused")
    if not body.strip():
        raise SignalError(f"{what} is empty")
    try:
        return SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DTDForbidden as exc:
        raise SignalError(f"{what} declares a DTD/entities, refused for safety") from exc
    except EntitiesForbidden as exc:
        raise SignalError(f"{what} declares a DTD/entities, refused for safety (entity {exc.name!r})") from exc
    except ExternalReferenceForbidden as exc:
        raise SignalError(f"{what} refers to an external entity, refused for safety") from exc
    except DefusedXmlException as exc:
        raise SignalError(f"{what} uses an XML feature refused for safety") from exc
    except ParseError as exc:
        line = exc.position[0] if exc.position else "?"
        message = str(exc).split(":", 1)[0]
        raise SignalError(f"{what} is not well-formed XML: line {line}: {message}") from exc
    except (LookupError, ValueError, UnicodeError) as exc:
        # Unknown or unsupported encodings in the XML declaration surface this way.
        raise SignalError(f"{what} is not well-formed XML: {exc}") from exc
