"""Re-calibrate and re-evaluate a saved model on the data splits recorded in its config.

    python training/finalize.py models/commentnlp-minilm

Fits per-head temperatures, abstain and decision thresholds on the dev split (through the
default inference path), evaluates dev, test and the evaluation files, and rewrites
config.json and the model card. Run from the repository root (recorded paths are relative).
"""

import sys

from commentnlp.trainer import refinalize

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    refinalize(sys.argv[1])
