"""Length-sorted batching with dynamic padding, shared by training and inference."""

from __future__ import annotations

import random
from typing import Sequence

import numpy as np

from .validation import is_whole

__all__ = ["Batch", "sorted_batches", "sortish_batches", "pad_batch", "check_batch_size"]

#: One batch of the model's input: the rows (text positions) it holds, input_ids, attention_mask.
Batch = tuple[np.ndarray, np.ndarray, np.ndarray]


def check_batch_size(batch_size: object) -> None:
    """Raise a ValueError unless ``batch_size`` is a whole number of 1 or more."""
    if not is_whole(batch_size, 1):
        raise ValueError(f"batch_size must be a whole number >= 1, not {batch_size!r}")


def sorted_batches(lengths: Sequence[int], batch_size: int, max_tokens: int | None = None) -> list[np.ndarray]:
    """Index batches of similar length (inference): little padding, order restored by the caller.

    With ``max_tokens`` a batch also holds at most that many padded tokens (rows x longest), so
    a batch of long comments is smaller and memory stays flat whatever the input.
    """
    check_batch_size(batch_size)
    lengths = np.asarray(lengths)
    order = np.argsort(lengths, kind="stable")
    if not max_tokens:
        return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    batches, start, n = [], 0, len(order)
    while start < n:
        end = start + 1
        while end < n and end - start < batch_size and (end - start + 1) * lengths[order[end]] <= max_tokens:
            end += 1
        batches.append(order[start:end])
        start = end
    return batches


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
