"""Smart dispatch: places, emergencies, the public endpoint, the command line, use at acceptance."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.reference.categories import OTHER, categories
from backend.routing.emergency import detect_emergency
from backend.routing.places import place_finder
from backend.routing.service import Classifier
from backend.settings import BackendSettings
from ops.stack import ROOT
from tests.backend.conftest import Staffer


@pytest.mark.parametrize(
    ("text", "district", "street"),
    [
        ("朝阳区望京西园三区楼下饭馆油烟太大", "朝阳区", "望京街道"),
        ("望京街道朝阳区花家地北里", "朝阳区", "望京街道"),  # street first
        ("我家在海淀那边中关村南大街", "海淀区", "中关村街道"),  # no suffixes
        ("回龙观龙泽苑东区门口", "昌平区", "回龙观街道"),
        ("天通苑北二区", "昌平区", "天通苑北街道"),
        ("亦庄这边荣京东街", "大兴区", "亦庄地区"),
        ("门头沟大峪那块儿", "门头沟区", "大峪街道"),
        ("房山区良乡西路", "房山区", "良乡地区"),
        ("朝阳区八里庄", "朝阳区", "八里庄街道"),  # 八里庄 is in two districts: the district decides
        ("八里庄这边", None, None),  # ... and without it nothing is certain
        ("天桥下面有人摆摊", None, None),  # 天桥 is also a footbridge
        ("西城天桥街道", "西城区", "天桥街道"),
        ("幸福小区3号楼", None, None),
    ],
)
def test_places_are_found_with_or_without_suffixes(
    text: str, district: str | None, street: str | None
) -> None:
    place = place_finder().find(text)
    assert (place.district.name if place.district else None) == district
    assert (place.street.name if place.street else None) == street


def test_the_address_field_wins_over_the_message() -> None:
    place = place_finder().find("通州区梨园镇", "我上周去朝阳看朋友的时候路过")
    assert place.street and place.street.name == "梨园镇"
    assert place_finder().find(None, "通州梨园镇云景里").street.name == "梨园镇"  # type: ignore[union-attr]


def test_finding_places_keeps_no_citizens_words_in_memory() -> None:
    """spaCy adds every new word to its vocabulary for good: a citizen's name, phone and door number
    would stay in the backend's memory, and the memory would grow with every case (the soak's leak)."""
    finder = place_finder()
    finder.find("朝阳区双井街道")
    strings = len(finder.nlp.vocab.strings)
    for n in range(300):
        place = finder.find(
            f"朝阳区双井街道富力城{n}号楼 联系人慕容{chr(0x4E00 + n)}{chr(0x5000 + n)} 电话1390000{n:04d}"
        )
        assert place.street and place.street.name == "双井街道"
    assert len(finder.nlp.vocab.strings) == strings
    assert "13900000299" not in finder.nlp.vocab.strings


def test_places_are_found_by_many_threads_at_once() -> None:
    """The backend's sync endpoints run in a thread pool: two memory zones at once broke spaCy's
    vocabulary (an AssertionError in Vocab.get, 9,058 failed routings in a soak)."""
    finder = place_finder()

    def find(n: int) -> str | None:
        place = finder.find(f"海淀区学院路街道{n}号院 孙{chr(0x4E00 + n)}反映 电话1370000{n:04d}")
        return place.street.name if place.street else None

    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(find, range(400)))
    assert found == ["学院路街道"] * 400


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("楼道里一股煤气味 很浓 怎么办", "gas"),
        ("煤气好大味道 是不是漏了", "gas"),  # words between the gas and the smell
        ("对面楼着火了冒黑烟", "fire"),
        ("我真的不想活了", "suicide"),
        ("有人被困在电梯里半小时了", "danger"),
        ("楼下有人拿着刀吵架", "crime"),
        ("老人在小区门口晕倒了", "medical"),
        ("暖气不热", None),
        ("电梯又坏了", None),
        ("燃气费怎么这么贵", None),
        ("燃气公司的人上门服务态度不好", None),
    ],
)
def test_emergencies_are_detected(text: str, kind: str | None) -> None:
    found = detect_emergency(text)
    assert (found.kind if found else None) == kind


@pytest.mark.parametrize(
    ("text", "department"),
    [
        ("我们楼这礼拜暖气就没热过，屋里穿着羽绒服还冷", "heating"),
        ("工地晚上十二点了还在打桩 吵死了 这让人怎么睡", "housing"),
        ("单位拖了三个月工资不给 老板电话也不接", "hrss"),
        ("小区门口马路上那个井盖松了 车一过就哐当响", "transport"),
        ("家里水龙头一点水都没有 从早上停到现在也没通知", "water_supply"),
    ],
)
def test_the_endpoint_routes_realistic_messages(client: TestClient, text: str, department: str) -> None:
    answer = client.post("/api/v1/routing", json={"text": text, "address": "朝阳区望京西园三区"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["department"]["code"] == department
    assert body["district"] == {"code": "110105", "name": "朝阳区"}
    assert body["street"]["name"] == "望京街道"
    assert 0 < body["confidence"] <= 1 and len(body["alternatives"]) == 3
    assert body["department"]["code"] not in ("street_office", "district_government")
    assert body["dispatch_to"]["kind"] in ("department", "street_office", "district_government")


@pytest.mark.parametrize(
    ("text", "category", "department"),
    [
        ("楼下驿站取个快递还得交两块钱 不给钱就不让拿", "parcels_post", "transport"),
        ("家里寄来的挂号信在邮局丢了 查了半个月也查不到", "parcels_post", "transport"),
        ("快递员没送货就点了已签收 东西到现在也没见着", "parcels_post", "transport"),
        ("单元电梯的检验合格证过期好几个月了 也没见人来检 照样天天跑", "elevator_fault", "market_regulation"),
        ("电梯卡在两层中间不动了 我妈被困在里面", "elevator_entrapment", "market_regulation"),
    ],
)
def test_parcels_go_to_transport_and_elevators_to_market_regulation(
    client: TestClient, text: str, category: str, department: str
) -> None:
    """The post belongs to the transport system; elevators are special equipment (特种设备) that market
    regulation inspects in Beijing, so the real board files both where the old categories did not."""
    body = client.post("/api/v1/routing", json={"text": text}).json()
    assert (body["category"]["code"], body["department"]["code"]) == (category, department)


def test_community_matters_go_to_the_street_office_and_emergencies_are_urgent(client: TestClient) -> None:
    body = client.post(
        "/api/v1/routing", json={"text": "楼道里一股煤气味很浓，是不是漏气了", "address": "海淀区中关村街道"}
    ).json()
    assert body["urgency"] == "emergency" and body["response_hours"] == 2
    assert body["emergency"]["kind"] == "gas" and "96777" in body["emergency"]["call"]


def test_bad_routing_input_gets_a_clear_answer(client: TestClient) -> None:
    for text, status in (("", 422), ("   \n ", 422), ("😀😀🔥", 422), ("啊" * 1001, 422)):
        answer = client.post("/api/v1/routing", json={"text": text})
        assert answer.status_code == status, text[:10]
        assert answer.json()["detail"]
    assert client.post("/api/v1/routing", json={"txt": "暖气不热"}).status_code == 422
    english = client.post("/api/v1/routing", json={"text": "my radiator is cold, please help"}).json()
    assert english["confidence"] < 0.3


def test_routing_never_echoes_personal_data(client: TestClient) -> None:
    body = client.post("/api/v1/routing", json={"text": "我叫王小明电话13912345678 楼下烧烤油烟太大"}).json()
    assert "13912345678" not in json.dumps(body) and "王小明" not in json.dumps(body, ensure_ascii=False)


def test_routing_is_rate_limited_per_client(client: TestClient) -> None:
    from common.limits import RateLimiter

    client.app.state.routing_limiter = RateLimiter(limit=3)  # type: ignore[attr-defined]
    codes = [client.post("/api/v1/routing", json={"text": "暖气不热"}).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]


def test_the_backend_routes_a_case_that_arrives_without_category_or_place(
    client: TestClient, session: Session, service_headers: dict[str, str], operator: Staffer
) -> None:
    body = {
        "description": "我们小区这礼拜暖气就没热过 屋里才十四度",
        "address": "海淀区中关村南大街5号院",
        "contact_phone": "13800138000",
        "channel": "webchat",
    }
    case = client.post("/api/v1/cases", json=body, headers=service_headers).json()["case"]
    assert case["category_code"] == "heating_not_warm" and case["routing_confidence"] > 0.3
    assert (case["district"], case["street"]) == ("海淀区", "中关村街道")
    assert case["lead_unit"]["key"] == "heating" and case["time_limit"] == "utility"
    urgent = client.post(
        "/api/v1/cases",
        json={**body, "description": "楼道里煤气味很浓 像是漏气了", "category_code": "gas_service"},
        headers=service_headers,
    )
    assert urgent.json()["case"]["category_code"] == "gas_service"  # the citizen's choice stands
    assert urgent.json()["case"]["time_limit"] == "emergency"  # but the danger in the words counts


def test_the_command_line_reads_json_lines_and_answers_each() -> None:
    lines = "\n".join(
        [
            json.dumps(
                {"text": "小区垃圾三天没人收了，臭得不行", "address": "通州区梨园镇"}, ensure_ascii=False
            ),
            "this is not json",
            json.dumps({"text": ""}),
            json.dumps({"txt": "暖气"}),
            json.dumps({"text": "路灯不亮"}, ensure_ascii=False),
        ]
    )
    run = subprocess.run(
        [sys.executable, "-m", "backend.routing", "classify"],
        input=lines,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    answers = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(answers) == 5
    assert answers[0]["street"]["name"] == "梨园镇" and answers[0]["department"]["code"] == "city_management"
    assert [("error" in a) for a in answers] == [False, True, True, True, False]


def test_our_own_services_are_not_rate_limited(client: TestClient, service_headers: dict[str, str]) -> None:
    from common.limits import RateLimiter

    client.app.state.routing_limiter = RateLimiter(limit=1)  # type: ignore[attr-defined]
    codes = [
        client.post("/api/v1/routing", json={"text": "暖气不热"}, headers=service_headers).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 200]


def test_the_classifier_is_loaded_at_start_up_not_by_the_first_case(settings: BackendSettings) -> None:
    app = create_app(settings)
    assert app.state.routing._classifier is None
    with TestClient(app):  # runs the start-up before the first request is served
        assert app.state.routing._classifier is not None


def test_a_department_with_many_categories_does_not_win_by_their_number() -> None:
    """Unsure between housing's six categories (0.42 in all) and one school category at 0.40, the
    message is about the school: a plain sum would give it to housing."""
    cats = categories()
    classes = sorted(cats)
    model = SimpleNamespace(classes=classes)
    classifier = Classifier(model, place_finder())  # type: ignore[arg-type]
    row = np.zeros(len(classes))
    housing = [at for at, code in enumerate(classes) if cats[code].department_code == "housing"]
    assert len(housing) >= 6
    row[housing] = 0.42 / len(housing)
    row[classes.index("school_management")] = 0.40
    row[classes.index(OTHER)] = 1.0 - row.sum()
    department, confidence = classifier._department(classes, row)
    assert department == "education"
    assert confidence == pytest.approx(0.40 / 0.82)  # its share of the departments' mass
    row[classes.index("school_management")] = 0.10  # clearly housing still goes to housing
    assert classifier._department(classes, row)[0] == "housing"
