"""airwarn: heavy-pollution-weather emergency decision support.

Two layers live in this package, at the two ends of the import graph (``docs/architecture.md``):

* :mod:`airwarn.core`, the **floor**: settings, the glossary of names and units, the error
  hierarchy, dates, files, the database base and the users. It imports nothing of the project,
  and every package may import it.
* :mod:`airwarn.cli`, :mod:`airwarn.demo` and :mod:`airwarn.db_cli`, the **shell**: the
  ``airwarn`` command, the demo and the database commands (the migrations themselves are data of
  the floor, :mod:`airwarn.core.migrations`). They import the application packages
  (forecast, enterprise_list, emergency, dashboard); nothing imports them.

The layers are a contract checked by import-linter (``[importlinter]`` in ``setup.cfg``).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
