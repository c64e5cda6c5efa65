"""The 会商 page shows the weather behind the forecast (issue 16): the 气象条件预报 panel, the fan chart's line
on whether weather was used, and the scorecard note of a weather add-on scored by its base model.

The products are the fixture's forecast (``dash_env``) with weather variables added as the model writes them
(``met_<v>`` and the ``weather_*`` attributes of :mod:`forecast.product`); the weather values are SYNTHETIC.
"""
from __future__ import annotations

import numpy as np
import pytest

from dashboard.services import weather as weather_service
from tests.dashboard.test_callbacks import _find, _texts, signed_in

DAY = "2026-01-10"
SOURCES = ("gfs_synthetic_2026011000_f024.grib2", "gfs_synthetic_2026011000_f048.grib2")
#: 阳泉's weather by lead day: a stagnant spell on days 2–4 (low boundary layer, calm, humid, inversion).
BLH = np.array([820, 380, 310, 350, 760, 900, 880, 700, 650, 720], dtype="float32")
WS10 = np.array([3.6, 1.4, 1.1, 1.3, 3.9, 4.2, 3.8, 2.9, 2.7, 3.1], dtype="float32")
RH = np.array([45, 72, 81, 78, 40, 35, 38, 50, 55, 52], dtype="float32")
INVERSION = np.array([-3.5, 2.1, 4.6, 3.2, -4.1, -5.0, -4.4, -1.0, 0.5, -0.8], dtype="float32")
STAGNATION = (WS10 < 3.2).astype("float32")


def _with_weather(ds, inversion="inversion_850", wind="ws10", sources=SOURCES, synthetic=None):
    """The product with 阳泉's weather added as :func:`forecast.product.forecast_dataset` writes it;
    ``weather_synthetic`` only when ``synthetic`` is given (None: a product written before it existed)."""
    values = {"blh": BLH, wind: WS10, "rh": RH, inversion: INVERSION, "stagnation": STAGNATION}
    out = ds.copy()
    for name, v in values.items():
        cube = np.full((ds.sizes["city"], ds.sizes["issued"], ds.sizes["lead_day"]), np.nan, dtype="float32")
        cube[list(ds["city"].values).index("阳泉"), -1] = v
        out[f"met_{name}"] = (("city", "issued", "lead_day"), cube, {"predictor": name})
    out.attrs.update(weather_used="yes", weather_sources="; ".join(sources), weather_cities="阳泉")
    if synthetic is not None:
        out.attrs["weather_synthetic"] = int(synthetic)
    return out


@pytest.fixture(scope="module")
def base(env):
    from forecast.product import open_forecast

    return open_forecast(env.output_dir / DAY / "forecast.nc")


@pytest.fixture(scope="module")
def weather_app(env, base, tmp_path_factory):
    """The dashboard on the fixture's settings with one product day: the forecast with weather."""
    from dashboard.app import create_app

    out = tmp_path_factory.mktemp("weather-products")
    (out / DAY).mkdir()
    _with_weather(base).to_netcdf(out / DAY / "forecast.nc")
    return create_app(env.with_(output_dir=out))


def test_service_reads_the_weather_of_the_product(base):
    w = weather_service.forecast_weather(_with_weather(base), "阳泉")
    assert w["used"] and w["city_used"] and w["synthetic"] and w["sources"] == list(SOURCES)
    assert w["present"] == ["blh", "wind", "rh", "inversion", "stagnation"] and w["inversion_level"] == 850
    days = w["days"]
    assert list(days["lead_day"]) == list(range(1, 11)) and f"{days['valid_date'].iloc[0]:%Y-%m-%d}" == "2026-01-11"
    np.testing.assert_allclose(days["blh"], BLH)
    np.testing.assert_allclose(days["wind"], WS10)
    np.testing.assert_allclose(days["inversion"], INVERSION, rtol=1e-6)
    # a city the weather files did not cover, and the station names of a UCI-trained model at 925 hPa
    other = weather_service.forecast_weather(_with_weather(base), "太原")
    assert other["used"] and not other["city_used"] and other["days"].empty
    uci = weather_service.forecast_weather(_with_weather(base, "inversion_925", "wspm", ("bureau.csv",)), "阳泉")
    assert uci["inversion_level"] == 925 and not uci["synthetic"]
    np.testing.assert_allclose(uci["days"]["wind"], WS10)
    # the fixture's product has no weather
    none = weather_service.forecast_weather(base, "阳泉")
    assert not none["used"] and not none["city_used"] and none["sources"] == [] and none["present"] == []


def test_synthetic_is_the_product_s_record_and_the_names_only_for_old_products(base, tmp_path):
    from forecast.product import open_forecast

    def synthetic(ds):
        return weather_service.forecast_weather(ds, "阳泉")["synthetic"]

    # the product says synthetic, the file names do not (and the other way round): the product wins
    plain_names = ("ecmwf_ifs_2026011000_024.grib2", "ecmwf_ifs_2026011000_048.grib2")
    _with_weather(base, sources=plain_names, synthetic=True).to_netcdf(tmp_path / "marked.nc")
    marked = open_forecast(tmp_path / "marked.nc")
    assert marked.attrs["weather_synthetic"] == 1 and synthetic(marked) is True
    assert synthetic(_with_weather(base, synthetic=False)) is False  # SOURCES hold "synthetic"
    # a product written before weather_synthetic existed: the file-name rule
    assert "weather_synthetic" not in _with_weather(base).attrs
    assert synthetic(_with_weather(base)) is True
    assert synthetic(_with_weather(base, sources=plain_names)) is False
    # a product that used no weather is not synthetic, whatever it says
    assert synthetic(base.assign_attrs(weather_synthetic=1)) is False


def test_scores_base_of_a_weather_add_on():
    assert weather_service.scores_base({"weather": {"scores_of": "aqistudy-2016"}}) == "aqistudy-2016"
    assert weather_service.scores_base({"weather": {"scores_of": {"name": "demo-base"}}}) == "demo-base"
    assert weather_service.scores_base({"weather": {"variables": ["blh"]}}) is None
    assert weather_service.scores_base({"weather": None}) is None and weather_service.scores_base({}) is None


def test_panel_and_fan_with_weather(weather_app):
    from dashboard.pages import consult

    with signed_in(weather_app, "viewer"):
        page = consult.layout()
        panel = consult.update_weather("阳泉", DAY)
        fan, *_ = consult.update_outlook("阳泉", DAY)
        taiyuan = consult.update_weather("太原", DAY)
        taiyuan_fan, *_ = consult.update_outlook("太原", DAY)
    card = _find(page, "consult-weather-card")
    assert card is not None and "气象条件预报" in _texts(card) and _find(card, consult.CONSULT_WEATHER) is not None
    table = _find(panel, "consult-weather-table")
    head = _texts(table.children[0])
    assert "第1天" in head and "01-11" in head and "第10天" in head and "01-20" in head
    rows = {r.__dict__.get("data-quantity"): r for r in table.children[1].children}
    assert _texts(rows["blh"]).split()[:3] == ["边界层高度（米）", "820", "380"]
    assert _texts(rows["wind"]).split()[:3] == ["风速（米/秒）", "3.6", "1.4"]
    assert _texts(rows["rh"]).split()[:2] == ["相对湿度（%）", "45"]
    assert _texts(rows["inversion"]).split()[:4] == ["逆温强度", "T850−T2m（°C）", "-3.5", "+2.1"]
    assert _texts(rows["stagnation"]).split()[:4] == ["静稳", "否", "是", "是"]
    text = _texts(panel)
    assert "气象来源：GRIB2 数值预报 2 个文件" in text and "气象数据为合成数据（演示）" in text
    assert fan.layout.title.text.endswith("<sup>含气象预报：GRIB2 数值预报 2 个文件</sup>")
    # the file names are technical detail: a tooltip of the sources line, not page text
    from tests.test_chinese_outputs import english_words

    assert not english_words(text), english_words(text)
    assert "气象文件未覆盖太原" in _texts(taiyuan) and _find(taiyuan, "consult-weather-table") is None
    assert "未使用气象预报（本城市无气象数据）" in taiyuan_fan.layout.title.text


def test_panel_and_fan_without_weather(app):
    from dashboard.pages import consult

    with signed_in(app, "viewer"):
        panel = consult.update_weather("阳泉", DAY)
        fan, *_ = consult.update_outlook("阳泉", DAY)
    assert _texts(panel) == "本次预报未使用气象预报（模型未用气象因子训练或未提供气象文件）"
    assert fan.layout.title.text.endswith("<sup>未使用气象预报</sup>")


def test_scorecard_note_names_the_base_model(app):
    from dashboard.pages import consult
    from dashboard.services import scores

    with signed_in(app, "viewer"):
        card = scores.model_card()
    assert "未含气象订正" not in consult._card_text(card)  # the fixture's model has no weather add-on
    note = consult._card_text({**card, "weather": {"scores_of": "aqistudy-2016", "variables": ["blh"]}})
    assert "评分为基础模型 aqistudy-2016（未含气象订正）的回算结果" in note
