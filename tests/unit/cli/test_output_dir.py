"""Hydra's output folder is checked before Hydra writes there: one line naming it and hydra.run.dir, exit 2 (a
read-only mlruns/ is tests/e2e/test_store_faults.py's, on a read-only mount)."""

import pytest

from rfmlab.cli import sweep


def test_a_file_in_the_way_of_the_output_folder_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "mlruns").write_text("not a folder")
    with pytest.raises(SystemExit) as info:
        sweep.check_output_dir(str(tmp_path / "mlruns" / ".hydra" / "runs" / "t"), option="hydra.run.dir")
    assert info.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith(f"rfmlab: error: cannot write Hydra's output folder {tmp_path / 'mlruns' / '.hydra'}")
    assert f"({tmp_path / 'mlruns'}: a file, not a folder)" in err and err.endswith("set hydra.run.dir=FOLDER")


def test_a_writable_place_passes_and_nothing_is_created(tmp_path):
    sweep.check_output_dir(str(tmp_path / "mlruns" / ".hydra" / "runs" / "t"), option="hydra.run.dir")
    sweep.check_output_dir(".", option="hydra.run.dir")  # the working folder itself (hydra.run.dir=.)
    assert list(tmp_path.iterdir()) == []
