"""/vote: add (dir 1) or take back (dir 0) the caller's vote on a post."""

from fastapi import APIRouter, HTTPException, status
from sqlalchemy.exc import IntegrityError

from social.database import SessionDep
from social.models import Vote
from social.routers.posts import get_visible_post
from social.schemas import Message, VoteIn, answers
from social.security import CurrentUser

router = APIRouter(prefix="/vote", tags=["votes"])


@router.post(
    "/",
    response_model=Message,
    status_code=status.HTTP_201_CREATED,
    responses=answers(
        400,
        401,
        404,
        409,
        413,
        e404="No such post (or a draft of someone else's), or no vote to take back",
        e409="The caller has already voted on this post",
    ),
)
def vote(vote_in: VoteIn, session: SessionDep, user: CurrentUser) -> Message:
    post_id = get_visible_post(session, vote_in.post_id, user).id
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
