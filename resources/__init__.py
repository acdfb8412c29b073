"""Data files shipped with Signalscope (event catalogue, icons, desktop entry)."""
