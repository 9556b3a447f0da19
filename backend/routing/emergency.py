"""Emergency detection: danger to life or property right now, and the number to call at once."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Emergency:
    kind: str
    label: str
    number: str


RULES: tuple[tuple[Emergency, re.Pattern[str]], ...] = (
    (
        Emergency("suicide", "自杀风险", "010-82951332（北京心理危机干预中心，24小时）或 110"),
        re.compile(
            r"(想|要|准备|打算)(自杀|跳楼|轻生|去死|结束(自己的)?生命)|不想活了|活不下去|(有人|他|她)(要|想)跳楼|站在(楼顶|天台|楼边)"
        ),
    ),
    (
        Emergency("gas", "燃气泄漏", "96777（燃气抢修）；火情或大量泄漏请打 119"),
        re.compile(
            r"(煤气|燃气|天然气|液化气|瓦斯).{0,4}(味|泄漏|泄露|漏气|漏了)|(漏|跑)(煤)?气了|(气味|味道).{0,4}(像|是)(煤气|燃气)"
        ),
    ),
    (
        Emergency("fire", "火灾", "119"),
        re.compile(r"着火|起火|失火|火灾|冒(黑)?烟了|烧起来|火很大|(浓|黑)烟(滚滚|冒出)"),
    ),
    (
        Emergency("medical", "急症", "120"),
        re.compile(
            r"(晕倒|昏迷|昏倒|不省人事|没(有)?(了)?呼吸|心脏病(发作|犯了)|大出血|抽搐|中风了|倒地不起|叫不醒)"
        ),
    ),
    (
        Emergency("crime", "正在发生的违法犯罪", "110"),
        re.compile(
            r"(正在|现在)(打架|打人|抢劫|偷|砸|行凶)|持刀|拿(着)?刀|砍人|抢劫|入室|绑架|(有人|他)(在)?打(我|人)|家暴"
        ),
    ),
    (
        Emergency("danger", "人身财产危险", "110 / 119"),
        re.compile(
            r"(被)?困在电梯|电梯(里)?(有人)?(被)?困|(要|快)(塌|倒)了|坍塌|倒塌|电线.{0,4}(掉|断|落|冒火花)|触电|井盖(没了|丢了|被偷)|有人掉(进|下)"
        ),
    ),
    (
        Emergency("help", "紧急求助", "110（警情）/ 119（火灾、救援）/ 120（急救）"),
        re.compile(r"救命|快来人|快救救"),
    ),
)


def detect_emergency(text: str) -> Emergency | None:
    """The first emergency the text describes, in order of how urgently it needs a call."""
    for emergency, pattern in RULES:
        if pattern.search(text):
            return emergency
    return None
