"""Build data/{train,dev,test}.jsonl from the labeled parts in data/raw/ (deterministic).

    python training/build_data.py [--evalset ../shared/evalsets/real_dev.jsonl]

Validates every record against the schema, drops duplicate texts and any text that
also occurs in the evaluation set or contains one of its texts of 12+ characters (so the
yardstick never leaks into training), then splits 80/10/10 stratified by intent with a
fixed seed, and prints label counts per split for the datasheet.

Splits are append-only: a record already in data/{train,dev,test}.jsonl keeps its split,
and only records new to data/raw/ are split (80/10/10, stratified). Adding a part
therefore never moves a held-out test record into training. `--resplit` starts over.

Texts are found twice by the key the data was built with (`--dedupe-key 1`: emoji ignored, as
training/configs/default.toml's `data.dedupe_key`); with `--dedupe-key 2` (emoji kept) 4 texts that differ
from another only by an emoji are new, for the next retrain.
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

from sklearn.model_selection import train_test_split

from commentnlp.data import EvaluationTexts, dedupe_key, dedupe_key_version, read_labeled
from commentnlp.schema import HEAD_NAMES, to_record_value

SPLITS = ("train", "dev", "test")
FIELDS = ("text", "style", "intent", "sentiment", "troll", "brand", "vertical", "platform", "source")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raw", default="data/raw")
    ap.add_argument("--out", default="data")
    ap.add_argument("--evalset", default="../shared/evalsets/real_dev.jsonl")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--resplit", action="store_true", help="ignore the existing splits and split everything anew")
    ap.add_argument("--dedupe-key", type=int, choices=(1, 2), default=1,
                    help="the text key finding duplicates: 1 ignores emoji (the shipped data's), 2 keeps them")
    args = ap.parse_args()
    with dedupe_key_version(args.dedupe_key):
        build(args)


def _split(records: list[dict], test_size: float, seed: int) -> tuple[list[dict], list[dict]]:
    """Records in two, stratified by intent where every intent has two records or more to share out
    (a handful of new records may have one: sklearn refuses to stratify them)."""
    intents = collections.Counter(r["intent"] for r in records)
    if len(records) < 2:
        return records, []
    stratify = [r["intent"] for r in records] if min(intents.values()) >= 2 else None
    try:
        return train_test_split(records, test_size=test_size, random_state=seed, stratify=stratify)
    except ValueError:  # too few records for a class in the smaller part
        return train_test_split(records, test_size=test_size, random_state=seed)


def build(args: argparse.Namespace) -> None:
    """Write the splits and print their label counts."""

    frozen: dict[str, tuple[str, int]] = {}  # text key -> (split, line) of the last build
    if not args.resplit:
        for name in SPLITS:
            path = Path(args.out) / f"{name}.jsonl"
            if path.is_file():
                frozen.update({dedupe_key(r["text"]): (name, i) for i, r in enumerate(read_labeled(path))})

    evals = EvaluationTexts([args.evalset] if Path(args.evalset).is_file() else [])
    seen, records, keys, dropped = set(), [], [], collections.Counter()
    for path in sorted(Path(args.raw).glob("*.jsonl")):
        for r in read_labeled(path):
            key = dedupe_key(r["text"])
            if key in seen:
                dropped["duplicate"] += 1
                continue
            banned = evals.why_banned(key)
            if banned:
                dropped[banned] += 1
                continue
            if any(r.get(h) is None for h in HEAD_NAMES):
                dropped["missing a label"] += 1
                continue
            seen.add(key)
            records.append({k: (to_record_value(k, r[k]) if k in HEAD_NAMES else r.get(k)) for k in FIELDS
                            if r.get(k) is not None})
            keys.append(key)
    placed: dict[str, list[tuple[int, dict]]] = {name: [] for name in SPLITS}
    new = []
    for key, r in zip(keys, records):
        if key in frozen:
            placed[frozen[key][0]].append((frozen[key][1], r))
        else:
            new.append(r)
    splits = {name: [r for _, r in sorted(rows, key=lambda x: x[0])] for name, rows in placed.items()}
    if new:
        train, rest = _split(new, 0.2, args.seed)
        dev, test = _split(rest, 0.5, args.seed)
        for name, part in zip(SPLITS, (train, dev, test)):
            splits[name] += part
    train, dev, test = (splits[name] for name in SPLITS)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    for name, split in splits.items():
        with open(Path(args.out) / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for r in split:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"records: {len(records)}, new since the last build: {len(new)} (dropped: {dict(dropped)})")
    print("| head | label | train | dev | test |\n|---|---|---|---|---|")
    for head in HEAD_NAMES:
        counts = [collections.Counter(str(r[head]).lower() for r in s) for s in (train, dev, test)]
        for label in sorted(set().union(*counts)):
            print(f"| {head} | {label} | " + " | ".join(str(c[label]) for c in counts) + " |")


if __name__ == "__main__":
    main()
