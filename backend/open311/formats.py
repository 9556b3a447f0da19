"""GeoReport v2's two formats: XML (required by the spec) and JSON (its Spark-convention mapping).

One structure of dicts and lists is rendered either way. In XML a list is a container element whose
children all carry one name (`services` holds `service`s); a dict is an element with one child per
key; a value is text, `true`/`false` for booleans, and an empty element for null. The XML is built
with `xml.etree`, which escapes markup; characters XML 1.0 cannot carry at all (control characters,
lone surrogates) are dropped from every text in both formats, so the two always say the same.
"""

from __future__ import annotations

import enum
import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from fastapi import Response

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# The element name of each container's items, from the spec's response tables.
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# The spec's status codes: 400 for any request that cannot be fulfilled as asked (FastAPI's 422 for
# a bad argument), 403 for a missing or invalid api_key, 404 for what does not exist.
STATUS = {422: 400, 401: 403}


class Format(enum.StrEnum):
    XML = "xml"
    JSON = "json"

    @property
    def media_type(self) -> str:
        return "text/xml; charset=utf-8" if self is Format.XML else "application/json; charset=utf-8"


def render(data: Any, *, root: str, fmt: Format, status: int = 200) -> Response:
    """The response for `data` under the root element `root`, in the format asked for."""
    data = _clean(data)
    if fmt is Format.JSON:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    else:
        body = XML_DECLARATION + ET.tostring(_element(root, data), encoding="unicode").encode("utf-8")
    return Response(body, status, media_type=fmt.media_type)


def render_error(path: str, status: int, message: str) -> Response:
    """The spec's error list (`errors` of `error` with code and description), in the path's format."""
    status = STATUS.get(status, status)
    return render(
        [{"code": status, "description": message}], root="errors", fmt=format_of(path), status=status
    )


def format_of(path: str) -> Format:
    """The format a path asks for by its suffix; XML, the spec's required format, otherwise."""
    return Format.JSON if path.endswith(".json") else Format.XML


def _element(tag: str, value: Any) -> ET.Element:
    node = ET.Element(tag)
    if isinstance(value, list):
        node.extend(_element(ITEMS[tag], item) for item in value)
    elif isinstance(value, dict):
        node.extend(_element(key, item) for key, item in value.items())
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:
        node.text = str(value)
    return node


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return NOT_XML.sub("", value)
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    return value
