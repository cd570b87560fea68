"""The tour's API: sign up a user."""

from fastapi import Depends, FastAPI
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.database import get_session
from app.models import User

app = FastAPI()


class SignUp(BaseModel):
    email: str
    password: str


@app.post("/users/", status_code=201)
def sign_up(body: SignUp, session: Session = Depends(get_session)) -> dict[str, int]:
    user = User(email=body.email, password=body.password)
    session.add(user)
    session.commit()
    return {"id": user.id}
