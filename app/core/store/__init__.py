"""The workspace: one SQLite file (WAL) holding everything a session produced.

- `schema.py`: numbered migrations, applied on open (`PRAGMA user_version`).
- `writer.py`: the single writer; batches many operations per transaction so
  each request is answered only after its row is committed, at high rates.
- `captures.py`: capture records, their insert operation and the read queries.
"""

from app.core.store.schema import open_workspace, default_workspace_path

__all__ = ["open_workspace", "default_workspace_path"]
