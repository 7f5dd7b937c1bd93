"""The package as a user installs it: one version, samples and notebooks inside it, core deps that report.

Building and installing the wheel into a fresh environment is done by ``.ci/run`` (it needs the
build frontend from PyPI); these tests check the same promises on the installed checkout.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import pytest

import mpkit
from conftest import ROOT
from mpkit.deps import install_hint, missing_module_message
from mpkit.samples import DEFAULT, sample, samples

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SAMPLES = {"sequoia-ip-discovery", "firewall-blocks-bootpd", "healthy-start", "linux-dhcp-firewalled"}


def _name(req: str) -> str:
    m = re.match(r"[A-Za-z0-9._-]+", req)
    assert m, req
    return re.sub(r"[-_.]+", "-", m[0]).lower()


def _mpkit(*argv: str, cwd: Path, block: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh interpreter, optionally as if module ``block`` were not installed."""
    code = (
        "import sys\n"
        + (f"sys.modules[{block!r}] = None\n" if block else "")
        + f"from mpkit.cli import main\nsys.exit(main({list(argv)!r}))\n"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300)


# -- one version ------------------------------------------------------------------------------------


def test_version_is_written_once() -> None:
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "mpkit.__version__"}
    written = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "mpkit").rglob("*.py")
        if re.search(r"^__version__\s*=", p.read_text(encoding="utf-8"), re.M)
    ]
    assert written == ["mpkit/__init__.py"]


def test_cli_metadata_and_package_agree_on_the_version(tmp_path: Path) -> None:
    assert importlib.metadata.version("mpkit") == mpkit.__version__, (
        "installed metadata is stale: reinstall (make install)"
    )
    script = shutil.which("mpkit", path=str(Path(sys.executable).parent))
    argv = [script] if script else [sys.executable, "-m", "mpkit.cli"]
    out = subprocess.run([*argv, "--version"], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"mpkit {mpkit.__version__}"
    from mpkit.collect.manifest import mpkit_version

    assert mpkit_version() == mpkit.__version__


# -- samples and notebooks inside the package ---------------------------------------------------------


def test_samples_are_package_data() -> None:
    shipped = resources.files("mpkit") / "samples_data"
    found = samples()
    assert set(found) == SAMPLES
    for path in found.values():
        assert path.is_dir() and (path / "manifest.json").is_file()
        assert path.parent == Path(str(shipped)), "found through importlib.resources, in the package"
    assert sample() == found[DEFAULT] == sample("default")


def test_samples_have_one_copy() -> None:
    """``mpkit/samples_data`` is what scripts/make_samples.py writes; data/ holds only the case library."""
    data = ROOT / "data"
    stray = sorted(p.parent.name for p in data.glob("*/manifest.json")) if data.is_dir() else []
    assert not stray, f"sample bundles outside the package: {stray}"
    assert (ROOT / "mpkit" / "samples_data" / "README.md").is_file()


def test_samples_listed_outside_the_source_tree(tmp_path: Path) -> None:
    out = _mpkit("samples", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split("\t") for line in out.stdout.splitlines())
    assert {n.removesuffix(" (default)") for n in lines} == SAMPLES
    assert Path(lines[f"{DEFAULT} (default)"]) == sample()


def test_package_data_ships_samples_and_notebooks_not_the_case_library() -> None:
    st = PYPROJECT["tool"]["setuptools"]
    data = st["package-data"]["mpkit"]
    assert {"notebooks/*.ipynb", "samples_data/**/*", "diagnose/rules/*.json", "py.typed"} <= set(data)
    assert not any("cases" in d for d in data)
    assert not (ROOT / "MANIFEST.in").exists(), "an sdist manifest could pull data/cases in"
    assert "mpkit*" in st["packages"]["find"]["include"]


# -- dependencies -------------------------------------------------------------------------------------


def test_reports_need_only_core_dependencies() -> None:
    core = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert {
        "papermill",
        "nbconvert",
        "nbclient",
        "nbformat",
        "ipykernel",
        "matplotlib",
        "pandas",
        "tqdm",
    } <= core
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {_name(r) for r in extras["lab"]} == {"jupyterlab"}
    assert {_name(r) for r in extras["dask"]} == {"dask"}
    assert not {"jupyterlab", "dask", "distributed"} & core


@pytest.mark.parametrize(
    ("module", "hint"),
    [
        ("distributed", "pip install 'mpkit[dask]'"),
        ("dask.dataframe", "pip install 'mpkit[dask]'"),
        ("jupyterlab", "pip install 'mpkit[lab]'"),
        ("nbformat", "pip install 'nbformat>=5.10'"),
        ("IPython.display", "pip install 'ipython>=8.18'"),
        ("no_such_module", "pip install no_such_module"),
    ],
)
def test_install_hint_names_the_pip_command(module: str, hint: str) -> None:
    assert install_hint(module) == hint
    assert missing_module_message(module, "report").endswith(f"run: {hint}")


def _one_line_without_traceback(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    return lines[0]


def test_missing_report_dependency_is_one_line(tmp_path: Path) -> None:
    out = _mpkit(
        "report", "--sample", "default", "-o", str(tmp_path / "r.html"), cwd=tmp_path, block="nbformat"
    )
    line = _one_line_without_traceback(out)
    assert line.startswith("mpkit: `mpkit report` needs the Python module 'nbformat'")
    assert line.endswith("run: pip install 'nbformat>=5.10'")
    assert not (tmp_path / "r.html").exists()


def test_missing_extra_is_one_line(tmp_path: Path) -> None:
    out = _mpkit(
        "batch",
        str(sample("healthy-start")),
        "-o",
        str(tmp_path / "out"),
        "--scheduler",
        "tcp://127.0.0.1:9",
        "--quiet",
        cwd=tmp_path,
        block="distributed",
    )
    line = _one_line_without_traceback(out)
    assert "pip install" in line and "dask" in line


def test_a_missing_mpkit_module_is_a_bug_not_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    from mpkit import cli

    def broken(args: object) -> int:
        raise ModuleNotFoundError("No module named 'mpkit.nope'", name="mpkit.nope")

    monkeypatch.setattr(cli, "_samples", broken)
    with pytest.raises(ModuleNotFoundError):
        cli.main(["samples"])
