"""GET /api/v1/knowledge: the common questions, searchable; public and rate-limited per client."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from backend.errors import BadInput
from backend.knowledge.service import knowledge_base
from backend.limits import Limited
from backend.routing.text import has_words

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"])
NOTE = "以上信息仅供参考，具体以主管部门最新公布为准。如需反映具体问题，直接描述给我，我帮您提交工单。"


@router.get("/search")
def search(
    _: Limited,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    limit: Annotated[int, Query(ge=1, le=10)] = 3,
) -> dict[str, Any]:
    """The closest entries to a question; `answered` says whether the first one answers it.

    An entry answers only a question about its subject. When none does, `subject` says in a few words what
    the question is about, so the assistant can offer to file it as a consultation (咨询).
    """
    if not has_words(q):
        raise BadInput("q has no words")
    found = knowledge_base().consult(q, limit=limit)
    return {
        "answered": found.answer is not None,
        "subject": found.subject,
        "note": NOTE,
        "hits": [
            {
                "id": h.entry.id,
                "topic": h.entry.topic,
                "question": h.question,
                "answer": h.entry.answer,
                "department_code": h.entry.department_code,
                "score": round(h.score, 3),
            }
            for h in found.hits
        ],
    }


@router.get("")
def entries() -> list[dict[str, Any]]:
    return [
        {
            "id": e.id,
            "topic": e.topic,
            "department_code": e.department_code,
            "questions": list(e.questions),
            "answer": e.answer,
        }
        for e in knowledge_base().entries
    ]
