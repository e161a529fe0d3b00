"""A question-and-answer transcript in a QTextBrowser, shared by the Ask tab and Ask all: a
turn is the question in one paragraph and the answer after a label, streamed in and then
replaced by its final form."""

from __future__ import annotations

import html

from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QTextBrowser


def start_turn(view: QTextBrowser, you: str, bot: str, question: str) -> int:
    """Append ``you: question`` and the ``bot:`` label; returns where the answer starts."""
    cursor = view.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.End)
    if not view.document().isEmpty():
        cursor.insertBlock()
    cursor.insertHtml(f'<p style="margin-top:6px"><b style="color:#1d4ed8">{html.escape(you)}:</b> '
                      f'{html.escape(question)}</p>')
    cursor.insertBlock()
    cursor.insertHtml(f'<b style="color:#047857">{html.escape(bot)}:</b> ')
    start = cursor.position()
    view.setTextCursor(cursor)
    view.ensureCursorVisible()
    return start


def append_text(view: QTextBrowser, text: str) -> None:
    """Add streamed text at the end."""
    cursor = view.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.End)
    cursor.insertText(text)
    view.ensureCursorVisible()


def replace_answer(view: QTextBrowser, start: int, *, text: str | None = None, rich: str | None = None) -> None:
    """Replace everything from ``start`` (the answer streamed so far) by its final form."""
    cursor = view.textCursor()
    cursor.setPosition(start)
    cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
    if rich is not None:
        cursor.insertHtml(rich)
    else:
        cursor.insertText(text or "")
    view.ensureCursorVisible()
