"""Would a fast student in front of the default model keep the default model's labels?

    python benchmarks/student_cascade.py [--student commentnlp-minilm-l3] [--model commentnlp-minilm]
        [--data data/dev.jsonl+data/test.jsonl ../shared/evalsets/real_dev.jsonl] [--margins 0.25 0.5 ...]

The idea: label every comment with the student (the 3-layer model) and send only its close calls
(`Classifier.close_calls`: a label that changes when two of a head's logits move `margin` closer)
to the default model. Both run in fp32 here (`backend="exact"`), so what is measured is the
student's disagreement with the default model, not quantization. For each data file and margin it
prints the share of comments that would go to the default model and, per head, the share of final
labels identical to the default model's own. The pair is faster than the default model alone only
while that share stays under 1 - (student's cost / default's cost): about 40% for the 3-layer model,
whose `auto` path labels 1,499 comments/s against the default model's 884 (README, Speed).
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from _common import REPO

from commentnlp import Classifier
from commentnlp.data import read_labeled


def labels_and_logits(clf: Classifier, texts: list[str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Decided labels (as ``predict`` decides them) and raw logits per head."""
    logits = clf.predict_logits(texts)
    return clf.decide(clf.predict_proba(texts)), logits


def measure(model: Classifier, student: Classifier, texts: list[str], margins: list[float]) -> dict:
    """Per head, the student's agreement with ``model`` alone, then per margin the share sent on
    and the agreement of the pair."""
    kept, _ = labels_and_logits(model, texts)
    first, logits = labels_and_logits(student, texts)
    rows = []
    for margin in margins:
        close = student.close_calls(logits, margin, [None] * len(texts))  # thread position unknown
        rows.append({"margin": margin, "sent_on": float(close.mean()),
                     "same": {h: float(np.mean(close | (first[h] == kept[h]))) for h in kept}})
    return {"n": len(texts), "student_alone": {h: float(np.mean(first[h] == kept[h])) for h in kept},
            "margins": rows}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--student", default="commentnlp-minilm-l3")
    p.add_argument("--model", default="commentnlp-minilm", help="the model whose labels are to be kept")
    p.add_argument("--data", nargs="+", default=[str(REPO / "data/dev.jsonl") + "+" + str(REPO / "data/test.jsonl"),
                                                  str(REPO.parent / "shared/evalsets/real_dev.jsonl")],
                   help="labelled JSONL files; join files with '+' to count them as one set")
    p.add_argument("--margins", nargs="+", type=float, default=[0.25, 0.5, 0.75, 1.0, 1.5, 2.0])
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = p.parse_args()

    model = Classifier.load(args.model, backend="exact")
    student = Classifier.load(args.student, backend="exact")
    results = {spec: measure(model, student, [r["text"] for path in spec.split("+") for r in read_labeled(path)],
                             args.margins) for spec in args.data}
    if args.json:
        print(json.dumps(results))
        return
    for spec, result in results.items():
        alone = "  ".join(f"{h} {v:.1%}" for h, v in result["student_alone"].items())
        print(f"\n{spec} ({result['n']} comments); the student alone gives the same label: {alone}")
        print("margin | sent to the default model | same label as the default model, per head")
        for row in result["margins"]:
            same = "  ".join(f"{h} {v:.1%}" for h, v in row["same"].items())
            print(f"{row['margin']:6} | {row['sent_on']:25.1%} | {same}")

if __name__ == "__main__":
    main()
