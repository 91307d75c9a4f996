#!/usr/bin/env bash
# `npm run image`: builds the repository's Dockerfile with podman into $PORTICO_IMAGE (default
# localhost/portico:dev), on the base images tools/image/bases.sh assembles from Debian packages
# and the npm registry (no base image is pulled), then runs it once (--version) as the chart does:
# non-root, read-only root filesystem, no capabilities. Podman caches the Dockerfile's layers, the
# bases are cached too: a rebuild takes seconds. docs/image.md.
#
# Usage: tools/image/build.sh [--public-bases] [-- extra podman build args]
#   --public-bases  build on the Dockerfile's default bases instead (pulled by podman)
# Environment: PORTICO_IMAGE, and those of tools/image/bases.sh.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
IMAGE=${PORTICO_IMAGE:-localhost/portico:dev}

public=0 extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --public-bases) public=1 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "usage: $0 [--public-bases] [-- podman build args]" >&2; exit 2 ;;
  esac
  shift
done

say() { printf 'image: %s\n' "$*" >&2; }
command -v podman >/dev/null || { say "podman not found: apt-get install podman (docs/image.md)"; exit 1; }
podman() { "$root/tools/image/podman.sh" "$@"; }
version=$(node -p "require('$root/package.json').version")

args=(--build-arg "VERSION=$version")
if [ "$public" = 0 ]; then
  mapfile -t bases < <("$root/tools/image/bases.sh")
  [ "${#bases[@]}" = 2 ] || exit 1
  args+=(--pull=never
    --build-arg "BUILD_IMAGE=${bases[0]%:*}" --build-arg "BUILD_TAG=${bases[0]##*:}"
    --build-arg "RUN_IMAGE=${bases[1]%:*}" --build-arg "RUN_TAG=${bases[1]##*:}")
fi
say "building $IMAGE from Dockerfile"
old=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
# Host network for the build steps: npm ci reaches the registry as this machine does.
podman build --network=host --layers "${args[@]}" "${extra[@]}" -t "$IMAGE" -f "$root/Dockerfile" "$root" >&2
# The image this one replaces goes (unless a container still uses it).
new=$(podman image inspect --format '{{.Id}}' "$IMAGE")
if [ -n "$old" ] && [ "$old" != "$new" ]; then podman rmi "$old" >/dev/null 2>&1 || true; fi
say "built $IMAGE: $(podman run --rm --read-only --cap-drop=ALL --network=none "$IMAGE" --version)"
echo "$IMAGE"
