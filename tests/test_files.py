import pytest

from airwarn.core.files import atomic_path, atomic_write_bytes, atomic_write_text


def test_failed_write_keeps_previous_file_and_leaves_no_temp(tmp_path):
    out = tmp_path / "bulletin.txt"
    atomic_write_text(out, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(out) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bulletin.txt"]


def test_mode_and_nested_folder(tmp_path):
    out = tmp_path / "a" / "b" / "secret.key"
    atomic_write_bytes(out, b"k", mode=0o600)
    assert out.read_bytes() == b"k"
    assert out.stat().st_mode & 0o777 == 0o600


def test_products_are_readable_by_default(tmp_path):
    out = tmp_path / "forecast.csv"
    atomic_write_text(out, "city\n")
    assert out.stat().st_mode & 0o777 == 0o644
