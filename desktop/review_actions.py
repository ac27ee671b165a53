"""What a reviewer does to the grid: columns (add, edit, remove, reorder, presets), marks
on cells (verified, flagged, overwritten with a note), copy, export, and the keys and
context menus that reach them.

Marks are written through the library (:meth:`rag.library.Library.mark_cell`: the
manifest and the audit log) and shown at once; a library that is read-only here says so
in one line instead.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QMessageBox

from desktop.jobs import one_line
from desktop.review_dialogs import ColumnDialog, OverwriteDialog
from desktop.review_model import FLAGGED, OVERWRITTEN, VERIFIED
from rag.ask.review.columns import PRESETS, Column
from rag.store.grids import Mark

if TYPE_CHECKING:
    from desktop.review_view import ReviewPanel

READ_ONLY = "Marks and columns cannot be saved: this library is read-only here."
EXPORTS = {"xlsx": "Excel workbook (*.xlsx)", "csv": "CSV (*.csv)", "docx": "Word memo (*.docx)"}


class ReviewActions:
    def __init__(self, panel: ReviewPanel) -> None:
        self.p = panel
        self.cell_actions: list[QAction] = []

    def install(self) -> None:
        """Keys on the grid (they act on the selected cells) and its context menus."""
        table = self.p.table

        def act(text: str, keys: str, slot: Callable[[], object]) -> QAction:
            a = QAction(text, table)
            if keys:
                a.setShortcut(QKeySequence(keys))
                a.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            a.triggered.connect(slot)
            table.addAction(a)
            return a

        self.open_act = act("Show the quote in the document", "", lambda: self.p.open_quote(table.currentIndex()))
        self.cell_actions = [
            act("Mark verified", "V", lambda: self.toggle(VERIFIED)),
            act("Flag", "F", lambda: self.toggle(FLAGGED)),
            act("Flag with a note…", "Shift+F", lambda: self.overwrite(flag_only=True)),
            act("Overwrite with my answer…", "F2", self.overwrite),
            act("Clear the mark", "Backspace", self.clear),
        ]
        self.copy_act = act("Copy", "Ctrl+C", self.copy)
        self.ask_act = act("Ask about the selected documents (Ctrl+Shift+A)", "", self.ask_selected)
        act("Add column", "Ctrl+Shift+N", self.add_column)
        act("Run", "Ctrl+R", lambda: self.p.run())
        table.customContextMenuRequested.connect(self._cell_menu)
        header = table.horizontalHeader()
        header.customContextMenuRequested.connect(self._header_menu)
        header.sectionMoved.connect(self._on_section_moved)

    # -- columns --------------------------------------------------------------------------
    def _columns(self) -> list[Column]:
        return list(self.p.model.columns)

    def add_column(self) -> None:
        if not self.p.library:
            return
        dialog = ColumnDialog([c.name for c in self._columns()], parent=self.p)
        if dialog.exec():
            self.set_columns(self._columns() + [dialog.column()], run=[dialog.column()])

    def add_preset(self, key: str) -> None:
        if not self.p.library:
            return
        have = {c.name.lower() for c in self._columns()}
        new = [c for c in PRESETS[key] if c.name.lower() not in have]
        self.set_columns(self._columns() + new, run=new)

    def edit_column(self, i: int) -> None:
        cols = self._columns()
        old = cols[i]
        dialog = ColumnDialog([c.name for c in cols if c is not old], old, parent=self.p)
        if not dialog.exec() or dialog.column() == old:
            return
        new = cols[i] = dialog.column()
        gid = self.p.grid_id
        lib = self.p.lib() if gid is not None and not self.p.read_only else None
        kept = {k: m for k, m in self.p.model.marks.items() if k[1] == old.name}
        if lib is not None and gid is not None and new.question != old.question:
            # Marks were given to the old question's answers: they do not carry to new ones.
            for doc_id, name in kept:
                lib.clear_mark(gid, doc_id, name)
            kept = {}
        self.set_columns(cols, run=[new] if new.question != old.question else [])
        if lib is not None and (gid := self.p.grid_id) is not None:
            if kept and new.name != old.name:
                # Renamed only: the same answers, so the reviewer's marks follow the column.
                for (doc_id, _name), m in kept.items():
                    lib.mark_cell(gid, doc_id, new.name, m.mark, m.text, m.note)
            self.p.model.set_marks(lib.marks(gid))

    def remove_column(self, i: int) -> None:
        cols = self._columns()
        col = cols.pop(i)
        answer = QMessageBox.question(self.p, "Remove column", f"Remove the column “{col.name}” and its marks?")
        if answer == QMessageBox.StandardButton.Yes:
            self.set_columns(cols)
            if (gid := self.p.grid_id) is not None:
                self.p.model.set_marks(self.p.lib().marks(gid))

    def move_column(self, i: int, step: int) -> None:
        cols = self._columns()
        j = i + step
        if 0 <= j < len(cols):
            cols[i], cols[j] = cols[j], cols[i]
            self.set_columns(cols)

    def _on_section_moved(self, _logical: int, old_visual: int, new_visual: int) -> None:
        """A header dragged: the model's order becomes the new order, the header's own
        visual order is put back (one order to keep, the grid's)."""
        header = self.p.table.horizontalHeader()
        header.blockSignals(True)
        header.moveSection(new_visual, old_visual)
        header.blockSignals(False)
        if old_visual == 0 or new_visual == 0:
            return  # the document stays first
        cols = self._columns()
        cols.insert(new_visual - 1, cols.pop(old_visual - 1))
        self.set_columns(cols)

    def set_columns(self, cols: list[Column], run: list[Column] | None = None) -> None:
        if self.p.read_only and cols:
            self.p.status.setText("Columns are kept for this session only: this library is read-only here.")
        self.p.save_columns(cols)
        for c in run or []:
            self.p.model.clear_cells(c.question)
        if run:
            self.p.run(run)

    def new_grid(self) -> None:
        name, ok = QInputDialog.getText(self.p, "New review grid", "Name of the new grid:")
        name = " ".join(name.split())
        self.p._fill_grids([g.name for g in self.p.lib().grids.grids()] if self.p.library else [])
        if ok and name:
            self.p.load_grid(name)  # not saved until it has columns

    def delete_grid(self) -> None:
        """Delete the grid shown (its columns and marks), after asking; the next one shows."""
        p = self.p
        if not p.library or p.grid_id is None or not self._writable():
            return
        answer = QMessageBox.question(
            p, "Delete review grid",
            f"Delete the grid “{p.grid_name}”, its columns and its marks?\n\n"
            "The documents and their answers in other grids are not affected.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return
        if p.job is not None:
            p.job.cancel()
        try:
            p.lib().delete_grid(p.grid_id)
        except Exception as err:  # noqa: BLE001 (a locked manifest: one line, logged)
            log_error(p, "deleting a review grid")
            p.status.setText(f"The grid could not be deleted: {one_line(err)}")
            return
        from desktop.review_view import DEFAULT_GRID  # the view imports this module

        names = [g.name for g in p.lib().grids.grids()]
        p._fill_grids(names)
        p.load_grid(names[0] if names else DEFAULT_GRID)
        p.status.setText("Grid deleted.")

    # -- marks ------------------------------------------------------------------------------
    def selected_cells(self) -> list[tuple[int, Column]]:
        out = []
        for index in self.p.table.selectionModel().selectedIndexes() or [self.p.table.currentIndex()]:
            if index.isValid() and index.column() > 0:
                src = self.p.source_index(index)
                out.append((self.p.model.documents[src.row()].id, self.p.model.columns[src.column() - 1]))
        return out

    def _writable(self) -> bool:
        if self.p.read_only or not self.p.library:
            self.p.status.setText(READ_ONLY)
            return False
        if self.p.grid_id is None:
            self.p.grid_id = self.p.lib().save_grid(self.p.grid_name, self._columns())
        return True

    def mark(self, cells: list[tuple[int, Column]], kind: str, text: str = "", note: str = "") -> None:
        if not cells or not self._writable():
            return
        lib = self.p.lib()
        assert self.p.grid_id is not None
        try:
            for doc_id, col in cells:
                lib.mark_cell(self.p.grid_id, doc_id, col.name, kind, text, note)
                self.p.model.set_mark(doc_id, col.name, Mark("", col.name, kind, text, note))
        except Exception as err:  # noqa: BLE001 (a locked or damaged manifest: one line)
            log_error(self.p, "keeping a review mark failed")
            self.p.status.setText(f"Could not keep the mark: {one_line(err)}")
            return
        n = len(cells)
        self.p.status.setText(f"{n} cell{'s' if n != 1 else ''} {kind}.")

    def toggle(self, kind: str) -> None:
        """V / F: mark the selected cells, or clear the mark when they all have it already."""
        cells = self.selected_cells()
        if cells and all(getattr(self.p.model.marks.get((d, c.name)), "mark", "") == kind for d, c in cells):
            self.clear()
        else:
            self.mark(cells, kind)

    def overwrite(self, flag_only: bool = False) -> None:
        cells = self.selected_cells()
        if not cells:
            return
        doc_id, col = cells[0]
        doc = next(d for d in self.p.model.documents if d.id == doc_id)
        old = self.p.model.marks.get((doc_id, col.name))
        many = f" (and {len(cells) - 1} more cells)" if len(cells) > 1 else ""
        dialog = OverwriteDialog(f"<b>{col.name}</b> in {doc.name}{many}", self.p.model.shown(doc_id, col),
                                 old.note if old else "", flag_only=flag_only, parent=self.p)
        if dialog.exec():
            text, note = dialog.values()
            self.mark(cells, FLAGGED if flag_only or not text else OVERWRITTEN, "" if flag_only else text, note)

    def clear(self) -> None:
        cells = [(d, c) for d, c in self.selected_cells() if (d, c.name) in self.p.model.marks]
        if not cells or not self._writable():
            return
        assert self.p.grid_id is not None
        try:
            for doc_id, col in cells:
                self.p.lib().clear_mark(self.p.grid_id, doc_id, col.name)
                self.p.model.set_mark(doc_id, col.name, None)
        except Exception as err:  # noqa: BLE001 (a locked or damaged manifest: one line)
            log_error(self.p, "clearing a review mark failed")
            self.p.status.setText(f"Could not clear the mark: {one_line(err)}")
            return
        self.p.status.setText("Mark cleared.")

    def copy(self) -> None:
        """The selected cells as tab-separated rows (pastes into a spreadsheet)."""
        indexes = sorted(self.p.table.selectionModel().selectedIndexes(), key=lambda i: (i.row(), i.column()))
        rows: dict[int, list[str]] = {}
        for i in indexes:
            rows.setdefault(i.row(), []).append(str(i.data() or ""))
        QGuiApplication.clipboard().setText("\n".join("\t".join(r) for r in rows.values()))

    def ask_selected(self) -> None:
        ids = self.p.selected_doc_ids()
        if ids:
            self.p.ask_requested.emit(ids)

    # -- menus --------------------------------------------------------------------------------
    def _cell_menu(self, pos: QPoint) -> None:
        index = self.p.table.indexAt(pos)
        if not index.isValid():
            return
        menu = QMenu(self.p)
        if index.column() > 0:
            menu.addAction(self.open_act)
            menu.addSeparator()
            for a in self.cell_actions:
                a.setEnabled(not self.p.read_only)
                menu.addAction(a)
            menu.addSeparator()
        menu.addAction(self.copy_act)
        menu.addAction(self.ask_act)
        if index.column() > 0:
            menu.addSeparator()
            i = self.p.source_index(index).column() - 1
            menu.addAction("Edit column…", lambda: self.edit_column(i))
        menu.exec(self.p.table.viewport().mapToGlobal(pos))

    def _header_menu(self, pos: QPoint) -> None:
        header = self.p.table.horizontalHeader()
        i = header.logicalIndexAt(pos) - 1
        menu = QMenu(self.p)
        if i >= 0:
            menu.addAction("Edit column…", lambda: self.edit_column(i))
            menu.addAction("Remove column", lambda: self.remove_column(i))
            left = menu.addAction("Move left", lambda: self.move_column(i, -1))
            left.setEnabled(i > 0)
            right = menu.addAction("Move right", lambda: self.move_column(i, 1))
            right.setEnabled(i < len(self.p.model.columns) - 1)
            menu.addSeparator()
        menu.addAction("Add column…", self.add_column)
        menu.exec(header.mapToGlobal(pos))

    # -- export ---------------------------------------------------------------------------------
    def export(self, fmt: str, path: Path | None = None) -> Path | None:
        """Write the grid as ``fmt`` (xlsx, csv, docx) to ``path`` (asked for when None)."""
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(self.p, "Export the review", f"{self.p.grid_name}.{fmt}",
                                                    EXPORTS[fmt])
            if not chosen:
                return None
            path = Path(chosen) if Path(chosen).suffix else Path(f"{chosen}.{fmt}")
        result = self.p.model.result()
        marks = self.p.model.marks
        try:
            from rag.ask.review import export

            title = f"{self.p.grid_name}: {self.p.library}"
            if fmt == "docx":
                export.write_docx_memo(path, result, marks, title=title)
            else:
                (export.write_xlsx if fmt == "xlsx" else export.write_csv)(path, result, marks)
        except Exception as err:  # noqa: BLE001 (disk full, file open in Excel: tell the user)
            log_error(self.p, "exporting the review failed")
            QMessageBox.warning(self.p, "Export", f"Could not export: {one_line(err)}")
            return None
        if not self.p.read_only:
            self.p.lib().record_export(fmt, len(result.cells))
        self.p.status.setText(f"Exported {len(result.cells)} cells to {path}")
        return path


def log_error(panel: ReviewPanel, what: str) -> None:
    """The traceback of the exception being handled, to the app's log file (the person
    sees one line); a log that cannot be written is not worth a second failure."""
    path = panel.engine.runner.log_path
    if path is None:
        return
    try:
        with path.open("a", encoding="utf-8") as f:
            f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {what}\n{traceback.format_exc()}\n")
    except OSError:
        pass
