"""Open311 GeoReport v2: services, definitions, form-encoded requests, filters, errors, no personal data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.cases.states import Move
from backend.cases.transitions import transition
from backend.open311.service import issue_key
from backend.reference.categories import categories
from backend.staff.principal import SYSTEM
from common.limits import RateLimiter
from tests.backend.conftest import Staffer
from tests.backend.factories import make_case

BASE = "/open311/v2"


def api_key(session: Session) -> str:
    key = issue_key(session=session, name="test client", principal=SYSTEM)[1]
    session.commit()
    return key


def test_services_are_the_categories_with_group_and_keywords(client: TestClient) -> None:
    services = client.get(f"{BASE}/services.json").json()
    assert len(services) == len(categories()) >= 40
    heating = next(s for s in services if s["service_code"] == "heating_not_warm")
    assert heating == {
        "service_code": "heating_not_warm",
        "service_name": "供暖不热",
        "description": "供暖燃气电力：供暖不热（24小时内办理）",
        "metadata": True,
        "type": "realtime",
        "keywords": "暖气,不热,温度低",
        "group": "供暖燃气电力",
    }
    definition = client.get(f"{BASE}/services/heating_not_warm.json").json()
    codes = [a["code"] for a in definition["attributes"]]  # description and place are the spec's own fields
    assert codes == ["occurred_at", "indoor_temperature"]
    assert [a["order"] for a in definition["attributes"]] == [1, 2]
    assert client.get(f"{BASE}/services/nope.json").json() == [
        {"code": 404, "description": "no service_code nope"}
    ]


def test_posting_a_request_needs_an_api_key_and_creates_a_case(
    client: TestClient, session: Session, operator: Staffer
) -> None:
    form = {
        "service_code": "street_lights",
        "description": "小区门口路灯坏了一个多月",
        "phone": "13800138000",
        "first_name": "三",
        "last_name": "张",
        "lat": "39.9967",
        "long": "116.4706",
        "address_string": "朝阳区望京街道望京西园",
        "attribute[pole]": "12",
    }
    refused = client.post(f"{BASE}/requests.json", data=form)
    assert refused.status_code == 403 and refused.json()[0]["code"] == 403
    created = client.post(f"{BASE}/requests.json", data={**form, "api_key": api_key(session)})
    assert created.status_code == 200
    number = created.json()[0]["service_request_id"]
    case = client.get(f"/api/v1/cases/{number}", headers=operator.headers).json()
    assert case["channel"] == "open311" and case["contact_name"] == "张 三"
    assert case["category_code"] == "street_lights" and case["attributes"] == {"pole": "12"}
    bad = client.post(f"{BASE}/requests.json", data={**form, "api_key": api_key(session), "phone": "12"})
    assert bad.status_code == 400
    assert "contact_phone" in bad.json()[0]["description"]
    unknown = client.post(f"{BASE}/requests.json", data={**form, "service_code": "nope"})
    assert unknown.status_code == 404


def test_requests_show_status_notes_agency_and_times(client: TestClient, session: Session) -> None:
    case = make_case(session, category_code="heating_not_warm")
    transition(session=session, case=case, move=Move.ACKNOWLEDGE, principal=SYSTEM)
    transition(
        session=session, case=case, move=Move.RESOLVE, principal=SYSTEM, reply="已排气，室温恢复到20度"
    )
    session.commit()
    [request] = client.get(f"{BASE}/requests/{case.number}.json").json()
    assert request["status"] == "closed" and request["status_notes"] == "已排气，室温恢复到20度"
    assert request["agency_responsible"] == "北京市热力集团及供热单位"
    assert request["expected_datetime"].endswith("+08:00") and request["service_name"] == "供暖不热"
    assert request["address"] == "朝阳区望京街道望京西园三区"  # street, then the citizen's landmark
    missing = client.get(f"{BASE}/requests/2020010100001.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404


def test_request_filters(client: TestClient, session: Session) -> None:
    now = datetime.now(UTC)
    old = make_case(session, category_code="street_lights", now=now - timedelta(days=120))
    lights = make_case(session, category_code="street_lights")
    heating = make_case(session, category_code="heating_not_warm")
    transition(session=session, case=heating, move=Move.ACKNOWLEDGE, principal=SYSTEM)
    transition(session=session, case=heating, move=Move.RESOLVE, principal=SYSTEM, reply="已修复")
    session.commit()

    def ids(**params: str) -> set[str]:
        return {r["service_request_id"] for r in client.get(f"{BASE}/requests.json", params=params).json()}

    assert ids() == {lights.number, heating.number}  # the last 90 days by default
    assert ids(service_code="street_lights") == {lights.number}
    assert ids(status="closed") == {heating.number} and ids(status="open") == {lights.number}
    assert ids(service_request_id=f"{old.number},{heating.number}") == {old.number, heating.number}
    start = (now - timedelta(days=150)).isoformat()
    end = (now - timedelta(days=70)).isoformat()
    assert ids(start_date=start, end_date=end) == {old.number}
    bad = client.get(f"{BASE}/requests.json", params={"status": "pending"})
    assert bad.status_code == 400 and bad.json()[0]["code"] == 400
    assert client.get(f"{BASE}/requests.json", params={"start_date": "yesterday"}).json()[0]["code"] == 400


def test_public_output_never_shows_personal_data(client: TestClient, session: Session) -> None:
    case = make_case(
        session,
        contact_name="王小明",
        contact_phone="13912345678",
        description="我是王小明，电话13912345678，身份证110105199001011234，楼下施工太吵",
        latitude=39.99671,
        longitude=116.47061,
        address="望京西园三区12号楼3单元501",
    )
    report = make_case(
        session,
        appeal_type="report",
        confidential=True,
        contact_name="李四",
        description="举报某小区业主私自加盖，我是隔壁单元的李四",
        address="望京西园四区8号楼",
    )
    everything = json.dumps(client.get(f"{BASE}/requests.json").json(), ensure_ascii=False)
    for secret in ("王小明", "13912345678", "110105199001011234", "李四", "3单元501", "39.99671", "隔壁单元"):
        assert secret not in everything, secret
    [public] = client.get(f"{BASE}/requests/{case.number}.json").json()
    assert "139****5678" in public["description"] and "王**" in public["description"]
    assert (public["lat"], public["long"]) == (40.0, 116.47)
    assert public["address"] == "朝阳区望京街道望京西园三区"
    [withheld] = client.get(f"{BASE}/requests/{report.number}.json").json()
    assert withheld["description"] == "（举报内容不公开）" and withheld["address"] == "朝阳区望京街道"


SPELLINGS = {
    "一三九八七六五四三二一": "139****4321",
    "１３８ ００１３ ８０００": "138****8000",
    "186-1234-0000": "186****0000",
    "幺五九洞洞幺两三四五六": "159****3456",
    "010-62345678": "010-****5678",
}


def test_descriptions_and_places_mask_every_spelling_of_personal_data(
    client: TestClient, session: Session
) -> None:
    phones = "，".join(SPELLINGS)
    case = make_case(
        session,
        contact_name="欧阳晓明",
        contact_phone="13987654321",
        description=f"我叫欧阳晓明，住5号楼2单元301室，楼上3栋2门401天天装修，打{phones}都行，找物业张建国经理也没用",
        address="朝阳区望京西园三区5号楼2单元301室",
    )
    transition(session=session, case=case, move=Move.ACKNOWLEDGE, principal=SYSTEM)
    transition(
        session=session,
        case=case,
        move=Move.RESOLVE,
        principal=SYSTEM,
        reply="已联系欧阳晓明（１３９８７６５４３２１）和3栋2门401住户，约定晚八点后停工",
    )
    session.commit()
    [public] = client.get(f"{BASE}/requests/{case.number}.json").json()
    listed = client.get(f"{BASE}/requests.json").json()
    assert public in listed
    text = json.dumps(public, ensure_ascii=False)
    secrets = [*SPELLINGS, "１３９８７６５４３２１", "晓明", "建国", "5号楼", "2单元", "301", "3栋2门", "401"]
    for secret in secrets:
        assert secret not in text, secret
    assert all(masked in public["description"] for masked in SPELLINGS.values())
    assert "欧阳**" in public["description"] and "*号楼*单元*室" in public["description"]
    assert public["status_notes"] == "已联系欧阳**（139****4321）和*栋*门*住户，约定晚八点后停工"
    assert public["address"] == "朝阳区望京街道望京西园三区"  # the road or landmark, never the building


def test_public_reads_are_rate_limited_per_client(
    client: TestClient, session: Session, service_headers: dict[str, str]
) -> None:
    case = make_case(session)
    client.app.state.open311_limiter = RateLimiter(limit=3)  # type: ignore[attr-defined]
    for path in ("/services.json", "/requests.json", f"/requests/{case.number}.json"):
        assert client.get(f"{BASE}{path}").status_code == 200
    refused = client.get(f"{BASE}/requests/{case.number}.json")
    assert refused.status_code == 429
    assert refused.json() == [{"code": 429, "description": "too many requests: please slow down"}]
    assert client.get(f"{BASE}/requests.json", headers=service_headers).status_code == 200
