#!/bin/sh
# Build the one-folder desktop bundle (dist/signalscope/) and smoke-test it.
set -eu
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/signalscope.spec
QT_QPA_PLATFORM=offscreen dist/signalscope/signalscope --self-test
echo "built dist/signalscope/ (run dist/signalscope/signalscope)"
