"""/vote: add (dir 1) or take back (dir 0) the caller's vote on a post."""

from fastapi import APIRouter, HTTPException, status
from sqlalchemy.exc import IntegrityError

from social.database import SessionDep
from social.models import Post, Vote
from social.schemas import Message, VoteIn
from social.security import CurrentUser

router = APIRouter(prefix="/vote", tags=["votes"])


@router.post("/", response_model=Message, status_code=status.HTTP_201_CREATED)
def vote(vote_in: VoteIn, session: SessionDep, user: CurrentUser) -> Message:
    post_id = vote_in.post_id
    if session.get(Post, post_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Post {post_id} not found")
    existing = session.get(Vote, (user.id, post_id))
    if vote_in.direction == 1:
        if existing is not None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail=f"User {user.id} has already voted on post {post_id}",
            )
        session.add(Vote(user_id=user.id, post_id=post_id))
        try:
            session.commit()
        except IntegrityError:  # the same vote, sent twice at once
            session.rollback()
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail=f"User {user.id} has already voted on post {post_id}",
            ) from None
        return Message(message="Vote added")
    if existing is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Vote does not exist")
    session.delete(existing)
    session.commit()
    return Message(message="Vote removed")
