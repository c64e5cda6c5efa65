"""Calling a function in a separate, limited process: a file that makes a reader abort or exhaust
its memory or time kills only that process, never the server (the uploads of the list page).

The readers the process runs (:func:`read_and_check`, :func:`read_only`, :func:`read_register`) live
here and import the list package inside: the new process imports this light module by name, and only
the reader it runs pulls in :mod:`enterprise_list` (what it imports before the limits apply stays small).
"""
from __future__ import annotations

import multiprocessing
import resource

from airwarn.core.errors import InputError

#: Address space [bytes] and time [s] of the separate process that reads and validates an upload.
UPLOAD_MEMORY_BYTES = 2 * 1024 ** 3
UPLOAD_SECONDS = 60


class IsolatedFailure(RuntimeError):
    """The separate process of :func:`run_isolated` died, ran out of memory or took too long.

    Attributes
    ----------
    reason : {'crash', 'memory', 'time'}
    """

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def _isolated_child(conn, func, args: tuple, memory_bytes: int | None, seconds: int) -> None:
    """Body of the process of :func:`run_isolated`: set the limits, call, send the outcome."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort leaves no core file behind
    for limit, value in ((resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_CPU, seconds)):
        if value:
            hard = resource.getrlimit(limit)[1]
            resource.setrlimit(limit, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))
    try:
        try:
            outcome: tuple = ("ok", func(*args))
        except MemoryError:
            outcome = ("memory", "")
        except Exception as exc:  # reported to the parent, which raises it as an InputError
            outcome = ("error", f"{type(exc).__name__}: {exc}" if not isinstance(exc, (ValueError, OSError))
                       else str(exc))
        conn.send(outcome)
    except MemoryError:
        conn.send(("memory", ""))
    finally:
        conn.close()


def run_isolated(func, *args, memory_bytes: int | None = UPLOAD_MEMORY_BYTES, seconds: int = UPLOAD_SECONDS):
    """Call ``func(*args)`` in a new process (``spawn``) with an address-space and a time limit.

    Parameters
    ----------
    func : callable
        A module-level function (it is imported by name in the new process); its arguments and its
        value are pickled.
    memory_bytes : int or None
        ``RLIMIT_AS`` of the process (``None``: none).
    seconds : int
        Wall-clock limit (the process is killed then) and CPU-time limit.

    Returns
    -------
    object
        What ``func`` returned.

    Raises
    ------
    InputError
        With the message of an exception ``func`` raised.
    IsolatedFailure
        If the process died (a signal, e.g. an abort in a native reader), ran out of memory or time.
    """
    ctx = multiprocessing.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_isolated_child, args=(send, func, args, memory_bytes, seconds), daemon=True,
                       name="airwarn-isolated")
    proc.start()
    send.close()
    try:
        if not recv.poll(seconds):
            raise IsolatedFailure(f"took longer than {seconds} s", "time")
        try:
            outcome = recv.recv()
        except EOFError:
            proc.join(5)
            code = proc.exitcode
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            raise IsolatedFailure(f"the process died ({how})", "crash") from None
    finally:
        recv.close()
        if proc.is_alive():
            proc.kill()
        proc.join()
    if outcome[0] == "memory":
        raise IsolatedFailure(f"needed more than {memory_bytes / 2 ** 30:g} GB of memory", "memory")
    if outcome[0] == "error":
        raise InputError(outcome[1])
    return outcome[1]


# --------------------------------------------------------------------------- what the process runs
# Module-level and in this light module: the new process imports only what it needs to read a file.
def read_and_check(path: str, city: str, counties, previous, allow_shrink: bool):
    """In the separate process: read an uploaded list and validate it against the version in force,
    the city's box and its counties (``None``: not checked), as the app's settings give them."""
    from enterprise_list.io import read_list_workbook, validate

    parsed = read_list_workbook(path)
    return parsed, validate(parsed, counties=counties, bounds=city, previous=previous, allow_shrink=allow_shrink)


def read_only(path: str):
    """In the separate process: read an uploaded list."""
    from enterprise_list.io import read_list_workbook

    return read_list_workbook(path)


def read_register(path: str):
    """In the separate process: read a discharge-permit register (:mod:`enterprise_list.coverage`)."""
    from enterprise_list.coverage import read_permit_register

    return read_permit_register(path)
