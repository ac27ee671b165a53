"""Fusion style with a light or dark palette that follows the system's colour scheme."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


def dark_palette() -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    colours = {
        role.Window: "#202124", role.WindowText: "#e8eaed", role.Base: "#17181a",
        role.AlternateBase: "#26282b", role.ToolTipBase: "#303134", role.ToolTipText: "#e8eaed",
        role.Text: "#e8eaed", role.Button: "#2d2f31", role.ButtonText: "#e8eaed",
        role.BrightText: "#ff6b6b", role.Link: "#8ab4f8", role.LinkVisited: "#c58af9",
        role.Highlight: "#3d6fb4", role.HighlightedText: "#ffffff", role.PlaceholderText: "#9aa0a6",
        role.Mid: "#3c4043", role.Dark: "#111214", role.Shadow: "#000000", role.Light: "#3c4043",
    }
    for r, c in colours.items():
        p.setColor(r, QColor(c))
    for r in (role.Text, role.WindowText, role.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, r, QColor("#6f7378"))
    return p


def wants_dark(theme: str) -> bool:
    if theme in ("dark", "light"):
        return theme == "dark"
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, theme: str = "system") -> bool:
    """Apply Fusion and the palette for ``theme``; returns True when dark."""
    app.setStyle("Fusion")
    dark = wants_dark(theme)
    app.setPalette(dark_palette() if dark else app.style().standardPalette())
    return dark


def follow_system(app: QApplication, theme: Callable[[], str]) -> None:
    """Re-apply the palette when the OS switches between light and dark."""
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: apply_theme(app, theme()))
