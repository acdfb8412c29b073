"""The capture list as a view: filtered, ordered, paged rows of capture summaries.

Toolkit-neutral, like mitmproxy's view: the window's table model is an adapter
that asks this object for `len(view)` and `view.row(i)` and forwards what
`refresh()` reports. The view never loads every row:

- It keeps only the *ids* of the matching captures, in id (= arrival) order.
  Unfiltered, that is assumed to be a range (two integers: captures are never
  deleted, so ids are dense), which opens a million captures at once; because
  counting them to be sure takes a scan (~0.3 s per million), `ids_are_dense()`
  checks it on a connection of the caller's (the window runs it on a worker
  thread) and `reload(exact=True)` falls back to the real ids if it ever fails.
  Filtered, the ids are an `array('q')` filled by one indexed query
  (verdict/kind/issuer/event type indexes, FTS5 for free text).
- Summaries (no bodies) are fetched a page at a time when asked for, and a few
  pages are cached (LRU), so scrolling anywhere costs one small indexed query.
- `refresh()` appends the ids that arrived since the last look and says how many.

It reads through its own connection (read-only in the window; WAL lets it read
while the engine writes). All methods are synchronous and quick.
"""

from __future__ import annotations

import json
import sqlite3
from array import array
from collections import OrderedDict
from dataclasses import dataclass, replace

from app.core.store.captures import CaptureFilter

PAGE_SIZE = 200
MAX_PAGES = 32  # ~6,400 summaries cached

_SUMMARY = "id, received_at, method, path, kind, event_types, subject, issuer, verdict, response_status"


@dataclass(frozen=True)
class CaptureSummary:
    """What one line of the capture list shows."""

    id: int
    received_at: float
    method: str
    path: str
    kind: str
    event_types: tuple[str, ...]
    subject: str | None
    issuer: str | None
    verdict: str
    response_status: int | None


def _summary(row: tuple) -> CaptureSummary:
    cid, at, method, path, kind, types, subject, issuer, verdict, status = row
    try:
        event_types = tuple(json.loads(types)) if types and types != "[]" else ()
    except ValueError:
        event_types = ()
    return CaptureSummary(cid, at, method, path, kind, event_types, subject, issuer, verdict, status)


class _DenseIds:
    """ids first..last, all present: row i is id first + i."""

    def __init__(self, first: int, last: int):
        self.first, self.last = first, last

    def __len__(self) -> int:
        return max(0, self.last - self.first + 1)

    def __getitem__(self, i: int) -> int:
        return self.first + i

    def index(self, capture_id: int) -> int:
        if not self.first <= capture_id <= self.last:
            raise ValueError(capture_id)
        return capture_id - self.first


class CaptureView:
    def __init__(self, conn: sqlite3.Connection, flt: CaptureFilter | None = None, *, descending: bool = False,
                 exact: bool = False):
        self._conn = conn
        self.filter = flt or CaptureFilter()
        self.descending = descending
        self.exact = exact  # True: never assume dense ids
        self._ids: _DenseIds | array = array("q")
        self._last_seen = 0  # the highest id the view has looked at
        self._pages: OrderedDict[int, list[CaptureSummary]] = OrderedDict()
        self._load()

    # -- reading ------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._ids)

    def capture_id(self, row: int) -> int:
        return self._ids[self._position(row)]

    def row(self, row: int) -> CaptureSummary:
        """The summary shown on line `row` (0 <= row < len(self))."""
        pos = self._position(row)
        page_no = pos // PAGE_SIZE
        page = self._pages.get(page_no)
        if page is None:
            page = self._fetch_page(page_no)
        else:
            self._pages.move_to_end(page_no)
        return page[pos - page_no * PAGE_SIZE]

    def row_of(self, capture_id: int) -> int | None:
        """Which line shows this capture (None when the filter hides it)."""
        try:
            if isinstance(self._ids, _DenseIds):
                pos = self._ids.index(capture_id)
            else:
                pos = _bisect(self._ids, capture_id)
        except ValueError:
            return None
        return len(self._ids) - 1 - pos if self.descending else pos

    # -- changing -------------------------------------------------------------
    def set_filter(self, flt: CaptureFilter) -> None:
        self.filter = replace(flt, after_id=None, before_id=None)
        self._load()

    @property
    def assumes_dense(self) -> bool:
        """True when the rows are a range of ids nobody has counted yet."""
        return isinstance(self._ids, _DenseIds) and not self.exact and len(self._ids) > 0

    def reload(self, *, exact: bool | None = None) -> None:
        if exact is not None:
            self.exact = exact
        self._load()

    def set_descending(self, descending: bool) -> None:
        self.descending = descending

    def refresh(self) -> int:
        """Take in captures committed since the last look; returns how many rows were added
        (at the end when ascending, at the top when descending)."""
        return self.append(self.fetch_new())

    def fetch_new(self) -> list[int]:
        """Ids of matching captures committed since the last look, not yet shown (an
        adapter announces them, then calls `append`)."""
        top = self._conn.execute("SELECT max(id) FROM captures").fetchone()[0] or 0
        if top <= self._last_seen:
            return []
        where, params = replace(self.filter, after_id=self._last_seen, before_id=top + 1).where()
        rows = self._conn.execute(f"SELECT c.id FROM captures c{where} ORDER BY c.id", params).fetchall()
        self._last_seen = top
        return [r[0] for r in rows]

    def append(self, new: list[int]) -> int:
        if not new:
            return 0
        if isinstance(self._ids, _DenseIds) and (new[0] == self._ids.last + 1 or not len(self._ids)) \
                and new[-1] - new[0] + 1 == len(new):
            if not len(self._ids):
                self._ids = _DenseIds(new[0], new[-1])
            else:
                self._ids.last = new[-1]
        else:
            if isinstance(self._ids, _DenseIds):
                self._ids = array("q", range(self._ids.first, self._ids.last + 1))
            self._ids.extend(new)
        # The last page may have been cached short; it now has more rows.
        self._pages.pop((len(self._ids) - len(new)) // PAGE_SIZE, None)
        return len(new)

    # -- internals ----------------------------------------------------------
    def _position(self, row: int) -> int:
        n = len(self._ids)
        if not 0 <= row < n:
            raise IndexError(row)
        return n - 1 - row if self.descending else row

    def _load(self) -> None:
        self._pages.clear()
        where, params = self.filter.where()
        self._last_seen = self._conn.execute("SELECT max(id) FROM captures").fetchone()[0] or 0
        if not where:
            first = self._conn.execute("SELECT min(id) FROM captures").fetchone()[0]
            if first is None:
                self._ids = _DenseIds(1, 0)
                return
            if not self.exact:
                self._ids = _DenseIds(first, self._last_seen)
                return
        bound = " AND " if where else " WHERE "
        ids = array("q")
        cursor = self._conn.execute(
            f"SELECT c.id FROM captures c{where}{bound}c.id <= ? ORDER BY c.id", [*params, self._last_seen])
        while chunk := cursor.fetchmany(10000):
            ids.extend(r[0] for r in chunk)
        self._ids = ids

    def _fetch_page(self, page_no: int) -> list[CaptureSummary]:
        start = page_no * PAGE_SIZE
        stop = min(start + PAGE_SIZE, len(self._ids))
        if isinstance(self._ids, _DenseIds):
            rows = self._conn.execute(
                f"SELECT {_SUMMARY} FROM captures WHERE id BETWEEN ? AND ? ORDER BY id",
                (self._ids[start], self._ids[stop - 1])).fetchall()
        else:
            wanted = list(self._ids[start:stop])
            marks = ",".join("?" * len(wanted))
            rows = self._conn.execute(
                f"SELECT {_SUMMARY} FROM captures WHERE id IN ({marks}) ORDER BY id", wanted).fetchall()
        page = [_summary(r) for r in rows]
        if len(page) != stop - start:  # ids assumed dense are not (until reload(exact=True)): show the gaps
            found = {s.id: s for s in page}
            page = [found.get(i) or _missing(i) for i in (self._ids[p] for p in range(start, stop))]
        self._pages[page_no] = page
        if len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        return page


def _missing(capture_id: int) -> CaptureSummary:
    return CaptureSummary(capture_id, 0.0, "", "(not in the workspace)", "", (), None, None, "", None)


def ids_are_dense(conn: sqlite3.Connection) -> bool:
    """Whether capture ids run without gaps (one consistent read: a count over an index,
    ~0.3 s per million captures; run it off the GUI thread, on a connection of its own)."""
    conn.execute("BEGIN")
    try:
        first, last, count = conn.execute("SELECT min(id), max(id), count(*) FROM captures").fetchone()
    finally:
        conn.execute("COMMIT")
    return count == 0 or last - first + 1 == count


def _bisect(ids: array, capture_id: int) -> int:
    lo, hi = 0, len(ids)
    while lo < hi:
        mid = (lo + hi) // 2
        if ids[mid] < capture_id:
            lo = mid + 1
        else:
            hi = mid
    if lo < len(ids) and ids[lo] == capture_id:
        return lo
    raise ValueError(capture_id)


def distinct_values(conn: sqlite3.Connection, what: str, *, limit: int = 200) -> list[str]:
    """Distinct issuers or event types, each step an index seek (a skip scan), so it stays
    quick on a million captures. `what` is 'issuer' or 'event_type'."""
    table, column = {"issuer": ("captures", "issuer"), "event_type": ("capture_event_types", "event_type")}[what]
    rows = conn.execute(
        f"WITH RECURSIVE v(x, n) AS (SELECT (SELECT min({column}) FROM {table}), 0"
        f" UNION ALL SELECT (SELECT min({column}) FROM {table} WHERE {column} > v.x), n + 1"
        f" FROM v WHERE v.x IS NOT NULL AND n < ?) SELECT x FROM v WHERE x IS NOT NULL", (limit,)).fetchall()
    return [r[0] for r in rows]
