#!/usr/bin/env bash
# Runs unit tests on the container image's Node (/app/node), the runtime Portico ships with. The
# checkout and its node_modules are mounted read-only at their own paths (tests must not write
# into the checkout). Podman's default network: the container's own loopback, and an address of
# its own that three admin tests need (with --network=none they skip). The image has no openssl,
# which three test files compare with (crypt, dn, client-cert): the host's binary and its
# libssl/libcrypto are mounted in. Build first (npm run build).
# Usage: bash tools/image/node-test.sh [test files or globs]
# (default: every unit test, 'dist/src/**/*.test.js'; e2e/ needs the host's tools and is not run).
set -euo pipefail
cd "$(dirname "$0")/../.."
here=$PWD
image=${PORTICO_IMAGE:-localhost/portico:dev}
modules=$(realpath node_modules)
mounts=(-v "$here:$here:ro")
[ "$modules" = "$here/node_modules" ] || mounts+=(-v "$modules:$modules:ro")
if ssl=$(command -v openssl); then
  mounts+=(-v "$ssl:/usr/bin/openssl:ro")
  for lib in $(ldd "$ssl" | awk '$3 ~ /^\// && $3 ~ /lib(ssl|crypto)\./ { print $3 }'); do mounts+=(-v "$lib:$lib:ro"); done
fi
[ $# -gt 0 ] || set -- 'dist/src/**/*.test.js'
exec bash tools/image/podman.sh run --rm "${mounts[@]}" -w "$here" --entrypoint /app/node "$image" --test --test-concurrency=2 "$@"
