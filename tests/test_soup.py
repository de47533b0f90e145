"""training/soup.py: averaging saved LoRA models into one."""

import importlib.util
from pathlib import Path

import pytest
import torch
import typer

from conftest import build_lora_model

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("soup", ROOT / "training" / "soup.py")
soup_script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(soup_script)


def _save(path: Path, base: Path, seed: int) -> Path:
    from commentnlp.serialization import save_model

    model, tokenizer, config = build_lora_model(base, seed=seed)
    save_model(path, model, tokenizer, config, model_card="# tiny\n")
    return path


def test_soup_is_the_mean_of_the_models_weights(tmp_path, tiny_base):
    """The soup's merged encoder and heads are exactly the mean of the models' (one forward pass)."""
    from commentnlp.serialization import load_torch_model

    models = [_save(tmp_path / f"m{s}", tiny_base, s) for s in (0, 1, 2)]
    soup_script.soup(tmp_path / "soup", models)
    loaded = [load_torch_model(m)[0].state_dict() for m in models]
    souped, config = load_torch_model(tmp_path / "soup")
    assert config.lora["r"] == 12 and config.lora["alpha"] == 24
    assert config.training["soup_of"] == [str(m) for m in models]
    from commentnlp.model_card import model_card

    assert f"A soup: the weight average of `{models[0]}`, `{models[1]}`, `{models[2]}`" in model_card(config)
    changed = 0
    for key, value in souped.state_dict().items():
        if ".pooler." in key:  # BERT's pooler is not used (mean pooling) and not saved
            continue
        mean = torch.stack([s[key] for s in loaded]).mean(0)
        torch.testing.assert_close(value, mean, atol=1e-5, rtol=1e-4)
        changed += not torch.equal(loaded[0][key], loaded[1][key])
    assert changed > 0  # the models differ, so the test says something


def test_soup_refuses_models_of_another_recipe(tmp_path, tiny_base):
    from commentnlp.serialization import read_config, write_config

    a, b = _save(tmp_path / "a", tiny_base, 0), _save(tmp_path / "b", tiny_base, 1)
    config = read_config(b)
    config.num_layers = 1
    write_config(b, config)
    with pytest.raises(typer.BadParameter, match="not a LoRA model of the same base"):
        soup_script.soup(tmp_path / "soup", [a, b])
