"""The emergency emission-reduction list (应急减排清单): data model, import/validation, lookup.

Modules: :mod:`~enterprise_list.models` (tables; ``list_in_force``, the one definition of the
version in force on a day), :mod:`~enterprise_list.credit_code` (GB 32100-2015),
:mod:`~enterprise_list.template` (spreadsheet columns), :mod:`~enterprise_list.records` (the shared
types: ``Problem``, ``ParsedList``, ``fill_cuts``), :mod:`~enterprise_list.xlsx_safety` (the xlsx
safety scan), :mod:`~enterprise_list.workbook` (read/write xlsx and CSV), :mod:`~enterprise_list.validate`,
:mod:`~enterprise_list.guide` (2020 guide defaults), :mod:`~enterprise_list.io` (import/export),
:mod:`~enterprise_list.lookup`, :mod:`~enterprise_list.coverage` (permit register),
:mod:`~enterprise_list.sample` (synthetic lists). Heavy imports stay in the submodules:
``import enterprise_list`` is cheap.
"""
