"""Passwords (Argon2, through pwdlib) and access tokens (JWT, through PyJWT)."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import OAuth2PasswordBearer
from pwdlib import PasswordHash

from social.database import SessionDep
from social.models import MAX_ID, User
from social.settings import Settings, SettingsDep

password_hash = PasswordHash.recommended()  # Argon2id
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="login")
# The same scheme where a token is welcome but not needed (it only shows the caller more).
optional_oauth2_scheme = OAuth2PasswordBearer(tokenUrl="login", auto_error=False)

# Checked when the email is unknown, so a wrong email takes as long as a wrong password.
_UNUSABLE_HASH = password_hash.hash("unknown user: no password matches this")


def hash_password(password: str) -> str:
    return password_hash.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    """Whether ``password`` matches ``hashed``; with no hash, False after the same work."""
    matches = password_hash.verify(password, hashed or _UNUSABLE_HASH)
    return matches and hashed is not None


def create_access_token(user_id: int, settings: Settings) -> str:
    expires = datetime.now(UTC) + timedelta(minutes=settings.access_token_expire_minutes)
    claims = {"sub": str(user_id), "exp": expires}
    return jwt.encode(claims, settings.signing_key(), algorithm=settings.jwt_algorithm)


def user_id_from_token(token: str, settings: Settings) -> int | None:
    """The user id a valid, unexpired token names; None for anything else."""
    try:
        claims = jwt.decode(
            token,
            settings.signing_key(),
            algorithms=[settings.jwt_algorithm],
            options={"require": ["exp", "sub"]},
        )
    except jwt.InvalidTokenError:
        return None
    subject = claims["sub"]
    # Only what create_access_token writes: a user id in decimal digits, within the column's
    # range (a larger number would overflow the query that looks the user up).
    if not (isinstance(subject, str) and subject.isascii() and subject.isdigit()):
        return None
    if len(subject) > len(str(MAX_ID)) or not 1 <= int(subject) <= MAX_ID:
        return None
    return int(subject)


def _user_from_token(token: str, session: SessionDep, settings: Settings) -> User:
    user_id = user_id_from_token(token, settings)
    user = session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="Could not validate credentials",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def get_current_user(
    token: Annotated[str, Depends(oauth2_scheme)], session: SessionDep, settings: SettingsDep
) -> User:
    return _user_from_token(token, session, settings)


def get_optional_user(
    token: Annotated[str | None, Depends(optional_oauth2_scheme)],
    session: SessionDep,
    settings: SettingsDep,
) -> User | None:
    """The caller when they send a token (a bad one is still a 401); None when they send none."""
    return None if token is None else _user_from_token(token, session, settings)


CurrentUser = Annotated[User, Depends(get_current_user)]
OptionalUser = Annotated[User | None, Depends(get_optional_user)]
