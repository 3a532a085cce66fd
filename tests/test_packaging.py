"""The package as users install it: every subpackage listed for the wheel, and a wheel that
carries the bundled datasets and loads them without the repository."""

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import forecastkit as fk

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = "forecastkit.bundled_datasets"


def test_the_wheel_lists_every_package_of_the_tree():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "forecastkit").rglob("__init__.py")}
    # The data folders are packages of their own (setuptools ships only listed packages' data).
    data = {BUNDLED, *(f"{BUNDLED}.{d.name}" for d in (ROOT / "datasets").iterdir()
                       if d.is_dir())}
    assert set(config["packages"]) == found | data
    assert config["package-dir"] == {BUNDLED: "datasets"}


def test_a_built_wheel_loads_its_own_datasets(tmp_path):
    src = tmp_path / "src"
    for name in ("forecastkit", "datasets"):
        shutil.copytree(ROOT / name, src / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    # Offline: this environment's setuptools builds it (no isolated build environment).
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path / "dist"), str(src)],
                   check=True, timeout=300, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("forecastkit-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        site_dir = tmp_path / "site"
        archive.extractall(site_dir)  # a pure-Python wheel installs by unpacking it
    shipped = {f"forecastkit/bundled_datasets/{p.relative_to(ROOT / 'datasets').as_posix()}"
               for p in (ROOT / "datasets").rglob("*") if p.is_file()}
    assert shipped <= names
    assert "forecastkit/py.typed" in names
    assert f"forecastkit-{fk.__version__}.dist-info/METADATA" in names
    # -S: no site initialisation, so the editable install's import hook cannot shadow the
    # unpacked wheel (first on the path); the dependencies come from this process's path.
    env = {k: v for k, v in os.environ.items() if k != "FORECASTKIT_DATA"}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(site_dir), *(p for p in sys.path if p and Path(p).is_dir())])
    code = ("import forecastkit, forecastkit.datasets as d; train, test, info = "
            "d.load_m3('other'); print(forecastkit.__file__); print(d.data_dir()); "
            "print(train.unique_id.nunique(), info.horizon)")
    done = subprocess.run([sys.executable, "-S", "-c", code], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    module, data, counts = done.stdout.strip().splitlines()
    assert Path(module).is_relative_to(site_dir)
    assert Path(data) == site_dir / "forecastkit" / "bundled_datasets"
    assert counts == "174 8"  # M3 Other: 174 series, horizon 8
