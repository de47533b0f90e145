"""The playbook: which community-manager action each label combination suggests.

Rules live in a small TOML file (the default one ships with the package,
``resources/default_playbook.toml``); a brand can pass its own with its links and
wording. The first rule whose ``when`` matches wins.
"""

from __future__ import annotations

import string
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .schema import HEADS_BY_NAME, parse_label

__all__ = ["Playbook", "Rule", "PlaybookError", "default_playbook"]


class PlaybookError(ValueError):
    """A playbook file is malformed."""


class _KeepMissing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Rule:
    """One playbook rule: labels to match and the action (a reply template) to suggest."""

    id: str
    when: Mapping[str, tuple[str, ...]]
    action: str

    def matches(self, labels: Mapping[str, Any]) -> bool:
        for head, allowed in self.when.items():
            value = labels.get(head)
            if isinstance(value, bool):
                value = "true" if value else "false"
            if value not in allowed:
                return False
        return True


class Playbook:
    """Ordered rules plus the links their templates may use."""

    def __init__(self, rules: list[Rule], links: Mapping[str, str] | None = None):
        if not rules:
            raise PlaybookError("a playbook needs at least one rule")
        self.rules = rules
        self.links = dict(links or {})

    @classmethod
    def from_toml(cls, path: str | Path, base: "Playbook | None" = None) -> "Playbook":
        """Read a playbook file; rules/links it leaves out are taken from ``base`` (if given)."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PlaybookError(f"playbook not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise PlaybookError(f"{path} is not valid TOML: {exc}") from None
        return cls._from_data(data, str(path), base)

    @classmethod
    def _from_data(cls, data: dict, origin: str, base: "Playbook | None" = None) -> "Playbook":
        links = dict(base.links) if base else {}
        links.update({str(k): str(v) for k, v in data.get("links", {}).items()})
        raw_rules = data.get("rule")
        if raw_rules is None and base is not None:
            return cls(base.rules, links)
        rules = []
        for i, raw in enumerate(raw_rules or [], 1):
            if "action" not in raw:
                raise PlaybookError(f"{origin}: rule {i} has no 'action'")
            when = {}
            for head, value in (raw.get("when") or {}).items():
                if head not in HEADS_BY_NAME:
                    raise PlaybookError(f"{origin}: rule {i} matches unknown head {head!r}")
                values = value if isinstance(value, list) else [value]
                try:
                    when[head] = tuple(parse_label(head, v) for v in values)
                except ValueError as exc:
                    raise PlaybookError(f"{origin}: rule {i}: {exc}") from None
            rules.append(Rule(str(raw.get("id", f"rule_{i}")), when, str(raw["action"])))
        return cls(rules, links)

    def match(self, labels: Mapping[str, Any]) -> Rule:
        """The first rule matching ``labels`` (a fallback 'review' rule if none does)."""
        for rule in self.rules:
            if rule.matches(labels):
                return rule
        return Rule("review", {}, "Review manually.")

    def action_for(self, labels: Mapping[str, Any]) -> str:
        """The suggested action text for ``labels``, with the playbook's links filled in."""
        return self.render(self.match(labels).action)

    def render(self, template: str) -> str:
        return string.Formatter().vformat(template, (), _KeepMissing(self.links))


_DEFAULT: Playbook | None = None


def default_playbook() -> Playbook:
    """The playbook that ships with commentnlp (community-management practice)."""
    global _DEFAULT
    if _DEFAULT is None:
        text = resources.files("commentnlp").joinpath("resources/default_playbook.toml").read_text("utf-8")
        _DEFAULT = Playbook._from_data(tomllib.loads(text), "default playbook")
    return _DEFAULT
