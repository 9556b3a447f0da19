"""Clusters of similar appeals (主动治理, 每月一题): candidate problems for the supervisors.

Within one street and the cluster window, two cases are similar when they have the same category,
or when their descriptions are alike: the cosine of their TF-IDF vectors (characters 2-3 and jieba
words, as the knowledge base and routing read text) is at least `min_similarity`. A cluster is a
connected group of similar cases (single linkage) of at least `min_size` cases. Its label is the
words its descriptions share most. The rule and how its threshold was chosen: docs/rates.md.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.cases.models import Case
from backend.errors import Conflict, NotFound
from backend.reference.categories import categories
from backend.reference.gazetteer import gazetteer
from backend.routing.model import word_analyzer
from backend.routing.text import normalise
from backend.staff.principal import Principal
from backend.staff.service import audit
from backend.stats.models import HotspotCluster, MonthlyTopic
from common.database import utcnow
from common.masking import mask_text

MAX_CASES = 5000  # a window's cases read for clustering, newest kept
TERMS = 5


@dataclass(frozen=True)
class Found:
    street_code: str
    members: list[Case]
    terms: list[str]


def text_vectors(texts: list[str]) -> tuple[Any, list[str]]:
    """L2-normalised TF-IDF rows (characters and character pairs, and words, each block weighing
    half), and the names of the word features."""
    chars = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
    words = TfidfVectorizer(analyzer=word_analyzer, sublinear_tf=True)
    union = FeatureUnion([("chars", chars), ("words", words)])
    matrix = union.fit_transform([normalise(t) for t in texts]) / np.sqrt(2)
    return csr_matrix(matrix), list(words.get_feature_names_out())


def similar_groups(
    categories_of: list[str | None], vectors: Any, *, min_similarity: float
) -> list[list[int]]:
    """Connected groups of the rows: linked by the same category or a cosine ≥ min_similarity."""
    count = len(categories_of)
    if count == 0:
        return []
    linked = (vectors @ vectors.T).toarray() >= min_similarity
    labels = np.array([c if c is not None else f"\0{i}" for i, c in enumerate(categories_of)], dtype=object)
    linked |= labels[:, None] == labels[None, :]
    _, groups = connected_components(csr_matrix(linked), directed=False)
    members: dict[int, list[int]] = {}
    for index, group in enumerate(groups):
        members.setdefault(int(group), []).append(index)
    return list(members.values())


def find_clusters(
    *, session: Session, start: datetime, end: datetime, min_size: int, min_similarity: float
) -> list[Found]:
    """The window's clusters of similar appeals, street by street, largest first."""
    cases = session.scalars(
        select(Case)
        .where(Case.accepted_at >= start, Case.accepted_at < end, Case.street_code.is_not(None))
        .order_by(Case.accepted_at.desc())
        .limit(MAX_CASES)
    ).all()
    if len(cases) < min_size:
        return []
    vectors, vocabulary = text_vectors([c.description for c in cases])
    found: list[Found] = []
    streets: dict[str, list[int]] = {}
    for index, case in enumerate(cases):
        streets.setdefault(case.street_code or "", []).append(index)
    for street_code, rows in streets.items():
        if len(rows) < min_size:
            continue
        groups = similar_groups(
            [cases[i].category_code for i in rows], vectors[rows], min_similarity=min_similarity
        )
        for group in groups:
            if len(group) >= min_size:
                picked = [rows[i] for i in group]
                members = sorted((cases[i] for i in picked), key=lambda c: c.accepted_at)
                found.append(Found(street_code, members, _shared_terms(vectors[picked], vocabulary)))
    found.sort(key=lambda f: (-len(f.members), f.street_code))
    return found


def _shared_terms(vectors: Any, vocabulary: list[str]) -> list[str]:
    """The words with the highest summed weight over the cluster's descriptions (single words only)."""
    words = vectors[:, vectors.shape[1] - len(vocabulary) :]
    weights = np.asarray(words.sum(axis=0)).ravel()
    ranked = [vocabulary[i] for i in np.argsort(weights)[::-1] if weights[i] > 0]
    return [w for w in ranked if " " not in w and len(w) > 1][:TERMS]


def as_cluster(found: Found) -> HotspotCluster:
    counts = Counter(c.category_code for c in found.members if c.category_code)
    street = gazetteer().streets[found.street_code]
    return HotspotCluster(
        district_code=street.district.code,
        street_code=found.street_code,
        category_code=counts.most_common(1)[0][0] if counts else None,
        size=len(found.members),
        terms=found.terms,
        first_at=found.members[0].accepted_at,
        last_at=found.members[-1].accepted_at,
        cases=found.members,
    )


def cluster_out(cluster: HotspotCluster, *, with_cases: bool = True) -> dict[str, Any]:
    """A cluster with its place, label and topics; its cases with what the matter is, masked."""
    places = gazetteer()
    category = categories().get(cluster.category_code or "")
    street = places.streets[cluster.street_code]
    out: dict[str, Any] = {
        "id": cluster.id,
        "scan_id": cluster.scan_id,
        "district_code": cluster.district_code,
        "district": street.district.name,
        "street_code": cluster.street_code,
        "street": street.name,
        "category_code": cluster.category_code,
        "category_name": category.name if category else None,
        "size": cluster.size,
        "terms": cluster.terms,
        "first_at": cluster.first_at,
        "last_at": cluster.last_at,
        "topics": [topic_summary(t) for t in cluster.topics],
    }
    if with_cases:
        out["cases"] = [_case_line(c) for c in cluster.cases]
    return out


def _case_line(case: Case) -> dict[str, Any]:
    category = categories().get(case.category_code or "")
    return {
        "number": case.number,
        "accepted_at": case.accepted_at,
        "status": case.status,
        "category_name": category.name if category else None,
        "description": mask_text(case.description, names=[case.contact_name])[:120],
    }


def topic_summary(topic: MonthlyTopic) -> dict[str, Any]:
    return {
        "id": topic.id,
        "month": topic.month,
        "note": topic.note,
        "marked_by": topic.marked_by,
        "marked_at": topic.marked_at,
    }


def mark_topic(
    *, session: Session, cluster_id: int, month: str, note: str | None, principal: Principal
) -> MonthlyTopic:
    """Choose a cluster as a topic of the month (每月一题); audited."""
    cluster = session.get(HotspotCluster, cluster_id)
    if cluster is None:
        raise NotFound(f"no cluster {cluster_id}")
    if any(t.month == month for t in cluster.topics):
        raise Conflict(f"cluster {cluster_id} is a topic of {month} already")
    topic = MonthlyTopic(
        month=month, cluster=cluster, note=note, marked_by=principal.name, marked_at=utcnow()
    )
    session.add(topic)
    session.flush()
    audit(
        session=session,
        principal=principal,
        action="topic.mark",
        target=f"cluster:{cluster_id}",
        detail={"month": month, "topic": topic.id, "cases": [c.number for c in cluster.cases][:50]},
    )
    return topic


def withdraw_topic(*, session: Session, topic_id: int, principal: Principal) -> None:
    """Take a cluster off its month's topics; audited."""
    topic = session.get(MonthlyTopic, topic_id)
    if topic is None:
        raise NotFound(f"no topic {topic_id}")
    audit(
        session=session,
        principal=principal,
        action="topic.withdraw",
        target=f"cluster:{topic.cluster_id}",
        detail={"month": topic.month, "topic": topic.id},
    )
    session.delete(topic)
    session.flush()


def topics_of(*, session: Session, month: str) -> list[dict[str, Any]]:
    """The month's topics, each with its cluster and cases."""
    topics = session.scalars(
        select(MonthlyTopic).where(MonthlyTopic.month == month).order_by(MonthlyTopic.id)
    )
    return [{**topic_summary(t), "cluster": cluster_out(t.cluster)} for t in topics]
