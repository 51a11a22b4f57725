"""Errors a user can act on: one line saying what is wrong with which file."""

from __future__ import annotations


class IngestError(Exception):
    """The file cannot be read as a report; `code` is stable for programs, `str()` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message
