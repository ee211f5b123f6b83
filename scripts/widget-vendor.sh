#!/usr/bin/env bash
# Copies tus-js-client's browser build from the locked npm package (tests/widget/package-lock.json)
# into the widget, which the service embeds at compile time (crates/server/widget/tus.min.js).
# Run after changing the tus-js-client version; the widget tests check the two are the same.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d tests/widget/node_modules/tus-js-client ]] || (cd tests/widget && npm ci --no-audit --no-fund --loglevel=error)
cp tests/widget/node_modules/tus-js-client/dist/tus.min.js crates/server/widget/tus.min.js
cp tests/widget/node_modules/tus-js-client/LICENSE crates/server/widget/tus-js-client.LICENSE
echo "widget-vendor: tus-js-client $(node -p 'require("./tests/widget/node_modules/tus-js-client/package.json").version') copied"
