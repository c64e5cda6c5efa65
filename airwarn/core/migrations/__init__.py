"""airwarn's Alembic script directory: the revisions of the database schema.

``env.py`` configures Alembic for :mod:`airwarn.core.db` (which runs it programmatically:
:func:`airwarn.core.db.upgrade`, ``airwarn db upgrade``); ``versions/`` holds one file per revision,
``0001_baseline`` being the schema airwarn had when migrations began. A package, so that it is
installed with airwarn (``script.py.mako``, the template of new revisions, is package data).
See ``docs/database.md`` for how an operator upgrades and a developer adds a revision.
"""
