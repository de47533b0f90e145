"""Write and execute notebooks/error_analysis.ipynb (kept with its outputs).

    python notebooks/make_error_analysis.py
"""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent

CELLS = [
    ("md", "# Error analysis of the shipped commentnlp model\n\nLoads the bundled model, evaluates it on the "
           "held-out `data/test.jsonl` and on the real-world yardstick `../shared/evalsets/real_dev.jsonl`, and shows "
           "per-head confusion matrices and the most confident errors per head. Regenerate with "
           "`python notebooks/make_error_analysis.py`."),
    ("code", """import json
from pathlib import Path

import numpy as np

from commentnlp import Classifier
from commentnlp.data import read_labeled
from commentnlp.evaluation import evaluate_labels, predict_records, summary

REPO = Path.cwd() if (Path.cwd() / "data").is_dir() else Path.cwd().parent
clf = Classifier.load(backend="exact")
print("model:", clf.model_dir.name, "| backend:", clf.backend.name)
sets = {"data/test": read_labeled(REPO / "data" / "test.jsonl")}
real_dev = REPO.parent / "shared" / "evalsets" / "real_dev.jsonl"
if real_dev.is_file():
    sets["real_dev"] = read_labeled(real_dev)
{k: len(v) for k, v in sets.items()}"""),
    ("code", """results = {}
for name, records in sets.items():
    probs, labels = predict_records(clf, records)  # argmax, or the decision thresholds; thread position if given
    report = evaluate_labels(records, labels, clf.heads)
    results[name] = (records, probs, labels, report)
    print(name, json.dumps(summary(report)))"""),
    ("md", "## Confusion matrices (rows = gold, columns = predicted)"),
    ("code", """def show_confusion(report, head):
    r = report[head]
    short = [l[:10] for l in r["labels"]]
    print(f"{head}: macro-F1 {r['macro_f1']:.3f}")
    print(" " * 18 + "".join(f"{s:>11}" for s in short))
    for label, row in zip(r["labels"], r["confusion"]):
        print(f"{label:<18}" + "".join(f"{v:>11}" for v in row))
    print()

for name, (_, _, _, report) in results.items():
    print("=" * 20, name)
    for head in clf.heads:
        show_confusion(report, head)"""),
    ("md", "## Worst errors per head on real comments\n\nThe wrong predictions the model was most sure of."),
    ("code", """def worst_errors(name, head, k=8):
    records, probs, labels, _ = results[name]
    rows = []
    for i, r in enumerate(records):
        gold = r.get(head)
        if gold is None or gold == labels[head][i]:
            continue
        rows.append((float(probs[head][i].max()), gold, labels[head][i], r["text"][:140].replace("\\n", " ")))
    for conf, gold, pred, text in sorted(rows, reverse=True)[:k]:
        print(f"{conf:.2f}  gold={gold:<16} pred={pred:<16} {text}")
    print(f"({len(rows)} errors)\\n")

target = "real_dev" if "real_dev" in results else "data/test"
for head in clf.heads:
    print("=" * 10, head)
    worst_errors(target, head)"""),
    ("md", "## Where-to-buy: every miss and false alarm\n\nThe golden question a CM must never miss."),
    ("code", """records, probs, labels, _ = results[target]
for i, r in enumerate(records):
    gold, pred = r.get("intent"), labels["intent"][i]
    if (gold == "where_to_buy") != (pred == "where_to_buy"):
        kind = "MISS" if gold == "where_to_buy" else "FALSE ALARM"
        print(f"{kind:<12} gold={gold:<16} pred={pred:<16} {r['text'][:120]}")"""),
    ("md", "## Where the gaps to the targets are\n\nIssue 3 asks for style macro-F1 0.85, where_to_buy F1 0.90 "
           "and troll = true F1 0.70 on real_dev. First: could a decision threshold alone reach them? The best "
           "threshold fitted on these very comments is an upper bound, not something to ship (real_dev is never "
           "tuned on)."),
    ("code", """from commentnlp.calibration import find_decision_threshold

for head, label in [("intent", "where_to_buy"), ("troll", "true")]:
    records, probs, labels, report = results[target]
    kept = [i for i, r in enumerate(records) if r.get(head) is not None]
    values = list(clf.heads[head])
    y = np.array([values.index(records[i][head]) for i in kept])
    t, argmax_f1, best_f1 = find_decision_threshold(probs[head][kept], y, values, label, min_gain=0.0)
    shipped = report[head]["per_class"][label]["f1"]
    print(f"{head}={label}: shipped {shipped:.3f}, argmax {argmax_f1:.3f}, best threshold on {target} "
          f"{t} -> {best_f1:.3f}")"""),
    ("md", "Style: which comments the text-only model gets wrong, by thread position. real_dev's Facebook "
           "comments say in their context whether they are replies (`training/add_thread_positions.py` reads it); "
           "with that position the model adds its style offsets, as `commentnlp label` does for an export that "
           "gives it."),
    ("code", """import sys
from collections import Counter

sys.path.insert(0, str(REPO / "training"))
from add_thread_positions import position_of
from commentnlp.exports import reply_value

records, _, labels, _ = results[target]
positions = [position_of(r) for r in records]  # "initial", "reply" or None: a comment_type
placed = clf.predict([r["text"] for r in records], is_reply=[reply_value("comment_type", p) for p in positions])
counts = Counter()
for r, p, text_only, with_position in zip(records, positions, labels["style"], placed):
    key = p or "unknown"
    counts[key, "n"] += 1
    counts[key, "text only"] += text_only != r["style"]
    counts[key, "with position"] += with_position.style != r["style"]
print(f"{'position':<10}{'n':>6}{'style errors, text only':>26}{'with position':>16}")
for key in ("initial", "reply", "unknown"):
    print(f"{key:<10}{counts[key, 'n']:>6}{counts[key, 'text only']:>26}{counts[key, 'with position']:>16}")"""),
    ("md", "Troll: errors by source (a miss: gold `true`, predicted `false`; a false alarm: the other way)."),
    ("code", """records, _, labels, _ = results[target]
counts = Counter()
for r, pred in zip(records, labels["troll"]):
    gold = r.get("troll")
    if gold is not None and gold != pred:
        counts[r.get("source", "?"), "miss" if gold == "true" else "false alarm"] += 1
for (source, kind), n in sorted(counts.items()):
    print(f"{source:<16}{kind:<12}{n:>4}")"""),
]


def build() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
                for kind, src in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def execute(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


if __name__ == "__main__":
    notebook = execute(build(), HERE)
    nbformat.write(notebook, HERE / "error_analysis.ipynb")
    print("wrote", HERE / "error_analysis.ipynb")
