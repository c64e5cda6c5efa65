"""airwarn: heavy-pollution-weather emergency decision support.

The ``airwarn`` package is the bottom layer shared by every other package
(settings, the glossary of names and units, the database base class) and the
top-level command line (:mod:`airwarn.cli`, :mod:`airwarn.demo`), which is the
only part of it that imports the application packages.
"""

__version__ = "0.1.0"


class AirwarnWarning(UserWarning):
    """A result that is usable but degraded (missing data, a value off a table)."""


__all__ = ["AirwarnWarning", "__version__"]
