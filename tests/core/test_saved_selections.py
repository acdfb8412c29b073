import pytest

from app.core.replay_runs import Selection
from app.core.saved_selections import SelectionError, delete_op, from_json, load, save_op, to_json
from app.core.store.captures import CaptureFilter
from app.core.store.schema import open_workspace


def test_a_saved_selection_comes_back_equal(tmp_path):
    conn = open_workspace(tmp_path / "s.signalscope")
    okta = Selection(CaptureFilter(verdict="invalid", issuer="https://okta.example"), order="time")
    failed = Selection(failed_only=True, since=1700000000.0)
    save_op("okta invalid", okta)(conn)
    save_op("failed", failed)(conn)
    assert load(conn) == {"okta invalid": okta, "failed": failed}
    delete_op("failed")(conn)
    assert list(load(conn)) == ["okta invalid"]


def test_saving_under_an_existing_name_replaces_it(tmp_path):
    conn = open_workspace(tmp_path / "s.signalscope")
    save_op("x", Selection(ids=[1, 2]))(conn)
    save_op("x", Selection(ids=[3]))(conn)
    assert load(conn)["x"].ids == [3]


def test_bad_entries_are_refused_with_a_reason():
    with pytest.raises(SelectionError, match="ids"):
        from_json({"filter": {}, "ids": ["one"]})
    with pytest.raises(SelectionError, match="order"):
        from_json({"filter": {}, "order": "random"})
    with pytest.raises(SelectionError, match="name"):
        save_op("  ", Selection())
    assert from_json(to_json(Selection(CaptureFilter(text="jane")))) == Selection(CaptureFilter(text="jane"))
