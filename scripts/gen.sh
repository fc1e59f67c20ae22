#!/usr/bin/env bash
# npm run gen: src/gen from proto/ with Debian's protoc and the pinned protoc-gen-es.
# The well-known types under proto/google/protobuf are compiled but not generated:
# protoc-gen-es points every use of them at @bufbuild/protobuf/wkt.
#   scripts/gen.sh [out-dir]   (default: src/gen, replaced)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-src/gen}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mapfile -t files < <(cd proto && find . -name '*.proto' ! -path './google/protobuf/*' | sed 's|^\./||' | sort)
protoc -I proto \
  --plugin=protoc-gen-es=node_modules/.bin/protoc-gen-es \
  --es_out="$tmp" --es_opt=target=ts,import_extension=js \
  "${files[@]}"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
mv "$tmp" "$out"
trap - EXIT
