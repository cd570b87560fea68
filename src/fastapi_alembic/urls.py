"""Database URLs: parsing with clear errors, driver defaults, and masking for display."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi_alembic.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

# A bare dialect name picks the driver we install, when SQLAlchemy's own default is absent.
_DEFAULT_DRIVERS = {
    "postgresql": ("psycopg2", "psycopg"),
    "mysql": ("MySQLdb", "pymysql"),
    "mariadb": ("MySQLdb", "pymysql"),
}


def parse_url(raw: str | URL) -> URL:
    """Parse ``raw`` into a URL, or raise a ConfigError that does not echo a password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    # URL or text: told apart without SQLAlchemy's URL class, so that masking (below) never
    # imports SQLAlchemy for the command line's help or the start-up path.
    if not isinstance(raw, str):
        url = raw
    else:
        remember_secrets(raw)
        text = raw.strip()
        if text.startswith("postgres://"):
            text = "postgresql://" + text.removeprefix("postgres://")
        try:
            url = make_url(text)
        except (ArgumentError, ValueError):
            raise ConfigError(
                f"The database URL {mask_url(text)!r} is not valid: write it as "
                "dialect+driver://user:password@host:port/database, "
                "for example sqlite:///app.db or postgresql+psycopg://user@localhost/app."
            ) from None
    remember_secrets(url)
    backend, _, driver = url.drivername.partition("+")
    if not driver and backend in _DEFAULT_DRIVERS:
        native, fallback = _DEFAULT_DRIVERS[backend]
        if importlib.util.find_spec(native) is None and importlib.util.find_spec(fallback):
            url = url.set(drivername=f"{backend}+{fallback}")
    return url


def anchored(url: URL, root: Path) -> URL:
    """``url`` with a relative SQLite file path made absolute against ``root`` (the project's
    folder), so that every way in (the CLI from a subfolder, the API, the lifespan, plain
    ``alembic``) reaches the same file. In-memory databases and absolute paths are unchanged."""
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return url
    if database.startswith("file:"):  # a URI filename (?uri=true): file:path?options
        path, mark, options = database.removeprefix("file:").partition("?")
        memory = url.query.get("mode") == "memory" or "mode=memory" in options
        if not path or path.startswith(("/", ":memory:")) or memory:
            return url
        return url.set(database=f"file:{(root / path).as_posix()}{mark}{options}")
    if Path(database).is_absolute():
        return url
    return url.set(database=str(root / database))


def mask_url(url: str | URL) -> str:
    """The URL as it may be shown: every secret-bearing part (password, secret query
    parameters) replaced by ***."""
    remember_secrets(url)
    text = url.render_as_string(hide_password=True) if not isinstance(url, str) else url
    return mask_text(_mask_one_url(text))


# Query parameters whose value is a secret: password, pwd, passwd, sslpassword, token,
# access_token, secret, client_secret, api_key, apikey, credentials...
_SECRET_KEY = re.compile(r"passw|pwd|secret|token|api_?key|credential", re.IGNORECASE)
# A key starts only after a separator (the look-behind), so each attempt scans one segment
# and the whole text is read once: no quadratic backtracking on long runs of key characters.
_QUERY_PAIR = re.compile(r"(?<![^\s?&;'\"])(?P<key>[^\s?&;=#'\"]+)=(?P<value>[^&;#\s]*)")
# Text that cannot hold a URL's authority whole: a URL in free text ends at these.
_TOKEN = re.compile(r"[^\s'\"<>()\[\]{},]+")
#: Secrets seen in URLs this process parsed whose shape the patterns above may miss in free
#: text (a space, a quote, a raw "@"): masked literally wherever they appear.
_odd_secrets: set[str] = set()
_MIN_LITERAL = 4
# A password the URL patterns always find (so it is not masked literally everywhere, which
# would turn a common password such as "postgres" into *** in every word containing it).
_PLAIN_SECRET = re.compile(r"[\w.~%!$*+-]+")


def _mask_one_url(text: str) -> str:
    """Mask ``text`` taken as one URL. The user info runs to the LAST "@" (a password may hold
    a raw "@", "/" or "?"); query parameters with secret-sounding keys lose their value."""
    span = _password_span(text)
    if span is not None:
        text = f"{text[: span[0]]}***{text[span[1] :]}"
    return _mask_query(text)


def _password_span(text: str) -> tuple[int, int] | None:
    """Where the password of ``text`` (one URL) is: from the colon after the user name to the
    last "@". None when there is no user info with a password."""
    scheme_end = text.find("://")
    if scheme_end < 0:
        return None
    start = scheme_end + 3
    at = text.rfind("@", start)
    colon = text.find(":", start, at) if at >= 0 else -1
    if colon < 0 or "/" in text[start:colon]:
        return None
    return colon + 1, at


def _mask_query(text: str) -> str:
    def hide(match: re.Match[str]) -> str:
        if _SECRET_KEY.search(match["key"]) and match["value"] not in ("", "***"):
            return f"{match['key']}=***"
        return match[0]

    return _QUERY_PAIR.sub(hide, text)


def _mask_token(match: re.Match[str]) -> str:
    token = match[0]
    if "=" not in token and "@" not in token:
        return token
    return _mask_one_url(token) if "://" in token else _mask_query(token)


def remember_secrets(url: str | URL) -> None:
    """Note the secrets of ``url`` that free-text masking could not find by their shape."""
    if not isinstance(url, str):
        candidates = [url.password or ""] + [
            value
            for key, values in url.query.items()
            if _SECRET_KEY.search(key)
            for value in ((values,) if isinstance(values, str) else values)
        ]
    else:
        candidates = _raw_secrets(url)
    for candidate in candidates:
        secret = str(candidate)
        if len(secret) >= _MIN_LITERAL and _PLAIN_SECRET.fullmatch(secret) is None:
            # A raw "@" ends the password where SQLAlchemy reads it: the rest becomes the
            # host name, which drivers quote back in their errors.
            pieces = [secret, *secret.split("@")[1:]]
            _odd_secrets.update(p for p in pieces if len(p) >= _MIN_LITERAL)


def _raw_secrets(text: str) -> list[str]:
    span = _password_span(text)
    found = [text[span[0] : span[1]]] if span is not None else []
    found.extend(m["value"] for m in _QUERY_PAIR.finditer(text) if _SECRET_KEY.search(m["key"]))
    return found


def mask_text(text: str, *secrets: str | None) -> str:
    """Hide secrets in free text: in any URL or key=value pair it contains, each literal
    secret given, and each odd-shaped secret of a URL parsed before. Linear in the text."""
    for secret in (*secrets, *_odd_secrets):
        if secret:
            text = text.replace(secret, "***")
    return _TOKEN.sub(_mask_token, text)
