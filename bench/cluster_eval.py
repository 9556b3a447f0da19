"""How the text rule of the appeal clusters (主动治理) tells repeated reports of one problem from
other appeals. 34 reports of 10 problems, each problem written several times as different citizens
would (bench/data/cluster_repeats.jsonl, written for this benchmark), mixed into the routing evaluation
set's 742 messages (one window's city-wide mix); all vectorised together as `backend.stats.clusters`
does. For each threshold of the TF-IDF cosine: the share of same-problem pairs linked (recall), the
links between a report and anything that is not its problem (false links), and the links between
evaluation messages of different categories. Saves bench/results/clusters.json.

    .venv/bin/python -m bench.cluster_eval
"""

from __future__ import annotations

import json
import platform
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from backend.routing.model import CORPUS
from backend.stats.clusters import similar_groups, text_vectors

ROOT = Path(__file__).resolve().parent.parent
REPEATS = ROOT / "bench" / "data" / "cluster_repeats.jsonl"
THRESHOLDS = (0.06, 0.08, 0.1, 0.12, 0.15, 0.2)
STREET_BACKGROUND = 40  # other appeals of the same street and window beside each problem's reports


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def streets(vectors: Any, problem: Any, n: int, threshold: float) -> dict[str, int]:
    """Each problem's reports in a street of their own with STREET_BACKGROUND other appeals (the
    same ones for every street, no category given, so only the text rule links): problems found whole
    (all their reports in one cluster of 3 or more), and clusters mixing reports with other appeals."""
    background = list(range(n, n + STREET_BACKGROUND))
    whole = impure = 0
    for name in sorted(set(problem[:n])):
        reports = [i for i in range(n) if problem[i] == name]
        rows = reports + background
        groups = similar_groups([None] * len(rows), vectors[rows], min_similarity=threshold)
        clusters = [[rows[i] for i in g] for g in groups if len(g) >= 3]
        whole += any(set(reports) <= set(c) for c in clusters)
        impure += sum(any(i >= n for i in c) and any(i < n for i in c) for c in clusters)
    return {"problems_found_whole": whole, "clusters_mixed_with_other_appeals": impure}


def main() -> None:
    repeats, background = read(REPEATS), read(CORPUS / "eval" / "eval.jsonl")
    texts = [r["text"] for r in repeats] + [b["text"] for b in background]
    started = time.perf_counter()
    vectors, _ = text_vectors(texts)
    similarity = (vectors @ vectors.T).toarray()
    seconds = time.perf_counter() - started
    n = len(repeats)
    problem = np.array(
        [r["problem"] for r in repeats] + [f"\0{i}" for i in range(len(background))], dtype=object
    )
    category = np.array([None] * n + [b["category"] for b in background], dtype=object)
    upper = np.triu(np.ones_like(similarity, dtype=bool), k=1)
    is_repeat = np.arange(len(texts)) < n
    involves_repeat = (is_repeat[:, None] | is_repeat[None, :]) & upper
    same_problem = (problem[:, None] == problem[None, :]) & upper
    both_background = (~is_repeat[:, None]) & (~is_repeat[None, :]) & upper
    other_category = both_background & (category[:, None] != category[None, :])
    rows = []
    for threshold in THRESHOLDS:
        linked = similarity >= threshold
        rows.append(
            {
                "threshold": threshold,
                "same_problem_recall": round(int((linked & same_problem).sum()) / int(same_problem.sum()), 3),
                "false_links_of_reports": int((linked & involves_repeat & ~same_problem).sum()),
                "links_across_categories": int((linked & other_category).sum()),
                **streets(vectors, problem, n, threshold),
            }
        )
    result = {
        "date": date.today().isoformat(),
        "machine": platform.processor() or platform.machine(),
        "reports": n,
        "problems": len(set(problem[:n])),
        "same_problem_pairs": int(same_problem.sum()),
        "report_pairs_of_other_problems": int((involves_repeat & ~same_problem).sum()),
        "background_pairs_across_categories": int(other_category.sum()),
        "vectorise_and_compare_s": round(seconds, 2),
        "rows": rows,
    }
    print(
        f"{n} reports of {result['problems']} problems among {len(background)} other messages; "
        f"{result['same_problem_pairs']} same-problem pairs"
    )
    print("threshold  same-problem recall  false links of reports  across categories  found whole  mixed")
    for row in rows:
        print(
            f"{row['threshold']:>9}  {row['same_problem_recall']:>19}  {row['false_links_of_reports']:>22}"
            f"  {row['links_across_categories']:>17}  {row['problems_found_whole']:>11}"
            f"  {row['clusters_mixed_with_other_appeals']:>6}"
        )
    print(f"{len(texts)} messages vectorised and compared in {seconds:.2f} s")
    out = ROOT / "bench" / "results" / "clusters.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
