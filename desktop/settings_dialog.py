"""Edit :class:`desktop.settings.Settings`; a model file is checked before it is accepted."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.jobs import JobRunner
from desktop.model_info import InvalidModel, read_model_info
from desktop.privacy_page import PrivacyPage
from desktop.server_settings import ServerBox
from desktop.settings import Settings
from desktop.team_session import TeamSession
from rag.library import Library


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, backend: str, parent: QWidget | None = None, *,
                 library_root: Path | None = None, library: Library | None = None,
                 runner: JobRunner | None = None, server_dir: Path | None = None,
                 team: TeamSession | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(620)
        self._settings = settings

        self.model_edit = QLineEdit(settings.model_path)
        self.model_edit.setPlaceholderText("The bundled model (Gemma 3 270M)")
        self.model_edit.setAccessibleName("Model file")
        self.model_edit.editingFinished.connect(self._check_model)
        browse = QPushButton("Import GGUF…")
        browse.setAccessibleName("Choose a GGUF model file")
        browse.clicked.connect(self._browse_model)
        default = QPushButton("Use bundled")
        default.setAccessibleName("Use the bundled model")
        default.clicked.connect(self._use_bundled)
        self.model_info = QLabel()
        self.model_info.setWordWrap(True)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_edit, 1)
        model_row.addWidget(browse)
        model_row.addWidget(default)

        self.threads = QSpinBox()
        self.threads.setRange(0, os.cpu_count() or 64)
        self.threads.setSpecialValueText("All cores")
        self.threads.setValue(settings.threads)
        self.threads.setAccessibleName("CPU threads")
        self.gpu = QComboBox()
        self.gpu.addItem("Use the GPU when available", "auto")
        self.gpu.addItem("CPU only", "cpu")
        self.gpu.setCurrentIndex(0 if settings.gpu == "auto" else 1)
        self.gpu.setAccessibleName("GPU offload")
        self.backend = QLabel(f"In use now: {backend}")
        self.context = QSpinBox()
        self.context.setRange(512, 131072)
        self.context.setSingleStep(1024)
        self.context.setValue(settings.context_size)
        self.context.setAccessibleName("Context size in tokens")
        self.passages = QSpinBox()
        self.passages.setRange(1, 32)
        self.passages.setValue(settings.passages)
        self.passages.setAccessibleName("Passages per question")
        self.theme = QComboBox()
        for label, value in (("Follow the system", "system"), ("Light", "light"), ("Dark", "dark")):
            self.theme.addItem(label, value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))
        self.theme.setAccessibleName("Colour scheme")

        self.watched = QListWidget()
        self.watched.addItems(settings.watched_folders)
        self.watched.setAccessibleName("Watched folders")
        self.watched.setMaximumHeight(90)
        add_folder = QPushButton("Add folder…")
        remove_folder = QPushButton("Remove")
        add_folder.clicked.connect(self._add_folder)
        remove_folder.clicked.connect(lambda: [self.watched.takeItem(self.watched.row(i))
                                               for i in self.watched.selectedItems()])
        folder_buttons = QHBoxLayout()
        folder_buttons.addWidget(add_folder)
        folder_buttons.addWidget(remove_folder)
        folder_buttons.addStretch(1)
        watched_box = QVBoxLayout()
        watched_box.addWidget(self.watched)
        watched_box.addLayout(folder_buttons)

        form = QFormLayout()
        form.addRow("Language model:", model_row)
        form.addRow("", self.model_info)
        form.addRow("CPU threads:", self.threads)
        form.addRow("GPU offload:", self.gpu)
        form.addRow("", self.backend)
        form.addRow("Context size (tokens):", self.context)
        form.addRow("Passages per question:", self.passages)
        form.addRow("Colour scheme:", self.theme)
        form.addRow("Watched folders:", watched_box)
        hint = QLabel("<small>The open library follows its watched folders: new, changed, moved "
                      "and deleted files.</small>")
        form.addRow("", hint)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        general = QWidget()
        general.setLayout(form)
        self.privacy = PrivacyPage(library_root, library)
        self.server = ServerBox(runner, server_dir)
        self.server.url.textChanged.connect(self._check_model)
        self.server.remote.toggled.connect(self._check_model)
        self.tabs = QTabWidget()
        self.tabs.addTab(general, "General")
        self.tabs.addTab(self.server, "Model")
        self.tabs.addTab(self.privacy, "Privacy")
        if team is not None:
            from desktop.team_settings import TeamBox

            self.team = TeamBox(team)
            self.tabs.addTab(self.team, "Team")
        self.buttons.accepted.connect(self.privacy.apply)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.buttons)
        self._check_model()

    def _use_bundled(self) -> None:
        self.model_edit.clear()
        self._check_model()

    def _browse_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a GGUF model", "", "GGUF models (*.gguf)")
        if path:
            self.model_edit.setText(path)
            self._check_model()

    def _add_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Watch a folder")
        if path:
            self.watched.addItem(path)

    def accept(self) -> None:
        if hasattr(self, "server"):
            self.server.apply()
        super().accept()

    def _check_model(self) -> bool:
        path = self.model_edit.text().strip()
        ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok) if hasattr(self, "buttons") else None
        if not path:
            self.model_info.setText("The bundled Gemma 3 270M model (Q4_K_M, licence: Gemma terms of use).")
            ok = True
        else:
            try:
                info = read_model_info(Path(path))
                self.model_info.setText(info.summary())
                ok = True
            except InvalidModel as err:
                self.model_info.setText(f'<span style="color:#d9534f">{err}</span>')
                ok = False
        if hasattr(self, "server") and self.server.problem():
            ok = False  # an address docqa will not use (http:// to another computer, ...)
        if ok_button is not None:
            ok_button.setEnabled(ok)
        return ok

    def result_settings(self) -> Settings:
        return replace(
            self._settings,
            model_path=self.model_edit.text().strip(),
            threads=self.threads.value(),
            gpu=str(self.gpu.currentData()),
            context_size=self.context.value(),
            passages=self.passages.value(),
            theme=str(self.theme.currentData()),
            watched_folders=[self.watched.item(i).text() for i in range(self.watched.count())],
        ).validated()


def model_changed(old: Settings, new: Settings) -> bool:
    """Whether the model must be reloaded for ``new``."""
    keys = ("model_path", "threads", "gpu", "context_size")
    return any(getattr(old, k) != getattr(new, k) for k in keys)
