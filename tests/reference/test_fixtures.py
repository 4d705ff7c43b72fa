"""The numpy reference against transformers itself: on every accepted fixture of tests/fixtures/hf
(checkpoints and outputs written by transformers, make_fixtures.py) the float64 reference's
standard logits and greedy tokens are transformers'. So the reference reads the format as
transformers does (rope_parameters, biases, tied embeddings), and the app's ladder / parallel /
hybrid logits checked against it on these checkpoints rest on a reading that is not our own."""
import json
import pathlib

import numpy as np
import pytest

from llama_ref import LlamaRef

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "hf"
ACCEPTED = sorted(d.name for d in FIXTURES.iterdir()
                  if d.is_dir() and json.loads((d / "case.json").read_text())["refuse"] is None)


def test_fixtures_cover_the_issue_cases():
    assert {"llama3_scaling", "theta_5e5", "tied", "qwen2_bias", "llama_bias", "mqa", "bf16_sharded"} <= set(ACCEPTED)


@pytest.mark.parametrize("name", ACCEPTED)
def test_reference_equals_transformers(name):
    d = FIXTURES / name
    prompt = np.load(d / "prompt_ids.npy")
    want_logits, want_tokens = np.load(d / "expected_logits.npy"), np.load(d / "expected_tokens.npy")
    model = LlamaRef.from_checkpoint(d)
    ours = model.logits(prompt, "standard")
    assert np.linalg.norm(ours - want_logits) / np.linalg.norm(want_logits) < 1e-5
    assert np.array_equal(model.generate(prompt, want_tokens.shape[1], "standard"), want_tokens)
