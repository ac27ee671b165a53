"""What a member does in a matter: its documents, search, quotes, a source page, an
export, and (for auditors) its audit report. Each route enters the matter through
``gate.matter`` (team/access.py) and records what it showed, passage ids included."""

from __future__ import annotations

import csv
import io
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from team import audit
from team.routes_auth import CurrentUser, gate
from team.text import question_digest

router = APIRouter(prefix="/matters/{matter}")


class Search(BaseModel):
    query: str = Field(min_length=1, max_length=4000)
    k: int = Field(default=8, ge=1, le=1000)
    documents: list[int] | None = None  # only these documents (ids from /documents)


class Export(Search):
    format: Literal["csv", "json"] = "csv"


def _engine(request: Request) -> Any:
    return request.app.state.engine


def _k(request: Request, k: int) -> int:
    return min(k, int(request.app.state.settings.max_k))


def _passage(p: Any) -> dict[str, Any]:
    return {**p.to_json(), "doc_id": p.doc_id, "chunk_id": p.chunk_id, "heading": p.heading}


@router.get("/documents")
def documents(matter: str, user: CurrentUser, request: Request) -> dict[str, Any]:
    with gate(request).matter(user, matter, "documents") as s:
        docs = _engine(request).documents(s)
        s.audit(count=len(docs))
        return {"matter": matter, "documents": docs}


@router.post("/search")
def search(matter: str, body: Search, user: CurrentUser, request: Request) -> dict[str, Any]:
    with gate(request).matter(user, matter, "search") as s:
        found = _engine(request).search(s, body.query, _k(request, body.k), body.documents)
        s.audit([p.chunk_id for p in found], q=question_digest(body.query))
        return {"matter": matter, "passages": [_passage(p) for p in found]}


@router.post("/quotes")
def quotes(matter: str, body: Search, user: CurrentUser, request: Request) -> dict[str, Any]:
    """The verbatim quotes that answer a question (as ``docqa ask --json`` starts with);
    empty when the matter holds nothing that answers it. The laptop writes the answer."""
    with gate(request).matter(user, matter, "quotes") as s:
        picked, passages = _engine(request).quotes(s, body.query, _k(request, body.k), body.documents)
        s.audit(sorted({q.passage.chunk_id for q in picked}), q=question_digest(body.query))
        return {"matter": matter, "quotes": [{**q.to_json(), "doc_id": q.passage.doc_id,
                                              "chunk_id": q.passage.chunk_id} for q in picked],
                "passages": [_passage(p) for p in passages]}


class Review(BaseModel):
    columns: list[str] = Field(min_length=1, max_length=20)  # "NAME=QUESTION" or a bare question
    documents: list[int] | None = Field(default=None, max_length=200)


MAX_CELLS = 400  # a grid computed in one request: larger ones belong to a job


@router.post("/review")
def review(matter: str, body: Review, user: CurrentUser, request: Request) -> dict[str, Any]:
    with gate(request).matter(user, matter, "review") as s:
        engine = _engine(request)
        n_docs = len(body.documents) if body.documents is not None else len(engine.documents(s))
        if n_docs * len(body.columns) > MAX_CELLS:
            raise HTTPException(413, f"at most {MAX_CELLS} cells in one request: choose fewer documents")
        rows, shown = engine.review(s, body.columns, body.documents)
        s.audit(shown, columns=len(body.columns), documents=len(rows))
        return {"matter": matter, "rows": rows}


@router.get("/documents/{doc_id}/pages/{page}")
def page(matter: str, doc_id: int, page: int, user: CurrentUser, request: Request) -> dict[str, Any]:
    with gate(request).matter(user, matter, "page") as s:
        text = _engine(request).page(s, doc_id, page)
        if text is None:
            raise HTTPException(404, "no such page in this matter")
        s.audit(doc_id=doc_id, page=page)
        return {"matter": matter, "doc_id": doc_id, "page": page, "text": text}


@router.post("/export")
def export(matter: str, body: Export, user: CurrentUser, request: Request) -> Response:
    """A question's passages as a file (CSV or JSON), with where each comes from."""
    with gate(request).matter(user, matter, "export") as s:
        found = _engine(request).search(s, body.query, _k(request, body.k), body.documents)
        s.audit([p.chunk_id for p in found], q=question_digest(body.query), format=body.format)
    rows = [_passage(p) for p in found]
    if body.format == "json":
        return Response(_json({"matter": matter, "query": body.query, "passages": rows}),
                        media_type="application/json")
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["file", "page", "location", "heading", "text", "doc_id", "chunk_id"])
    for r in rows:
        w.writerow([_cell(r["file"]), r["page"], _cell(r["location"]), _cell(r["heading"]), _cell(r["text"]),
                    r["doc_id"], r["chunk_id"]])
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="export.csv"'})


@router.get("/audit")
def audit_report(matter: str, user: CurrentUser, request: Request) -> dict[str, Any]:
    """Who did what in this matter: for the matter's auditors (members with the auditor
    flag), for an ethical-wall certification."""
    with gate(request).matter(user, matter, "audit report") as s:
        if not user.auditor:
            raise HTTPException(403, "only an auditor may read a matter's audit trail")
        report = audit.matter_report(s.db, matter)
        s.audit()
        return report


def _cell(text: Any) -> str:
    """A spreadsheet reads a cell starting with = + - @ as a formula: quoted text instead."""
    s = str(text)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def _json(obj: Any) -> str:
    import json

    return json.dumps(obj, ensure_ascii=False, indent=1)
