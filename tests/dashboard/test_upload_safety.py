"""Uploads of the 清单管理 page (issue 14: break 1, the dashboard half; break 2 in the page; the upload
parts of break 12): the file is read in a separate process with memory and time limits, the real
server survives a file that aborts the reader, failed uploads are deleted, no server path is shown,
and a version that drops much of the list in force needs the page's confirmation."""
from __future__ import annotations

import base64
import json
import os
import time
import zipfile
from pathlib import Path

import pytest

from dashboard.services import context, isolated, lists, uploads as upload_service
from tests.dashboard.test_callbacks import _texts, signed_in
from tests.dashboard.test_server import Browser, demo_password

XFD_ROW = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'


def _data_url(payload: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(payload).decode()


def _export(settings, path: Path) -> Path:
    from enterprise_list.io import export_list

    return export_list(context.engine(settings), path)


def xfd_workbook(src: Path, dst: Path) -> Path:
    """``src`` with one cell at XFD1048576 added to sheet1.xml (break 1's file)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            body = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = body.decode("utf-8").replace("</sheetData>", XFD_ROW + "</sheetData>").encode("utf-8")
            zout.writestr(item, body)
    return dst


def _table_rows(component) -> list[dict]:
    """The rows of the first DataTable inside a Dash component tree."""
    if isinstance(component, (list, tuple)):
        return next((rows for c in component if (rows := _table_rows(c))), [])
    if type(component).__name__ == "DataTable":
        return list(component.data)
    children = getattr(component, "children", None)
    return _table_rows(children) if children is not None and not isinstance(children, str) else []


# --------------------------------------------------------------------------- targets run in the child
def raw_calamine(path: str) -> int:
    """The reader without any guard: python-calamine's dense read of the first sheet (it allocates
    1,048,576 × 16,384 cells for break 1's file and aborts)."""
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(path)
    return len(book.get_sheet_by_name(book.sheet_names[0]).to_python(skip_empty_area=False))


def allocate(n_bytes: int) -> int:
    return len(bytearray(n_bytes))


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def add(a: int, b: int) -> int:
    return a + b


def refuse(text: str) -> None:
    raise ValueError(text)


# --------------------------------------------------------------------------- the isolation itself
def test_break_1_a_reader_abort_kills_only_the_child(fresh_env, tmp_path):
    """The unguarded calamine read of break 1's workbook aborts ("memory allocation … failed", SIGABRT):
    run with the upload limits it kills the child only, and this process goes on."""
    book = xfd_workbook(_export(fresh_env, tmp_path / "list.xlsx"), tmp_path / "xfd.xlsx")
    with pytest.raises(isolated.IsolatedFailure) as info:
        isolated.run_isolated(raw_calamine, str(book))
    assert info.value.reason in ("crash", "memory"), info.value
    assert isolated.run_isolated(add, 2, 3) == 5  # and the next call works


def test_break_1_memory_and_time_limits_of_the_child():
    with pytest.raises(isolated.IsolatedFailure) as info:
        isolated.run_isolated(allocate, 3 * isolated.UPLOAD_MEMORY_BYTES // 2)  # 3 GB under a 2 GB address space
    assert info.value.reason == "memory"
    with pytest.raises(isolated.IsolatedFailure) as info:
        isolated.run_isolated(sleep, 60, seconds=3)
    assert info.value.reason == "time" and "longer than 3 s" in str(info.value)
    with pytest.raises(ValueError, match="^refused here$"):
        isolated.run_isolated(refuse, "refused here")


# --------------------------------------------------------------------------- the real server
def _upload_callback(browser: Browser, filename: str, payload: bytes):
    """POST the upload callback of the 清单管理 page exactly as dash-renderer does."""
    from dashboard import ids

    body = {
        "output": f"..{ids.LIST_STORE}.data...{ids.LIST_REPORT}.children..",
        "outputs": [{"id": ids.LIST_STORE, "property": "data"}, {"id": ids.LIST_REPORT, "property": "children"}],
        "inputs": [{"id": ids.LIST_UPLOAD, "property": "contents", "value": _data_url(payload)}],
        "state": [{"id": ids.LIST_UPLOAD, "property": "filename", "value": filename},
                  {"id": ids.LIST_EFFECTIVE, "property": "value", "value": "2026-01-10"}],
        "changedPropIds": [f"{ids.LIST_UPLOAD}.contents"],
    }
    return browser.request("/_dash-update-component", json.dumps(body).encode(),
                           {"Content-Type": "application/json", "X-CSRFToken": browser.cookie("_csrf_token")})


def test_break_1_the_real_server_survives_the_xfd1048576_upload(live_server, tmp_path):
    """One list-admin's upload took the whole server down ("memory allocation of 549755813888 bytes
    failed"); now the page says the file could not be read, and the server goes on answering."""
    settings = live_server.settings
    book = xfd_workbook(_export(settings, tmp_path / "list.xlsx"), tmp_path / "xfd.xlsx")
    admin = Browser(live_server.url)
    assert admin.sign_in("list-admin", demo_password(settings, "list-admin")) == 302
    status, body, _ = _upload_callback(admin, "清单xfd.xlsx", book.read_bytes())
    assert status == 200, body
    response = json.loads(body)["response"]
    assert response["list-store"]["data"] is None or response["list-store"]["data"]["ok"] is False
    shown = json.dumps(response["list-report"], ensure_ascii=False)
    assert "清单xfd.xlsx" in shown and ("无法读取" in shown or "不能导入" in shown), shown
    assert str(settings.data_dir) not in shown and "uploads" not in shown
    assert list((Path(settings.data_dir) / "uploads").glob("*")) == []  # the refused file is gone
    assert Browser(live_server.url).request("/login")[0] == 200
    # and the same admin can go on: a good file validates
    status, body, _ = _upload_callback(admin, "list.xlsx", (tmp_path / "list.xlsx").read_bytes())
    assert status == 200 and json.loads(body)["response"]["list-store"]["data"]["ok"] is True


# --------------------------------------------------------------------------- the page's callbacks
@pytest.fixture
def page(fresh_env):
    from dashboard.app import create_app

    app = create_app(fresh_env)
    from dashboard.pages import listadmin

    return app, listadmin


def test_break_12_failed_uploads_are_deleted_and_no_server_path_is_shown(fresh_env, page, tmp_path):
    app, listadmin = page
    uploads = Path(fresh_env.data_dir) / "uploads"
    with signed_in(app, "list-admin"):
        stored, report = listadmin.receive_upload(_data_url(b"PK\x03\x04 not really a zip"), "坏文件.xlsx")
        text = _texts(report)
        assert stored is None and text.startswith("坏文件.xlsx：无法读取"), text
        assert str(fresh_env.data_dir) not in text and "uploads" not in text
        assert list(uploads.glob("*")) == []
        # a readable file with errors cannot be imported: deleted at once
        good = _export(fresh_env, tmp_path / "list.xlsx")
        template = tmp_path / "template.xlsx"
        from enterprise_list.workbook import write_template

        write_template(template)
        stored, report = listadmin.receive_upload(_data_url(template.read_bytes()), "template.xlsx")
        assert stored["ok"] is False and "清单中没有任何企业" in _texts(report)
        assert [r["说明"] for r in _table_rows(report)][:1] == [
            "清单中没有企业（空模板？）；生效版本必须列出全部企业"]
        assert list(uploads.glob("*")) == []
        # an upload abandoned for more than a day is swept when the next one comes in
        stored, _ = listadmin.receive_upload(_data_url(good.read_bytes()), "list.xlsx")
        old = uploads / stored["token"]
        day_ago = time.time() - upload_service.UPLOAD_MAX_AGE_SECONDS - 60
        os.utime(old, (day_ago, day_ago))
        stored2, _ = listadmin.receive_upload(_data_url(good.read_bytes()), "list.xlsx")
        assert not old.exists() and (uploads / stored2["token"]).exists()
        # the server checks the size itself (the browser's 30 MB limit can be bypassed)
        big = "data:application/octet-stream;base64," + "A" * (4 * (upload_service.MAX_UPLOAD_BYTES // 3 + 8))
        with pytest.raises(ValueError, match=r"big\.xlsx：文件超过 30 MB 上限"):
            upload_service.save_upload(big, "big.xlsx")
        stored, report = listadmin.receive_upload(big, "big.xlsx")
        assert stored is None and "文件超过 30 MB 上限" in _texts(report)


def test_break_2_the_page_refuses_an_unconfirmed_shrink(fresh_env, page, tmp_path):
    """The import callback itself refuses a version that drops more than 20 % unless the confirmation
    came with the request; the report says in Chinese what changed."""
    from enterprise_list.io import load_list
    from enterprise_list.workbook import ParsedList, write_list_workbook

    app, listadmin = page
    with context.session(fresh_env) as s:
        full = load_list(s)
    n = len(full.records["enterprises"])
    keep = {e["credit_code"] for e in full.records["enterprises"][: n // 2]}
    half = ParsedList(records={k: [r for r in rows if r["credit_code"] in keep] for k, rows in full.records.items()})
    book = write_list_workbook(half, tmp_path / "half.xlsx")
    with signed_in(app, "list-admin"):
        stored, report = listadmin.receive_upload(_data_url(book.read_bytes()), "half.xlsx", "2026-01-10")
        text = _texts(report)
        assert stored["ok"] is False and stored["shrink"] is True
        assert f"企业 {n} → {n // 2} 家（减少 50%）" in text and "确认删减" in text
        refused = listadmin.import_or_reject(1, None, stored, "半份清单", "2026-01-10", [])
        assert "未导入" in _texts(refused) and "确认删减" in _texts(refused)
        assert "半份清单" not in set(lists.list_versions()["版本"])
        done = listadmin.import_or_reject(2, None, stored, "半份清单", "2026-01-10", ["confirm"])
        assert "已导入" in _texts(done), _texts(done)
        versions = lists.list_versions()
        row = versions[versions["版本"] == "半份清单"].iloc[0]
        assert (row["企业"], row["来源文件"]) == (n // 2, "half.xlsx")
