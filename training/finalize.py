"""Re-calibrate and re-evaluate a saved model on the data splits recorded in its config.

    python training/finalize.py models/commentnlp-minilm [--baselines]

Fits per-head temperatures, abstain and decision thresholds on the dev split (through the
default inference path), evaluates dev, test and the evaluation files, and rewrites
config.json and the model card. With --baselines it also fits the baselines on the model's
training data and records their figures on the first evaluation file beside the model's.
Run from the repository root (recorded paths are relative).
"""

import sys

from commentnlp.trainer import add_baselines, refinalize

if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--baselines"]
    if len(args) != 1:
        sys.exit(__doc__)
    refinalize(args[0])
    if "--baselines" in sys.argv:
        add_baselines(args[0])
