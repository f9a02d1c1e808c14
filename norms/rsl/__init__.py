"""RSL 1.0 (Really Simple Licensing): read licences, find them, and say what they allow.

* ``parse_rsl`` reads a document safely (``norms.rsl.reader``);
* ``RslDocument.terms_for`` / ``Terms.permits`` evaluate it for one URL
  (``norms.rsl.document`` picks the scope, ``norms.rsl.terms`` decides;
  the elements' values are ``norms.rsl.elements``);
* ``discover_from_headers`` / ``discover_from_html`` / ``discover_from_rss``
  find licences attached to responses, pages and feeds, ``LicenseSource``
  records what fetching one gave (``norms.rsl.discovery``);
* ``license_statements`` turns licences into statements and gates for the
  norms engine (``norms.rsl.statements``, whose docstring states the rules).
"""

from norms.rsl.discovery import (
    RSL_MEDIA_TYPE,
    LicenseSource,
    discover_from_headers,
    discover_from_html,
    discover_from_rss,
    parse_link_header,
)
from norms.rsl.document import DEFAULT_MAX_AGE_DAYS, RSL_NAMESPACE, RslDocument
from norms.rsl.elements import (
    Accepts,
    Alternate,
    Amount,
    Copyright,
    Legal,
    Payment,
    PaymentType,
    Reporting,
    RslContent,
    RslLicense,
)
from norms.rsl.reader import MAX_DOCUMENT_BYTES, parse_rsl
from norms.rsl.statements import applicable_sources, license_statements
from norms.rsl.terms import Ruling, Terms

__all__ = [
    "DEFAULT_MAX_AGE_DAYS",
    "MAX_DOCUMENT_BYTES",
    "RSL_MEDIA_TYPE",
    "RSL_NAMESPACE",
    "Accepts",
    "Alternate",
    "Amount",
    "Copyright",
    "Legal",
    "LicenseSource",
    "Payment",
    "PaymentType",
    "Reporting",
    "RslContent",
    "RslDocument",
    "RslLicense",
    "Ruling",
    "Terms",
    "applicable_sources",
    "discover_from_headers",
    "discover_from_html",
    "discover_from_rss",
    "license_statements",
    "parse_link_header",
    "parse_rsl",
]
