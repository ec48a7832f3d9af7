"""Where uploaded files live: one small interface, so a deployment can put them on disk
(the default) or in an object store, while the database keeps only the name, size, type
and SHA-256 of each."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Protocol


class FileStore(Protocol):
    def put(self, content: bytes) -> str:
        """Keep `content`; returns its key (its SHA-256: the same file is kept once)."""

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None:
        """Forget a file; deleting one that is gone is not an error."""


class DiskFileStore:
    """Files under one directory, named by their SHA-256, readable only by the bot's user."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"not a file key: {key!r}")
        return self.root / key[:2] / key

    def put(self, content: bytes) -> str:
        key = hashlib.sha256(content).hexdigest()
        path = self._path(key)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            partial = path.with_suffix(".part")
            partial.write_bytes(content)
            os.chmod(partial, 0o600)
            partial.replace(path)
        return key

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
