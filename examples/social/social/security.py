"""Passwords (Argon2, through pwdlib) and access tokens (JWT, through PyJWT)."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import OAuth2PasswordBearer
from pwdlib import PasswordHash

from social.database import SessionDep
from social.models import User
from social.settings import Settings, SettingsDep

password_hash = PasswordHash.recommended()  # Argon2id
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="login")

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
    return jwt.encode(
        claims, settings.secret_key.get_secret_value(), algorithm=settings.jwt_algorithm
    )


def user_id_from_token(token: str, settings: Settings) -> int | None:
    """The user id a valid, unexpired token names; None for anything else."""
    try:
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[settings.jwt_algorithm],
            options={"require": ["exp", "sub"]},
        )
        return int(claims["sub"])
    except (jwt.InvalidTokenError, ValueError):
        return None


def get_current_user(
    token: Annotated[str, Depends(oauth2_scheme)], session: SessionDep, settings: SettingsDep
) -> User:
    user_id = user_id_from_token(token, settings)
    user = session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="Could not validate credentials",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
