#!/usr/bin/env bash
# Build the repository's Dockerfile (unchanged) with podman on a machine that
# has no Docker daemon and reaches no container registry, then smoke-test it.
#
#   sudo docker/build-image.sh            # as root, non-interactive, no stdin
#
# What it does, in order:
#   1. installs podman, runc, debootstrap, curl with apt-get if any is missing;
#   2. makes the base images debian:bookworm and debian:bookworm-slim with
#      debootstrap from the Debian mirror named in this machine's apt sources
#      (cached as tarballs under $LOSSD_IMAGE_CACHE) and imports them under
#      docker.io/library/debian:{bookworm,bookworm-slim} so that FROM resolves;
#   3. podman build --pull=never --network host (runc, cgroupfs, host network,
#      explicit ulimits, one private storage root used from the first command);
#   4. runs the image on a free loopback port, waits for /healthz, POSTs one
#      MSE request and checks the value, runs the image's HEALTHCHECK, stops it
#      with SIGTERM and requires exit code 0; runs `lossd score` on mounted files;
#   5. prints the image size and the build time.
# Exits non-zero on any failure.
#
# Environment (all optional):
#   LOSSD_IMAGE           image name            (default lossd:0.1.0)
#   LOSSD_TEST_PORT       smoke-test port       (default 18080)
#   LOSSD_IMAGE_CACHE     rootfs tarball cache  (default /var/cache/lossd-images)
#   LOSSD_PODMAN_ROOT     podman state root     (default /var/lib/lossd-podman)
#   LOSSD_STORAGE_DRIVER  overlay | vfs         (default overlay)
#   LOSSD_REFRESH_BASE=1  rebuild the base rootfs tarballs even if cached
#   LOSSD_NO_CACHE=1      podman build --no-cache (cold build of the Dockerfile)
#   LOSSD_SKIP_SMOKE=1    build only
set -euo pipefail
exec </dev/null

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SUITE=bookworm
IMAGE=${LOSSD_IMAGE:-lossd:0.1.0}
PORT=${LOSSD_TEST_PORT:-18080}
CACHE=${LOSSD_IMAGE_CACHE:-/var/cache/lossd-images}
DRIVER=${LOSSD_STORAGE_DRIVER:-overlay}
PROOT=${LOSSD_PODMAN_ROOT:-/var/lib/lossd-podman}/$DRIVER
BASE_RECIPE=1 # bump when the rootfs recipe below changes: invalidates the cache
CONTAINER=lossd-smoke-$$

log() { printf '[build-image] %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" = 0 ] || die "run as root (podman storage, debootstrap and chroot need it)"
[ -f "$REPO/Dockerfile" ] || die "no Dockerfile in $REPO"

# ---------------------------------------------------------------- 1. tools
need=()
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v curl >/dev/null || need+=(curl)
command -v python3 >/dev/null || need+=(python3)
[ -r /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  # --no-install-recommends keeps crun (which fails on these cgroups), buildah
  # and slirp4netns out; podman depends on runc | crun and we take runc.
  apt-get install -y -q --no-install-recommends "${need[@]}" uidmap >&2
fi

# ---------------------------------------------------------------- podman
# One storage configuration from the very first podman command: a private
# root per storage driver, so that nothing else on the machine (or a run with
# another driver) can leave an incompatible database behind.
mkdir -p "$PROOT/conf" "$PROOT/storage" "$PROOT/tmp"
RUNROOT=/run/lossd-podman/$DRIVER
mkdir -p "$RUNROOT"
cat >"$PROOT/conf/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "host"
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$PROOT/tmp"
EOF
cat >"$PROOT/conf/storage.conf" <<EOF
[storage]
driver = "$DRIVER"
graphroot = "$PROOT/storage"
runroot = "$RUNROOT"
EOF
cat >"$PROOT/conf/registries.conf" <<EOF
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
EOF
export CONTAINERS_CONF=$PROOT/conf/containers.conf
export CONTAINERS_STORAGE_CONF=$PROOT/conf/storage.conf
export CONTAINERS_REGISTRIES_CONF=$PROOT/conf/registries.conf
export TMPDIR=$PROOT/tmp
PODMAN=(podman --root "$PROOT/storage" --runroot "$RUNROOT" --storage-driver "$DRIVER"
        --runtime runc --cgroup-manager cgroupfs --events-backend file)
ULIMITS=(--ulimit nofile=20000:20000 --ulimit nproc=32768:32768)

# ---------------------------------------------------------------- 2. base images
# The mirror comes from this machine's apt sources (one-line or deb822), so
# the base images and the build stage's apt-get use the same mirror as the
# host. Prints the first enabled "deb" URI that serves suite $1.
apt_uri_for_suite() {
  local suite=$1 f
  {
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -r "$f" ] || continue
      awk -v s="$suite" '
        $1 == "deb" {
          i = 2
          if ($i ~ /^\[/) { while ($i !~ /\]$/ && i < NF) i++; i++ }
          if ($(i + 1) == s) { print $i; exit }
        }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -r "$f" ] || continue
      awk -v s="$suite" '
        function field() { sub(/^[^:]*:[ \t]*/, ""); return $0 }
        function flush(   n, a, j, u) {
          if (!found && types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no") {
            n = split(suites, a, /[ \t]+/)
            for (j = 1; j <= n; j++)
              if (a[j] == s) { split(uris, u, /[ \t]+/); print u[1]; found = 1; break }
          }
          types = uris = suites = ""; enabled = "yes"
        }
        BEGIN { enabled = "yes" }
        /^[ \t]*$/ { flush(); if (found) exit; next }
        /^[ \t]*#/ { next }
        tolower($1) == "types:"   { types = field() }
        tolower($1) == "uris:"    { uris = field() }
        tolower($1) == "suites:"  { suites = field() }
        tolower($1) == "enabled:" { enabled = tolower(field()) }
        END { flush() }' "$f"
    done
  } | head -n1
}

MIRROR=$(apt_uri_for_suite "$SUITE")
SECURITY=$(apt_uri_for_suite "$SUITE-security")
[ -n "$MIRROR" ] || die "no apt source for suite $SUITE in /etc/apt/sources.list*"
MIRROR=${MIRROR%/}
SECURITY=${SECURITY%/}
log "Debian mirror from apt sources: $MIRROR${SECURITY:+ (security: $SECURITY)}"
ARCH=$(dpkg --print-architecture)

FULL_TAR=$CACHE/debian-$SUITE-$ARCH-r$BASE_RECIPE.tar
SLIM_TAR=$CACHE/debian-$SUITE-slim-$ARCH-r$BASE_RECIPE.tar

CHROOT_MOUNTS=()
cleanup_chroot() {
  local m
  for m in "${CHROOT_MOUNTS[@]}"; do umount -l "$m" 2>/dev/null || true; done
  CHROOT_MOUNTS=()
}

make_rootfs_tarballs() {
  local work rootfs t0
  t0=$(now)
  mkdir -p "$CACHE"
  work=$(mktemp -d "$CACHE/work.XXXXXX")
  rootfs=$work/rootfs
  log "debootstrap --variant=minbase $SUITE from the apt-sources mirror (takes a few minutes)"
  debootstrap --variant=minbase --arch="$ARCH" \
    --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    "$SUITE" "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed (log: $work/debootstrap.log)"; }

  # apt sources inside the image: the same mirror as the host's, deb822.
  rm -f "$rootfs/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$MIRROR" "$SUITE" "$SUITE"
    if [ -n "$SECURITY" ]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$SECURITY" "$SUITE"
    fi
  } >"$rootfs/etc/apt/sources.list.d/debian.sources"

  # What the official Docker images add: no daemons started by maintainer
  # scripts, no apt caches kept in layers, no translations.
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
  chmod 755 "$rootfs/usr/sbin/policy-rc.d"
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Acquire::GzipIndexes "true";' >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"

  # Bring in bookworm-updates and bookworm-security, as the official images do.
  log "applying $SUITE-updates/-security inside the rootfs"
  mount -t proc proc "$rootfs/proc" && CHROOT_MOUNTS+=("$rootfs/proc")
  cp -L /etc/resolv.conf "$rootfs/etc/resolv.conf"
  if ! chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        sh -c 'apt-get update -q && apt-get -y -q dist-upgrade && apt-get clean' >"$work/upgrade.log" 2>&1; then
    cleanup_chroot
    tail -n 30 "$work/upgrade.log" >&2
    die "apt-get dist-upgrade in the rootfs failed (log: $work/upgrade.log)"
  fi
  cleanup_chroot
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log \
    "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old \
    "$rootfs"/var/log/apt/* "$rootfs"/tmp/* "$rootfs"/var/tmp/*
  : >"$rootfs/etc/resolv.conf"
  : >"$rootfs/etc/hostname"
  rm -f "$rootfs/etc/machine-id" && : >"$rootfs/etc/machine-id"

  # Tarball: device nodes, /proc, /sys and /run contents are left to the runtime.
  local excl=(--exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' --exclude='./run/*')
  tar --numeric-owner --xattrs -C "$rootfs" "${excl[@]}" -cf "$work/full.tar" .

  # Slim variant: what debian:*-slim drops (docs, man pages, locales).
  mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d"
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/groff/* "$rootfs"/usr/share/info/* \
    "$rootfs"/usr/share/lintian/* "$rootfs"/usr/share/linda/*
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  tar --numeric-owner --xattrs -C "$rootfs" "${excl[@]}" -cf "$work/slim.tar" .

  mv "$work/full.tar" "$FULL_TAR"
  mv "$work/slim.tar" "$SLIM_TAR"
  rm -rf --one-file-system "$work"
  log "base rootfs tarballs made in $(elapsed "$t0" "$(now)") s: $FULL_TAR, $SLIM_TAR"
}

trap 'cleanup_chroot' EXIT
if [ "${LOSSD_REFRESH_BASE:-0}" = 1 ] || [ ! -s "$FULL_TAR" ] || [ ! -s "$SLIM_TAR" ]; then
  # Leftovers of an interrupted run: unmount anything (proc, sys) still
  # mounted inside them before deleting, and never cross into a mount.
  awk -v c="$CACHE/work." 'index($2, c) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r m; do umount -l "$m" || true; done
  rm -rf --one-file-system "$CACHE"/work.* 2>/dev/null || true
  make_rootfs_tarballs
  REIMPORT=1
else
  log "using cached base rootfs tarballs in $CACHE"
  REIMPORT=0
fi

import_base() { # tarball name
  local tar=$1 name=$2
  if [ "$REIMPORT" = 1 ] || ! "${PODMAN[@]}" image exists "$name"; then
    log "podman import $tar as $name"
    "${PODMAN[@]}" import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' \
      "$tar" "$name" >/dev/null
  fi
}
import_base "$FULL_TAR" "docker.io/library/debian:$SUITE"
import_base "$SLIM_TAR" "docker.io/library/debian:$SUITE-slim"

# ---------------------------------------------------------------- 3. build
cleanup() {
  local rc=$?
  cleanup_chroot
  "${PODMAN[@]}" rm -f -t 2 "$CONTAINER" >/dev/null 2>&1 || true
  exit "$rc"
}
trap cleanup EXIT

build_args=(--pull=never --network host --format docker "${ULIMITS[@]}" -f "$REPO/Dockerfile" -t "$IMAGE")
[ "${LOSSD_NO_CACHE:-0}" = 1 ] && build_args+=(--no-cache)
log "podman build ${build_args[*]} $REPO"
t0=$(now)
"${PODMAN[@]}" build "${build_args[@]}" "$REPO" >&2 || die "podman build failed"
BUILD_S=$(elapsed "$t0" "$(now)")
SIZE=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE")
SIZE_MB=$(awk -v b="$SIZE" 'BEGIN { printf "%.1f", b / 1e6 }')
log "built $IMAGE in $BUILD_S s, size $SIZE bytes ($SIZE_MB MB)"

if [ "${LOSSD_SKIP_SMOKE:-0}" = 1 ]; then
  echo "image=$IMAGE size_bytes=$SIZE build_seconds=$BUILD_S smoke=skipped"
  exit 0
fi

# ---------------------------------------------------------------- 4. smoke test
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if port_busy "$PORT"; then die "port $PORT is already in use on 127.0.0.1 (set LOSSD_TEST_PORT)"; fi

log "podman run $IMAGE --port $PORT (host network)"
# --no-healthcheck: podman schedules HEALTHCHECKs with systemd timers,
# and there is no systemd here; the probe is run by hand below instead.
# --read-only, --cap-drop ALL, no-new-privileges: as docker/k8s runs it.
"${PODMAN[@]}" run -d --name "$CONTAINER" --network host "${ULIMITS[@]}" \
  --no-healthcheck --read-only --cap-drop ALL --security-opt no-new-privileges \
  "$IMAGE" --port "$PORT" >/dev/null || die "podman run failed"

BASE=http://127.0.0.1:$PORT
ok=0
for _ in $(seq 1 100); do
  if curl --noproxy "*" -fsS -m 2 "$BASE/healthz" >/dev/null 2>&1; then ok=1; break; fi
  state=$("${PODMAN[@]}" inspect --format '{{.State.Status}}' "$CONTAINER" 2>/dev/null || echo gone)
  [ "$state" = running ] || [ "$state" = created ] || break
  sleep 0.2
done
if [ "$ok" != 1 ]; then
  "${PODMAN[@]}" logs "$CONTAINER" >&2 || true
  die "/healthz did not answer within 20 s"
fi
log "/healthz ok"

body=$(curl --noproxy "*" -fsS -m 10 -X POST "$BASE/v1/loss/mse" -H 'Content-Type: application/json' \
  -d '{"predictions":[1,2,3],"targets":[1,2,5]}') || die "POST /v1/loss/mse failed"
log "POST /v1/loss/mse -> $body"
printf '%s' "$body" | python3 -c '
import json, sys
v = json.load(sys.stdin)["value"]
sys.exit(0 if v == 1.3333333333333333 else 1)' || die "expected value 1.3333333333333333"

# The image's HEALTHCHECK is `lossd --probe http://127.0.0.1:8080/healthz`
# (the default port); the smoke container listens on $PORT, so run the same
# probe command against $PORT inside the container, and check the image
# carries the HEALTHCHECK.
"${PODMAN[@]}" exec "$CONTAINER" /usr/local/bin/lossd --probe "$BASE/healthz" ||
  die "lossd --probe $BASE/healthz inside the container failed"
log "lossd --probe inside the container ok"
hc=$("${PODMAN[@]}" image inspect --format '{{json .Config.Healthcheck}}' "$IMAGE")
case "$hc" in *--probe*) log "image HEALTHCHECK: $hc" ;; *) die "image has no lossd --probe HEALTHCHECK: $hc" ;; esac

# SIGTERM to PID 1: lossd must drain and exit 0 by itself.
t1=$(now)
"${PODMAN[@]}" stop -t 40 "$CONTAINER" >/dev/null
code=$("${PODMAN[@]}" inspect --format '{{.State.ExitCode}}' "$CONTAINER")
log "stopped with SIGTERM in $(elapsed "$t1" "$(now)") s, exit code $code"
[ "$code" = 0 ] || { "${PODMAN[@]}" logs "$CONTAINER" 2>&1 | tail -n 20 >&2; die "lossd exited $code on SIGTERM"; }

# `lossd score` through the image's entrypoint: files mounted read-only, /v1's JSON on stdout.
DATA=$(mktemp -d)
printf '1\n2\n3\n' >"$DATA/p.csv"
printf '1\n2\n5\n' >"$DATA/t.csv"
chmod -R a+rX "$DATA"
score=$("${PODMAN[@]}" run --rm --network none "${ULIMITS[@]}" --read-only --cap-drop ALL \
  -v "$DATA:/data:ro" -w /data "$IMAGE" score mse --predictions p.csv --targets t.csv) ||
  { rm -rf "$DATA"; die "lossd score in the image failed"; }
rm -rf "$DATA"
log "podman run $IMAGE score mse --predictions p.csv --targets t.csv -> $score"
[ "$score" = '{"loss":"mse","reduction":"mean","dtype":"float64","value":1.3333333333333333,"shape":[],"denominator":3}' ] ||
  die "unexpected lossd score output"

echo "image=$IMAGE size_bytes=$SIZE size_mb=$SIZE_MB build_seconds=$BUILD_S smoke=ok"
