"""Asking about an image: a chat on the selected image (or a fresh capture). The answer
streams in token by token from the worker at interactive priority; follow-up questions carry
the conversation; every answer is stored with the image, so search finds it."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from vlagent.gui.transcript import append_text, replace_answer, start_turn

EARLIER_TURNS = 3  # stored answers of earlier sessions given to the model as context


class AskPanel(QWidget):
    answered = Signal(int, str)  # image id, the answer

    def __init__(self, backend, parent=None):
        super().__init__(parent)
        self.backend = backend
        self.image_id: int | None = None
        self.history: list[dict] = []
        self.session = None
        self._prefill = None  # the worker reading the shown image while the question is typed
        self._build()
        self._update_enabled()

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        self.transcript = QTextBrowser()
        self.transcript.setObjectName("transcript")
        self.transcript.setOpenLinks(False)
        self.transcript.setPlaceholderText(self.tr(
            "Ask anything about this image: “what does the error say?”, “translate the text”, "
            "“what breed is the dog?”. Answers are saved with the image and become searchable."))
        lay.addWidget(self.transcript, 1)
        self.state_label = QLabel()
        self.state_label.setObjectName("hint")
        lay.addWidget(self.state_label)
        row = QHBoxLayout()
        self.question_edit = QLineEdit()
        self.question_edit.setPlaceholderText(self.tr("Ask about this image…"))
        self.question_edit.returnPressed.connect(self.ask)
        self.question_edit.textChanged.connect(self._update_enabled)
        row.addWidget(self.question_edit, 1)
        self.ask_button = QPushButton(self.tr("Ask"))
        self.ask_button.setDefault(True)
        self.ask_button.clicked.connect(self.ask)
        row.addWidget(self.ask_button)
        self.stop_button = QPushButton(self.tr("Stop"))
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setVisible(False)
        row.addWidget(self.stop_button)
        lay.addLayout(row)

    # --- the image ------------------------------------------------------------------------
    def set_image(self, detail: dict | None) -> None:
        """Show ``detail``'s earlier answers; a new image starts a new conversation."""
        image_id = detail["id"] if detail else None
        if image_id == self.image_id:
            self._update_enabled()  # the worker may have started meanwhile
            return
        if self.session is not None:
            self.stop()
        self._close_prefill()
        self.image_id = image_id
        self.history = []
        self.transcript.clear()
        self.state_label.clear()
        if detail:
            earlier = [r for r in detail["results"] if r["kind"] == "answer" and r["prompt"]]
            for r in earlier:
                self._append_turn(r["prompt"], r["text"])
            for r in earlier[-EARLIER_TURNS:]:
                self.history += [{"role": "user", "text": r["prompt"]}, {"role": "assistant", "text": r["text"]}]
        self._update_enabled()
        if self.isVisible():
            self._start_prefill()

    def showEvent(self, event):
        super().showEvent(event)
        agent = self.backend.agent
        if agent is not None and agent.can_ask:
            agent.preload_model()  # the first question is answered sooner
        self._start_prefill()

    def hideEvent(self, event):
        super().hideEvent(event)
        self._close_prefill()

    # --- reading the image while the question is typed -----------------------------------
    def _start_prefill(self) -> None:
        """While the Ask tab shows an image, the worker reads it (vision encoder and the
        conversation so far), so only the question is left when it is asked. Only for the
        image on screen: browsing results in the list view starts nothing."""
        agent = self.backend.agent
        worker = agent.worker if agent is not None else None
        if self._prefill is not None or self.image_id is None or worker is None or not agent.can_ask:
            return
        try:
            self._prefill = worker.prefill([self.image_id], list(self.history))
        except Exception:  # an optimisation: the question is answered without it
            self._prefill = None

    def _close_prefill(self) -> None:
        if self._prefill is not None:
            self._prefill.close()  # stops the reading, or frees what it kept
            self._prefill = None

    # --- asking ---------------------------------------------------------------------------
    def ask(self, question: str | None = None) -> None:
        question = (question if isinstance(question, str) else self.question_edit.text()).strip()
        agent = self.backend.agent
        if not question or self.image_id is None or self.session is not None or agent is None:
            return
        self.question_edit.clear()
        self._append_turn(question, "")
        self.state_label.setText(self.tr("Thinking… (the model loads on the first question)"))
        self.session = agent.ask([self.image_id], question, list(self.history), parent=self)
        image_id = self.image_id
        self.session.token.connect(self._token)
        self.session.answered.connect(lambda a: self._finished(image_id, question, a.text, None))
        self.session.failed.connect(lambda msg: self._finished(image_id, question, None, msg))
        self.session.cancelled.connect(lambda: self._finished(image_id, question, None, self.tr("Stopped.")))
        self._update_enabled()

    def stop(self) -> None:
        if self.session is not None:
            self.session.cancel()

    def _token(self, piece: str) -> None:
        if self.sender() is not self.session:
            return
        if self.state_label.text():
            self.state_label.clear()
        append_text(self.transcript, piece)

    def _finished(self, image_id: int, question: str, answer: str | None, error: str | None) -> None:
        self.session = None
        if image_id == self.image_id:
            if answer is not None:
                self.history += [{"role": "user", "text": question}, {"role": "assistant", "text": answer}]
                self.state_label.clear()
                self._replace_last_answer(answer)
            else:
                self.state_label.setText(error or "")
        if answer is not None:
            self.answered.emit(image_id, answer)
        self._update_enabled()

    # --- transcript -----------------------------------------------------------------------
    def _append_turn(self, question: str, answer: str) -> None:
        self._answer_start = start_turn(self.transcript, self.tr("You"), self.tr("vlagent"), question)
        append_text(self.transcript, answer)

    def _replace_last_answer(self, answer: str) -> None:
        """The stored answer is the streamed text, stripped; show exactly what was stored."""
        replace_answer(self.transcript, self._answer_start, text=answer)

    def transcript_text(self) -> str:
        return self.transcript.toPlainText()

    def _update_enabled(self) -> None:
        agent = self.backend.agent
        ready = agent is not None and agent.can_ask and self.image_id is not None
        busy = self.session is not None
        self.question_edit.setEnabled(ready and not busy)
        self.ask_button.setEnabled(ready and not busy and bool(self.question_edit.text().strip()))
        self.ask_button.setVisible(not busy)
        self.stop_button.setVisible(busy)
        if agent is None or not agent.can_ask:
            self.state_label.setText(self.tr("Questions need the background worker and a model."))
