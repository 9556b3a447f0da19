"""The operators' common replies (常用语), served to every console by GET /console/api/replies.

A constant rather than a table: the list is short, the same for every operator, and reviewed like the
bot's own responses, so a change is a commit and a deploy (README, "The operators' console").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class CannedReply:
    key: str  # typed after "/" in the reply box to find it, with any part of its title
    title: str
    text: str

    def public(self) -> dict[str, Any]:
        return asdict(self)


CANNED_REPLIES: tuple[CannedReply, ...] = (
    CannedReply("hello", "问候", "您好，我是12345人工客服，请问有什么可以帮您？"),
    CannedReply("recorded", "已记录", "您反映的问题已记录，我们会尽快转交相关单位办理。"),
    CannedReply("address", "问地址", "请提供具体地址（区、街道、小区、楼号）。"),
    CannedReply("phone", "问电话", "请留一个联系电话，方便承办单位与您联系；您也可以选择不留。"),
    CannedReply("time", "问时间", "请问这个情况是从什么时候开始的？持续多久了？"),
    CannedReply("photo", "要照片", "如方便，请拍一张现场照片发给我们，便于核实情况。"),
    CannedReply("wait", "请稍候", "正在为您查询，请稍候。"),
    CannedReply("deadline", "办理时限", "一般事项承办单位会在7个工作日内答复您，水电气热等事项在24小时内。"),
    CannedReply("progress", "查进度", "您可以随时发送工单号查询办理进度，办结后我们会回访您。"),
    CannedReply("emergency", "紧急情况", "如遇紧急情况，请立即拨打110、119或120。"),
    CannedReply("thanks", "致谢", "感谢您对城市管理工作的支持和监督。"),
    CannedReply("bye", "结束语", "请问还有其他可以帮您的吗？如没有，本次服务即将结束，祝您生活愉快。"),
)
