#!/usr/bin/env bash
# podman as tools/image/build.sh and e2e/image.podman.ts call it: plain podman, with two
# adjustments that some machines need and that change nothing elsewhere.
#  - Runtime: crun refuses cgroups in "hybrid" mode when the cgroup v2 hierarchy has controllers
#    ("cgroups in hybrid mode not supported"); runc runs there. PODMAN_RUNTIME overrides.
#  - Resource limits (run/create only): podman asks for large open-file and process limits, which
#    the runtime sets once the container's capabilities are dropped (podman's default set has no
#    CAP_SYS_RESOURCE), so asking above the hard limits the runtime inherited fails ("error
#    setting rlimit ... operation not permitted"). A container gets modest limits instead (16384
#    files, 4096 processes, or the caller's hard limits if lower), unless --ulimit is given.
set -euo pipefail
global=()
runtime=${PODMAN_RUNTIME:-}
if [ -z "$runtime" ] && [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ] && command -v runc >/dev/null; then
  runtime=runc
fi
[ -n "$runtime" ] && global+=(--runtime "$runtime")
if [ $# -gt 0 ] && { [ "$1" = run ] || [ "$1" = create ]; } && [[ " $* " != *" --ulimit"* ]]; then
  sub=$1
  shift
  limits=()
  n=16384 u=4096
  h=$(ulimit -Hn) && [ "$h" != unlimited ] && [ "$h" -lt "$n" ] && n=$h
  h=$(ulimit -Hu) && [ "$h" != unlimited ] && [ "$h" -lt "$u" ] && u=$h
  limits+=(--ulimit "nofile=$n:$n" --ulimit "nproc=$u:$u")
  exec podman "${global[@]}" "$sub" "${limits[@]}" "$@"
fi
exec podman "${global[@]}" "$@"
