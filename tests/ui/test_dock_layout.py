"""The docks that were open when the window closed are open again next time."""

from __future__ import annotations


def test_open_docks_come_back_and_closed_ones_stay_closed(make_window, qtbot, tmp_path):
    first = make_window(tmp_path / "a.signalscope", start=False)
    first.show()
    first.retry_views.toggle_deliveries(True)
    first.subscriptions.dock.show()
    first.replay.dock.hide()
    assert sorted(first.open_docks()) == ["deliveries", "subscriptions"]
    first.close()

    second = make_window(tmp_path / "a.signalscope", start=False)
    second.show()
    assert sorted(second.open_docks()) == ["deliveries", "subscriptions"]
    assert second.retry_views.deliveries_dock.isVisibleTo(second)
    assert not second.replay.dock.isVisibleTo(second)
    assert second.retry_views.observed_dock is None  # never opened: not even built
    second.subscriptions.dock.close()
    second.close()

    third = make_window(tmp_path / "a.signalscope", start=False)
    third.show()
    assert third.open_docks() == ["deliveries"]
