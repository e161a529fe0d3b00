"""Ask all: a question over everything vlagent has seen ("what was the total on the invoice
last week?"). The worker retrieves the images that may answer it and the model answers from
their text, citing them as ``[#id]``; the answer streams in, then every citation and every
source (``[#id] name · time``) opens its image in the detail pane. Without a model, the
images that match the question are listed (found on the reader thread)."""

from __future__ import annotations

import html
import os
import re

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from vlagent.common import display_path
from vlagent.gui.transcript import append_text, replace_answer, start_turn
from vlagent.index.search import strip_highlight

CITATION = re.compile(r"\[#(\d+)\]")
LINK_SCHEME = "image"


def source_label(source) -> str:
    """``[#id] name · time`` for a :class:`~vlagent.memory.answer.Source`."""
    name = display_path(os.path.basename(source.path)) if source.path else f"#{source.id}"
    return f"[#{source.id}] {name} · {source.time}"


def linked_answer(text: str, known: set[int]) -> str:
    """The answer as HTML, each citation of a known source a link that opens its image."""
    def link(m: re.Match) -> str:
        image_id = int(m.group(1))
        return f'<a href="{LINK_SCHEME}:{image_id}">[#{image_id}]</a>' if image_id in known else m.group(0)

    return CITATION.sub(link, html.escape(text)).replace("\n", "<br>")


def retrieve_only(index, question: str, settings):
    """On the reader thread, without a model: the images that match the question."""
    from vlagent.memory.answer import MemoryAnswer, ask_memory

    if index is None:
        return MemoryAnswer(question, "")
    return ask_memory(question, index=index, settings=settings, engine=None, store=False)


class AskAllPanel(QWidget):
    image_requested = Signal(int)  # a citation or a source was clicked
    answered = Signal(object)  # the MemoryAnswer shown

    def __init__(self, backend, parent=None):
        super().__init__(parent)
        self.backend = backend
        self.session = None  # a MemorySession while the worker answers
        self.answer = None  # the last MemoryAnswer
        self._retrieving = False
        self._answer_start = 0
        self._build()
        self._update_enabled()

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        split = QSplitter(Qt.Orientation.Vertical)
        self.transcript = QTextBrowser()
        self.transcript.setObjectName("askAllTranscript")
        self.transcript.setOpenLinks(False)
        self.transcript.anchorClicked.connect(self._anchor_clicked)
        self.transcript.setPlaceholderText(self.tr(
            "Ask about everything you have seen: “what was the total on the invoice last week?”, "
            "“which error did the build show on Monday?”. The answer cites the images it used; "
            "click one to open it."))
        split.addWidget(self.transcript)
        box = QWidget()
        bl = QVBoxLayout(box)
        bl.setContentsMargins(0, 0, 0, 0)
        self.sources_label = QLabel(self.tr("Sources"))
        self.sources_label.setObjectName("hint")
        bl.addWidget(self.sources_label)
        self.sources = QListWidget()
        self.sources.setObjectName("sources")
        self.sources.itemClicked.connect(self._source_clicked)
        self.sources.itemActivated.connect(self._source_clicked)
        bl.addWidget(self.sources, 1)
        split.addWidget(box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        lay.addWidget(split, 1)
        self.state_label = QLabel()
        self.state_label.setObjectName("hint")
        self.state_label.setWordWrap(True)
        lay.addWidget(self.state_label)
        row = QHBoxLayout()
        self.question_edit = QLineEdit()
        self.question_edit.setObjectName("askAllQuestion")
        self.question_edit.setPlaceholderText(self.tr("Ask about everything you have seen…"))
        self.question_edit.returnPressed.connect(self.ask)
        self.question_edit.textChanged.connect(self._update_enabled)
        row.addWidget(self.question_edit, 1)
        self.ask_button = QPushButton(self.tr("Ask all"))
        self.ask_button.clicked.connect(self.ask)
        row.addWidget(self.ask_button)
        self.stop_button = QPushButton(self.tr("Stop"))
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setVisible(False)
        row.addWidget(self.stop_button)
        lay.addLayout(row)
        self.sources_label.setVisible(False)
        self.sources.setVisible(False)

    def showEvent(self, event):
        super().showEvent(event)
        agent = self.backend.agent
        if agent is not None and agent.can_ask:
            agent.preload_model()
        self._update_enabled()

    def focus_question(self) -> None:
        self.question_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    @property
    def busy(self) -> bool:
        return self.session is not None or self._retrieving

    # --- asking ---------------------------------------------------------------------------
    def ask(self, question: str | None = None) -> None:
        question = (question if isinstance(question, str) else self.question_edit.text()).strip()
        if not question or self.busy:
            return
        self.question_edit.clear()
        self._append_turn(question)
        agent = self.backend.agent
        if agent is not None and agent.can_ask:
            self.state_label.setText(self.tr("Searching everything you have seen, then answering… "
                                             "(the model loads on the first question)"))
            session = self.session = agent.ask_memory(question, parent=self)
            session.token.connect(self._token)
            session.answered.connect(self._answered)
            session.failed.connect(self._failed)
            session.cancelled.connect(self._cancelled)
        else:
            self._retrieving = True
            self.state_label.setText(self.tr("Searching everything you have seen…"))
            settings = self.backend.settings
            self.backend.reader.submit(lambda index: retrieve_only(index, question, settings), self._answered,
                                       lambda e: self._failed(str(e) or e.__class__.__name__), key="ask-all")
        self._update_enabled()

    def stop(self) -> None:
        if self.session is not None:
            self.session.stop()

    def _token(self, piece: str) -> None:
        session = self.session
        if session is None or self.sender() is not session or getattr(session, "finished", False):
            return
        if self.state_label.text():
            self.state_label.clear()
        append_text(self.transcript, piece)

    def _answered(self, answer) -> None:
        self.session, self._retrieving = None, False
        self.answer = answer
        self.state_label.clear()
        if answer.answered:
            self._replace_answer(linked_answer(answer.text, {s.id for s in answer.sources}))
        elif answer.sources:
            self._replace_answer(html.escape(self.tr(
                "There is no model to answer with (it needs the background worker and a model); "
                "these images match the question.")))
        else:
            self._replace_answer(html.escape(answer.text or self.tr("Nothing matches this question.")))
        self._show_sources(answer)
        self._update_enabled()
        self.answered.emit(answer)

    def _failed(self, message: str) -> None:
        self.session, self._retrieving = None, False
        self.state_label.setText(self.tr("Could not answer: {error}").format(error=message))
        self._update_enabled()

    def _cancelled(self) -> None:
        self.session = None
        self.state_label.setText(self.tr("Stopped."))
        self._update_enabled()

    # --- transcript and sources -----------------------------------------------------------
    def _append_turn(self, question: str) -> None:
        self._answer_start = start_turn(self.transcript, self.tr("You"), self.tr("vlagent"), question)

    def _replace_answer(self, answer_html: str) -> None:
        replace_answer(self.transcript, self._answer_start, rich=answer_html)

    def _show_sources(self, answer) -> None:
        self.sources.clear()
        ordered = [s for s in answer.sources if s.cited] + [s for s in answer.sources if not s.cited]
        for s in ordered:
            item = QListWidgetItem(source_label(s))
            item.setData(Qt.ItemDataRole.UserRole, s.id)
            tip = display_path(s.path) if s.path else f"#{s.id}"
            item.setToolTip(tip + ("\n" + strip_highlight(s.snippet) if s.snippet else ""))
            if s.cited:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
            self.sources.addItem(item)
        cited = sum(1 for s in answer.sources if s.cited)
        self.sources_label.setText(
            self.tr("Sources: {cited} cited, {n} searched — click one to open it").format(
                cited=cited, n=len(answer.sources)) if answer.answered
            else self.tr("Matching images — click one to open it"))
        self.sources_label.setVisible(bool(ordered))
        self.sources.setVisible(bool(ordered))

    def source_ids(self) -> list[int]:
        return [self.sources.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.sources.count())]

    def transcript_text(self) -> str:
        return self.transcript.toPlainText()

    def _source_clicked(self, item: QListWidgetItem) -> None:
        self.image_requested.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    def _anchor_clicked(self, url: QUrl) -> None:
        if url.scheme() == LINK_SCHEME and url.path().isdigit():
            self.image_requested.emit(int(url.path()))

    def _update_enabled(self) -> None:
        busy = self.busy
        self.question_edit.setEnabled(not busy)
        self.ask_button.setEnabled(not busy and bool(self.question_edit.text().strip()))
        self.ask_button.setVisible(not (busy and self.session is not None))
        self.stop_button.setVisible(self.session is not None)
