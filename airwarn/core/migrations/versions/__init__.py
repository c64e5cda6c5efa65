"""The revisions, oldest first (``0001_baseline``, ...); Alembic loads them by path."""
