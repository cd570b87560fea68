"""POST /login: the OAuth2 password flow (the username is the email)."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from social.database import SessionDep
from social.models import User
from social.schemas import Token, answers
from social.security import create_access_token, verify_password
from social.settings import SettingsDep

router = APIRouter(tags=["authentication"])


@router.post(
    "/login",
    response_model=Token,
    responses=answers(
        400, 403, 413, e403="Unknown email or wrong password: the same answer for both"
    ),
)
def login(
    credentials: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    # No email holds a NUL character (and PostgreSQL cannot even compare one): unknown.
    unknown = "\x00" in credentials.username
    user = (
        None if unknown else session.scalar(select(User).where(User.email == credentials.username))
    )
    # Verified even for an unknown email, so both failures take the same time.
    password_matches = verify_password(credentials.password, user.password_hash if user else None)
    if user is None or not password_matches:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Invalid Credentials")
    return Token(access_token=create_access_token(user.id, settings))
