"""Conformance with Open311 GeoReport v2, written from the spec's text (wiki.open311.org/GeoReport_v2
and /Service_Discovery), each test named after the section it checks and driving XML and JSON alike.

The spec's statements checked here, in its words where short:
- Format Support: "XML is a required format"; the format is chosen by appending it to the resource;
  XML is `text/xml; charset=utf-8`, JSON `application/json; charset=utf-8`.
- Encoding: "UTF-8 is required everywhere"; the root element is preceded by the XML declaration
  with encoding="UTF-8".
- JSON Support: the JSON is the XML mapped by the Spark convention (a container of one kind of
  child is an array, even with one child).
- Date/time format: W3C, time zone "must be included".
- Definitions, jurisdiction_id: may be treated as optional when one jurisdiction is served.
- Definitions, Optional Arguments: an empty parameter is treated as one not passed.
- Service Discovery: /discovery.xml and /discovery.json, every field required.
- POST Service Request: service_code, a "full location parameter" (lat & long, address_string or
  address_id), attribute[code] (multivaluelist as attribute[code][]), description up to 4,000
  characters; the answer carries service_request_id (and no token), service_notice, account_id.
- GET Service Requests: service_request_id (comma-delimited) "overrides all other arguments";
  service_code and status comma-delimited; start_date and end_date may not span more than 90 days;
  "When not specified, the range defaults to most recent 90 days"; at most 1000 requests.
- Errors: an `errors` list of `error` (code, description); 404 for resources that don't exist, 403
  for a wrong or missing api_key, 400 for any other request that cannot be fulfilled.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from backend.cases.models import Case
from backend.cases.ratings import rate_case
from backend.cases.schemas.ratings import RatingIn
from backend.cases.states import CaseStatus, Move
from backend.cases.transitions import transition
from backend.open311.formats import Format, render
from backend.open311.service import issue_key
from backend.staff.principal import SYSTEM
from common.limits import RateLimiter
from tests.backend.factories import make_case

BASE = "/open311/v2"
FORMATS = ["xml", "json"]
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
JURISDICTION = "beijing.gov.cn"
CONTAINERS = {"services", "service_requests", "attributes", "values", "errors", "endpoints", "formats"}
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
ATTRIBUTE_FIELDS = {"variable", "code", "datatype", "required", "datatype_description", "order"}
DATATYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}


@pytest.fixture(autouse=True)
def unlimited(client: TestClient) -> None:
    """These tests read every service; the public rate limit is tested in test_open311.py."""
    client.app.state.open311_limiter = RateLimiter(limit=100_000)  # type: ignore[attr-defined]


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes
    data: Any  # the JSON, or the XML mapped to JSON by the Spark convention


def spark(element: ET.Element) -> Any:
    """The Spark convention: a container of one kind of child is an array; other elements with
    children are objects; an element without children is its text (or null when empty)."""
    children = list(element)
    if not children:
        return element.text or None
    tags = {child.tag for child in children}
    if len(tags) == 1 and element.tag in CONTAINERS:
        return [spark(child) for child in children]
    return {child.tag: spark(child) for child in children}


def read(answer: Any) -> Answer:
    content_type = answer.headers["content-type"]
    if content_type.startswith("text/xml"):
        assert answer.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
        data = spark(ET.fromstring(answer.content))  # noqa: S314 - our own answer
    else:
        data = answer.json()
    return Answer(answer.status_code, content_type, answer.content, data)


def call(client: TestClient, method: str, path: str, fmt: str, **kwargs: Any) -> Answer:
    return read(client.request(method, f"{path}.{fmt}", **kwargs))


def as_text(value: Any) -> Any:
    """A JSON value as the XML carries it: scalars as text, empty strings and lists as null."""
    if isinstance(value, list):
        return [as_text(v) for v in value] or None
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or value == "":
        return None
    return str(value)


def same_in_both(client: TestClient, method: str, path: str, **kwargs: Any) -> Any:
    """Call a method in both formats; check each format's headers and that both say the same."""
    xml, json = (call(client, method, path, fmt, **kwargs) for fmt in FORMATS)
    assert xml.content_type == "text/xml; charset=utf-8"
    assert json.content_type == "application/json; charset=utf-8"
    assert xml.status == json.status
    assert xml.data == as_text(json.data)
    return json.data


def api_key(session: Session) -> str:
    key = issue_key(session=session, name="conformance client", principal=SYSTEM)[1]
    session.commit()
    return key


def location_free_form(key: str, **extra: str) -> dict[str, str]:
    return {"api_key": key, "service_code": "street_lights", "description": "路口那盏路灯一直不亮", **extra}


def post(client: TestClient, fmt: str, data: dict[str, str]) -> Answer:
    return call(client, "POST", f"{BASE}/requests", fmt, data=data)


# --- Format Support, Encoding, JSON Support ---------------------------------------------------------


def test_format_support_every_method_answers_in_xml_and_json_alike(
    client: TestClient, session: Session
) -> None:
    """Format Support and JSON Support: each of the spec's methods in both formats, the JSON being
    the Spark mapping of the XML; Encoding: UTF-8 with the XML declaration."""
    case = make_case(session, category_code="heating_not_warm")
    key = api_key(session)
    services = same_in_both(client, "GET", f"{BASE}/services")
    assert any(s["service_name"] == "供暖不热" for s in services)
    definition = same_in_both(client, "GET", f"{BASE}/services/heating_not_warm")
    assert definition["service_code"] == "heating_not_warm"
    listed = same_in_both(client, "GET", f"{BASE}/requests")
    assert [r["service_request_id"] for r in listed] == [case.number]
    one = same_in_both(client, "GET", f"{BASE}/requests/{case.number}")
    assert one == listed
    assert same_in_both(client, "GET", "/open311/discovery")["endpoints"][0]["url"].endswith(BASE)
    missing = same_in_both(client, "GET", f"{BASE}/requests/2020010100001")
    assert missing == [{"code": 404, "description": "no service request 2020010100001"}]
    for fmt in FORMATS:
        created = post(client, fmt, location_free_form(key, address_string="望京西园三区"))
        assert created.status == 200
        [request] = created.data
        assert set(request) == {"service_request_id", "service_notice", "account_id"}  # no token: realtime


def test_encoding_text_received_is_read_as_utf8(client: TestClient, session: Session) -> None:
    """Encoding: "All text received by the service from the client will be assumed to be UTF-8"."""
    form = location_free_form(api_key(session), address_string="朝阳区望京西园", description="路灯不亮一周了")
    body = urlencode(form).encode("ascii")  # percent-encoded UTF-8, as the spec's example request
    answer = client.post(
        f"{BASE}/requests.xml",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    [created] = read(answer).data
    case = session.scalar(select(Case).where(Case.number == created["service_request_id"]))
    assert case is not None and (case.description, case.address) == ("路灯不亮一周了", "朝阳区望京西园")


@pytest.mark.parametrize("fmt", FORMATS)
def test_date_time_format_every_datetime_is_w3c_with_its_time_zone(
    client: TestClient, session: Session, fmt: str
) -> None:
    """Date/time format: a subset of ISO 8601 per the W3C note; the time zone must be included."""
    case = make_case(session)
    [request] = call(client, "GET", f"{BASE}/requests/{case.number}", fmt).data
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C.match(request[field]), (field, request[field])


# --- Service Discovery ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_discovery_in_both_formats_with_every_field(client: TestClient, fmt: str) -> None:
    """Service Discovery: "Format must be both: xml, json"; "All fields are required"; the url ends
    in /discovery.<format>; an endpoint's url is where the GeoReport v2 methods answer."""
    for path in ("/open311/discovery", f"{BASE}/discovery"):
        discovery = call(client, "GET", path, fmt)
        assert discovery.status == 200
        document = discovery.data
        assert set(document) == {"changeset", "contact", "key_service", "endpoints"}
        assert all(document[field] for field in ("changeset", "contact", "key_service"))
        [endpoint] = document["endpoints"]
        assert set(endpoint) == {"specification", "url", "changeset", "type", "formats"}
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["type"] in ("production", "test")
        assert endpoint["formats"] == ["text/xml", "application/json"]
        assert client.get(f"{endpoint['url']}/services.xml").status_code == 200


# --- Definitions: jurisdiction_id, Optional Arguments --------------------------------------------------


def test_jurisdiction_id_is_optional_and_another_is_not_found(client: TestClient, session: Session) -> None:
    """Definitions, jurisdiction_id: optional when one jurisdiction is served; GET Service List's
    Possible Errors: "404 - jurisdiction_id provided was not found"."""
    case = make_case(session)
    key = api_key(session)
    gets = [
        f"{BASE}/{path}"
        for path in ("services", "services/street_lights", "requests", f"requests/{case.number}")
    ]
    for fmt in FORMATS:
        for path in gets:
            for given in ({}, {"jurisdiction_id": JURISDICTION}, {"jurisdiction_id": ""}):
                assert call(client, "GET", path, fmt, params=given).status == 200, (path, given)
            other = call(client, "GET", path, fmt, params={"jurisdiction_id": "sfgov.org"})
            assert other.status == 404 and int(other.data[0]["code"]) == 404
        form = location_free_form(key, address_string="望京西园三区")
        assert post(client, fmt, {**form, "jurisdiction_id": JURISDICTION}).status == 200
        assert post(client, fmt, {**form, "jurisdiction_id": "sfgov.org"}).status == 404


def test_optional_arguments_empty_is_the_same_as_not_passed(client: TestClient, session: Session) -> None:
    """Definitions, Optional Arguments: "the response should be the same whether a parameter is
    passed and is empty or is not passed at all"."""
    make_case(session)
    make_case(session, category_code="heating_not_warm")
    plain = client.get(f"{BASE}/requests.json").json()
    empty = {name: "" for name in ("service_request_id", "service_code", "start_date", "end_date", "status")}
    assert client.get(f"{BASE}/requests.json", params=empty).json() == plain and len(plain) == 2


# --- GET Service List, GET Service Definition -----------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_service_list_fields(client: TestClient, fmt: str) -> None:
    """GET Service List, Response: service_code, service_name, description, metadata (true|false),
    type (realtime|batch|blackbox), keywords, group."""
    services = call(client, "GET", f"{BASE}/services", fmt).data
    assert len(services) >= 40
    for entry in services:
        assert set(entry) == SERVICE_FIELDS and entry["type"] in ("realtime", "batch", "blackbox")
        assert str(entry["metadata"]).lower() in ("true", "false")


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_service_definition_fields_and_unknown_service_code(client: TestClient, fmt: str) -> None:
    """GET Service Definition: the service_code submitted; each attribute with variable, code,
    datatype (one of six), required, datatype_description, order (positive, unique), description
    and values; Possible Errors: 404 for a service_code not found."""
    for service in call(client, "GET", f"{BASE}/services", fmt).data:
        definition = call(client, "GET", f"{BASE}/services/{service['service_code']}", fmt).data
        assert definition["service_code"] == service["service_code"]
        attributes = definition["attributes"] or []
        assert (str(service["metadata"]).lower() == "true") == bool(attributes)
        orders = [int(a["order"]) for a in attributes]
        assert len(set(orders)) == len(orders) and min(orders) >= 1
        for attribute in attributes:
            assert ATTRIBUTE_FIELDS | {"description", "values"} <= set(attribute)
            assert attribute["datatype"] in DATATYPES
    missing = call(client, "GET", f"{BASE}/services/no_such_service", fmt)
    assert missing.status == 404 and int(missing.data[0]["code"]) == 404


# --- POST Service Request ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_service_request_required_arguments(client: TestClient, session: Session, fmt: str) -> None:
    """POST Service Request, Required Arguments and Possible Errors: 400 when service_code is not
    provided, 404 when it is not found, 403 for a missing or invalid api_key (Errors)."""
    key = api_key(session)
    form = location_free_form(key, address_string="望京西园三区")
    cases = [
        ({k: v for k, v in form.items() if k != "service_code"}, 400),
        ({**form, "service_code": "no_such_service"}, 404),
        ({k: v for k, v in form.items() if k != "api_key"}, 403),
        ({**form, "api_key": "not-a-key"}, 403),
    ]
    for data, status in cases:
        answer = post(client, fmt, data)
        assert answer.status == status and int(answer.data[0]["code"]) == status, (data, answer.data)
    assert session.scalar(select(Case.id)) is None


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_service_request_needs_a_full_location_parameter(
    client: TestClient, session: Session, fmt: str
) -> None:
    """POST Service Request: "A full location parameter must be submitted": lat & long (both), or
    address_string, or address_id."""
    key = api_key(session)
    refused = [
        {},
        {"lat": "39.99"},
        {"long": "116.4"},
        {"lat": "north", "long": "116.4"},
        {"address_id": "9"},
    ]
    for given in refused:
        answer = post(client, fmt, location_free_form(key, **given))
        assert answer.status == 400 and int(answer.data[0]["code"]) == 400, given
    assert session.scalar(select(Case.id)) is None
    accepted = [
        {"lat": "39.9967", "long": "116.4706"},
        {"address_string": "望京西园"},
        {"address_id": "110105026"},
    ]
    for given in accepted:
        answer = post(client, fmt, location_free_form(key, **given))
        assert answer.status == 200, (given, answer.data)
    number = answer.data[0]["service_request_id"]  # address_id: a street or township code
    case = session.scalar(select(Case).where(Case.number == number))
    assert case is not None and (case.district_code, case.street_code) == ("110105", "110105026")


def test_post_service_request_attributes_and_description(client: TestClient, session: Session) -> None:
    """POST Service Request: attribute[code]=value by the Service Definition's datatype, several
    values as attribute[code][]; description optional, "limited to 4,000 characters"."""
    key = api_key(session)

    def heating(**extra: str) -> Any:
        data = {"api_key": key, "service_code": "heating_not_warm", "address_string": "望京西园三区", **extra}
        return client.post(f"{BASE}/requests.json", data=data)

    warm = heating(
        **{"attribute[indoor_temperature]": "16", "attribute[occurred_at]": "2026-12-01T20:00:00Z"}
    )
    case = session.scalar(select(Case).where(Case.number == warm.json()[0]["service_request_id"]))
    assert case is not None and case.attributes == {"indoor_temperature": 16.0}
    assert case.occurred_at == datetime(2026, 12, 1, 20, tzinfo=UTC)
    assert case.description == "供暖不热"  # no description: the service's name stands in
    assert heating(**{"attribute[indoor_temperature]": "warm"}).status_code == 400
    assert heating(**{"attribute[occurred_at]": "last night"}).status_code == 400
    several = client.post(
        f"{BASE}/requests.json",
        content=f"api_key={key}&service_code=heating_not_warm&address_string=x"
        "&attribute[rooms][]=bedroom&attribute[rooms][]=kitchen",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    case = session.scalar(select(Case).where(Case.number == several.json()[0]["service_request_id"]))
    assert case is not None and case.attributes == {"rooms": "bedroom,kitchen"}
    assert heating(description="暖" * 4000).status_code == 200
    assert heating(description="暖" * 4001).status_code == 400


# --- GET Service Requests, GET Service Request ----------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_service_requests_optional_arguments(client: TestClient, session: Session, fmt: str) -> None:
    """GET Service Requests, Optional Arguments: service_request_id overrides all other arguments;
    service_code and status comma-delimited; status open or closed."""
    lights = make_case(session, category_code="street_lights")
    heating = make_case(session, category_code="heating_not_warm")
    fumes = make_case(session, category_code="cooking_fumes")
    transition(session=session, case=heating, move=Move.ACKNOWLEDGE, principal=SYSTEM)
    transition(session=session, case=heating, move=Move.RESOLVE, principal=SYSTEM, reply="已修复")
    session.commit()

    def ids(**params: str) -> set[str]:
        answer = call(client, "GET", f"{BASE}/requests", fmt, params=params)
        assert answer.status == 200, answer.data
        return {r["service_request_id"] for r in answer.data or []}

    assert ids() == {lights.number, heating.number, fumes.number}
    assert ids(service_code="street_lights,heating_not_warm") == {lights.number, heating.number}
    assert ids(status="closed") == {heating.number}
    assert ids(status="open") == {lights.number, fumes.number}
    assert ids(status="open,closed") == ids()
    both = f"{lights.number},{heating.number}"
    assert ids(service_request_id=both, status="nonsense", start_date="never", service_code="none") == {
        lights.number,
        heating.number,
    }
    bad = call(client, "GET", f"{BASE}/requests", fmt, params={"status": "pending"})
    assert bad.status == 400 and int(bad.data[0]["code"]) == 400


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_service_requests_date_range(client: TestClient, session: Session, fmt: str) -> None:
    """GET Service Requests: start_date and end_date "may not span more than 90 days"; "When not
    specified, the range defaults to most recent 90 days"; a start_date alone selects the 90 days
    after it; w3c format, eg 2010-01-01T00:00:00Z."""
    now = datetime.now(UTC)
    ages = {days: make_case(session, now=now - timedelta(days=days)).number for days in (200, 150, 100, 10)}

    def ids(**params: str) -> set[str]:
        answer = call(client, "GET", f"{BASE}/requests", fmt, params=params)
        assert answer.status == 200, answer.data
        return {r["service_request_id"] for r in answer.data or []}

    def w3c(days: float) -> str:
        return (now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")

    assert ids() == {ages[10]}
    assert ids(start_date=w3c(160)) == {ages[150], ages[100]}  # the 90 days after it
    assert ids(end_date=w3c(175)) == {ages[200]}  # the 90 days before it
    assert ids(start_date=w3c(180), end_date=w3c(95)) == {ages[150], ages[100]}
    for params in (
        {"start_date": w3c(200), "end_date": w3c(10)},  # more than 90 days
        {"start_date": w3c(10), "end_date": w3c(20)},  # start after end
        {"start_date": "yesterday"},
        {"start_date": "2026-12-01T08:00:00"},  # no time zone
    ):
        answer = call(client, "GET", f"{BASE}/requests", fmt, params=params)
        assert answer.status == 400 and int(answer.data[0]["code"]) == 400, params


def test_get_service_requests_response_volume_is_at_most_1000(client: TestClient, session: Session) -> None:
    """GET Service Requests, Response Volume: "90 days or first 1000 requests returned"."""
    now = datetime.now(UTC)
    rows = [
        {
            "number": f"2099010{i:06d}",
            "appeal_type": "complaint",
            "description": "路灯不亮",
            "channel": "open311",
            "status": CaseStatus.ACCEPTED,
            "time_limit": "general",
            "accepted_at": now - timedelta(minutes=i),
            "due_at": now + timedelta(days=7),
            "updated_at": now,
        }
        for i in range(1001)
    ]
    session.execute(insert(Case), rows)
    session.commit()
    for fmt in FORMATS:
        assert len(call(client, "GET", f"{BASE}/requests", fmt).data) == 1000


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_service_request_closed_request_is_updated_when_it_closed(
    client: TestClient, session: Session, fmt: str
) -> None:
    """GET Service Request: a list of one; "For requests with status=closed, [updated_datetime]
    will be the date the request was closed" (a rating afterwards does not move it)."""
    case = make_case(session, category_code="street_lights")
    resolved_at = datetime.now(UTC) - timedelta(hours=5)
    transition(session=session, case=case, move=Move.ACKNOWLEDGE, principal=SYSTEM, now=resolved_at)
    transition(session=session, case=case, move=Move.RESOLVE, principal=SYSTEM, reply="已修", now=resolved_at)
    session.commit()
    rating = RatingIn(resolved=True, satisfaction="satisfied", channel_identity=case.channel_identity)
    rate_case(session=session, case=case, rating_in=rating, principal=SYSTEM)
    session.commit()
    [request] = call(client, "GET", f"{BASE}/requests/{case.number}", fmt).data
    assert request["status"] == "closed"
    assert datetime.fromisoformat(request["updated_datetime"]) == resolved_at.replace(microsecond=0)


# --- Errors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_errors_list_and_status_codes(client: TestClient, fmt: str) -> None:
    """Errors: an `errors` list of `error` with code and description; "HTTP error codes should always
    be 404 for resources that don't exist ... basically 400 for any other error"."""
    for path, status in ((f"{BASE}/no_such_resource", 404), (f"{BASE}/requests/2020010100001", 404)):
        answer = call(client, "GET", path, fmt)
        assert answer.status == status
        [error] = answer.data
        assert set(error) == {"code", "description"} and int(error["code"]) == status and error["description"]
    unsupported = client.get(f"{BASE}/services.csv")
    assert unsupported.status_code == 400 and unsupported.headers["content-type"].startswith("text/xml")
    assert spark(ET.fromstring(unsupported.content))[0]["code"] == "400"  # noqa: S314 - our own answer


# --- XML Support: hostile text ------------------------------------------------------------------------


HOSTILE = "路灯坏了</description><status>closed</status>&amp;<![CDATA[x]]>\x01\x07\x0b\x1b\ufffe\uffff还没修"


@pytest.mark.parametrize("fmt", FORMATS)
def test_xml_support_hostile_text_cannot_break_the_document(
    client: TestClient, session: Session, fmt: str
) -> None:
    """XML Support: markup in a citizen's words stays text, and characters XML cannot carry are dropped
    (in both formats, so they say the same)."""
    case = make_case(session, description=HOSTILE)
    transition(session=session, case=case, move=Move.ACKNOWLEDGE, principal=SYSTEM)
    reply = "</status_notes>\x02已修"
    transition(session=session, case=case, move=Move.RESOLVE, principal=SYSTEM, reply=reply)
    session.commit()
    [request] = call(client, "GET", f"{BASE}/requests/{case.number}", fmt).data
    assert request["description"] == "路灯坏了</description><status>closed</status>&amp;<![CDATA[x]]>还没修"
    assert request["status"] == "closed" and request["status_notes"] == "</status_notes>已修"


def test_xml_support_renders_any_string_as_well_formed_xml() -> None:
    """XML Support: whatever a string holds (NUL, lone surrogates, markup), the document parses."""
    text = "a\x00b\ud800c</x>&<y/>\U0001f600\x7f"
    answer = render([{"description": text}], root="service_requests", fmt=Format.XML)
    [request] = spark(ET.fromstring(answer.body))  # noqa: S314 - our own answer
    assert request["description"] == "abc</x>&<y/>\U0001f600\x7f"
