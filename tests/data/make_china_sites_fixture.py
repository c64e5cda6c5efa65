"""Write the hand-made ``china_sites_YYYYMMDD.csv`` fixtures of this folder (run once; output committed).

Plausible, invented numbers for a January heating-season episode in Yangquan
(1738A–1743A, 3619A), Taiyuan (1081A) and Jinzhong (2171A); NOT real data.
The layout is the CNEMC national archive's: ``date,hour,type,<station codes>``,
one row per hour and type. Derived types are computed from the invented hourly
values within the fixture (``*_24h``: mean of the last up-to-24 hours; ``O3_24h``:
max 1-h O3 of the last 24 h; ``O3_8h``: 8-h mean of >= 6 values;
``O3_8h_24h``: its 24-h max); ``AQI`` is an illustrative hourly index, not an
exact HJ 633 value. Quirks on purpose: day 2 has no rows for hour 5; station
3619A only appears on day 2; a few empty cells.

    python tests/data/make_china_sites_fixture.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
TYPES = [
    "AQI",
    "PM2.5",
    "PM2.5_24h",
    "PM10",
    "PM10_24h",
    "SO2",
    "SO2_24h",
    "NO2",
    "NO2_24h",
    "O3",
    "O3_24h",
    "O3_8h",
    "O3_8h_24h",
    "CO",
    "CO_24h",
]
STATIONS = {
    "1738A": 1.0,
    "1739A": 0.9,
    "1740A": 1.05,
    "1741A": 1.1,
    "1742A": 0.95,
    "1743A": 1.0,
    "3619A": 0.85,
    "1081A": 1.15,
    "2171A": 1.2,
}


def _hourly(seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    hours = pd.date_range("2025-01-15 00:00", "2025-01-16 23:00", freq="h")
    t = np.arange(len(hours))
    episode = 60 + 100 * np.clip((t - 6) / 30, 0, 1)  # PM2.5 builds up over the two days
    diurnal = 1 + 0.25 * np.cos(2 * np.pi * (hours.hour - 21) / 24)
    out = {}
    for code, factor in STATIONS.items():
        noise = rng.normal(1, 0.08, len(t))
        pm25 = np.round(episode * diurnal * factor * noise)
        pm10 = np.round(pm25 * rng.uniform(1.3, 1.6, len(t)))
        so2 = np.round(45 * factor * diurnal * rng.normal(1, 0.15, len(t)))
        no2 = np.round(48 * factor * (1 + 0.3 * np.cos(2 * np.pi * (hours.hour - 20) / 24)) * noise)
        o3 = np.round(np.clip(40 * np.sin(np.pi * (hours.hour - 8) / 12), 0, None) + 6 * noise)
        co = np.round(1.2 + pm25 / 90 * factor, 3)
        out[code] = pd.DataFrame(
            {"PM2.5": pm25, "PM10": pm10, "SO2": so2, "NO2": no2, "O3": o3, "CO": co}, index=hours
        )
    return out


def _iaqi_pm25(c: np.ndarray) -> np.ndarray:
    bp = [0, 35, 75, 115, 150, 250, 350, 500]
    iaqi = [0, 50, 100, 150, 200, 300, 400, 500]
    return np.ceil(np.interp(c, bp, iaqi))


def main() -> None:
    data = _hourly(20250115)
    for code, df in data.items():
        for col in ("PM2.5", "PM10", "SO2", "NO2", "CO"):
            df[f"{col}_24h"] = df[col].rolling(24, min_periods=1).mean().round(3 if col == "CO" else 0)
        df["O3_24h"] = df["O3"].rolling(24, min_periods=1).max()
        df["O3_8h"] = df["O3"].rolling(8, min_periods=6).mean().round()
        df["O3_8h_24h"] = df["O3_8h"].rolling(24, min_periods=1).max()
        df["AQI"] = np.maximum(_iaqi_pm25(df["PM2.5_24h"].to_numpy()), _iaqi_pm25(df["PM10_24h"] / 2.4))
    data["1741A"].loc["2025-01-15 09:00", ["PM2.5", "PM10"]] = np.nan  # analyser fault
    data["1743A"].loc["2025-01-16 14:00", "O3"] = np.nan
    for day in ("2025-01-15", "2025-01-16"):
        codes = [c for c in STATIONS if not (c == "3619A" and day == "2025-01-15")]
        rows = []
        for hour in range(24):
            if day == "2025-01-16" and hour == 5:
                continue  # the archive lacks this hour
            stamp = pd.Timestamp(day) + pd.Timedelta(hours=hour)
            for typ in TYPES:
                row = {"date": day.replace("-", ""), "hour": hour, "type": typ}
                for code in codes:
                    value = data[code].loc[stamp, typ]
                    row[code] = "" if pd.isna(value) else (f"{value:g}")
                rows.append(row)
        pd.DataFrame(rows).to_csv(HERE / f"china_sites_{day.replace('-', '')}.csv", index=False)


if __name__ == "__main__":
    main()
