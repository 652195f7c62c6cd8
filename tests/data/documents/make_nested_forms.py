#!/usr/bin/python3
"""Writes nested_forms.pdf: one page drawing a form that draws the form below it eight times,
twenty levels deep — 9 KB whose text a reader would lay out 8^20 times. What a hostile PDF
costs agentctl memory ingest is bounded by its reader's time and memory limits; this file is the
test of that (MemoryServiceTest.AgentctlIngestsPdfAndHtmlFilesAsTheirText)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pdf_objects import pdf, stream  # noqa: E402

LEVELS, FAN = 20, 8

font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
           b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /X %d 0 R >> >> "
           b"/Contents %d 0 R >>" % (5 + LEVELS, 6 + LEVELS), font]
form = b" /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >>%s >>"
objects.append(stream(b"BT /F1 10 Tf 72 700 Td (Nested forms draw this line) Tj ET", form % b""))  # object 5
for level in range(1, LEVELS + 1):
    draws = b"".join(b"q 1 0 0 1 %d %d cm /Y Do Q\n" % (k * 3, -k * 12) for k in range(FAN))
    objects.append(stream(draws, form % (b" /XObject << /Y %d 0 R >>" % (4 + level))))
objects.append(stream(b"/X Do"))

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "nested_forms.pdf"), "wb") as f:
    f.write(pdf(objects))
