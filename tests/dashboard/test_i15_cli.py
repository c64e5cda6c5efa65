"""Small CLI fixes of issue 15: a busy port in one line naming --port; coverage prints 未登记."""
from __future__ import annotations

import csv
import datetime as dt
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from airwarn.cli import main

AIRWARN = Path(sys.executable).with_name("airwarn")


def test_i15_dashboard_on_a_busy_port_says_port_in_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        env = {**os.environ, "AIRWARN_DATA_DIR": str(tmp_path / "var")}
        env.pop("AIRWARN_SETTINGS", None)
        proc = subprocess.run([str(AIRWARN), "dashboard", "--port", str(port)], capture_output=True, text=True,
                              timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr and "--port" in lines[0] and str(port) in lines[0]
    assert "http://" not in proc.stdout  # the address is not printed for a server that never listened


def test_i15_demo_has_a_port_option(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    assert "--port" in capsys.readouterr().out


def test_i15_coverage_prints_unregistered_not_nan(tmp_path, monkeypatch, capsys):
    from airwarn.core.db import get_engine, session_scope
    from enterprise_list.io import import_list, load_list
    from enterprise_list.sample import make_sample_list

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AIRWARN_DB", raising=False)
    monkeypatch.delenv("AIRWARN_SETTINGS", raising=False)
    monkeypatch.setenv("AIRWARN_DATA_DIR", str(tmp_path / "var"))
    (tmp_path / "var").mkdir()
    engine = get_engine(f"sqlite:///{tmp_path / 'var' / 'airwarn.sqlite'}")
    import_list(engine, make_sample_list(5, seed=2), "2026年度", dt.date(2026, 1, 1))
    with session_scope(engine) as s:
        ents = load_list(s).records["enterprises"]
    reg = tmp_path / "permits.csv"
    with open(reg, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(["统一社会信用代码", "单位名称", "许可证编号", "是否涉气"])
        w.writerow([ents[0]["credit_code"], ents[0]["name"], "OTHER-001", "是"])  # held, but another number
        for e in ents[2:]:  # ents[1] is not in the register at all
            w.writerow([e["credit_code"], e["name"], e["permit_no"], "是"])
    capsys.readouterr()
    assert main(["list", "coverage", str(reg)]) == 1
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if ents[1]["credit_code"] in x)
    assert "登记 未登记" in line and "nan" not in out and "排污许可登记中无此单位" in line
    assert "登记 OTHER-001" in out and "许可证编号与登记不符" in out
