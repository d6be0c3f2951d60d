"""The wheel carries its templates: installed non-editable elsewhere, it still builds."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import ROOT, SPEC


@pytest.mark.slow
def test_a_wheel_installed_in_another_venv_builds_from_another_directory(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(wheels), str(ROOT)], check=True)
    wheel = next(wheels.glob("konoha_gen-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
                   check=True)
    assert (site / "konoha_gen" / "templates" / "README.md.j2").is_file()
    # dependencies come from this venv's site-packages; the package itself only from the new venv
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"], "PYTHONSAFEPATH": "1"}
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    probe = subprocess.run([str(venv / "bin" / "python"), "-c", "import konoha_gen, sys; print(konoha_gen.__file__)"],
                           cwd=workdir, env=env, capture_output=True, text=True, check=True)
    assert probe.stdout.startswith(str(site))
    build = subprocess.run([str(venv / "bin" / "python"), "-m", "konoha_gen", "build", str(SPEC), "--out", "out", "-q"],
                           cwd=workdir, env=env, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    assert (workdir / "out" / "README.md").read_bytes() == (ROOT / "out" / "README.md").read_bytes()
