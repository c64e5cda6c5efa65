"""The warning engine: grading rules, recommendation, lifecycle, measures and reductions, bulletins.

Modules (each idea in the module its name says; ``docs/architecture.md`` has the map):
:mod:`~emergency.rules` (grading rules as data), :mod:`~emergency.engine` (the recommendation:
:func:`~emergency.engine.assess`), :mod:`~emergency.lifecycle` (the audited warning),
:mod:`~emergency.notices` (provincial notices), :mod:`~emergency.signoff`,
:mod:`~emergency.reductions`, :mod:`~emergency.bulletin`, :mod:`~emergency.notify`,
:mod:`~emergency.public_forecast`, :mod:`~emergency.report`, :mod:`~emergency.daily` (the
daily chain), :mod:`~emergency.replay` and :mod:`~emergency.events` (event scores).
``import emergency`` is cheap: heavy imports stay in the submodules.
"""
