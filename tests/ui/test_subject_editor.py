"""SubjectEditor on its own: each format's members, aliases and complex subjects, and the
core's problems shown beside the fields they concern."""

from __future__ import annotations

import pytest

from app.ui.subscriptions.subject_editor import SubjectEditor


@pytest.fixture
def editor(qtbot):
    widget = SubjectEditor()
    qtbot.addWidget(widget)
    return widget


@pytest.mark.parametrize("fmt, values, expected", [
    ("email", {"email": "jane@example.com"}, {"format": "email", "email": "jane@example.com"}),
    ("phone_number", {"phone_number": "+12065550100"}, {"format": "phone_number", "phone_number": "+12065550100"}),
    ("iss_sub", {"iss": "https://idp.example.com/", "sub": "145"}, {"format": "iss_sub", "iss": "https://idp.example.com/", "sub": "145"}),
    ("opaque", {"id": "abc"}, {"format": "opaque", "id": "abc"}),
    ("account", {"uri": "acct:jane@example.com"}, {"format": "account", "uri": "acct:jane@example.com"}),
    ("did", {"url": "did:example:123"}, {"format": "did", "url": "did:example:123"}),
    ("uri", {"uri": "https://user.example.com/"}, {"format": "uri", "uri": "https://user.example.com/"}),
    ("ip-addresses", {"ip-addresses": "10.0.0.1, ::1"}, {"format": "ip-addresses", "ip-addresses": ["10.0.0.1", "::1"]}),
])
def test_each_simple_format_has_its_members(editor, fmt, values, expected):
    editor.format.setCurrentText(fmt)
    assert set(editor.fields) == set(values)
    for member, text in values.items():
        editor.fields[member].setText(text)
    assert editor.subject() == expected
    assert editor.validate() and editor.shown_problems() == []


def test_a_problem_is_shown_beside_its_field(editor):
    editor.format.setCurrentText("account")
    editor.fields["uri"].setText("mailto:jane@example.com")
    assert not editor.validate()
    assert editor.field_problems["uri"].text() == "format 'account' needs an 'acct:' URI"
    assert not editor.problems_label.isVisibleTo(editor)
    editor.fields["uri"].setText("acct:jane@example.com")
    assert editor.validate() and editor.field_problems["uri"].text() == ""


def test_a_complex_subject_with_named_members(editor):
    editor.format.setCurrentText("complex")
    user = editor.parts[0][1]
    user.fields["email"].setText("bar@example.com")
    tenant = editor.add_part("tenant", initial="iss_sub")
    tenant.fields["iss"].setText("https://example.com/idp1")
    tenant.fields["sub"].setText("1234")
    assert editor.subject() == {"format": "complex", "user": {"format": "email", "email": "bar@example.com"},
                                "tenant": {"format": "iss_sub", "iss": "https://example.com/idp1", "sub": "1234"}}
    assert editor.validate()


def test_an_invalid_complex_member_is_shown_in_its_own_editor(editor):
    editor.format.setCurrentText("complex")
    device = editor.add_part("device", initial="opaque")
    assert not editor.validate()
    assert editor.parts[0][1].field_problems["email"].text() == "format 'email' needs a non-empty string 'email'"
    assert device.field_problems["id"].text() == "format 'opaque' needs a non-empty string 'id'"
    editor.parts[0][0].setCurrentText("device")
    editor.validate()
    assert "each member name may appear only once (SSF 3.3)" in editor.problems_label.text()


def test_aliases_and_setting_a_subject_back(editor):
    subject = {"format": "aliases", "identifiers": [{"format": "email", "email": "user@example.com"},
                                                    {"format": "phone_number", "phone_number": "+12065550100"}]}
    editor.set_subject(subject)
    assert editor.format.currentText() == "aliases" and len(editor.parts) == 2
    assert editor.subject() == subject and editor.validate()
    editor.set_subject({"format": "complex", "session": {"format": "opaque", "id": "s1"}})
    assert editor.subject() == {"format": "complex", "session": {"format": "opaque", "id": "s1"}}


def test_removing_the_last_complex_member_is_refused(editor, qtbot):
    editor.format.setCurrentText("complex")
    remove = [b for b in editor.parts[0][2].findChildren(type(editor.add_button)) if b.text() == "Remove"][0]
    remove.click()
    assert editor.parts == []
    assert not editor.validate()
    assert "a complex subject needs at least one member" in editor.problems_label.text()
