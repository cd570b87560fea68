"""What the API accepts and returns."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class UserCreate(BaseModel):
    email: EmailStr
    password: Annotated[str, Field(min_length=8, max_length=128)]
    phone_number: Annotated[str | None, Field(max_length=32, examples=["+44 20 7946 0000"])] = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: EmailStr
    created_at: datetime
    phone_number: str | None


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"


class PostIn(BaseModel):
    """A post as its owner writes it (POST creates one, PUT replaces one)."""

    title: Annotated[str, Field(min_length=1, max_length=200)]
    content: str
    published: bool = True


class PostOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    content: str
    published: bool
    created_at: datetime
    owner_id: int
    owner: UserOut


class PostWithVotes(PostOut):
    votes: int


class VoteIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    post_id: int
    #: 1 adds the caller's vote, 0 takes it back.
    direction: Literal[0, 1] = Field(alias="dir")


class Message(BaseModel):
    message: str
