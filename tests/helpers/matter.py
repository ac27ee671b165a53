"""A small matter folder made of real files, written on the fly: a Word draft with
headings and a table, an e-mail carrying a PDF, a Word file and another e-mail, an Excel
billing sheet, a CSV, a scanned page drawn with Pillow and saved as an image-only PDF,
and the hostile ones (a zip bomb named .docx, an e-mail whose attachment is one)."""

from __future__ import annotations

import zipfile
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from tests.helpers.pdfs import make_text_pdf

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def make_docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.add_heading("Engagement letter", 1)
    d.add_paragraph("Harbor Legal will represent Northwind Clinics in the lease dispute with Calder "
                    "Properties, including the mediation in April and, if it fails, the hearing before the "
                    "county court. We will keep you informed of every step and of the costs as they arise.")
    d.add_heading("12 Termination", 2)
    d.add_paragraph("Either side may end this engagement with 14 days notice in writing. Notice given by "
                    "e-mail counts as notice in writing when the other side acknowledges it. Notice runs "
                    "from the day it is received, and a notice received on a weekend runs from Monday.")
    d.add_paragraph("On termination the client pays for work done until the notice ends, and we hand over "
                    "the file to the client or to the lawyers the client names. Fees already paid for "
                    "work not yet done are refunded within thirty days of the end of the notice period, "
                    "and any retainer held in our client account is returned with a final statement.")
    d.add_heading("13 Fees", 2)
    t = d.add_table(rows=3, cols=3)
    rows = [["Task", "Hours", "Rate"], ["Lease review", "6", "310"], ["Mediation brief", "11", "290"]]
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            t.cell(i, j).text = v
    d.save(str(path))
    return path


def make_xlsx(path: Path, rows: int = 14) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Invoices"
    ws.append(["Client", "Matter", "Amount"])
    clients = ["Abernathy Holdings", "Brightwater Dental", "Calder & Sons", "Dunmore Logistics"]
    for i in range(rows - 1):
        if i == 5:
            ws.append(["Abernathy Holdings", "arbitration retainer", 18500])
        else:
            ws.append([clients[i % 4], f"general advice {i}", 1000 + 75 * i])
    notes = wb.create_sheet("Notes")
    notes.append(["Note"])
    notes.append(["Invoices are due within 45 days of issue."])
    wb.save(str(path))
    return path


def make_csv(path: Path) -> Path:
    path.write_text("Patient;Ward;Allergy\nMaria Keller;B2;penicillin\nTom Ruiz;C1;latex\n", encoding="cp1252")
    return path


def make_scan_pdf(path: Path, lines: list[str] | None = None) -> Path:
    """A page of typed text as pixels only: what a fax or a scanner produces."""
    from PIL import Image, ImageDraw, ImageFont

    lines = lines or [
        "FAX - Riverside Medical Records",
        "The patient was discharged on 4 March 2026.",
        "Follow-up appointment in six weeks with",
        "the cardiology clinic at Riverside.",
    ]
    img = Image.new("L", (1700, 2200), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 44)
    for i, line in enumerate(lines):
        draw.text((150, 200 + i * 80), line, fill=0, font=font)
    img.save(str(path), "PDF", resolution=200.0)
    return path


def make_mixed_pdf(path: Path) -> Path:
    """Two text pages and a scanned third (the signature page of a contract, say)."""
    import pypdfium2 as pdfium

    text = make_text_pdf(path.with_suffix(".text.pdf"), [
        ["SERVICES AGREEMENT", "1. Services", "The provider delivers monthly audits of the ward."],
        ["2. Payment", "Invoices are paid within thirty days."],
    ])
    scan = make_scan_pdf(path.with_suffix(".scan.pdf"), ["Signed for Riverside Clinic", "by the medical director",
                                                         "on 9 January 2026 in Leeds."])
    out = pdfium.PdfDocument.new()
    out.import_pages(pdfium.PdfDocument(str(text)))
    out.import_pages(pdfium.PdfDocument(str(scan)))
    out.save(str(path))
    return path


def make_zip_bomb_docx(path: Path, megabytes: int = 200) -> Path:
    """A .docx whose document part unpacks from ~200 KB to ``megabytes`` MB of nothing."""
    block = b" " * (1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with zf.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(megabytes):
                member.write(block)
    return path


def make_eml(path: Path, attachments: list[Path], subject: str = "Retainer and lease documents",
             body: str = "Please find the signed retainer and the lease attached. The hearing is on 3 May.",
             date: str = "Mon, 02 Mar 2026 09:15:00 +0000") -> Path:
    msg = EmailMessage()
    msg["From"] = "Jane Roe <jane.roe@harbor-legal.example>"
    msg["To"] = "Tom Field <tom@northwind.example>"
    msg["Date"] = date
    msg["Subject"] = subject
    msg.set_content(body)
    for f in attachments:
        data = f.read_bytes()
        if f.suffix == ".eml":  # attached as a message, the way mail programs forward one
            inner = message_from_bytes(data, policy=policy.default)
            msg.add_attachment(inner, filename=f.name)
        else:
            msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=f.name)
    path.write_bytes(bytes(msg))
    return path


def make_matter(folder: Path) -> dict[str, Path]:
    """The whole folder; returns the files by role."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = folder.parent / (folder.name + "-parts")
    parts.mkdir(exist_ok=True)
    lease = make_text_pdf(parts / "lease.pdf", [["LEASE", "1. Rent", "The rent is 4,200 EUR per month."],
                                                ["2. Deposit", "The deposit of three months' rent is held in escrow."]])
    memo = make_docx(parts / "memo.docx")
    inner = make_eml(parts / "forwarded.eml", [make_csv(parts / "allergies.csv")], subject="Ward allergies",
                     body="Forwarding the allergy list for the Riverside ward.")
    files = {
        "docx": make_docx(folder / "engagement.docx"),
        "xlsx": make_xlsx(folder / "billing.xlsx"),
        "csv": make_csv(folder / "allergies.csv"),
        "scan": make_scan_pdf(folder / "fax.pdf"),
        "eml": make_eml(folder / "retainer.eml", [lease, memo, inner]),
    }
    return files
