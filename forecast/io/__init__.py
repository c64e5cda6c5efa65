"""Readers of the observation formats airwarn receives: the package face.

Every reader returns a tidy :class:`pandas.DataFrame` whose columns carry the glossary names and
units of :mod:`airwarn.core.vocab` (µg/m³, CO in mg/m³). Each format has its module, with the
variable map of its source (source column → our name, as :mod:`pvlib.iotools` does, so drifting
headers ``PM2.5``/``pm2.5``/``pm25`` land on one name), one public ``read_*`` that opens paths and
a ``parse_*`` that takes an open text buffer:

==========================================  ==========================  ===================================
format                                      module                      reader
==========================================  ==========================  ===================================
aqistudy city daily (AQI + concentrations)  :mod:`.aqistudy`            :func:`read_city_daily`
CNEMC one station, hourly                   :mod:`.cnemc_hourly`        :func:`read_cnemc_station_hourly`
CNEMC national archive ``china_sites_*``    :mod:`.china_sites`         :func:`read_china_sites`
UCI Beijing multi-site / PM2.5 (PRSA)       :mod:`.prsa`                :func:`read_prsa_multisite`,
                                                                        :func:`read_prsa_single`
CNEMC station list, city coordinates        :mod:`.stations`            :func:`read_station_list`,
                                                                        :func:`city_coordinates`
station daily values with their county      :mod:`.county_daily`        :func:`read_county_daily`
NWP GRIB2 runs (ECMWF, GFS, CMA GRAPES)     :mod:`.grib`                :func:`open_grib`, :func:`grib_runs`
tidy station/city meteorology CSV           :mod:`.met_csv`             :func:`read_met_csv`
any of the above → city days (``--obs``)    :mod:`.observations`        :func:`read_observations`
any CSV the way the readers read it         :mod:`._csv` (private)      :func:`read_table`
==========================================  ==========================  ===================================

A malformed file raises :class:`~airwarn.core.errors.ReaderError` (a :class:`ValueError`) naming
the file, the 1-based line number as it appears in the file, the column, what was expected and
what came: undecodable text, a damaged gzip stream, an unreadable value, a last line cut short
(:func:`check_last_line`), two rows for one station/city and hour/day with different values.
Values that parse but are implausible (negative, not finite, or beyond :data:`PLAUSIBLE_RANGES`)
are set to NaN and reported in one :class:`ReaderWarning` per call naming the file, the first
rows, columns and values; the counts are kept in ``df.attrs["qc"]`` and the rows (file, row,
column, value, problem, city/station, day) in ``df.attrs["qc_rows"]`` (:data:`MAX_QC_ROWS` at
most). :func:`qc_notes` turns them into the sentences of a forecast's data-quality section.

Gridded NWP / reanalysis fields are read by :mod:`forecast.nwp` (not re-exported here).
"""

from __future__ import annotations

from airwarn.core.errors import ReaderError
from forecast.io._csv import (
    HOURLY_POLLUTANTS,
    MAX_QC_ROWS,
    NA_VALUES,
    PLAUSIBLE_RANGES,
    ReaderWarning,
    check_last_line,
    expand_pattern,
    qc_notes,
    read_table,
)
from forecast.io.aqistudy import (
    CITY_DAILY_COLUMNS,
    CITY_DAILY_VARIABLE_MAP,
    parse_city_daily,
    read_city_daily,
)
from forecast.io.china_sites import (
    CHINA_SITES_TYPE_MAP,
    CHINA_SITES_VARIABLE_MAP,
    parse_china_sites,
    read_china_sites,
)
from forecast.io.cnemc_hourly import (
    CNEMC_HOURLY_VARIABLE_MAP,
    parse_cnemc_station_hourly,
    read_cnemc_station_hourly,
)
from forecast.io.county_daily import (
    COUNTY_DAILY_COLUMNS,
    COUNTY_DAILY_VARIABLE_MAP,
    UCI_BEIJING_DISTRICTS,
    parse_county_daily,
    read_county_daily,
)
from forecast.io.grib import GRIB_FIELDS, grib_runs, is_grib, open_grib, scan_grib
from forecast.io.met_csv import MET_CSV_COLUMNS, parse_met_csv, read_met_csv
from forecast.io.observations import (
    expand_paths,
    is_china_sites,
    is_prsa,
    prsa_daily_with_aqi,
    read_observations,
)
from forecast.io.prsa import (
    CBWD_VALUES,
    COMPASS_16,
    PRSA_MULTISITE_VARIABLE_MAP,
    PRSA_SINGLE_VARIABLE_MAP,
    PRSA_STATION_CODES,
    parse_prsa_multisite,
    parse_prsa_single,
    read_prsa_multisite,
    read_prsa_single,
)
from forecast.io.stations import (
    CITY_ALIASES,
    STATION_LIST_VARIABLE_MAP,
    city_coordinates,
    parse_station_list,
    read_station_list,
)

__all__ = [
    "CBWD_VALUES",
    "CHINA_SITES_TYPE_MAP",
    "CHINA_SITES_VARIABLE_MAP",
    "CITY_ALIASES",
    "CITY_DAILY_COLUMNS",
    "CITY_DAILY_VARIABLE_MAP",
    "CNEMC_HOURLY_VARIABLE_MAP",
    "COMPASS_16",
    "COUNTY_DAILY_COLUMNS",
    "COUNTY_DAILY_VARIABLE_MAP",
    "GRIB_FIELDS",
    "HOURLY_POLLUTANTS",
    "MAX_QC_ROWS",
    "MET_CSV_COLUMNS",
    "NA_VALUES",
    "PLAUSIBLE_RANGES",
    "PRSA_MULTISITE_VARIABLE_MAP",
    "PRSA_SINGLE_VARIABLE_MAP",
    "PRSA_STATION_CODES",
    "ReaderError",
    "ReaderWarning",
    "STATION_LIST_VARIABLE_MAP",
    "UCI_BEIJING_DISTRICTS",
    "check_last_line",
    "city_coordinates",
    "expand_paths",
    "expand_pattern",
    "grib_runs",
    "is_china_sites",
    "is_grib",
    "is_prsa",
    "open_grib",
    "parse_china_sites",
    "parse_city_daily",
    "parse_cnemc_station_hourly",
    "parse_county_daily",
    "parse_met_csv",
    "parse_prsa_multisite",
    "parse_prsa_single",
    "parse_station_list",
    "prsa_daily_with_aqi",
    "qc_notes",
    "read_china_sites",
    "read_city_daily",
    "read_cnemc_station_hourly",
    "read_county_daily",
    "read_met_csv",
    "read_observations",
    "read_prsa_multisite",
    "read_prsa_single",
    "read_station_list",
    "read_table",
    "scan_grib",
]
