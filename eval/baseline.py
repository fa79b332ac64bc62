"""The plain llama-index pipeline the harness compares against.

SimpleDirectoryReader (its PDFReader yields one document per page, with ``page_label``) +
SentenceSplitter (its defaults, or ``chunk_size`` tokens with a 10% overlap: 256 matches what the bundled model reads) +
VectorStoreIndex on its own Chroma collection, the same embedding model through llama-index's own
HuggingFaceEmbedding, and a top-k retriever. No LLM: the baseline's
"answer" is the text of its best chunk, which is what a plain retrieval pipeline shows its user.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.embeddings import resolve_model
from rag.settings import Settings
from rag.store import make_client
from rag.types import Answer, Chunk, Hit

__all__ = ["Baseline", "BaselineBuild"]

BATCH = 64


@dataclass(frozen=True)
class BaselineBuild:
    """What :meth:`Baseline.build` did: ``reused`` when the same files were already indexed."""

    files: int
    chunks: int
    seconds: float
    reused: bool


class Baseline:
    """A plain llama-index index over the same files, kept in the library's Chroma under its own name."""

    def __init__(self, settings: Settings, top_k: int = 10, chunk_size: int | None = None) -> None:
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding

        # No llama-index LLM is set: indexing and retrieving need only the embedding model.
        self.embed_model = HuggingFaceEmbedding(
            model_name=resolve_model(settings.embed_model), device="cpu", embed_batch_size=BATCH
        )
        self.settings = settings
        self.top_k = top_k
        self.chunk_size = chunk_size
        suffix = f"_{chunk_size}" if chunk_size else ""
        self.collection_name = f"{settings.collection}_baseline{suffix}"
        self.client = make_client(settings)
        self._index: Any = None

    def build(self, paths: Sequence[Path | str]) -> BaselineBuild:
        """Index the files under ``paths``; reuses the collection when it holds exactly these files."""
        from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter

        started = time.perf_counter()
        files = sorted({p.resolve() for path in paths for p in _files(Path(path))})
        if not files:
            raise ValueError(f"the baseline has no files to index in {[str(p) for p in paths]}")
        fingerprint = _fingerprint(f"{self.settings.embed_model};{self.chunk_size}", files)
        collection = self._collection()
        if (collection.metadata or {}).get("fingerprint") == fingerprint and collection.count():
            self._index = self._open(collection)
            return BaselineBuild(len(files), collection.count(), time.perf_counter() - started, True)
        self.client.delete_collection(self.collection_name)
        collection = self._collection(fingerprint)
        documents = SimpleDirectoryReader(input_files=[str(f) for f in files]).load_data()
        _number_pages(documents)
        splitter = SentenceSplitter(chunk_size=self.chunk_size, chunk_overlap=self.chunk_size // 10) if self.chunk_size else SentenceSplitter()
        self._index = VectorStoreIndex.from_documents(
            documents, storage_context=StorageContext.from_defaults(vector_store=_vector_store(collection)),
            embed_model=self.embed_model, transformations=[splitter],
        )
        return BaselineBuild(len(files), collection.count(), time.perf_counter() - started, False)

    def answer(self, question: str, files: Sequence[str] = ()) -> Answer:
        """The top-k chunks for ``question``, only from ``files`` (names) if given; the answer is the best."""
        from llama_index.core.vector_stores import FilterCondition, MetadataFilter, MetadataFilters

        if self._index is None:
            self._index = self._open(self._collection())
        filters = None
        if files:
            filters = MetadataFilters(
                filters=[MetadataFilter(key="file_name", value=name) for name in files],
                condition=FilterCondition.OR,
            )
        retriever = self._index.as_retriever(similarity_top_k=self.top_k, filters=filters)
        started = time.perf_counter()
        nodes = retriever.retrieve(question)
        hits = tuple(_hit(node, rank) for rank, node in enumerate(nodes, 1))
        elapsed = (time.perf_counter() - started) * 1000
        text = hits[0].chunk.text if hits else ""
        return Answer(question=question, text=text, answerable=bool(hits), hits=hits, mode="baseline",
                      timings_ms={"retrieve": elapsed, "total": elapsed})

    def _collection(self, fingerprint: str | None = None) -> Any:
        # embedding_function=None: Chroma must not load (or download) its default model for us.
        metadata = {"fingerprint": fingerprint} if fingerprint else None
        return self.client.get_or_create_collection(
            self.collection_name, metadata=metadata, embedding_function=None
        )

    def _open(self, collection: Any) -> Any:
        from llama_index.core import VectorStoreIndex

        return VectorStoreIndex.from_vector_store(_vector_store(collection), embed_model=self.embed_model)


def _vector_store(collection: Any) -> Any:
    from llama_index.vector_stores.chroma import ChromaVectorStore

    return ChromaVectorStore(chroma_collection=collection)


def _number_pages(documents: list[Any]) -> None:
    """Record each PDF page's 1-based index: page labels may be printed numbers ("ii", "F-3")."""
    seen: dict[str, int] = {}
    for doc in documents:
        path = doc.metadata.get("file_path", doc.metadata.get("file_name", ""))
        seen[path] = seen.get(path, 0) + 1
        doc.metadata["page_index"] = seen[path] if path.lower().endswith(".pdf") else 1
        doc.excluded_embed_metadata_keys.append("page_index")
        doc.excluded_llm_metadata_keys.append("page_index")


def _fingerprint(model: str, files: Sequence[Path]) -> str:
    digest = hashlib.sha256(model.encode())
    for path in files:
        digest.update(path.name.encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not path.is_file():
        raise FileNotFoundError(f"baseline input {path} does not exist")
    return [path]


def _hit(node_with_score: Any, rank: int) -> Hit:
    node = node_with_score.node
    meta = node.metadata or {}
    page = int(meta.get("page_index", 1))
    source = meta.get("file_name", "")
    chunk = Chunk(
        chunk_id=node.node_id, doc_id=source, ordinal=rank - 1, text=node.get_content(), source=source,
        page=page, page_end=page,
    )
    return Hit(chunk=chunk, score=float(node_with_score.score or 0.0), ranks={"dense": rank})
