#!/bin/sh
# Vendors the third-party front-end files that lossd embeds (Swagger UI for /docs) from the
# versions pinned in package-lock.json, byte for byte as npm ships them.
#   server/web/vendor.sh          npm ci, then copy the files into server/web/vendor/
#   server/web/vendor.sh --check  npm ci into a scratch copy and fail if vendor/ differs
# The build itself never runs npm: it embeds the committed vendor/ files (docs/decisions.md).
set -eu
WEB=$(cd "$(dirname "$0")" && pwd)
FILES="swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT INT TERM

cp "$WEB/package.json" "$WEB/package-lock.json" "$WORK/"
# --ignore-scripts: swagger-ui-dist depends on @scarf/scarf, whose install script reports
# usage over the network; nothing here needs an install script.
(cd "$WORK" && SCARF_ANALYTICS=false npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
SRC="$WORK/node_modules/swagger-ui-dist"

status=0
for f in $FILES; do
    if [ "${1:-}" = "--check" ]; then
        if ! cmp -s "$SRC/$f" "$WEB/vendor/$f"; then
            echo "server/web/vendor/$f differs from swagger-ui-dist in package-lock.json" >&2
            status=1
        fi
    else
        mkdir -p "$WEB/vendor"
        cp "$SRC/$f" "$WEB/vendor/$f"
    fi
done
if [ "${1:-}" = "--check" ] && [ $status -eq 0 ]; then
    echo "server/web/vendor matches package-lock.json ($(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$SRC/package.json" | head -1))"
fi
exit $status
