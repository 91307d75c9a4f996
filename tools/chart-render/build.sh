#!/usr/bin/env bash
# Builds chart-render from Debian's Go packages (golang-go, golang-github-masterminds-sprig-dev,
# golang-k8s-sigs-yaml-dev), offline, in GOPATH mode. Prints the binary's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/../../node_modules/.cache/chart-render/chart-render"}
if [ -x "$out" ] && [ "$out" -nt "$here/main.go" ]; then echo "$out"; exit 0; fi
command -v go >/dev/null || { echo "go not found: apt-get install golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev" >&2; exit 2; }
[ -d /usr/share/gocode/src/github.com/Masterminds/sprig ] || { echo "sprig not found: apt-get install golang-github-masterminds-sprig-dev" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# sprig v3 and semver v3 are installed without their /v3 directory: give GOPATH mode one.
mkdir -p "$work/src/github.com/Masterminds/sprig" "$work/src/github.com/Masterminds/semver" "$work/src/chartrender"
ln -s /usr/share/gocode/src/github.com/Masterminds/sprig "$work/src/github.com/Masterminds/sprig/v3"
ln -s /usr/share/gocode/src/github.com/Masterminds/semver "$work/src/github.com/Masterminds/semver/v3"
cp "$here/main.go" "$work/src/chartrender/"
mkdir -p "$(dirname "$out")"
(cd "$work/src/chartrender" && GO111MODULE=off GOPATH="$work:/usr/share/gocode" GOCACHE="$work/cache" GOFLAGS= go build -o "$out" .)
echo "$out"
