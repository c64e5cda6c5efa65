"""清单管理 page (issue 15): CSV uploads (a zip or the three files together), template download,
coverage against a permit register, versions refreshed after import, the synthetic flag and the
original file name kept, a file with errors answered with its errors first."""
from __future__ import annotations

import base64
import csv
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from dashboard.services import context, lists
from tests.dashboard.test_callbacks import _find, _texts, signed_in


def _url(payload: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(payload).decode()


@pytest.fixture
def page(fresh_env):
    from dashboard.app import create_app

    return create_app(fresh_env)


@pytest.fixture
def csv_folder(fresh_env, tmp_path) -> Path:
    """The demo list written as the template's three CSV files."""
    from enterprise_list.io import load_list
    from enterprise_list.workbook import write_list_workbook

    with context.session(fresh_env) as s:
        parsed = load_list(s)
    return write_list_workbook(parsed, tmp_path / "csv")


class _Cp437Info(zipfile.ZipInfo):
    """A member name written as its cp437 bytes without the UTF-8 flag (zipfile would set it)."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("cp437"), self.flag_bits


def _zip(folder: Path, gbk_names: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(folder.glob("*.csv")):
            if gbk_names:  # as Windows' zip writes Chinese names: GBK bytes, no UTF-8 flag
                info = _Cp437Info(f"清单/{f.name}".encode("gbk").decode("cp437"))
                zf.writestr(info, f.read_bytes())
            else:
                zf.write(f, f"清单/{f.name}")
    return buf.getvalue()


def test_i15_zip_of_csv_files_validates_imports_and_refreshes_versions(page, csv_folder):
    from dashboard.pages import listadmin

    with signed_in(page, "list-admin"):
        stored, report = listadmin.receive_upload([_url(_zip(csv_folder))], ["清单2026.zip"])
        assert stored is not None, _texts(report)
        assert stored["ok"] and "校验通过" in _texts(report) and "清单2026.zip" in _texts(report)
        result = listadmin.import_or_reject(1, None, stored, "2026年度CSV", "2026-01-05")
        assert "已导入" in _texts(result)
        rows = listadmin.refresh_versions(result)
    row = next(r for r in rows if r["版本"] == "2026年度CSV")
    assert row["来源文件"] == "清单2026.zip" and row["企业"] > 0


def test_i15_zip_with_gbk_member_names_is_read(page, csv_folder):
    from dashboard.pages import listadmin

    with signed_in(page, "list-admin"):
        stored, report = listadmin.receive_upload([_url(_zip(csv_folder, gbk_names=True))], ["list.zip"])
    assert stored is not None and stored["ok"], _texts(report)


def test_i15_three_csv_files_chosen_together_are_one_upload(page, csv_folder):
    from dashboard.pages import listadmin

    files = sorted(csv_folder.glob("*.csv"))
    with signed_in(page, "list-admin"):
        stored, report = listadmin.receive_upload([_url(f.read_bytes()) for f in files], [f.name for f in files])
        assert stored is not None and stored["ok"], _texts(report)
        result = listadmin.import_or_reject(1, None, stored, "2026年度三个CSV", "2026-01-05")
        assert "已导入" in _texts(result)
    versions = lists.list_versions(page.server.config[context.SETTINGS_KEY])
    source = versions.set_index("版本").loc["2026年度三个CSV", "来源文件"]
    assert all(f.name in source for f in files)


def test_i15_a_lone_csv_gets_a_report_not_a_server_error(page, csv_folder):
    """One CSV file alone: a report naming the sheets it lacks (before: a reader error on the file
    stored under a random name, or a server error)."""
    from dashboard.pages import listadmin

    one = csv_folder / "企业.csv"
    with signed_in(page, "list-admin"):
        stored, report = listadmin.receive_upload(_url(one.read_bytes()), "企业.csv")
    text = _texts(report)
    assert stored is not None and stored["ok"] is False, text
    assert "不能导入" in text and "企业.csv" in text
    with signed_in(page, "list-admin"):
        stored, report = listadmin.receive_upload(_url(one.read_bytes()), "名单.csv")
    assert stored is None and "企业.csv、生产线.csv、减排措施.csv" in _texts(report)


def test_i15_file_with_errors_is_answered_with_its_errors_first(page, csv_folder):
    from dashboard.pages import listadmin

    bad = csv_folder / "企业.csv"
    rows = list(csv.reader(bad.read_text(encoding="utf-8-sig").splitlines()))
    rows[1][0] = rows[1][0][:-1] + ("0" if rows[1][0][-1] != "0" else "1")  # a wrong check character
    with bad.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with signed_in(page, "list-admin"):
        stored, report = listadmin.receive_upload([_url(_zip(csv_folder))], ["bad.zip"])
        assert stored["ok"] is False
        answer = _texts(listadmin.import_or_reject(1, None, stored, None, "2026-01-05"))
    assert "错误" in answer and "bad.zip" in answer and "请填写版本名称" not in answer


def test_i15_synthetic_flag_and_file_name_kept_on_import(page, tmp_path):
    from dashboard.pages import listadmin
    from enterprise_list.sample import make_sample_list
    from enterprise_list.workbook import write_list_workbook

    book = write_list_workbook(make_sample_list(30, seed=5), tmp_path / "合成清单.xlsx")
    with signed_in(page, "list-admin"):
        stored, _ = listadmin.receive_upload([_url(book.read_bytes())], ["合成清单.xlsx"])
        result = listadmin.import_or_reject(1, None, stored, "合成30家", "2026-01-05", ["confirm"])
        assert "已导入" in _texts(result), _texts(result)
        rows = {r["版本"]: r for r in listadmin.refresh_versions(result)}
    assert rows["合成30家"]["合成示例"] == "是" and rows["合成30家"]["来源文件"] == "合成清单.xlsx"


def test_i15_template_download_is_the_template(page, tmp_path):
    from dashboard.pages import listadmin

    with signed_in(page, "commander"), pytest.raises(PermissionError):
        listadmin.download_template(1)
    with signed_in(page, "list-admin"):
        sent = listadmin.download_template(1)
    assert sent["filename"] == "应急减排清单模板.xlsx"
    out = tmp_path / "t.xlsx"
    out.write_bytes(base64.b64decode(sent["content"]) if sent.get("base64") else sent["content"].encode())
    assert openpyxl.load_workbook(out).sheetnames == ["企业", "生产线", "减排措施", "说明"]


def test_i15_coverage_check_on_the_page(page, fresh_env):
    import random

    from dashboard.pages import listadmin
    from enterprise_list.credit_code import make_code
    from enterprise_list.io import load_list

    with context.session(fresh_env) as s:
        ents = load_list(s).records["enterprises"]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["统一社会信用代码", "单位名称", "许可证编号", "是否涉气"])
    for e in ents[1:]:  # the first enterprise is not in the register
        w.writerow([e["credit_code"], e["name"], e["permit_no"], "是"])
    w.writerow([make_code(random.Random(3), "140322"), "阳泉漏报铸造有限公司(合成)", "P001", "是"])
    payload = ("\ufeff" + buf.getvalue()).encode("utf-8")
    with signed_in(page, "list-admin"):
        view = listadmin.check_coverage(_url(payload), "permits.csv", "2026-01-10")
    text = _texts(view)
    assert "未纳入清单 1 家" in text and "许可证编号不符 1 家" in text, text
    missing = _find(view, "list-coverage-missing").data
    assert [r["单位名称"] for r in missing] == ["阳泉漏报铸造有限公司(合成)"]
    mismatched = _find(view, "list-coverage-mismatched").data
    assert [(r["统一社会信用代码"], r["登记许可证编号"], r["原因"]) for r in mismatched] == [
        (ents[0]["credit_code"], "未登记", "排污许可登记中无此单位")]
    assert not list((fresh_env.data_dir / "uploads").glob("*.csv"))  # the register is not kept
