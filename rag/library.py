"""A library: its settings, embedding model and Chroma store, each created on first use."""

from __future__ import annotations

from functools import cached_property

from rag.embeddings import Embedder
from rag.settings import Settings
from rag.store import Store


class Library:
    """The collaborators every operation needs; pass ``embedder``/``store`` to share or swap them."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, store: Store | None = None) -> None:
        self.settings = settings
        if embedder is not None:
            self.__dict__["embedder"] = embedder
        if store is not None:
            self.__dict__["store"] = store

    @cached_property
    def embedder(self) -> Embedder:
        return Embedder(self.settings.embed_model, batch_size=self.settings.embed_batch)

    @cached_property
    def store(self) -> Store:
        """Opened with the configured model's name, without loading the model: listing, deleting and
        answering a question the model cannot read need none (the dimension is checked when vectors are
        written)."""
        return Store(self.settings, self.embedder.name)

    def reset(self) -> None:
        """Empty the library for re-indexing with the configured model, whichever model built it."""
        if "store" in self.__dict__:
            self.store.reset()
        else:  # opened with reset=True: the model check of the old collections must not fire first
            self.__dict__["store"] = Store(self.settings, self.embedder.name, reset=True)
