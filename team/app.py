"""The FastAPI application: one router per area, the :class:`team.access.Gate` as the
only way into a matter, and errors as one line of JSON (tracebacks go to the log).

``create_app`` is the composition root: it makes the connection pool, checks the database
role (refusing one that would bypass row-level security), and wires the engine (embedder,
retrieval, quotes, ingest) into the routes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from team.access import Gate
from team.db import Pool
from team.guard import check_role
from team.settings import ServerSettings
from team.throttle import LoginThrottle

log = logging.getLogger("docqa.server")


def create_app(settings: ServerSettings, engine: Any = None) -> FastAPI:
    """The app for ``settings``. ``engine`` (a :class:`team.engine.Engine`) is made here
    when not given; tests and the bench pass one to share its embedder."""
    from team.engine import Engine
    from team.routes_auth import router as auth_router
    from team.routes_ingest import router as ingest_router
    from team.routes_matters import router as matters_router

    pool = Pool(settings.db, settings.pool_size)
    # Refuse before serving anything: this raises UnsafeRole for a role that bypasses RLS.
    try:
        with pool.transaction() as cur:
            check_role(cur)
    except BaseException:
        pool.close()
        raise
    engine = engine or Engine(threads=settings.compute_threads)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.ingest.close()
        engine.close()
        pool.close()

    app = FastAPI(title="docqa-server", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.pool = pool
    app.state.gate = Gate(pool, settings.tokens)
    app.state.login_throttle = LoginThrottle(settings.logins)
    app.state.engine = engine
    from team.ingest import IngestQueue

    app.state.ingest = IngestQueue(pool, engine, settings)
    app.include_router(auth_router)
    app.include_router(matters_router)
    app.include_router(ingest_router)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return JSONResponse({"error": f"bad request: {where} {first.get('msg', '')}".strip()}, status_code=422)

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return JSONResponse({"error": "the server failed to answer this request (its log says why)"},
                            status_code=500)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
