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
        self._light_store: Store | None = None
        if embedder is not None:
            self.__dict__["embedder"] = embedder
        if store is not None:
            self.__dict__["store"] = store

    @cached_property
    def embedder(self) -> Embedder:
        return Embedder(self.settings.embed_model, batch_size=self.settings.embed_batch)

    @cached_property
    def store(self) -> Store:
        """Opened with the configured model's name and dimension (loads the model)."""
        return Store(self.settings, self.embedder.name, self.embedder.dim)

    def open_readonly_store(self) -> Store:
        """The store opened without loading the model (checked by model name only).

        Listings, deletions and skipping unchanged files need no vectors, so they need no model; despite
        the name this store can delete. Once :attr:`store` is open, that one is returned.
        """
        if "store" in self.__dict__:
            return self.store
        if self._light_store is None:
            self._light_store = Store(self.settings, self.embedder.name, None)
        return self._light_store
