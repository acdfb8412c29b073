"""PySide6 front end: thin adapters over app.core."""
