"""/users: sign up, and look a user up."""

from fastapi import APIRouter, HTTPException, status
from sqlalchemy.exc import IntegrityError

from social.database import SessionDep
from social.models import User
from social.schemas import UserCreate, UserOut
from social.security import hash_password

router = APIRouter(prefix="/users", tags=["users"])


@router.post("/", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(user_in: UserCreate, session: SessionDep) -> User:
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
    return user


@router.get("/{user_id}", response_model=UserOut)
def get_user(user_id: int, session: SessionDep) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"User {user_id} not found")
    return user
