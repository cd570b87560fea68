"""/posts: every endpoint needs a logged-in user; only a post's owner may change it, and a draft
(published false) is seen by its owner only: to anyone else it does not exist."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import contains_eager

from social.database import SessionDep
from social.models import MAX_ID, Post, User, Vote
from social.schemas import NO_NUL, Id, PostIn, PostOut, PostWithVotes, UserOut, answers
from social.security import CurrentUser

router = APIRouter(prefix="/posts", tags=["posts"], responses=answers(401))

PostId = Annotated[Id, Path()]

# Each post with its owner and its vote count, in one query.
VOTE_COUNTS = select(Vote.post_id, func.count().label("votes")).group_by(Vote.post_id).subquery()
POSTS_WITH_VOTES = (
    select(Post, func.coalesce(VOTE_COUNTS.c.votes, 0))
    .join(Post.owner)
    .outerjoin(VOTE_COUNTS, VOTE_COUNTS.c.post_id == Post.id)
    .options(contains_eager(Post.owner))
)


def visible_to(user: User) -> ColumnElement[bool]:
    """Published posts, and the user's own drafts."""
    return or_(Post.published, Post.owner_id == user.id)


def post_seen_by(post: Post, user: User) -> PostOut:
    """The post, its owner's email and phone number shown only if ``user`` is that owner."""
    shown = PostOut.model_validate(post)
    return shown.model_copy(update={"owner": UserOut.seen_by(post.owner, viewer_id=user.id)})


def with_votes(post: Post, votes: int, user: User) -> PostWithVotes:
    return PostWithVotes(**dict(post_seen_by(post, user)), votes=votes)


def get_visible_post(session: SessionDep, post_id: int, user: User) -> Post:
    post = session.scalar(select(Post).where(Post.id == post_id, visible_to(user)))
    if post is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Post {post_id} not found")
    return post


def get_own_post(session: SessionDep, post_id: int, user: User) -> Post:
    post = get_visible_post(session, post_id, user)
    if post.owner_id != user.id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Not authorized to change this post")
    return post


@router.get("/", response_model=list[PostWithVotes])
def list_posts(
    session: SessionDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    skip: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    search: Annotated[
        str, Query(max_length=200, pattern=NO_NUL, description="Text the title contains.")
    ] = "",
) -> list[PostWithVotes]:
    """Published posts and the caller's own drafts, newest first."""
    query = POSTS_WITH_VOTES.where(visible_to(user))
    if search:
        query = query.where(Post.title.icontains(search, autoescape=True))
    query = query.order_by(Post.created_at.desc(), Post.id.desc()).limit(limit).offset(skip)
    return [with_votes(post, votes, user) for post, votes in session.execute(query)]


@router.post(
    "/", response_model=PostOut, status_code=status.HTTP_201_CREATED, responses=answers(400, 413)
)
def create_post(
    post_in: PostIn, session: SessionDep, user: CurrentUser, request: Request, response: Response
) -> PostOut:
    post = Post(**post_in.model_dump(), owner=user)
    session.add(post)
    session.commit()
    session.refresh(post)  # created_at comes from the database
    response.headers["Location"] = str(request.url_for("get_post", post_id=post.id))
    return post_seen_by(post, user)


@router.get(
    "/{post_id}",
    response_model=PostWithVotes,
    responses=answers(404, e404="No such post, or a draft of someone else's"),
)
def get_post(post_id: PostId, session: SessionDep, user: CurrentUser) -> PostWithVotes:
    row = session.execute(POSTS_WITH_VOTES.where(Post.id == post_id, visible_to(user))).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Post {post_id} not found")
    post, votes = row
    return with_votes(post, votes, user)


CHANGE_ANSWERS = answers(
    403,
    404,
    e403="The post is someone else's",
    e404="No such post, or a draft of someone else's",
)


@router.put("/{post_id}", response_model=PostOut, responses=CHANGE_ANSWERS | answers(400, 413))
def replace_post(
    post_id: PostId, post_in: PostIn, session: SessionDep, user: CurrentUser
) -> PostOut:
    post = get_own_post(session, post_id, user)
    for field, value in post_in.model_dump().items():
        setattr(post, field, value)
    session.commit()
    return post_seen_by(post, user)


@router.delete("/{post_id}", status_code=status.HTTP_204_NO_CONTENT, responses=CHANGE_ANSWERS)
def delete_post(post_id: PostId, session: SessionDep, user: CurrentUser) -> None:
    session.delete(get_own_post(session, post_id, user))
    session.commit()
