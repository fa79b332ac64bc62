"""Embeddings: the numpy BERT encoder that answers questions without torch, and the ONNX Runtime encoder of
ingestion's batches, equal sentence-transformers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from rag.embeddings import LIGHT_TEXTS, Embedder, NumpyBert, OnnxBert, resolve_model, similarities
from rag.settings import DEFAULT_EMBED_MODEL

TEXTS = [
    "What were Ulta Beauty's net sales in fiscal 2023?", "四方科技2019年的电子信箱是什么？",
    "", "  ",
    "营业收入 1,505.60 亿元，同比增长 12.3%",
    "Gemini 1.5 Pro " * 150,  # longer than the model's 256 tokens: truncated alike
    "ÉCOLE café naïve — “quoted” résumé", "a", "Sora 可以生成长达 60s 的视频。",
]


def test_numpy_encoder_equals_sentence_transformers(embedder):
    light = NumpyBert.open(resolve_model(DEFAULT_EMBED_MODEL))
    assert light is not None and light.dim == 384 and light.max_tokens == 256
    expected = embedder.model.encode(TEXTS, batch_size=4, normalize_embeddings=True, convert_to_numpy=True)
    for batch_size in (1, 4, 32):  # padding to the longest text of a batch changes nothing
        got = light.encode(TEXTS, batch_size)
        assert got.dtype == np.float32 and got.shape == expected.shape
        assert np.abs(got - expected).max() < 1e-5
    assert np.allclose(np.linalg.norm(light.encode(TEXTS[:2]), axis=1), 1.0, atol=1e-6)


def test_small_encodes_use_the_numpy_encoder_and_large_ones_onnx_runtime(embedder):
    fresh = Embedder(embedder.name)
    assert fresh.dim == 384 and "model" not in fresh.__dict__  # the dimension comes from the config
    one = fresh.encode_one(TEXTS[0])
    assert "model" not in fresh.__dict__ and "fast" not in fresh.__dict__ and one.shape == (384,)
    many = [f"passage {i}: revenue rose {i}%" for i in range(LIGHT_TEXTS + 1)] + TEXTS
    batch = fresh.encode(many, batch_size=8)
    assert isinstance(fresh.__dict__.get("fast"), OnnxBert) and "model" not in fresh.__dict__
    expected = embedder.model.encode(many, batch_size=8, normalize_embeddings=True, convert_to_numpy=True)
    assert batch.dtype == np.float32 and np.abs(batch - expected).max() < 1e-5
    assert np.abs(fresh.encode(many[:3]) - expected[:3]).max() < 1e-5  # once started, it encodes a few too
    assert "model" not in fresh.__dict__


def test_without_onnx_runtime_large_encodes_go_to_sentence_transformers(embedder, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # its import fails
    fresh = Embedder(embedder.name)
    many = [f"passage {i}: revenue rose {i}%" for i in range(LIGHT_TEXTS + 1)]
    batch = fresh.encode(many)
    assert fresh.fast is None and "model" in fresh.__dict__
    assert np.abs(batch - embedder.light.encode(many)).max() < 1e-5


def test_encode_one_keeps_a_questions_vector_for_its_answer(embedder):
    fresh = Embedder(embedder.name)
    first = fresh.encode_one(TEXTS[0])
    assert fresh.encode_one(TEXTS[0]) is first and not first.flags.writeable  # kept, and not to be changed
    assert np.abs(fresh.encode_one_soon(TEXTS[4]).result() - fresh.encode([TEXTS[4]])[0]).max() < 1e-6
    for i in range(40):  # only the last few are kept
        fresh.encode_one(f"question {i}")
    assert fresh.encode_one(TEXTS[0]) is not first


def test_token_counts_are_the_models_own(embedder):
    fresh = Embedder(embedder.name)
    counts = fresh.token_counts(TEXTS)
    assert "model" not in fresh.__dict__ and "light" not in fresh.__dict__  # the tokenizer file alone
    tokenizer = embedder.model.tokenizer
    assert counts == [len(tokenizer(t, truncation=False)["input_ids"]) for t in TEXTS]
    assert max(counts) > 256  # not cut: texts beyond the model's limit sort last, where all cost alike
    chinese, english = "营业收入同比增长百分之十二点三", "revenue grew by twelve"  # 15 and 22 characters
    assert fresh.token_counts([chinese])[0] > fresh.token_counts([english])[0]


def test_a_question_is_encoded_and_searched_without_importing_torch():
    """What a cold `reportqa ask` pays for its question vector: no sentence-transformers, no torch."""
    code = ("import json, sys, numpy as np; from rag.embeddings import Embedder, similarities; "
            "v = Embedder().encode_one('What were net sales in fiscal 2023?'); "
            "s = similarities(np.stack([v, -v]), v); "
            "print(json.dumps([round(float(x), 4) for x in s] + [m in sys.modules for m in "
            "('torch', 'sentence_transformers', 'transformers')]))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == [1.0, -1.0, False, False, False]


def test_similarities_are_the_matrix_vector_product():
    rng = np.random.default_rng(7)
    vector = rng.standard_normal(384, dtype=np.float32)
    for rows in (500, 45_001):  # a large matrix is done in two halves side by side
        matrix = rng.standard_normal((rows, 384), dtype=np.float32)
        got = similarities(matrix, vector)
        assert got.dtype == np.float32 and got.shape == (rows,) and np.allclose(got, matrix @ vector, atol=1e-4)


def _model_copy(tmp_path, pooling: dict[str, bool] | None = None, config: dict | None = None):
    """The bundled model in a folder of its own, its Pooling or model config changed."""
    folder, bundled = tmp_path / "model", Path(resolve_model(DEFAULT_EMBED_MODEL))
    shutil.copytree(bundled, folder, ignore=shutil.ignore_patterns("model.safetensors"))
    (folder / "model.safetensors").symlink_to(bundled / "model.safetensors")
    if pooling is not None:
        path = folder / "1_Pooling" / "config.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), **pooling}))
    if config is not None:
        path = folder / "config.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), **config}))
    return folder


def test_cls_pooling_equals_sentence_transformers(tmp_path):
    folder = _model_copy(tmp_path, {"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True})
    light = NumpyBert.open(folder)
    assert light is not None and light.pooling == "cls"
    model = Embedder(str(folder)).model
    expected = model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    assert np.abs(light.encode(TEXTS) - expected).max() < 1e-5
    fast = OnnxBert.of(light)
    assert fast is not None and np.abs(fast.encode(TEXTS) - expected).max() < 1e-5


@pytest.mark.parametrize("change", [
    {"pooling": {"pooling_mode_max_tokens": True}},  # two pooling modes at once
    {"pooling": {"pooling_mode_mean_tokens": False, "pooling_mode_max_tokens": True}},
    {"config": {"model_type": "roberta"}},
    {"config": {"hidden_act": "gelu_new"}},
])
def test_a_model_it_does_not_understand_goes_to_sentence_transformers(tmp_path, change):
    folder = _model_copy(tmp_path, change.get("pooling"), change.get("config"))
    assert NumpyBert.open(folder) is None
    assert Embedder(str(folder)).light is None
    assert NumpyBert.open(tmp_path / "absent") is None and Embedder("some/hub-model").light is None
