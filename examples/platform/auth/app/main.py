"""Platform auth service: hands out (dummy) bearer tokens."""

import secrets
import time

from fastapi import FastAPI, Form, HTTPException

app = FastAPI(title="platform auth")

# Demo only: a real service would check a user store and sign a JWT.
USERS = {"demo": "demo"}


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/auth/token")
def token(username: str = Form(...), password: str = Form(...)) -> dict[str, object]:
    if USERS.get(username) != password:
        raise HTTPException(status_code=401, detail="invalid credentials")
    return {
        "access_token": secrets.token_urlsafe(32),
        "token_type": "bearer",
        "expires_at": int(time.time()) + 3600,
    }
