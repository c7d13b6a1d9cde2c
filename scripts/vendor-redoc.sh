#!/bin/sh
# Re-vendors Redoc's standalone bundle (the renderer behind GET /docs) from
# npm into api/docs/vendor, pinned by version and by the tarball's integrity
# hash as the npm registry publishes it. Run it through `make vendor-redoc`;
# to upgrade, change both pins (`npm view redoc@<version> dist.integrity`).
set -eu

VERSION=2.5.4
INTEGRITY=sha512-M6jWhG1qoBnH6TFmzJnstyCZ87HmOY/UzDm78mHiYihEdlV/YcS9ogOo1NlElnJMeLsyxHFe2yFc4sNjHTrABQ==

dest=$(cd "$(dirname "$0")/.." && pwd)/api/docs/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "redoc@$VERSION" >/dev/null)
tarball="$tmp/redoc-$VERSION.tgz"
got=$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tarball")
if [ "$got" != "$INTEGRITY" ]; then
	echo "vendor-redoc: redoc@$VERSION has integrity $got, expected $INTEGRITY" >&2
	exit 1
fi
tar -xzf "$tarball" -C "$tmp"
mkdir -p "$dest"
cp "$tmp/package/bundles/redoc.standalone.js" "$tmp/package/bundles/redoc.standalone.js.LICENSE.txt" "$tmp/package/LICENSE" "$dest/"
printf 'redoc %s %s\n' "$VERSION" "$INTEGRITY" >"$dest/VERSION"
echo "vendor-redoc: redoc@$VERSION in $dest"
