"""The playbook: which community-manager action each label combination suggests.

Rules live in a small TOML file (the default one ships with the package,
``resources/default_playbook.toml``); a brand can pass its own with its links and
wording. The first rule whose ``when`` matches wins.
"""

from __future__ import annotations

import difflib
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from .schema import HEADS_BY_NAME, UNSURE, parse_label
from .tomlfile import read_toml, tomllib

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

    def __init__(self, rules: list[Rule], links: Mapping[str, str] | None = None, *, origin: str = "playbook"):
        """Rules are checked here, wherever they come from: their ``when`` read as labels
        (``{"troll": True}``, ``{"intent": "Where to buy"}``), their ids distinct (an id names the
        action in the output) and each action a template whose placeholders are link names."""
        if not rules:
            raise PlaybookError(f"{origin}: a playbook needs at least one rule")
        self.rules = [_checked_rule(rule, i, origin) for i, rule in enumerate(rules, 1)]
        ids = [rule.id for rule in self.rules]
        twice = next((i for i in ids if ids.count(i) > 1), None)
        if twice is not None:
            raise PlaybookError(f"{origin}: two rules have the id {twice!r}: an id names the action in the output, "
                                "give each rule its own")
        self.links = {str(k): str(v) for k, v in (links or {}).items()}

    @classmethod
    def from_toml(cls, path: str | Path, base: "Playbook | None" = None) -> "Playbook":
        """Read a playbook file; rules/links it leaves out are taken from ``base`` (if given)."""
        return cls._from_data(read_toml(path, "playbook", PlaybookError), str(path), base)

    @classmethod
    def _from_data(cls, data: dict, origin: str, base: "Playbook | None" = None) -> "Playbook":
        unknown = sorted(set(data) - {"links", "rule"})
        if unknown:
            raise PlaybookError(f"{origin}: unknown {', '.join(map(repr, unknown))}: a playbook holds a [links] "
                                "table and [[rule]] tables")
        own_links = data.get("links", {})
        if not isinstance(own_links, dict):
            raise PlaybookError(f"{origin}: 'links' must be a table: [links] then name = \"url\" lines")
        links = dict(base.links) if base else {}
        links.update({str(k): str(v) for k, v in own_links.items()})
        raw_rules = data.get("rule")
        if raw_rules is None and base is not None:
            return cls._checked(cls(base.rules, links, origin=origin), own_links, origin)
        if raw_rules is not None and not isinstance(raw_rules, list):
            raise PlaybookError(f"{origin}: write each rule as [[rule]] (double brackets: one table per rule)")
        rules = []
        for i, raw in enumerate(raw_rules or [], 1):
            extra = sorted(set(raw) - {"id", "when", "action"})
            if extra:  # a misspelt 'when' would match every comment
                raise PlaybookError(f"{origin}: rule {i} has unknown {', '.join(map(repr, extra))}: a rule holds "
                                    "id, when and action")
            if "action" not in raw:
                raise PlaybookError(f"{origin}: rule {i} has no 'action'")
            when = raw.get("when") or {}
            if not isinstance(when, dict):
                raise PlaybookError(f"{origin}: rule {i}: 'when' must be a table, e.g. when = {{ intent = \"spam\" }}")
            rules.append(Rule(str(raw.get("id", f"rule_{i}")), when, str(raw["action"])))
        return cls._checked(cls(rules, links, origin=origin), own_links, origin)

    @staticmethod
    def _checked(playbook: "Playbook", own_links: Mapping[str, Any], origin: str) -> "Playbook":
        """``playbook``, once each of the file's own links is used by some action (an unused one is
        a misspelt name, whose action keeps its placeholder). A {placeholder} that no link fills is
        kept as written: a blank for the CM to fill."""
        used = {name for rule in playbook.rules for name in _placeholders(rule.action, rule.id, origin)}
        for name in own_links:
            if name not in used:
                close = difflib.get_close_matches(name, sorted(used), n=1)
                raise PlaybookError(f"{origin}: link {name!r} is used by no rule's action"
                                    + (f"; did you mean {close[0]!r}?" if close else
                                       f" (they use {', '.join(sorted(used)) or 'none'})"))
        return playbook

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


def _checked_rule(rule: Rule, i: int, origin: str) -> Rule:
    """``rule`` with its ``when`` as schema strings (a PlaybookError naming what is wrong)."""
    if not isinstance(rule, Rule):
        raise PlaybookError(f"{origin}: rule {i} is a {type(rule).__name__}, not a Rule")
    when = {}
    for head, value in rule.when.items():
        if head not in HEADS_BY_NAME:
            close = difflib.get_close_matches(str(head), list(HEADS_BY_NAME), n=1)
            raise PlaybookError(f"{origin}: rule {i} matches unknown head {head!r}"
                                + (f"; did you mean {close[0]!r}?" if close else f" (heads: {', '.join(HEADS_BY_NAME)})"))
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        try:  # "unsure": a head the model abstained on (label --abstain)
            when[head] = tuple(UNSURE if v == UNSURE else parse_label(head, v) for v in values)
        except ValueError as exc:
            raise PlaybookError(f"{origin}: rule {i}: {exc}") from None
        if None in when[head]:
            raise PlaybookError(f"{origin}: rule {i}: an empty {head!r} value matches no comment")
    _placeholders(str(rule.action), rule.id, origin)
    return Rule(str(rule.id), when, str(rule.action))


def _placeholders(template: str, rule_id: str, origin: str) -> list[str]:
    """The link names an action template uses, or a PlaybookError: a placeholder is a link's name,
    ``{support_url}``, nothing more (``{}``, ``{0}``, ``{a.b}``, ``{a[0]}``, ``{a!r}``, ``{a:>9}``
    failed when a comment got that action, not when the playbook was read)."""
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise PlaybookError(f"{origin}: rule {rule_id!r}: {exc} (write {{{{ or }}}} for a brace)") from None
    for name, spec, conv in fields:
        if not name.strip() or name != name.strip() or name.isdigit() or "." in name or "[" in name or spec or conv:
            shown = "{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"
            raise PlaybookError(f"{origin}: rule {rule_id!r}: {shown} is not a link's name: a placeholder names a "
                                "link, e.g. {support_url} (write {{ or }} for a brace)")
    return [name for name, _, _ in fields]


_DEFAULT: Playbook | None = None


def default_playbook() -> Playbook:
    """The playbook that ships with commentnlp (community-management practice)."""
    global _DEFAULT
    if _DEFAULT is None:
        text = resources.files("commentnlp").joinpath("resources/default_playbook.toml").read_text("utf-8")
        _DEFAULT = Playbook._from_data(tomllib.loads(text), "default playbook")
    return _DEFAULT
