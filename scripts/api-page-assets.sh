#!/usr/bin/env bash
# Refreshes the API page's vendored Swagger UI (server/api-page/) from its npm package, which the
# local server embeds in its binary for GET /docs: the page then needs no network, and building
# the server needs no npm. Run it to move to another version, then commit what changed.
#
# usage: scripts/api-page-assets.sh [version]   (default: the version in server/api-page/VERSION)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
out="$root/server/api-page"
version="${1:-$(cat "$out/VERSION")}"

command -v npm >/dev/null 2>&1 || { echo "error: npm is needed (apt-get install npm)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "swagger-ui-dist@$version" >/dev/null && tar xzf swagger-ui-dist-*.tgz)
package="$work/package"
# The source map reference would only send a browser's developer tools after a 404.
sed '/^\/\/# sourceMappingURL=/d' "$package/swagger-ui-bundle.js" >"$out/swagger-ui-bundle.js"
sed '/^\/\*# sourceMappingURL=/d' "$package/swagger-ui.css" >"$out/swagger-ui.css"
cat "$package/LICENSE" "$package/swagger-ui-bundle.js.LICENSE.txt" >"$out/LICENSE"
echo "$version" >"$out/VERSION"
echo "server/api-page/: swagger-ui-dist $version ($(du -ch "$out"/swagger-ui* | tail -1 | cut -f1))"
