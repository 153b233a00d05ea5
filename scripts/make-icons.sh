#!/usr/bin/env bash
# Renders the small PNG icons (16-128 px) from resources/icons/impasto.svg for
# the hicolor theme. Run it after changing the SVG and commit the results, so
# the build needs no SVG renderer (this one: rsvg-convert, Debian librsvg2-bin).
# The 256 px icon is resources/icons/impasto.png, which the studio embeds too.
set -euo pipefail
cd "$(dirname "$0")/../resources/icons"
for size in 16 24 32 48 64 128; do
  rsvg-convert --width "$size" --height "$size" --output "impasto-$size.png" impasto.svg
done
