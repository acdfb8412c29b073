"""Signalscope: a desktop inspector for webhooks and OpenID Shared Signals."""

__version__ = "0.1.0"
