"""Atomic file writes: a reader never sees a half-written product.

Every writer goes through :func:`atomic_path`: the content is written to a
temporary file in the target's folder, which then replaces the target in one
``os.replace``; on any error the temporary file is removed and the previous
file, if any, is left untouched.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_path(path: str | os.PathLike, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    Parameters
    ----------
    path : path-like
        The file to write. Its folder is created if needed.
    mode : int, optional
        Permission bits for the new file: ``0o644`` by default (readable products),
        ``0o600`` for secrets.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_path(out) as tmp:
    ...     _ = tmp.write_text("done")
    >>> out.read_text()
    'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix or ".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (LF line ends)."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding=encoding, newline="\n") as fh:
            fh.write(text)


def atomic_write_bytes(path: str | os.PathLike, payload: bytes, mode: int = 0o644) -> None:
    """Write ``payload`` to ``path`` atomically, optionally with permission bits ``mode``."""
    with atomic_path(path, mode=mode) as tmp:
        tmp.write_bytes(payload)


#: First characters that make a spreadsheet take a cell for a formula (OWASP, "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_escape(value: object) -> object:
    """A CSV cell that no spreadsheet runs as a formula (issue 14, break 10).

    Text starting with one of :data:`FORMULA_TRIGGERS` (after any single quotes) gets one more
    leading single quote, as OWASP recommends; :func:`csv_unescape` undoes it exactly, so an
    exported file reads back to the same text. Anything but text is returned unchanged.

    Examples
    --------
    >>> csv_escape('=HYPERLINK("http://evil.example/x")')
    '\\'=HYPERLINK("http://evil.example/x")'
    >>> csv_escape("0353-1234567"), csv_escape(-3.0)
    ('0353-1234567', -3.0)
    >>> all(csv_unescape(csv_escape(t)) == t for t in ("-3", "+86 353", "'=x", "''", "@a"))
    True
    """
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def csv_unescape(text: str) -> str:
    """Undo :func:`csv_escape` on a cell read from CSV."""
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text
