"""The committed trained forecast models, one folder per model (``aqistudy-2016`` the default).

This folder holds data, not code: it is installed as the data package ``airwarn_models``
(``setup.cfg``: ``package_dir``, ``package_data``), so that an installed airwarn carries its models;
:func:`airwarn.core.settings.models_dir` finds it with :mod:`importlib.resources`.
"""
