"""The JSON editor of the replay dialog: any text, however broken, is parsed without
raising, and an error mark always lands inside the document at the line it names."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.ui.json_editor import JsonEditor, check_headers, headers_text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=200), st.text(alphabet='{}[]":,\n 0123456789abtrue', max_size=120)))
def test_any_text_parses_or_is_marked_inside_the_document(qtbot, text):
    editor = JsonEditor("claims")
    qtbot.addWidget(editor)
    editor.set_text(text)
    try:
        json.loads(text)
    except ValueError:
        assert not editor.valid and editor.error.startswith("claims: ")
        if editor.error_position is not None:
            marks = editor.editor.extraSelections()
            blocks = editor.editor.document().blockCount()
            assert marks and all(0 <= m.cursor.blockNumber() < blocks for m in marks)
    else:
        assert editor.valid and not editor.editor.extraSelections()


@given(st.lists(st.tuples(st.text(min_size=1, max_size=20), st.text(max_size=40)), max_size=8))
def test_headers_text_round_trips_order_and_repeats(pairs):
    assert [tuple(p) for p in json.loads(headers_text(pairs))] == pairs
    assert check_headers(json.loads(headers_text(pairs))) is None
