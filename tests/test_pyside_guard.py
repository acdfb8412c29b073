"""Guard against PySide6 builds that leak references to None/True (6.12.0 on Python 3.11).

Such a build makes the interpreter abort after a few thousand Qt calls (see DESIGN.md);
this test fails on it long before the app would crash in a user's hands.
"""

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    fired = Signal()
    flag = Signal(bool)


def test_void_calls_and_emits_keep_none_and_true_refcounts():
    emitter = _Emitter()
    received = []
    emitter.flag.connect(received.append)
    none_before = sys.getrefcount(None)
    true_before = sys.getrefcount(True)
    for _ in range(100):
        emitter.setObjectName("guard")  # a void Qt call
        emitter.fired.emit()
        emitter.flag.emit(True)
    none_after = sys.getrefcount(None)
    true_after = sys.getrefcount(True)
    assert len(received) == 100
    # A bad build loses one reference per call (100+ here); allow small noise.
    assert none_after >= none_before - 10, f"None refcount dropped {none_before - none_after}"
    assert true_after >= true_before - 10, f"True refcount dropped {true_before - true_after}"
