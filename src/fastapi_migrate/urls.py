"""Database URLs: parsing with clear errors, driver defaults, and masking for display."""

from __future__ import annotations

import importlib.util
import re

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from fastapi_migrate.errors import ConfigError

# A bare dialect name picks the driver we install, when SQLAlchemy's own default is absent.
_DEFAULT_DRIVERS = {
    "postgresql": ("psycopg2", "psycopg"),
    "mysql": ("MySQLdb", "pymysql"),
    "mariadb": ("MySQLdb", "pymysql"),
}


def parse_url(raw: str | URL) -> URL:
    """Parse ``raw`` into a URL, or raise a ConfigError that does not echo a password."""
    if isinstance(raw, URL):
        url = raw
    else:
        text = raw.strip()
        if text.startswith("postgres://"):
            text = "postgresql://" + text.removeprefix("postgres://")
        try:
            url = make_url(text)
        except (ArgumentError, ValueError):
            raise ConfigError(
                f"The database URL {mask_text(text)!r} is not valid: write it as "
                "dialect+driver://user:password@host:port/database, "
                "for example sqlite:///app.db or postgresql+psycopg://user@localhost/app."
            ) from None
    backend, _, driver = url.drivername.partition("+")
    if not driver and backend in _DEFAULT_DRIVERS:
        native, fallback = _DEFAULT_DRIVERS[backend]
        if importlib.util.find_spec(native) is None and importlib.util.find_spec(fallback):
            url = url.set(drivername=f"{backend}+{fallback}")
    return url


def mask_url(url: str | URL) -> str:
    """The URL as it may be shown: the password, if any, replaced by ***."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return mask_text(url)


_USERINFO_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][\w+.-]*://[^:/@\s]*:)(?P<secret>[^@\s]+)@")


def mask_text(text: str, *secrets: str | None) -> str:
    """Hide passwords in free text: in any URL it contains, and each literal secret given."""
    text = _USERINFO_PASSWORD.sub(lambda m: f"{m['head']}***@", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
