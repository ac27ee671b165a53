"""Settings › Privacy: the guard, the encryption, the key and the audit log, as shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.library import Library


@pytest.mark.gui
def test_privacy_page_shows_the_state_and_checks_the_log(qtbot, library: Library) -> None:
    from desktop.settings import Settings
    from desktop.settings_dialog import SettingsDialog

    dialog = SettingsDialog(Settings(), "CPU", library_root=library.root, library=library)
    qtbot.addWidget(dialog)
    page = dialog.privacy
    assert page.values["Network guard"].text().startswith("on")
    assert "encrypted" in page.values["Documents, passages, keyword index"].text()
    assert "keychain" in page.values["Library key"].text()
    page.verify.click()
    assert page.verdict.text().startswith("Intact")
    page.keep_text.setChecked(True)
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    assert library.logs_question_text
    library.audit.path.write_bytes(library.audit.path.read_bytes().replace(b"opened", b"closed", 1))
    page.verify.click()
    assert "Tampered" in page.verdict.text()


@pytest.mark.gui
def test_privacy_page_without_a_library(qtbot) -> None:
    from desktop.privacy_page import PrivacyPage

    page = PrivacyPage(None)
    qtbot.addWidget(page)
    assert not page.verify.isEnabled() and not page.keep_text.isEnabled()


@pytest.mark.gui
def test_deleting_a_library_deletes_its_key(tmp_path: Path, embedder, memory_keyring) -> None:
    from desktop.libraries import LibraryFolders

    folders = LibraryFolders(tmp_path / "libraries", embedder)
    name = folders.create("Matter 12")
    folders.open(name)
    assert len(memory_keyring.secrets) >= 1
    before = dict(memory_keyring.secrets)
    folders.delete(name)
    assert not (tmp_path / "libraries" / name).exists()
    assert len(memory_keyring.secrets) == len(before) - 1
