"""The one error type that the CLI turns into a clear message instead of a traceback."""

from __future__ import annotations


class WorkbenchError(Exception):
    """Bad input or a failed step, with where it happened (file, line, document)."""

    def __init__(self, message: str, *, path: object = None, line: int | None = None, doc_id: str | None = None):
        self.message = message
        self.path = path
        self.line = line
        self.doc_id = doc_id
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
        if self.doc_id is not None:
            where += f" [{self.doc_id}]" if where else f"[{self.doc_id}]"
        return f"{where}: {self.message}" if where else self.message
