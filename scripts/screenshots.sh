#!/usr/bin/env bash
# Refreshes docs/screenshots/ from the layout test (internal/e2e,
# TestWebAppLayout, headless Chromium): every main page at 1280x800 light
# and dark, and at 375x812.
#
#   scripts/screenshots.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$(mktemp -d /tmp/docket-shots.XXXXXX)"
(cd "$ROOT" && DOCKET_SCREENSHOTS="$OUT" go test ./internal/e2e -run 'TestWebAppLayout$' -count=1)
DEST="$ROOT/docs/screenshots"
rm -f "$DEST"/*.png
for page in login home space new document review history search minutes inbox settings space-settings templates; do
  for v in "" -dark -phone; do
    cp "$OUT/layout-$page$v.png" "$DEST/$page$v.png"
  done
done
for page in suggest diff; do
  cp "$OUT/layout-$page.png" "$DEST/$page.png"
done
rm -rf "$OUT"
du -sh "$DEST"
