"""Parsed documents that passed the limits and validation, kept by query text.

A hit skips both parsing and validation, which DESIGN §9 measured as most of the cost of a
small request. The cache is bounded twice: by entries and by the total length of the query
texts it holds (a parsed document takes a few dozen times its text in memory), so distinct
documents cannot grow the process without bound. Only documents that were found valid are put
here; a refused document is never kept.

It lives in one schema, on one event loop: no locking.
"""

from __future__ import annotations

from collections import OrderedDict

from graphql import DocumentNode

__all__ = ["DocumentCache"]


class DocumentCache:
    """An LRU of valid documents, bounded by `max_entries` and by `max_bytes` of query text."""

    def __init__(self, *, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.size_bytes = 0
        self._documents: OrderedDict[str, DocumentNode] = OrderedDict()

    def __len__(self) -> int:
        return len(self._documents)

    def get(self, query: str) -> DocumentNode | None:
        document = self._documents.get(query)
        if document is not None:
            self._documents.move_to_end(query)
        return document

    def put(self, query: str, document: DocumentNode) -> None:
        """Keep `document`, evicting the least recently used ones to make room; a text larger
        than the whole byte budget is not kept."""
        size = len(query)
        if size > self.max_bytes or self.max_entries == 0 or query in self._documents:
            return
        while self._documents and (
            len(self._documents) >= self.max_entries or self.size_bytes + size > self.max_bytes
        ):
            evicted, _ = self._documents.popitem(last=False)
            self.size_bytes -= len(evicted)
        self._documents[query] = document
        self.size_bytes += size
