"""The multi-head comment model: one transformer encoder, one linear head per label family.

All four labels come from ONE forward pass: the encoder's mean-pooled output feeds
a small head per :data:`commentnlp.schema.HEADS` entry. Records that do not label a
head are masked out of that head's loss (label index ``-100``).
"""

from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from .schema import HEADS, Head

__all__ = ["MultiHeadModel", "IGNORE_INDEX", "mean_pool", "multi_head_loss", "distillation_loss"]

IGNORE_INDEX = -100


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average token vectors over the non-padding positions."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class MultiHeadModel(nn.Module):
    """An encoder (any Hugging Face ``AutoModel``) with one classification head per label family."""

    def __init__(self, encoder: nn.Module, heads: tuple[Head, ...] = HEADS, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.heads = nn.ModuleDict({h.name: nn.Linear(hidden, len(h.values)) for h in heads})

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits per head, each of shape ``(batch, n_values)``."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        pooled = self.dropout(mean_pool(hidden, attention_mask))
        return {name: head(pooled) for name, head in self.heads.items()}


def multi_head_loss(
    logits: Mapping[str, torch.Tensor],
    labels: Mapping[str, torch.Tensor],
    class_weights: Mapping[str, torch.Tensor] | None = None,
    head_weights: Mapping[str, float] | None = None,
) -> torch.Tensor:
    """Sum of per-head cross-entropies; rows labelled ``IGNORE_INDEX`` do not count for that head."""
    total = None
    for name, head_logits in logits.items():
        target = labels[name]
        if not bool((target != IGNORE_INDEX).any()):
            continue
        weight = class_weights.get(name) if class_weights else None
        loss = nn.functional.cross_entropy(head_logits, target, weight=weight, ignore_index=IGNORE_INDEX)
        loss = loss * (head_weights or {}).get(name, 1.0)
        total = loss if total is None else total + loss
    if total is None:
        total = sum(l.sum() * 0.0 for l in logits.values())
    return total


def distillation_loss(logits: Mapping[str, torch.Tensor], teacher_logits: Mapping[str, torch.Tensor],
                      temperature: float = 2.0) -> torch.Tensor:
    """Sum over heads of KL(teacher || student) on temperature-softened distributions, scaled by
    ``temperature ** 2`` (Hinton et al., 2015) so its gradients keep their size as T changes."""
    total = None
    for name, student in logits.items():
        loss = nn.functional.kl_div(nn.functional.log_softmax(student / temperature, dim=-1),
                                    nn.functional.log_softmax(teacher_logits[name] / temperature, dim=-1),
                                    reduction="batchmean", log_target=True) * temperature ** 2
        total = loss if total is None else total + loss
    return total
