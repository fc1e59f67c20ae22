#!/usr/bin/env bash
# npm run gen: TypeScript from .proto files with Debian's protoc and the pinned protoc-gen-es.
# Two trees are generated, each replaced as a whole:
#   proto/                     -> src/gen                  (what tsrun itself speaks)
#   test/helpers/cri/proto/    -> test/helpers/cri/gen     (the CRI API, for the tests' client only)
# The well-known types under proto/google/protobuf are compiled but not generated:
# protoc-gen-es points every use of them at @bufbuild/protobuf/wkt.
#   scripts/gen.sh                         both trees
#   scripts/gen.sh <out-dir>               proto/ into out-dir
#   scripts/gen.sh <proto-dir> <out-dir>   one tree into out-dir
set -euo pipefail
cd "$(dirname "$0")/.."

gen() {
  local protos=$1 out=$2 tmp
  tmp=$(mktemp -d)
  local files
  mapfile -t files < <(cd "$protos" && find . -name '*.proto' ! -path './google/protobuf/*' | sed 's|^\./||' | sort)
  if ! protoc -I "$protos" \
    --plugin=protoc-gen-es=node_modules/.bin/protoc-gen-es \
    --es_out="$tmp" --es_opt=target=ts,import_extension=js \
    "${files[@]}"; then
    rm -rf "$tmp"
    return 1
  fi
  rm -rf "$out"
  mkdir -p "$(dirname "$out")"
  mv "$tmp" "$out"
}

case $# in
  0) gen proto src/gen && gen test/helpers/cri/proto test/helpers/cri/gen ;;
  1) gen proto "$1" ;;
  2) gen "$1" "$2" ;;
  *) echo "usage: scripts/gen.sh [[proto-dir] out-dir]" >&2; exit 2 ;;
esac
