"""The dashboard's only door to files, the database and the library packages.

Pages, callbacks and the Flask routes call these services; nothing else in :mod:`dashboard` reads a
product file, opens a database session or calls the forecast, list or warning packages. One module
per idea:

* :mod:`~dashboard.services.context`: the settings of the running app, the database engine and
  sessions, and the file-stamp caches every service builds on;
* :mod:`~dashboard.services.products`: the daily product days, the forecast Dataset and its tables,
  the map, the product files offered for download and the bulletin;
* :mod:`~dashboard.services.observations`: the observed days and the recent verification of the
  archived forecasts against them;
* :mod:`~dashboard.services.scores`: the model card and the recorded backtest's scorecards (skill,
  CMA operational scores);
* :mod:`~dashboard.services.events`: the warning-event scores (recorded backtest, and the archive of
  daily recommendations);
* :mod:`~dashboard.services.warnings`: the recommendation, the active warning, the commander's
  actions, history, audit log and provincial notices;
* :mod:`~dashboard.services.reductions`: the reductions of a level against the targets and the
  affected enterprises;
* :mod:`~dashboard.services.compliance`: the compliance check (督查) of the product day: counts,
  violators, lines to inspect, achieved against planned cuts, the report;
* :mod:`~dashboard.services.benefit`: what a level's measures buy (PM2.5 with and without them,
  P(AQI > 200), heavy days avoided) on the newest forecast;
* :mod:`~dashboard.services.evaluations`: the post-episode evaluations (总结评估) of the warnings;
* :mod:`~dashboard.services.bulletin_editor`: the warning's bulletin before its sign-off, its edits;
* :mod:`~dashboard.services.ranking`: the newest county ranking product (composite index, target
  tracking, the monthly report);
* :mod:`~dashboard.services.weather`: the weather forecast behind the newest forecast (会商), and the
  base model whose scores a weather add-on shows;
* :mod:`~dashboard.services.lists`: the list versions, the version in force, the enterprise lookup,
  the 一厂一策 sheet, the template and the coverage report;
* :mod:`~dashboard.services.isolated` and :mod:`~dashboard.services.uploads`: reading uploads in a
  separate, limited process, and storing, validating and importing them;
* :mod:`~dashboard.services.product_csv`: reading a product CSV for a page, with Chinese errors;
* :mod:`~dashboard.services.notes`: the consultation notes (the dashboard's own tables).

The settings are kept in the Flask config (:data:`~dashboard.services.context.SETTINGS_KEY`, set by
:func:`dashboard.app.create_app`); every service takes them from there unless passed explicitly.
Caches are per service, keyed on what they depend on (a file's modification time and size, the
database URL, the settings) and thread-safe (:func:`functools.lru_cache`), so a product rewritten by
the daily chain is read again at once.
"""
