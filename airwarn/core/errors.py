"""The one error hierarchy of airwarn, and its warning class.

Every error that a user's input, file, settings or database can cause derives from
:class:`AirwarnError`; the command line reports exactly these as one line (exit 2, or 3 for
the database) and lets any other exception, which is a bug, show its traceback. Where a
built-in type says the same thing, the class derives from it too, so ``except ValueError``
in a caller still works:

===========================  ===========================  =======================================
class                        also a                       raised for
===========================  ===========================  =======================================
:class:`AirwarnError`        ``Exception``                (the base)
:class:`InputError`          ``ValueError``               a bad argument value, a bad file
:class:`ReaderError`         ``ValueError``               a file's layout or a cell that can't be read
:class:`UnknownNameError`    ``ValueError``               a city, rule set, area, pollutant, user … not known
:class:`ConflictError`       ``ValueError``               a step that does not fit the current state
:class:`NotAuthorisedError`  ``PermissionError``          an action the user's role may not take
:class:`DatabaseError`       ``RuntimeError``             a database that can't be used as it is
:class:`DriverMissingError`  ``ModuleNotFoundError``      a database driver that is not installed
===========================  ===========================  =======================================

The floor: this module imports nothing of the project.
"""
from __future__ import annotations

__all__ = [
    "AirwarnError", "AirwarnWarning", "ConflictError", "DatabaseError", "DatabaseRefusedError",
    "DriverMissingError", "InputError", "NotAuthorisedError", "ReaderError", "SchemaMismatchError",
    "UnknownNameError",
]


class AirwarnWarning(UserWarning):
    """A result that is usable but degraded (missing data, a value off a table)."""


class AirwarnError(Exception):
    """An error to report to the user as one line: the input, not the program, is at fault."""


class InputError(AirwarnError, ValueError):
    """An argument, option or value that airwarn cannot use (the message says what was expected)."""


class UnknownNameError(AirwarnError, ValueError):
    """A name (city, rule set, area, pollutant, user, list version, …) that is not known.

    Not a :class:`KeyError`: its message prints as it is, without the quotes ``KeyError`` adds.
    """


class ConflictError(AirwarnError, ValueError):
    """A step that does not fit the current state (a lost race, a stale revision, a closed warning)."""


class NotAuthorisedError(AirwarnError, PermissionError):
    """The acting user's role may not take this action (checked server-side)."""


class ReaderError(AirwarnError, ValueError):
    """A file does not have the expected layout or holds a value that cannot be read.

    Attributes
    ----------
    source : str
        The file (or buffer name).
    row : int or None
        1-based line number in the file (the header is line 1).
    column : str or None
        The column as named in the file.
    expected, got : str or None
        What the reader expected and what it found.
    """

    def __init__(
        self,
        source: str,
        message: str | None = None,
        *,
        row: int | None = None,
        column: str | None = None,
        expected: str | None = None,
        got: object = None,
    ) -> None:
        self.source, self.row, self.column, self.expected, self.got = source, row, column, expected, got
        where = [str(source)]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        text = ", ".join(where) + ": "
        if message:
            text += message
        else:
            text += f"expected {expected}, got {_as_file_text(got)!r}"
        super().__init__(text)


def _as_file_text(value: object) -> str:
    """A parsed cell shown as it reads in the file (``24`` not ``np.int64(24)``, '' for missing)."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return ""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # a numpy scalar
        try:
            value = value.item()
        except (TypeError, ValueError):
            pass
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    try:  # pandas' missing markers (NaT, NA) without importing pandas here
        if value != value:
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


class DatabaseError(AirwarnError, RuntimeError):
    """The database can't be used as it is (reported with exit code 3)."""


class DatabaseRefusedError(DatabaseError):
    """An existing database file is not a sound airwarn database (empty, not SQLite, damaged, or another
    program's); the message is one line naming the file, what is wrong and what to do."""


class SchemaMismatchError(DatabaseError):
    """The database's schema is not the one this version of airwarn uses (``airwarn db upgrade`` moves
    it on)."""


class DriverMissingError(AirwarnError, ModuleNotFoundError):
    """The database URL needs a driver that is not installed (an installation error, not the database's)."""
