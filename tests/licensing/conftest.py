"""The identity tests' key fixture: token requests are signed like every request of a signed crawl."""

from tests.identity.conftest import key_file

__all__ = ["key_file"]
