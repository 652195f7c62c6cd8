#!/usr/bin/env bash
# Writes the PDFs beside it from their HTML with Debian's chromium (installed by
# scripts/install_deps.sh) and the Noto CJK fonts: storage_brief.pdf (a text layer in Chinese and
# English) and no_text_layer.pdf (a blank page: what a scan without OCR gives a text reader).
set -euo pipefail
cd "$(dirname "$0")"
print() {
  chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer --print-to-pdf="$2" "$1" 2>/dev/null
}
print storage_brief.html storage_brief.pdf
blank=$(mktemp --suffix=.html)
echo '<html><body></body></html>' >"$blank"
print "$blank" no_text_layer.pdf
rm -f "$blank"
