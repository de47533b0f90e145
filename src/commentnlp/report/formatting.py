"""What the page's sections and charts share: the labels' display names, colours and hints, HTML escaping, numbers."""

from __future__ import annotations

from html import escape
from typing import Any


NAMES = {
    "where_to_buy": "Where to buy", "product_question": "Product question",
    "support_request": "Support request", "feedback": "Feedback", "suggestion": "Suggestion",
    "social": "Social", "spam": "Spam", "audience": "Audience", "community": "Community",
    "negative": "Negative", "neutral": "Neutral", "positive": "Positive",
    "unsure": "Unsure", "other": "Other",
}
COLORS = {
    "where_to_buy": "#2563eb", "product_question": "#0891b2", "support_request": "#dc2626",
    "feedback": "#7c3aed", "suggestion": "#d97706", "social": "#16a34a", "spam": "#64748b",
    "audience": "#2563eb", "community": "#0d9488",
    "negative": "#dc2626", "neutral": "#94a3b8", "positive": "#16a34a",
    "unsure": "#cbd5e1", "other": "#e2e8f0", "troll": "#7f1d1d",
}
INTENT_HINTS = {
    "where_to_buy": "the golden question: reply with every way to buy",
    "product_question": "answer it",
    "support_request": "ladder up to support",
    "feedback": "thank or defuse",
    "suggestion": "log it for the product team",
    "social": "like it, let the community run",
    "spam": "hide or delete",
}


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _n(value: int) -> str:
    return f"{value:,}"


def _pct(part: float, whole: float, digits: int = 1) -> str:
    return f"{100 * part / whole:.{digits}f}%" if whole else "–"
