"""The OpenAPI document as the API really answers: our error shapes, documented on every operation."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR = {
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "what was wrong, in words"},
        "errors": {"type": "array", "items": {"type": "string"}, "description": "each invalid field"},
    },
}
OPEN311_ERROR = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}
ERROR_STATUSES = {
    "401": "not logged in",
    "403": "not allowed for this role",
    "404": "not found",
    "409": "conflicts with the state",
    "413": "body too large",
    "422": "invalid input",
    "429": "too many requests",
    "503": "database unavailable",
}
# GeoReport v2's own codes: 400 for a bad or missing argument, 403 for the api_key, 404 not found.
OPEN311_STATUSES = {
    "400": "bad or missing argument",
    "403": "missing or invalid api_key",
    "404": "not found",
    "413": "body too large",
    "429": "too many requests",
    "503": "database unavailable",
}


def install(app: FastAPI) -> None:
    """Replace FastAPI's validation-error schema by ours and document our errors on every operation."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas["Error"] = ERROR
        schemas["Open311Errors"] = OPEN311_ERROR
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        for path, operations in document.get("paths", {}).items():
            open311 = path.startswith("/open311")
            ref = "#/components/schemas/Open311Errors" if open311 else "#/components/schemas/Error"
            content: dict[str, Any] = {"application/json": {"schema": {"$ref": ref}}}
            if open311:
                content["text/xml"] = {"schema": {"type": "string", "description": "<errors><error>…"}}
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                for status, meaning in (OPEN311_STATUSES if open311 else ERROR_STATUSES).items():
                    responses[status] = {"description": meaning, "content": content}
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
