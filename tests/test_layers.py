"""The core never imports Qt: import every app.core module with Qt blocked."""

import subprocess
import sys
import textwrap


def test_core_imports_without_qt():
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] in ('PySide6', 'shiboken6', 'qasync', 'PyQt5', 'PyQt6') or name.startswith('app.ui'):
                    raise ImportError(f'app.core must not import {name}')
                return None

        sys.meta_path.insert(0, Block())
        import app.core
        for mod in pkgutil.walk_packages(app.core.__path__, 'app.core.'):
            importlib.import_module(mod.name)
        print('ok')
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
