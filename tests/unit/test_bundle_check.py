"""azmlinfsrv.bundle: which distribution the server will import, and whether it fits, on
synthetic site folders (dist-info metadata only; nothing is imported from them)."""

from __future__ import annotations

from pathlib import Path

from azmlinfsrv.bundle import Misfit, find, misfits


def dist(site: Path, name: str, version: str, *requires: str) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    (info / "METADATA").write_text("\n".join([*lines, *(f"Requires-Dist: {r}" for r in requires)]) + "\n")


def layout(tmp_path: Path) -> tuple[Path, Path, Path]:
    """app (ours), the user's site-packages, libs (bundled): the server's sys.path order."""
    app, site, libs = tmp_path / "app", tmp_path / "site", tmp_path / "libs"
    for folder in (app, site, libs):
        folder.mkdir()
    dist(app, "azmlinfsrv", "0.1.0", "flask>=2.3,<4", 'debugpy>=1.8,<2; extra == "daemon"')
    dist(libs, "flask", "3.1.3", "werkzeug>=3.1")
    dist(libs, "werkzeug", "3.1.9")
    dist(libs, "debugpy", "1.8.22")
    return app, site, libs


def test_the_first_distribution_along_the_path_is_the_one_found(tmp_path: Path) -> None:
    app, site, libs = layout(tmp_path)
    dist(site, "flask", "3.0.3", "werkzeug>=3.0")
    found = find("flask", [str(app), str(site), str(libs)])
    assert found is not None and found.version == "3.0.3"
    assert find("Flask", [str(libs)]).version == "3.1.3"  # type: ignore[union-attr]


def test_everything_bundled_fits(tmp_path: Path) -> None:
    app, site, libs = layout(tmp_path)
    assert misfits(str(libs), [str(app), str(site), str(libs)], debugging=True) == []


def test_the_users_version_too_old_is_named_with_the_range_needed(tmp_path: Path) -> None:
    app, site, libs = layout(tmp_path)
    dist(site, "flask", "2.2.5", "werkzeug>=2.2.2")
    found = misfits(str(libs), [str(app), str(site), str(libs)], debugging=False)
    assert found == [Misfit("flask", "2.2.5", str(site), ">=2.3,<4", "azmlinfsrv")]
    assert found[0].sentence().startswith(f"flask 2.2.5 (in {site}) does not fit: azmlinfsrv needs flask>=2.3,<4.")


def test_a_users_package_too_old_for_a_bundled_one_names_both(tmp_path: Path) -> None:
    app, site, libs = layout(tmp_path)
    dist(site, "werkzeug", "2.2.3")
    [misfit] = misfits(str(libs), [str(app), str(site), str(libs)], debugging=False)
    assert (misfit.name, misfit.found, misfit.wanted_by, misfit.needed) == ("werkzeug", "2.2.3", "flask 3.1.3", ">=3.1")


def test_debugpy_is_checked_only_when_a_worker_will_import_it(tmp_path: Path) -> None:
    app, site, libs = layout(tmp_path)
    dist(site, "debugpy", "1.6.0")
    path = [str(app), str(site), str(libs)]
    assert misfits(str(libs), path, debugging=False) == []
    assert [m.name for m in misfits(str(libs), path, debugging=True)] == ["debugpy"]


def test_a_missing_package_is_said_to_be_missing(tmp_path: Path) -> None:
    app, site, libs = layout(tmp_path)
    (libs / "werkzeug-3.1.9.dist-info" / "METADATA").unlink()
    (libs / "werkzeug-3.1.9.dist-info").rmdir()
    [misfit] = misfits(str(libs), [str(app), str(site), str(libs)], debugging=False)
    assert misfit.sentence() == "werkzeug is missing: flask 3.1.3 needs werkzeug>=3.1"


def test_without_our_metadata_there_is_nothing_to_check(tmp_path: Path) -> None:
    """A plain pip install of azmlinfsrv (no bundle): pip resolved it already."""
    _, site, libs = layout(tmp_path)
    assert misfits(str(libs), [str(site), str(libs)], debugging=True) == []
