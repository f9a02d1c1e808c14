"""fairfetch crawler: a Scrapy project that enforces publisher signals by default and records provenance."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/fairfetch/fairfetch"
DEFAULT_TOKEN = "fairfetch"


def user_agent(token: str = DEFAULT_TOKEN, contact_url: str = PROJECT_URL) -> str:
    """The User-Agent header: the product token robots.txt groups are matched against, a version, a contact URL."""
    return f"{token}/{__version__} (+{contact_url})"
