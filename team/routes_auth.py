"""Signing in and out, and the matters a user may open."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from team import audit
from team.access import Gate, bearer, my_matters
from team.accounts import User, check_password, issue_token, revoke_token
from team.throttle import LoginThrottle, Refused

router = APIRouter()


def gate(request: Request) -> Gate:
    g: Gate = request.app.state.gate
    return g


def current_user(request: Request) -> User:
    """Every route but login declares this: no token, no answer."""
    return gate(request).user(request)


CurrentUser = Annotated[User, Depends(current_user)]


class Login(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


@router.post("/login")
def login(body: Login, request: Request) -> dict[str, object]:
    """A token for the name and password. Too many failures for a name or from an address
    (team/throttle.py) are answered 429 for a while, without checking the password."""
    g = gate(request)
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else ""
    try:
        throttle.begin(body.name, address)
    except Refused as refused:
        with g.pool.transaction() as db:
            audit.record(db, body.name, "login", outcome="throttled", by=refused.by, address=address,
                         retry_after=refused.retry_after)
        raise HTTPException(429, str(refused), headers={"Retry-After": str(refused.retry_after)}) from None
    try:
        with g.pool.transaction() as db:
            user = check_password(db, body.name, body.password)
            if user is None:
                audit.record(db, body.name, "login", outcome="denied", address=address)
            else:
                token, expires = issue_token(db, user, g.policy)
                audit.record(db, user.name, "login", address=address)
    except BaseException:
        throttle.abandoned(body.name, address)
        raise
    if user is None:
        throttle.failed(body.name, address)
        raise HTTPException(401, "wrong name or password")
    throttle.succeeded(body.name, address)
    if request.app.state.settings.warm_on_login:
        request.app.state.engine.warm_soon(g.pool, user)
    return {"token": token, "user": user.name, "expires": expires.isoformat(),
            "idle_minutes": int(g.policy.idle.total_seconds() // 60)}


@router.post("/logout")
def logout(user: CurrentUser, request: Request) -> dict[str, bool]:
    token = bearer(request)
    with gate(request).pool.transaction() as db:
        if token:
            revoke_token(db, token)
        audit.record(db, user.name, "logout")
    return {"ok": True}


@router.get("/me")
def me(user: CurrentUser) -> dict[str, object]:
    return {"user": user.name, "auditor": user.auditor}


@router.get("/matters")
def matters(user: CurrentUser, request: Request) -> dict[str, list[str]]:
    """Only the user's own matters: no one learns the names of the others."""
    with gate(request).pool.transaction(user.id) as db:
        return {"matters": my_matters(db, user.id)}
