"""The desktop bundle's pieces: the self-test, the built binary (when built), the
.desktop file, the icon and the AppStream metadata."""

import configparser
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "io.github.signalscope.Signalscope"
BUNDLE = ROOT / "dist" / "signalscope" / "signalscope"


def run_self_test(command: list[str]) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_self_test_pushes_a_set_to_itself_and_shows_it():
    out = run_self_test([sys.executable, "packaging/entry.py", "--self-test"])
    assert out == {"self_test": "ok", "status": 202, "verdict": "valid", "rows_shown": 1}


@pytest.mark.skipif(not BUNDLE.exists(), reason="no bundle built (make package)")
def test_the_built_bundle_passes_its_self_test():
    assert run_self_test([str(BUNDLE), "--self-test"])["self_test"] == "ok"


def test_desktop_entry_names_the_binary_and_the_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(ROOT / "resources" / f"{APP_ID}.desktop")
    section = entry["Desktop Entry"]
    assert section["Exec"].split()[0] == "signalscope" and section["Icon"] == APP_ID
    assert (ROOT / "resources" / f"{section['Icon']}.svg").exists()
    ET.parse(ROOT / "resources" / f"{APP_ID}.svg")


def test_appstream_metadata_points_at_the_desktop_entry():
    root = ET.parse(ROOT / "resources" / f"{APP_ID}.metainfo.xml").getroot()
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == f"{APP_ID}.desktop"


def test_the_desktop_opens_a_workspace_file_with_the_window():
    from app.cli import COMMANDS, build_parser, normalise_argv

    entry = configparser.ConfigParser(interpolation=None)
    entry.read(ROOT / "resources" / f"{APP_ID}.desktop")
    section = entry["Desktop Entry"]
    opened = section["Exec"].replace("%f", "/home/jane/ci.signalscope").split()[1:]
    args = build_parser().parse_args(normalise_argv(opened))
    assert args.command == "gui" and str(args.workspace) == "/home/jane/ci.signalscope"
    assert build_parser().parse_args(normalise_argv(section["Exec"].replace("%f", "").split()[1:])).command is None
    assert COMMANDS == set(build_parser()._subparsers._group_actions[0].choices)


def test_the_workspace_type_is_declared_for_the_desktop():
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    root = ET.parse(ROOT / "resources" / f"{APP_ID}.mime.xml").getroot()
    [mime] = root.findall("m:mime-type", ns)
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(ROOT / "resources" / f"{APP_ID}.desktop")
    assert mime.get("type") in entry["Desktop Entry"]["MimeType"].split(";")
    from app.core.store.schema import default_workspace_path

    pattern = mime.find("m:glob", ns).get("pattern")
    assert default_workspace_path().match(pattern)
