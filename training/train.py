"""Train a commentnlp model from a TOML config (the same code path as `commentnlp train`).

    python training/train.py training/configs/default.toml --training.epochs 3
"""

import sys

from commentnlp.cli import app

if __name__ == "__main__":
    app(["train", *sys.argv[1:]])
