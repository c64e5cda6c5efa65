"""The floor of airwarn: what every package shares, importing nothing of the project.

=====================  =================================================================
module                 what it holds
=====================  =================================================================
:mod:`.settings`       the settings file and its city profile (city, counties, paths, URL)
:mod:`.vocab`          the glossary: pollutants, levels, roles, regions, thresholds, dates
:mod:`.units`          the one registry of units: file codes, display texts, CF names
:mod:`.errors`         the error hierarchy (:class:`~.errors.AirwarnError`) and the warning
:mod:`.dates`          Beijing time: conversions and the labelled Chinese format
:mod:`.files`          atomic writes, CSV escaping for spreadsheets
:mod:`.products`       where each daily product lives under the output folder
:mod:`.db`             the database: engines, the SQLite checks, the declarative base
:mod:`.chain`          the row hashes of the audit chains
:mod:`.users`          the dashboard's users, passwords, sessions and sign-in throttling
:mod:`.zh`             Chinese labels and full-width punctuation
=====================  =================================================================
"""
