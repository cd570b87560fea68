"""/users: sign up, and look a user up (their email and phone number only for themself)."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from sqlalchemy.exc import IntegrityError

from social.database import SessionDep
from social.models import User
from social.schemas import Id, UserCreate, UserOut, answers
from social.security import OptionalUser, hash_password

router = APIRouter(prefix="/users", tags=["users"])


@router.post(
    "/",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    responses=answers(400, 409, 413),
)
def create_user(user_in: UserCreate, session: SessionDep) -> UserOut:
    user = User(
        email=user_in.email,
        password_hash=hash_password(user_in.password),
        phone_number=user_in.phone_number,
    )
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        # The unique constraint decides, so two sign-ups racing for one email cannot both win.
        session.rollback()
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"A user with email {user_in.email} already exists"
        ) from None
    session.refresh(user)  # created_at comes from the database
    return UserOut.seen_by(user, viewer_id=user.id)  # the new user sees what they sent


@router.get("/{user_id}", response_model=UserOut, responses=answers(401, 404))
def get_user(user_id: Annotated[Id, Path()], session: SessionDep, viewer: OptionalUser) -> UserOut:
    """Any user; email and phone number only to the user themself (with their token)."""
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"User {user_id} not found")
    return UserOut.seen_by(user, viewer_id=viewer.id if viewer else None)
