#!/bin/sh
# Builds istioctl for the benchmark (bench/run.ts compares `istioctl proxy-config ... --file` with
# our offline trace on the same dumps). Pinned: Istio 1.29.1, whose tag the Go module proxy serves
# as the pseudo-version below (commit 6991a379e1fc; /work/notes/ISTIO_ORACLE.md explains why not
# a newer tag). Built outside the repository, into
#   ${MESH_EGRESS_CACHE:-${XDG_CACHE_HOME:-~/.cache}/mesh-egress}/istioctl-1.29.1/istioctl
# and printed on stdout. Needs `go` (>= 1.25) and the module proxy; a cold build takes 10-20 min
# on 2 CPUs (module download ~1 min, ~700 MB of module cache). Exits non-zero with one line on
# stderr when it cannot build.
#
# go.sum: the checksum database does not answer for every module Istio needs (a 404 for
# github.com/openshift/api), so go.sum is seeded with the pinned Istio module's own go.sum
# (checksums only), after `go mod download` has verified Istio itself.
set -eu

ISTIO_LABEL=1.29.1
ISTIO_MODULE_VERSION=v0.0.0-20260306174214-6991a379e1fc

cache=${MESH_EGRESS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mesh-egress}
dest=$cache/istioctl-$ISTIO_LABEL
bin=$dest/istioctl

if [ -x "$bin" ] && "$bin" version --remote=false >/dev/null 2>&1; then
  echo "$bin"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "go is not installed (needed to build istioctl $ISTIO_LABEL from the Go module proxy)" >&2
  exit 3
fi

mkdir -p "$dest/build"
cd "$dest/build"
rm -f go.sum
cat >go.mod <<EOF
module mesh-egress.local/istioctl-build

go 1.25

require istio.io/istio $ISTIO_MODULE_VERSION
EOF

if ! go mod download -json "istio.io/istio@$ISTIO_MODULE_VERSION" >download.json 2>download.err; then
  echo "cannot download istio.io/istio@$ISTIO_MODULE_VERSION from the Go module proxy: $(tail -n 1 download.err)" >&2
  exit 4
fi
field() { sed -n "s/^[[:space:]]*\"$1\": \"\([^\"]*\)\".*/\1/p" download.json; }
dir=$(field Dir)
sum=$(field Sum)
modsum=$(field GoModSum)
if [ -z "$dir" ] || [ -z "$sum" ] || [ -z "$modsum" ] || [ ! -f "$dir/go.sum" ]; then
  echo "the Istio module download has no go.sum (unexpected module layout in $dir)" >&2
  exit 4
fi
{
  cat "$dir/go.sum"
  echo "istio.io/istio $ISTIO_MODULE_VERSION $sum"
  echo "istio.io/istio $ISTIO_MODULE_VERSION/go.mod $modsum"
} >go.sum

echo "building istioctl $ISTIO_LABEL into $dest (first time only: 10-20 min)" >&2
if ! GOFLAGS=-mod=mod go build -trimpath -ldflags='-s -w' -o "$bin.tmp" istio.io/istio/istioctl/cmd/istioctl >build.log 2>&1; then
  echo "go build of istioctl failed: $(grep -v '^go: downloading' build.log | tail -n 1)" >&2
  exit 5
fi
mv "$bin.tmp" "$bin"
echo "$bin"
