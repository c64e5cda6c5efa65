"""Limits of a list import that the command line and the pages name in their help (no heavy imports).

:data:`MAX_SHRINK` is enforced by :func:`enterprise_list.validate.compare_totals`; it lives here so that
``airwarn --help`` can state it without loading pandas and SQLAlchemy.
"""

#: Share of the version in force (its enterprises, lines, or any pollutant's total baseline) that a new
#: version may drop without an explicit confirmation (``airwarn list import --allow-shrink``, the
#: confirmation box of the dashboard's 清单管理 page).
MAX_SHRINK = 0.20
