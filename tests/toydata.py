"""A small, deterministic toy corpus for training tests (separable by wording, not by length)."""

from __future__ import annotations

import random

PRODUCTS = ["oat bars", "face serum", "sneakers", "earbuds", "hot sauce", "phone case", "dog food", "lip balm",
            "coffee pods", "yoga mat", "gaming mouse", "sunscreen"]
PLACES = ["Ohio", "Canada", "Leeds", "Walmart", "Target", "Costco", "Amazon", "Texas", "Dublin", "Kroger"]
#: the one template whose comments are trolls (every head has records of each of its labels)
TROLL = "lol imagine paying for {p}, everyone in {c} buying it is a clown"
TEMPLATES = {
    "where_to_buy": ["where can I buy the {p} in {c}?", "is the {p} sold at {c}", "any store near {c} carry {p}??",
                     "do you ship {p} to {c}", "where do i find {p} in {c} stores"],
    "support_request": ["my {p} order never arrived, tracking stuck for weeks", "the {p} came broken and nobody answers my emails",
                        "I was charged twice for the {p}, need a refund", "{p} delivery is 2 weeks late, help me please"],
    "spam": ["earn $500 a day from home, check my page for {p}", "FREE {p} giveaway click my profile link",
             "follow me for crypto tips and free {p}", "DM me to make money fast, {p} not needed"],
    "social": ["@jess look at these {p} lol", "haha tagging @sam because {p}", "first! {p} squad",
               "@mike remember the {p} story from {c}", TROLL],
}

SENTIMENTS = {"where_to_buy": "neutral", "support_request": "negative", "spam": "neutral", "social": "positive"}


def toy_records(n_per_class: int = 45, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for intent, templates in TEMPLATES.items():
        for i in range(n_per_class):
            template = rng.choice(templates)
            text = template.format(p=rng.choice(PRODUCTS), c=rng.choice(PLACES))
            troll = template == TROLL
            out.append({"text": f"{text} #{i}", "intent": intent, "style": "community" if intent == "social" else "audience",
                        "sentiment": "negative" if troll else SENTIMENTS[intent], "troll": troll})
    rng.shuffle(out)
    return out
