"""Uploads of the 清单管理 page: storing them, reading and validating them in a separate process
(:mod:`dashboard.services.isolated`), importing them as a new list version, and checking the list
in force against an uploaded permit register (应纳尽纳).

An upload is an .xlsx or .csv file, or a folder (``.csvs``) of the list's CSV files (several CSV files
or a zip), kept under ``<data_dir>/uploads`` with a random name until it is imported, rejected or
abandoned. Messages are Chinese, for the page, and name a file by the name it was uploaded under,
never by its path on the server.
"""
from __future__ import annotations

import base64
import datetime as dt
import io
import re
import secrets
import shutil
import time
import zipfile
from pathlib import Path

import pandas as pd

from airwarn.core.errors import InputError, UnknownNameError
from airwarn.core.files import atomic_write_bytes
from airwarn.core.settings import Settings
from dashboard.services.context import engine, session, settings
from dashboard.services.isolated import (UPLOAD_MEMORY_BYTES, UPLOAD_SECONDS, IsolatedFailure, read_and_check,
                                         read_only, read_register, run_isolated)
from dashboard.services.lists import in_force_day
from enterprise_list.coverage import REASONS_ZH, check_coverage
from enterprise_list.io import ListValidationError, import_list, totals_in_force
from enterprise_list.template import SHEETS, match_sheet
from enterprise_list.validate import MAX_SHRINK, compare_totals, default_counties, list_totals

#: Largest list file accepted [bytes], decoded: the page's ``dcc.Upload(max_size=...)`` refuses bigger
#: ones in the browser, the server checks again here, and :mod:`dashboard.auth` derives the request
#: limit from it (one source).
MAX_UPLOAD_BYTES = 30 * 1024 * 1024
#: Uploads older than this [s] are abandoned: deleted when the next upload comes in.
UPLOAD_MAX_AGE_SECONDS = 24 * 3600
#: Files a CSV upload may hold at most (the list's three CSV files, in a zip or chosen together).
MAX_UPLOAD_FILES = 3
#: The stored name of an upload.
_UPLOAD_NAME = re.compile(r"^[0-9a-f]{16}\.(xlsx|csv|csvs)$")
_LIMIT_MB = MAX_UPLOAD_BYTES // 2 ** 20


class UploadUnreadable(InputError):
    """An upload that could not be read (the reader refused it, crashed, or ran out of memory or time).

    The message is Chinese, for the page, and names the file by the name it was uploaded under, never
    by its path on the server. The upload is deleted.
    """


# --------------------------------------------------------------------------- storage
def _upload_path(token: str, s: Settings) -> Path:
    if not _UPLOAD_NAME.match(token or ""):
        raise UnknownNameError(f"unknown upload {token!r}")
    return s.data_dir / "uploads" / token


def _shown_name(filename: str | None, token: str) -> str:
    """The uploaded file's own name (no folder), for messages."""
    return Path(str(filename or "")).name or token


def _scrub(text: str, path: Path, shown: str) -> str:
    """``text`` with the server's path of an upload (and its folder) replaced by the file's own name."""
    text = str(text)
    for p in (str(path.resolve()), str(path), str(path.absolute())):
        text = text.replace(p, shown)
    for folder in (str(path.parent.resolve()), str(path.parent)):
        text = text.replace(folder + "/", "").replace(folder, "")
    return text


def _remove(path: Path) -> None:
    """Delete an upload: a file, or a folder of CSV files."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _unreadable(path: Path, shown: str, exc: Exception) -> UploadUnreadable:
    """Delete the upload and say, in Chinese, why it could not be read."""
    _remove(path)
    text = _scrub(str(exc), path, shown)
    text = text[len(shown):].lstrip(":： ") if text.startswith(shown) else text
    if isinstance(exc, IsolatedFailure):
        why = {"crash": "读取进程异常终止（文件可能损坏，或声明了过大的表格范围）",
               "memory": f"读取所需内存超过上限（{UPLOAD_MEMORY_BYTES / 2 ** 30:g} GB）",
               "time": f"读取时间超过上限（{UPLOAD_SECONDS} 秒）"}[exc.reason]
        return UploadUnreadable(f"{shown}：无法读取，{why}。文件已删除，服务不受影响；请检查文件后重新上传。")
    return UploadUnreadable(f"{shown}：无法读取：{text}。文件已删除；请检查文件后重新上传。")


def _sweep_uploads(folder: Path, max_age: float = UPLOAD_MAX_AGE_SECONDS) -> None:
    """Delete abandoned uploads (older than ``max_age`` seconds) from ``folder``."""
    if not folder.is_dir():
        return
    cutoff = time.time() - max_age
    for f in folder.iterdir():
        try:
            if _UPLOAD_NAME.match(f.name) and f.stat().st_mtime < cutoff:
                _remove(f)
        except OSError:  # removed meanwhile by another request
            continue


def _decode_data_url(contents: str, shown: str) -> bytes:
    head, sep, b64 = (contents or "").partition(",")
    if not sep or not head.startswith("data:"):
        raise InputError(f"{shown}：上传内容不是 base64 数据")
    if len(b64) // 4 * 3 > MAX_UPLOAD_BYTES + 3:
        raise InputError(f"{shown}：文件超过 {_LIMIT_MB} MB 上限")
    try:
        payload = base64.b64decode(b64, validate=True)
    except (ValueError, TypeError):
        raise InputError(f"{shown}：上传内容不是 base64 数据") from None
    if len(payload) > MAX_UPLOAD_BYTES:
        raise InputError(f"{shown}：文件超过 {_LIMIT_MB} MB 上限")
    return payload


def _store(payload: bytes, ext: str, s: Settings) -> tuple[str, Path]:
    """Sweep the abandoned uploads, then keep ``payload`` under a new random name (mode 0600)."""
    _sweep_uploads(s.data_dir / "uploads")
    token = f"{secrets.token_hex(8)}.{ext}"
    path = _upload_path(token, s)
    atomic_write_bytes(path, payload, mode=0o600)
    return token, path


def _accept(contents: str, filename: str | None, default: str, what: str, s: Settings) -> tuple[str, Path, int]:
    """Check an upload's type (.xlsx or .csv), decode it and keep it (:func:`_store`):
    ``(token, path, size)``. ``what`` names the file in the Chinese message of a wrong type."""
    shown = Path(str(filename or "")).name or default
    ext = Path(shown).suffix.lower().lstrip(".")
    if ext not in ("xlsx", "csv"):
        raise InputError(f"{shown}：{what}应为 .xlsx 或 .csv，收到 .{ext or '（无扩展名）'}")
    payload = _decode_data_url(contents, shown)
    token, path = _store(payload, ext, s)
    return token, path, len(payload)


def save_upload(contents: str, filename: str, s: Settings | None = None) -> dict:
    """Store a ``dcc.Upload`` data URL under ``<data_dir>/uploads`` and return ``{"token", "size"}``.

    Uploads older than :data:`UPLOAD_MAX_AGE_SECONDS` are deleted first.

    Raises
    ------
    InputError
        If the file is not .xlsx or .csv, larger than :data:`MAX_UPLOAD_BYTES`, or the contents are not
        a base64 data URL (Chinese messages naming the file).
    """
    token, _, size = _accept(contents, filename, "upload", "文件类型", s or settings())
    return {"token": token, "size": size}


# --------------------------------------------------------------------------- CSV files and zips
def _csv_member_name(info) -> str:
    """A zip member's file name without folders; names Windows zipped in GBK without the UTF-8 flag are
    decoded as GBK."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("gbk")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _csv_files(payloads: list[tuple[str, bytes]], shown: str) -> dict[str, bytes]:
    """Check the CSV files of an upload: each named after a sheet of the template, at most one per sheet."""
    expected = "、".join(f"{sh.name}.csv" for sh in SHEETS)
    out: dict[str, bytes] = {}
    seen: dict[str, str] = {}
    for name, payload in payloads:
        sheet = match_sheet(Path(name).stem) if name.lower().endswith(".csv") else None
        if sheet is None:
            raise InputError(f"{shown}：{name} 不是清单的 CSV 文件；CSV 文件应命名为 {expected}"
                             f"（或 {'、'.join(sh.key + '.csv' for sh in SHEETS)}）")
        if sheet.key in seen:
            raise InputError(f"{shown}：{name} 与 {seen[sheet.key]} 都是{sheet.name}表，只能有一个")
        seen[sheet.key] = name
        out[f"{sheet.name}.csv"] = payload
    if not out:
        raise InputError(f"{shown}：没有 CSV 文件；应包含 {expected}")
    return out


def _unzip_csvs(payload: bytes, shown: str) -> list[tuple[str, bytes]]:
    """The CSV files of a zip, bounded: at most :data:`MAX_UPLOAD_FILES` files and
    :data:`MAX_UPLOAD_BYTES` unpacked (checked on the directory and again while reading)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(payload))
    except (zipfile.BadZipFile, ValueError):
        raise InputError(f"{shown}：不是有效的 zip 文件") from None
    with zf:
        members = [i for i in zf.infolist() if not i.is_dir()
                   and not _csv_member_name(i).startswith(("._", "~$")) and "__MACOSX" not in i.filename]
        if len(members) > MAX_UPLOAD_FILES:
            raise InputError(f"{shown}：zip 中有 {len(members)} 个文件，最多 {MAX_UPLOAD_FILES} 个（企业、生产线、减排措施）")
        if sum(i.file_size for i in members) > MAX_UPLOAD_BYTES:
            raise InputError(f"{shown}：解压后超过 {_LIMIT_MB} MB 上限")
        out, total = [], 0
        for info in members:
            try:
                with zf.open(info) as fh:
                    data = fh.read(MAX_UPLOAD_BYTES + 1 - total)
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as exc:
                raise InputError(f"{shown}：无法解压 {_csv_member_name(info)}（{type(exc).__name__}）") from None
            total += len(data)
            if total > MAX_UPLOAD_BYTES:
                raise InputError(f"{shown}：解压后超过 {_LIMIT_MB} MB 上限")
            out.append((_csv_member_name(info), data))
    return out


def save_uploads(contents: "str | list[str]", filenames: "str | list[str]", s: Settings | None = None) -> dict:
    """Store what the list page's upload box received: one .xlsx (:func:`save_upload`), or the list's CSV
    files (``企业.csv``, ``生产线.csv``, ``减排措施.csv``), chosen together or in one .zip, as a folder.

    Returns
    -------
    dict
        ``{"token", "size", "filename"}``; ``filename`` is what messages and the version record
        name the upload by (the zip's name, or the CSV files' names joined by "、").

    Raises
    ------
    InputError
        Chinese messages naming the file: wrong type, too big, an xlsx with other files, a CSV or zip
        member not named after a sheet, two files for one sheet, more than three files.
    """
    contents = [contents] if isinstance(contents, str) else list(contents or [])
    names = [filenames] if isinstance(filenames, str) else list(filenames or [])
    names = [Path(str(n or "")).name or "upload" for n in names] + ["upload"] * (len(contents) - len(names))
    if not contents:
        raise InputError("没有收到文件")
    exts = [Path(n).suffix.lower() for n in names]
    if len(contents) == 1 and exts[0] in (".xlsx", ".xlsm"):
        return {**save_upload(contents[0], names[0], s), "filename": names[0]}
    if ".xlsx" in exts or ".xlsm" in exts:
        raise InputError(f"{'、'.join(names)}：xlsx 清单请单独上传（一个文件含三张表）")
    bad = [n for n, e in zip(names, exts) if e not in (".csv", ".zip")]
    if bad:
        raise InputError(f"{bad[0]}：文件类型应为 .xlsx、.csv 或 .zip（内含三个 CSV 文件），"
                         f"收到 {Path(bad[0]).suffix or '（无扩展名）'}")
    if len(contents) > MAX_UPLOAD_FILES:
        raise InputError(f"{'、'.join(names)}：一次最多 {MAX_UPLOAD_FILES} 个 CSV 文件（企业、生产线、减排措施）")
    shown = "、".join(names)
    payloads: list[tuple[str, bytes]] = []
    for c, n, e in zip(contents, names, exts):
        payload = _decode_data_url(c, n)
        if e == ".zip":
            if len(contents) > 1:
                raise InputError(f"{shown}：zip 文件请单独上传")
            payloads += _unzip_csvs(payload, n)
        else:
            payloads.append((n, payload))
    if sum(len(b) for _, b in payloads) > MAX_UPLOAD_BYTES:
        raise InputError(f"{shown}：文件合计超过 {_LIMIT_MB} MB 上限")
    files = _csv_files(payloads, shown)
    s = s or settings()
    _sweep_uploads(s.data_dir / "uploads")
    token = f"{secrets.token_hex(8)}.csvs"
    folder = _upload_path(token, s)
    folder.mkdir(parents=True, mode=0o700)
    for name, payload in files.items():
        atomic_write_bytes(folder / name, payload, mode=0o600)
    return {"token": token, "size": sum(len(b) for b in files.values()), "filename": shown}


def discard_upload(token: str, s: Settings | None = None) -> None:
    """Delete an uploaded file that was rejected."""
    _remove(_upload_path(token, s or settings()))


# --------------------------------------------------------------------------- validate and import
def _in_force_totals(s: Settings, effective: dt.date | None):
    with session(s) as sess:
        return totals_in_force(sess, in_force_day(effective))


def validate_upload(token: str, s: Settings | None = None, *, filename: str | None = None,
                    effective: dt.date | None = None) -> dict:
    """Read and validate an uploaded list in a separate process (:func:`run_isolated`).

    The list is compared with the version in force on ``effective`` (default today). An upload
    that cannot be read, or has errors other than a drop against the version in force (which an
    import may confirm), is deleted.

    Returns
    -------
    dict
        ``ok`` (no errors), ``shrink`` (the only errors are drops against the version in force:
        importable once confirmed), ``n_errors``, ``n_warnings``, ``n_enterprises``, ``n_lines``,
        ``n_measures``, ``problems`` (DataFrame with Chinese column names), ``previous`` (name of the
        version in force or ``None``), ``changes`` (list of ``{"text": Chinese, "drop": share, "over":
        bool}``), ``max_shrink``.

    Raises
    ------
    UploadUnreadable
        If the file could not be read (Chinese message naming the uploaded file).
    """
    s = s or settings()
    path = _upload_path(token, s)
    shown = _shown_name(filename, token)
    previous = _in_force_totals(s, effective)
    try:
        parsed, problems = run_isolated(read_and_check, str(path), s.city, default_counties(s), previous, False)
    except (ValueError, IsolatedFailure) as exc:
        raise _unreadable(path, shown, exc) from None
    table = pd.DataFrame([{"严重性": p.severity_zh, "工作表": p.sheet, "行": p.row, "列": p.column or "",
                           "说明": _scrub(p.zh(), path, shown),
                           "值": "" if p.value is None else _scrub(str(p.value), path, shown)} for p in problems],
                         columns=["严重性", "工作表", "行", "列", "说明", "值"])
    errs = [p for p in problems if p.severity == "error"]
    shrink = bool(errs) and all(p.code == "shrink" for p in errs)
    if errs and not shrink:
        _remove(path)  # cannot be imported: nothing to keep
    changes = compare_totals(list_totals(parsed), previous) if previous is not None else []
    return {"ok": not errs, "shrink": shrink, "n_errors": len(errs), "n_warnings": len(problems) - len(errs),
            "n_enterprises": len(parsed.records.get("enterprises", [])),
            "n_lines": len(parsed.records.get("lines", [])),
            "n_measures": len(parsed.records.get("measures", [])), "problems": table,
            "previous": None if previous is None else previous.name, "max_shrink": MAX_SHRINK,
            "changes": [{"text": c.zh(), "drop": c.drop, "over": c.drop > MAX_SHRINK} for c in changes]}


def import_upload(token: str, version_name: str, effective: dt.date, user: str, s: Settings | None = None, *,
                  allow_shrink: bool = False, filename: str | None = None) -> str:
    """Import an uploaded list as a new version (all or nothing) and delete the upload.

    The file is read again in a separate process (:func:`run_isolated`) and validated here against
    the version in force on ``effective``; a drop of more than
    :data:`enterprise_list.validate.MAX_SHRINK` is refused unless ``allow_shrink`` (the page's
    confirmation) came with the request. The reductions need no clearing: their cache is keyed on
    the version in force (:mod:`dashboard.services.reductions`).

    Raises
    ------
    InputError
        If the file has errors (nothing imported; the upload is deleted), the drop was not
        confirmed (the upload is kept), or the version name exists (Chinese messages).
    UploadUnreadable
        If the file could not be read.
    """
    s = s or settings()
    path = _upload_path(token, s)
    shown = _shown_name(filename, token)
    if not path.exists():
        raise InputError("上传文件已失效，请重新上传")
    try:
        parsed = run_isolated(read_only, str(path))
    except (ValueError, IsolatedFailure) as exc:
        raise _unreadable(path, shown, exc) from None
    try:
        result = import_list(engine(s), parsed, version_name, effective, note=f"由 {user} 在仪表盘上传导入",
                             counties=default_counties(s), bounds=s.city, allow_shrink=allow_shrink,
                             source_name=shown)
    except ListValidationError as exc:
        if exc.shrink_only:
            dropped = "；".join(c.zh() + f"（减少 {c.drop:.0%}）" for c in exc.changes if c.drop > MAX_SHRINK)
            raise InputError(f"新版本与现行版本“{exc.previous.name}”相比删减超过 {MAX_SHRINK:.0%}：{dropped}。"
                             f"如确属调整，请勾选“确认删减”后再导入。") from None
        _remove(path)
        raise InputError(f"{shown} 有 {len([p for p in exc.problems if p.severity == 'error'])} 个错误，"
                         f"未导入；请修改后重新上传。") from None
    _remove(path)
    return (f"已导入清单版本“{result.version_name}”（{result.effective_date} 生效）：{result.n_enterprises} 家企业、"
            f"{result.n_lines} 条生产线、{result.n_measures} 条措施，{len(result.warnings)} 个警告。")


# --------------------------------------------------------------------------- coverage (应纳尽纳)
def _cell(v, blank: str) -> str:
    return blank if v is None or (isinstance(v, float) and v != v) else str(v)


def coverage_upload(contents: str, filename: str, s: Settings | None = None, *,
                    effective: dt.date | None = None) -> dict:
    """Check the list version in force against an uploaded discharge-permit register (应纳尽纳).

    The register (.csv or .xlsx, see :mod:`enterprise_list.coverage`) is read in a separate process
    (:func:`run_isolated`) and deleted afterwards.

    Returns
    -------
    dict
        ``version``, ``n_register_air``, ``n_list``, ``complete``, ``missing`` and ``mismatched``
        (DataFrames with Chinese column names; a number nobody holds reads 未登记 / 未填写).

    Raises
    ------
    InputError
        Chinese message naming the file: wrong type, unreadable, bad cells, no list version in force.
    """
    s = s or settings()
    shown = Path(str(filename or "")).name or "register"
    _, path, _ = _accept(contents, filename, "register", "排污许可登记文件", s)
    try:
        register = run_isolated(read_register, str(path))
    except (ValueError, IsolatedFailure) as exc:
        raise _unreadable(path, shown, exc) from None
    _remove(path)
    try:
        with session(s) as sess:
            rep = check_coverage(sess, register, in_force_day(effective))
    except UnknownNameError:
        raise InputError("数据库中尚无生效的清单版本，无法检查覆盖情况") from None
    missing = pd.DataFrame([{"统一社会信用代码": r.credit_code, "单位名称": _cell(r.name, ""),
                             "许可证编号": _cell(r.permit_no, "")} for r in rep.missing.itertuples(index=False)],
                           columns=["统一社会信用代码", "单位名称", "许可证编号"])
    mismatched = pd.DataFrame([{"统一社会信用代码": r.credit_code, "企业名称": r.name,
                                "清单许可证编号": _cell(r.list_permit_no, "未填写"),
                                "登记许可证编号": _cell(r.register_permit_no, "未登记"),
                                "原因": REASONS_ZH.get(r.reason, r.reason)}
                               for r in rep.mismatched.itertuples(index=False)],
                              columns=["统一社会信用代码", "企业名称", "清单许可证编号", "登记许可证编号", "原因"])
    return {"version": rep.version, "n_register_air": rep.n_register_air, "n_list": rep.n_list,
            "complete": rep.complete, "missing": missing, "mismatched": mismatched}
