#!/usr/bin/python3
"""Writes the two PDFs MemoryServiceTest.AgentctlIngestsPdfAndHtmlFilesAsTheirText reads through
agentctl's confined PDF reader (sdk/agentctl/reader_sandbox.h) because ordinary documents had
made library calls the first filter ended the reader for:

  many_blocks.pdf     a page of 18 x 8 separate text cells (a table, a chart's labels): glibc's
                      qsort asks sysinfo() how much memory there is once poppler sorts 128 or
                      more text blocks.
  form_cjk_field.pdf  a form whose text field holds 中文 in a font without it: poppler asks
                      fontconfig for a fallback font, which calls access() and readlink().

    python3 make_sandbox_pdfs.py   (in this directory)
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pdf_objects import pdf, stream  # noqa: E402



HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def many_blocks():
    cells = []
    for row in range(18):
        for column in range(8):
            cells.append(b"BT /F1 9 Tf %d %d Td (r%dc%d) Tj ET" % (40 + 70 * column, 740 - 38 * row, row, column))
    return pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        HELVETICA,
        stream(b"\n".join(cells)),
    ])


def form_cjk_field():
    field = ("<< /Type /Annot /Subtype /Widget /FT /Tx /T (name) /V <FEFF4E2D6587> /DA (/Helv 12 Tf 0 g) "
             "/Rect [72 600 400 630] /F 4 /P 3 0 R >>").encode()
    return pdf([
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [6 0 R] /NeedAppearances true /DA (/Helv 0 Tf 0 g) "
        b"/DR << /Font << /Helv 4 0 R >> >> >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R /Annots [6 0 R] >>",
        HELVETICA,
        stream(b"BT /F1 12 Tf 72 700 Td (Applicant form) Tj ET"),
        field,
    ])


if __name__ == "__main__":
    with open("many_blocks.pdf", "wb") as f:
        f.write(many_blocks())
    with open("form_cjk_field.pdf", "wb") as f:
        f.write(form_cjk_field())
