"""The PDF writer the test-PDF generators here share: numbered objects, their cross-reference
table and trailer (object 1 the catalog), and a content stream."""


def stream(body, dictionary=b""):
    return b"<< /Length %d%s >>\nstream\n" % (len(body), dictionary) + body + b"\nendstream"


def pdf(objects):
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
