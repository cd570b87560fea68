"""What the API accepts and returns, and the error answers each endpoint documents."""

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field

from social.models import MAX_ID, User

#: An id as the API takes it: anything outside the columns' range cannot name a row, and is
#: refused with 422 before it reaches a query (where it would overflow the column type).
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
#: Text without NUL characters: PostgreSQL's text types cannot hold one, so every backend
#: refuses it alike (422) rather than PostgreSQL failing the query.
NO_NUL = r"^[^\x00]*$"


class UserCreate(BaseModel):
    email: EmailStr
    password: Annotated[str, Field(min_length=8, max_length=128)]
    phone_number: Annotated[
        str | None, Field(max_length=32, pattern=NO_NUL, examples=["+44 20 7946 0000"])
    ] = None


class UserOut(BaseModel):
    """A user. Email and phone number are personal data: only the user themself sees them;
    anyone else gets null for both."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: Annotated[EmailStr | None, Field(description="Shown to the user themself only.")]
    created_at: AwareDatetime
    phone_number: Annotated[str | None, Field(description="Shown to the user themself only.")]

    @classmethod
    def seen_by(cls, user: User, viewer_id: int | None) -> "UserOut":
        """``user`` as the user with id ``viewer_id`` (None: an anonymous caller) may see them."""
        shown = cls.model_validate(user)
        if user.id == viewer_id:
            return shown
        return shown.model_copy(update={"email": None, "phone_number": None})


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"


class PostIn(BaseModel):
    """A post as its owner writes it (POST creates one, PUT replaces one)."""

    title: Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]
    content: Annotated[str, Field(pattern=NO_NUL)]
    published: Annotated[
        bool, Field(description="false: a draft, which only its owner sees (in lists and by id).")
    ] = True


class PostOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    content: str
    published: bool
    created_at: AwareDatetime
    owner_id: int
    owner: UserOut


class PostWithVotes(PostOut):
    votes: int


class VoteIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    post_id: Id
    #: 1 adds the caller's vote, 0 takes it back.
    direction: Literal[0, 1] = Field(alias="dir")


class Message(BaseModel):
    message: str


class Problem(BaseModel):
    """Every error answer but 422 (whose detail lists the fields at fault)."""

    detail: str


_DESCRIPTIONS = {
    400: "The body could not be read: not UTF-8 text, or a malformed form",
    401: "No valid bearer token: missing, malformed, expired, signed with another key, or "
    "naming a user who no longer exists",
    403: "Refused",
    404: "Not found",
    409: "Conflicts with what is already stored",
    413: "The request body is over the size limit (MAX_BODY_BYTES, 64 KiB by default)",
}


def answers(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for an endpoint's error answers (FastAPI documents 422 itself).
    ``descriptions`` (``e403="..."``) say more precisely what one means there."""
    return {
        code: {"model": Problem, "description": descriptions.get(f"e{code}", _DESCRIPTIONS[code])}
        for code in codes
    }
