"""OCA control for tests and QA: list, fault injection, weights. Only with ``--admin`` and from loopback."""

from __future__ import annotations

import ipaddress

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from service.api.common import ApiError, field_number, json_body, runtime
from service.faults import FaultSpec, FaultSpecError, parse_fault_spec
from service.oca import OcaNode


def _guard(request: Request) -> None:
    rt = runtime(request)
    if not rt.config.admin:
        raise ApiError(404, "admin_disabled", "the admin API is off; start the service with --admin")
    client = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(client).is_loopback
    except ValueError:
        loopback = client in ("testclient", "localhost")
    if not loopback:
        raise ApiError(403, "admin_loopback_only", "the admin API answers loopback clients only")


def _node(request: Request) -> OcaNode:
    _guard(request)
    node = runtime(request).oca(request.path_params["oca_id"])
    if node is None:
        raise ApiError(404, "unknown_oca", f"no OCA {request.path_params['oca_id']!r}")
    return node


def _host(request: Request) -> str:
    return runtime(request).config.url_host


async def list_ocas(request: Request) -> JSONResponse:
    _guard(request)
    return JSONResponse({"ocas": [o.to_json(_host(request)) for o in runtime(request).ocas]})


async def get_oca(request: Request) -> JSONResponse:
    return JSONResponse(_node(request).to_json(_host(request)))


async def put_faults(request: Request) -> JSONResponse:
    node = _node(request)
    body = await json_body(request)
    try:
        spec = parse_fault_spec(body)
    except FaultSpecError as exc:
        raise ApiError(400, "invalid_fault", str(exc)) from None
    await node.set_faults(spec)
    return JSONResponse(node.to_json(_host(request)))


async def delete_faults(request: Request) -> JSONResponse:
    node = _node(request)
    await node.set_faults(FaultSpec())
    return JSONResponse(node.to_json(_host(request)))


async def patch_oca(request: Request) -> JSONResponse:
    node = _node(request)
    body = await json_body(request)
    if set(body) - {"weight"}:
        raise ApiError(400, "invalid_field", "only 'weight' can be changed")
    node.weight = field_number(body, "weight", lo=0.0, hi=100.0)
    return JSONResponse(node.to_json(_host(request)))


async def reset_counters(request: Request) -> JSONResponse:
    _guard(request)
    for node in runtime(request).ocas:
        node.reset_counters()
    return JSONResponse({"ok": True})


def routes() -> list[Route]:
    return [Route("/v1/admin/ocas", list_ocas, methods=["GET"]),
            Route("/v1/admin/ocas/reset-counters", reset_counters, methods=["POST"]),
            Route("/v1/admin/ocas/{oca_id}", get_oca, methods=["GET"]),
            Route("/v1/admin/ocas/{oca_id}", patch_oca, methods=["PATCH"]),
            Route("/v1/admin/ocas/{oca_id}/faults", put_faults, methods=["PUT"]),
            Route("/v1/admin/ocas/{oca_id}/faults", delete_faults, methods=["DELETE"])]
