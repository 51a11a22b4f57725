"""Response cache keyed by server, model, prompt version, mode and the exact request: re-running a batch is free.

The server's base URL is part of the key: the same model name on another server (a scripted test
server, a local llama.cpp, a hosted API) is another model, and its answers must not be replayed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


class ResponseCache:
    def __init__(self, folder: Path | None, base_url: str | None = None) -> None:
        """`base_url` goes into every key; pass the server's address (None only where no request is sent)."""
        self.folder = folder
        self.server = (base_url or "").strip().rstrip("/")

    def key(self, model: str, prompt_version: str, mode: str, block: str, text: str) -> str:
        payload = json.dumps([self.server, model, prompt_version, mode, block, text], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path | None:
        return None if self.folder is None else self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        path = self._path(key)
        if path is None or not path.exists():
            return None
        try:
            loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return loaded

    def put(self, key: str, value: dict[str, Any]) -> None:
        path = self._path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
        temporary.replace(path)
