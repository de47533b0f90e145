"""Length-sorted batching with dynamic padding, shared by training and inference."""

from __future__ import annotations

import random
from typing import Sequence

import numpy as np

__all__ = ["sorted_batches", "sortish_batches", "pad_batch"]


def sorted_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Index batches of similar length (inference): little padding, order restored by the caller."""
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def sortish_batches(lengths: Sequence[int], batch_size: int, rng: random.Random, pool: int = 32) -> list[np.ndarray]:
    """Shuffled batches of similar length (training): sort within random pools of ``pool`` batches."""
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    batches = []
    chunk = batch_size * pool
    for start in range(0, len(idx), chunk):
        part = sorted(idx[start:start + chunk], key=lambda i: lengths[i])
        batches.extend(np.asarray(part[j:j + batch_size]) for j in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def pad_batch(ids: Sequence[Sequence[int]], idx: Sequence[int], pad_id: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(input_ids, attention_mask)`` int64 arrays for the rows ``idx`` of ``ids``, padded to the longest."""
    width = max(len(ids[i]) for i in idx)
    input_ids = np.full((len(idx), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(idx), width), dtype=np.int64)
    for row, i in enumerate(idx):
        n = len(ids[i])
        input_ids[row, :n] = ids[i]
        mask[row, :n] = 1
    return input_ids, mask
