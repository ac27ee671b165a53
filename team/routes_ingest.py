"""Uploading a file into a matter, and following its ingest.

``POST /matters/{matter}/documents?name=FILE`` with the file's bytes as the body
(application/octet-stream: no multipart parser needed). Membership is checked before a
byte is read, so an outsider's upload is refused without being stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from team.accounts import User
from team.routes_auth import CurrentUser, gate

router = APIRouter(prefix="/matters/{matter}")


@router.post("/documents", status_code=202)
async def upload(matter: str, user: CurrentUser, request: Request,
                 name: str = Query(min_length=1, max_length=255)) -> dict[str, Any]:
    queue = request.app.state.ingest
    limit = request.app.state.settings.max_upload
    clean = Path(name.replace("\\", "/")).name
    if not clean or clean.startswith("."):
        raise HTTPException(422, "bad request: name must be a file name")
    matter_id = await run_in_threadpool(_enter, request, user, matter, clean)
    if not queue.supports(clean):
        raise HTTPException(415, f"unsupported file type ({Path(clean).suffix or 'no extension'})")
    path = queue.new_path(clean)
    size = 0
    with open(path, "wb") as out:
        async for piece in request.stream():
            size += len(piece)
            if size > limit:
                out.close()
                path.unlink(missing_ok=True)
                raise HTTPException(413, f"the file is larger than the server accepts ({limit // 2**20} MB)")
            out.write(piece)
    job = queue.submit(user, matter, matter_id, clean, path)
    return job.to_json()  # type: ignore[no-any-return]


def _enter(request: Request, user: User, matter: str, name: str) -> int:
    """Membership (and the audit row of the upload, or of its refusal)."""
    with gate(request).matter(user, matter, "upload") as s:
        s.audit(file=name)
        return s.matter_id


@router.get("/ingest/{job_id}")
def progress(matter: str, job_id: int, user: CurrentUser, request: Request) -> dict[str, Any]:
    with gate(request).matter(user, matter, "ingest progress") as s:
        job = request.app.state.ingest.get(job_id, s.matter_id)
        if job is None:
            raise HTTPException(404, "no such upload in this matter")
        s.audited = True  # following one's own upload shows nothing of the matter
        return job.to_json()  # type: ignore[no-any-return]
