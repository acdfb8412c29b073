"""The Qt-free engine: receiver, verification, workspace, transmitter simulator.

Nothing in this package may import PySide6, qasync or app.ui (tests/test_layers.py
enforces it): every front end (the window, headless mode, the CLI) drives the same core.
"""
