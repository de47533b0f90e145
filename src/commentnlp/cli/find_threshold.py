"""``commentnlp find-threshold``: tune one label's decision threshold on labeled data."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Optional

import typer

from ..validation import did_you_mean
from ._util import command, fail, load_classifier


@command("find-threshold")
def find_threshold_cli(
    data: str = typer.Option(..., "--data", "-d", help="Labeled records as for evaluate (a dev split, never the test set); '-' for stdin."),
    head: str = typer.Option(..., "--head", help="Head, e.g. troll or intent."),
    label: str = typer.Option(..., "--label", help="Label, e.g. true or where_to_buy."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model directory, or a bundled model's name (commentnlp-minilm-l3: faster). Default: the bundled commentnlp-minilm."),
    text_field: Optional[str] = typer.Option(None, "--text-field", "-t", help="Field holding the comment text, as given to 'label' (default: text, or message, comment, ... as label finds it)."),
    write: bool = typer.Option(False, "--write", help="Save the best threshold in the model's config.json (a model directory; for a bundled model, use --output)."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Save a copy of the model with the best threshold to this new directory (implies --write)."),
) -> None:
    """Sweep the score threshold of one label and report its F1; --write saves the best one with the model."""
    import numpy as np

    from ..calibration import find_decision_threshold, with_threshold
    from ..data import DataError, read_labeled
    from ..model_card import save_config_and_card
    from ..serialization import ModelLoadError, bundled_dir_at, bundled_model_at, model_files, read_config

    if output and Path(output).exists() and (not Path(output).is_dir() or any(Path(output).iterdir())):
        fail(f"--output {output} already exists; give a new directory for the copy of the model")
    if output and bundled_dir_at(output):
        fail(f"--output {output} lies in the bundled model {bundled_dir_at(output)}; give a directory outside it", 2)
    bundled = bundled_model_at(model) if write and not output else None
    if bundled:  # by name, or any path to its directory (models/commentnlp-minilm, its absolute path)
        fail(f"the bundled model {bundled} is shared by everything that uses this install; "
             f"save a copy with the threshold instead: --output models/mine (then --model models/mine)", 2)
    clf = load_classifier(model, "cpu", None, backend="exact")
    if head not in clf.heads:
        fail(f"unknown head {head!r}{did_you_mean(head, clf.heads)}; heads: {', '.join(clf.heads)}", 2)
    if label not in clf.heads[head]:
        fail(f"{label!r} is not a label of {head}{did_you_mean(label, clf.heads[head])}; "
             f"labels: {', '.join(clf.heads[head])}", 2)
    where = "stdin" if data == "-" else data  # as evaluate names it
    try:
        records = [r for r in read_labeled(data, text_field) if r.get(head) is not None]
    except DataError as exc:
        fail(str(exc))
    if not records:
        fail(f"{where} has no records labelled for {head}")
    from ..evaluation import predict_records, seen_in_training
    from ..trainer import MIN_THRESHOLD_POSITIVES

    positives = sum(str(r[head]).lower() == label.lower() for r in records)
    if positives < MIN_THRESHOLD_POSITIVES:
        few = (f"{where} holds {positives} example{'s' * (positives != 1)} of {head}={label} among {len(records)} records; "
               f"a threshold fitted on fewer than {MIN_THRESHOLD_POSITIVES} is noise (training fits none then)")
        if write or output:  # and never removes a model's threshold for want of examples
            fail(f"{few}: nothing was saved; label more examples of {head}={label}")
        warnings.warn(few, UserWarning, stacklevel=1)
    seen_in_training(clf, [r["text"] for r in records])  # a warning if the model was trained on them
    values = list(clf.heads[head])
    probs = predict_records(clf, records)[0][head]  # with the thread positions records give, as evaluate scores them
    y = np.array([values.index(r[head]) for r in records])
    current = clf.config.decision_thresholds.get(head, {})  # the saved model decides with all of them
    t, now, after = find_decision_threshold(probs, y, values, label, thresholds=current)
    typer.echo(f"{head}={label}: {_sweep_result(current, label, t, now, after)}")
    if write or output:
        target = clf.model_dir
        if output:
            target = Path(output)
            files, left_out = model_files(clf.model_dir)
            try:
                for path in files:
                    (target / path).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(clf.model_dir / path, target / path)
            except OSError as exc:
                fail(f"cannot copy the model to {target}: {exc.strerror or exc}")
            if left_out:
                typer.echo(f"warning: not copied: {', '.join(left_out)} (links to outside the model)", err=True)
        try:
            config = read_config(target)
        except ModelLoadError as exc:  # a copy without the model's config: a traceback
            fail(f"the copy in {target} is not a model: {exc}")
        earlier = config.decision_thresholds.get(head, {}).get(label)
        if earlier == t and not output:  # it said "saved" though nothing changed
            typer.echo(f"the model's {head}={label} threshold is {earlier if t is not None else 'none (argmax)'} "
                       f"already: nothing to save")
            return
        # the head's other labels keep theirs, in the order the sweep applied them
        thresholds = with_threshold(config.decision_thresholds.get(head), label, t)
        if thresholds:
            config.decision_thresholds[head] = thresholds
        else:
            config.decision_thresholds.pop(head, None)
        source = f"{where} ({positives} examples; commentnlp find-threshold)"
        config.metrics.setdefault("decision_thresholds_fitted_on", {})[f"{head}={label}"] = source
        # the figures recorded with the model were computed with the threshold before the first change
        changed = config.metrics.get("thresholds_changed_after_evaluation", {})
        before = changed[f"{head}={label}"]["before"] if f"{head}={label}" in changed else earlier
        if t == before:  # back to what the figures were computed with
            changed.pop(f"{head}={label}", None)
        else:
            changed[f"{head}={label}"] = {"before": before, "after": t, "data": source}
        if changed:
            config.metrics["thresholds_changed_after_evaluation"] = changed
        else:
            config.metrics.pop("thresholds_changed_after_evaluation", None)
        try:
            save_config_and_card(target, config)
        except OSError as exc:
            fail(f"cannot save the threshold in {target / 'config.json'}: {exc.strerror or exc}; "
                 "save a copy of the model with it instead: --output DIR")
        typer.echo(f"saved in {target / 'config.json'} (and its model card, README.md)")


def _sweep_result(current: dict[str, float], label: str, t: float | None, now: float, after: float) -> str:
    """What the sweep found: the model's F1 now (with its thresholds), then the best threshold's,
    both as `evaluate` reports them for the model saved with it."""
    from ..calibration import MIN_GAIN

    how = ("its thresholds: " + ", ".join(f"{name} {score}" for name, score in current.items())) if current else "argmax"
    if t is not None and t == current.get(label):
        return f"F1 {now:.3f} now ({how}); its {label} threshold stays: no other, nor none, does better by {MIN_GAIN}"
    if t is not None:
        return f"F1 {now:.3f} now ({how}); best threshold {t} gives F1 {after:.3f}"
    if label in current:  # saving it removes the label's threshold
        return f"F1 {now:.3f} now ({how}); removing its {label} threshold gives F1 {after:.3f}"
    return f"F1 {now:.3f} now ({how}); no threshold does better"
