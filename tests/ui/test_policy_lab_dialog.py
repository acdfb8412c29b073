"""Tools > Policy lab: a preset policy against a scripted endpoint, planned instantly by
the core simulation, then run for real through the engine thread; errors from the
core shown next to the field they name."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.core.policy_lab import SCRIPT_PRESETS, EndpointScript, simulate
from app.core.retry import PRESETS
from app.ui.policy_editor import PolicyEditor
from app.ui.policy_lab_dialog import PolicyLabDialog


def test_every_preset_loads_into_the_editor_unchanged(qtbot):
    editor = PolicyEditor()
    qtbot.addWidget(editor)
    for name, policy in PRESETS.items():
        editor.preset.setCurrentIndex(editor.preset.findData(name))
        assert editor.policy() == policy
        assert editor.source.text() == policy.source
    editor.fields["max_attempts"].setText("3")
    editor.fields["max_attempts"].textEdited.emit("3")
    assert editor.preset.currentText() == "Custom" and editor.policy().max_attempts == 3


def test_simulate_draws_the_planned_schedule_of_a_preset_against_a_script(qtbot):
    dialog = PolicyLabDialog()
    qtbot.addWidget(dialog)
    dialog.editor.preset.setCurrentIndex(dialog.editor.preset.findData("svix"))
    dialog.script_preset.setCurrentText("down 3 h, then up")
    qtbot.mouseClick(dialog.simulate_button, Qt.MouseButton.LeftButton)
    expected = simulate(PRESETS["svix"], EndpointScript.from_json(SCRIPT_PRESETS["down 3 h, then up"]))
    [lane] = dialog.timeline.lanes
    assert [m.started_at for m in lane.timeline.attempts] == [a.at for a in expected.attempts]
    assert [m.status for m in lane.timeline.attempts] == [503, 503, 503, 503, 503, 202]
    assert lane.timeline.state == "delivered"
    assert dialog.summary.text().startswith("Planned: 6 attempt(s) over 7 h 35 min, delivered.")
    assert dialog.timeline.axis.end - dialog.timeline.axis.start > 5 * 3600  # the whole schedule in view
    assert "Attempt #6: 202" in dialog.details.toPlainText()


def test_a_bad_script_and_a_bad_policy_field_show_the_core_errors_beside_them(qtbot):
    dialog = PolicyLabDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.script.setPlainText('[{"status": 99}]')
    assert dialog.script_preset.currentText() == "Custom"
    assert dialog.simulate() is None
    assert dialog.script_error.isVisible()
    assert dialog.script_error.text() == "step 1: 'status' must be an HTTP status from 100 to 599"
    dialog.script.setPlainText("[{")
    dialog.simulate()
    assert dialog.script_error.text().startswith("the script is not JSON: line 1")
    dialog.script_preset.setCurrentText("always 500")
    dialog.editor.schedule.setCurrentText("exponential")
    dialog.editor.fields["base"].setText("soon")
    assert dialog.simulate() is None
    assert dialog.editor.errors["base"].isVisible() and dialog.editor.errors["base"].text() == "'base' must be a number >= 0"
    assert not dialog.script_error.isVisible()
    dialog.editor.fields["base"].setText("2m")
    dialog.editor.fields["max_attempts"].setText("4")
    dialog.editor.fields["jitter"].setText("0")
    sim = dialog.simulate()
    assert not dialog.editor.errors["base"].isVisible()
    assert [a.at for a in sim.attempts] == [0, 120, 360, 840] and sim.state == "failed"
    dialog.close()


def test_run_for_real_draws_planned_and_actual_on_one_axis(window, qtbot):
    dialog = window.retry_views.open_policy_lab()
    dialog.editor.preset.setCurrentIndex(dialog.editor.preset.findData("simulator"))
    dialog.script.setPlainText('[{"attempts": 2, "status": 503}]')
    dialog.run_seconds.setValue(1)
    qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    assert not dialog.run_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.actual is not None, timeout=15000)
    planned, actual = dialog.timeline.lanes
    assert (planned.title, actual.title) == ("planned", "actual")
    assert [m.status for m in actual.timeline.attempts] == [503, 503, 202] == [m.status for m in planned.timeline.attempts]
    assert actual.timeline.state == "delivered" and dialog.run_button.isEnabled()
    dialog.close()
