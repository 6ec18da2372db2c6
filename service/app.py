"""The service's Starlette app: routes from ``service.api.*``, JSON errors, access log."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from service.api import admin, auth, catalog, playback, profiles
from service.api import progress as progress_api
from service.api import telemetry as telemetry_api
from service.api import licenses as licenses_api
from service.api.common import ApiError, error_response
from service.guard import RequestGuard
from service.runtime import Runtime

log = logging.getLogger("marquee.service")
access = logging.getLogger("marquee.service.access")

ROUTE_MODULES = (auth, profiles, catalog, playback, admin, progress_api, telemetry_api, licenses_api)


async def health(request: Request) -> JSONResponse:
    rt: Runtime = request.app.state.runtime
    ocas = [{"id": o.id, "up": o.listener.listening, "port": o.port} for o in rt.ocas]
    return JSONResponse({"status": "ok", "content": rt.build is not None, "ocas": ocas})


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    message = {404: f"no route {request.url.path}", 405: f"{request.method} is not allowed on {request.url.path}"}
    return error_response(exc.status_code, code, message.get(exc.status_code, str(exc.detail)), exc.headers)


async def internal_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error", exc_info=exc, extra={"fields": {"path": request.url.path, "method": request.method}})
    return error_response(500, "internal_error", "the service failed on this request (a bug; see its log)")


class AccessLog:
    """Pure ASGI middleware: one structured log line per request."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = {"code": 0}

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            access.info("request", extra={"fields": {
                "method": scope["method"], "path": scope["path"], "status": status["code"],
                "ms": round((time.monotonic() - started) * 1000, 1)}})


def create_app(runtime: Runtime) -> Starlette:
    routes = [Route("/health", health, methods=["GET"])]
    for module in ROUTE_MODULES:
        routes.extend(module.routes())
    app = Starlette(routes=routes, exception_handlers={
        ApiError: api_error, HTTPException: http_error, Exception: internal_error})
    app.state.runtime = runtime
    app.add_middleware(RequestGuard, extra_hosts=runtime.config.allowed_hosts, bound_host=runtime.config.host,
                       admin_secret=runtime.admin_secret)
    app.add_middleware(AccessLog)
    return app
