"""Plain Flask routes beside the Dash pages: the printable 一厂一策 sheet."""
from __future__ import annotations

import flask

from airwarn.core.dates import today_beijing
from airwarn.core.errors import UnknownNameError
from airwarn.core.vocab import WarningLevel
from dashboard import auth
from dashboard.services import lists, warnings


def install(server) -> None:
    """Add ``/sheet/<credit_code>?level=yellow|orange|red`` (public, read-only) to ``server``."""

    @server.route("/sheet/<credit_code>")
    def sheet(credit_code: str):
        level_arg = flask.request.args.get("level") or warnings.today_level_key()
        try:
            level = WarningLevel.parse(level_arg)
        except UnknownNameError:
            return auth.error_page(400, "网址中的预警级别无效，应为黄色、橙色或红色。")
        if level == WarningLevel.NONE:
            level = WarningLevel.YELLOW
        try:
            info = lists.enterprise_sheet(credit_code, level.key)
        except UnknownNameError:
            return auth.error_page(404, f"当前清单中没有统一社会信用代码为 {credit_code} 的企业。")
        return auth.render("sheet.html", sheet=info, rows=info["rows"], total=info["total"],
                           level_label=level.label, response=level.response, synthetic=info["synthetic"],
                           today=today_beijing().isoformat())
