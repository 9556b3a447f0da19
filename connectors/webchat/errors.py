"""Chinese answers for every refusal a web chat citizen can meet, not only the chat's own.

FastAPI answers a malformed body with a list of English dicts, Starlette an unknown path with
"Not Found", the body limit with an English sentence, an unexpected error with "Internal Server
Error". Under /chat each of these says in Chinese what to do; elsewhere (the console, the
webhooks, the API documentation) the answers stay as they were.
"""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from common.body_limit import Refusal, json_refusal

PREFIX = "/chat"
PHOTO_PATH = "/chat/api/photo"

MALFORMED = "发送的内容格式不对，请刷新页面后重试。"
TOO_LARGE = "发送的内容太大了，请分几次发送。"
PHOTO_TOO_LARGE = "图片太大了，请发送不超过{mb}兆的图片。"
BY_STATUS = {
    400: MALFORMED,
    404: "没有找到您要的内容，请返回在线服务页面重试。",
    405: "这个操作不受支持，请刷新页面后重试。",
    413: TOO_LARGE,
    415: "无法处理这种内容，请刷新页面后重试。",
    422: MALFORMED,
    429: "您操作得太快了，请稍等一会儿再试。",
}
UNEXPECTED = "抱歉，服务暂时出了问题，请稍后再试。如遇紧急情况，请直接拨打110、119或120。"
CHINESE = re.compile("[\u4e00-\u9fff]")


def for_citizens(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def in_chinese(detail: object) -> bool:
    return isinstance(detail, str) and bool(CHINESE.search(detail))


async def on_validation_error(request: Request, error: Exception) -> Response:
    """A body or query the page would never send: one Chinese sentence, not FastAPI's English list."""
    assert isinstance(error, RequestValidationError)
    if not for_citizens(request.url.path):
        return await request_validation_exception_handler(request, error)
    return JSONResponse({"detail": MALFORMED}, 422)


async def on_http_error(request: Request, error: Exception) -> Response:
    """The chat's own refusals are Chinese already; Starlette's (404, 405) are said in Chinese."""
    assert isinstance(error, StarletteHTTPException)
    if not for_citizens(request.url.path) or in_chinese(error.detail):
        return await http_exception_handler(request, error)
    detail = BY_STATUS.get(error.status_code, UNEXPECTED)
    return JSONResponse({"detail": detail}, error.status_code, headers=error.headers)


async def on_unexpected(request: Request, error: Exception) -> Response:
    """Logged by Starlette already; the citizen gets a Chinese apology instead of English text."""
    if not for_citizens(request.url.path):
        return PlainTextResponse("Internal Server Error", 500)
    return JSONResponse({"detail": UNEXPECTED}, 500)


def body_refusal(photo_mb: int) -> Refusal:
    """The body limit's answer: Chinese under /chat (the photo's names its limit), as before elsewhere."""

    def refuse(scope: Scope, message: str) -> Response:
        path = scope["path"]
        if not for_citizens(path):
            return json_refusal(scope, message)
        detail = PHOTO_TOO_LARGE.format(mb=photo_mb) if path == PHOTO_PATH else TOO_LARGE
        return JSONResponse({"detail": detail}, 413)

    return refuse


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
