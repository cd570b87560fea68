"""/posts: every endpoint needs a logged-in user; only a post's owner may change it."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from social.database import SessionDep
from social.models import Post, User, Vote
from social.schemas import PostIn, PostOut, PostWithVotes
from social.security import CurrentUser

router = APIRouter(prefix="/posts", tags=["posts"])


# Each post with its owner and its vote count, in one query.
VOTE_COUNTS = select(Vote.post_id, func.count().label("votes")).group_by(Vote.post_id).subquery()
POSTS_WITH_VOTES = (
    select(Post, func.coalesce(VOTE_COUNTS.c.votes, 0))
    .join(Post.owner)
    .outerjoin(VOTE_COUNTS, VOTE_COUNTS.c.post_id == Post.id)
    .options(contains_eager(Post.owner))
)


def with_votes(post: Post, votes: int) -> PostWithVotes:
    return PostWithVotes(**PostOut.model_validate(post).model_dump(), votes=votes)


def get_own_post(session: SessionDep, post_id: int, user: User) -> Post:
    post = session.get(Post, post_id)
    if post is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Post {post_id} not found")
    if post.owner_id != user.id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Not authorized to change this post")
    return post


@router.get("/", response_model=list[PostWithVotes])
def list_posts(
    session: SessionDep,
    _user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    skip: Annotated[int, Query(ge=0)] = 0,
    search: Annotated[str, Query(max_length=200, description="Text the title contains.")] = "",
) -> list[PostWithVotes]:
    query = POSTS_WITH_VOTES
    if search:
        query = query.where(Post.title.icontains(search, autoescape=True))
    query = query.order_by(Post.created_at.desc(), Post.id.desc()).limit(limit).offset(skip)
    return [with_votes(post, votes) for post, votes in session.execute(query)]


@router.post("/", response_model=PostOut, status_code=status.HTTP_201_CREATED)
def create_post(
    post_in: PostIn, session: SessionDep, user: CurrentUser, request: Request, response: Response
) -> Post:
    post = Post(**post_in.model_dump(), owner=user)
    session.add(post)
    session.commit()
    session.refresh(post)  # created_at comes from the database
    response.headers["Location"] = str(request.url_for("get_post", post_id=post.id))
    return post


@router.get("/{post_id}", response_model=PostWithVotes)
def get_post(post_id: int, session: SessionDep, _user: CurrentUser) -> PostWithVotes:
    row = session.execute(POSTS_WITH_VOTES.where(Post.id == post_id)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Post {post_id} not found")
    post, votes = row
    return with_votes(post, votes)


@router.put("/{post_id}", response_model=PostOut)
def replace_post(post_id: int, post_in: PostIn, session: SessionDep, user: CurrentUser) -> Post:
    post = get_own_post(session, post_id, user)
    for field, value in post_in.model_dump().items():
        setattr(post, field, value)
    session.commit()
    return post


@router.delete("/{post_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_post(post_id: int, session: SessionDep, user: CurrentUser) -> None:
    session.delete(get_own_post(session, post_id, user))
    session.commit()
