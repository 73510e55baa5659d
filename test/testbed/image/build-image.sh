#!/usr/bin/env bash
# Builds Ferry's image from the Dockerfile with buildah (no Docker engine), on a
# debian:bookworm-slim base made locally with mmdebstrap when it is not in buildah's storage yet,
# and exports it as a docker-archive the test bed's containerd imports.
# Usage: build-image.sh [tag]   — prints the archive path last. The default tag is
# ferry.test/ferry:<hash of the build context>; an archive already built from the same context is
# reused, so reruns cost nothing.
# Needs root, buildah and mmdebstrap (provision.sh image-tools). The build fetches the CSI protocol
# files itself (.ci/fetch-protos.ts). Storage lives under $FERRY_CACHE/containers, never the system's.
set -euo pipefail
cd "$(dirname "$0")/../../.."
FERRY_CACHE=${FERRY_CACHE:-$HOME/.cache/ferry}
TAG=${1:-}
BASE=docker.io/library/debian:bookworm-slim
STORE=(--root "$FERRY_CACHE/containers/storage" --runroot "$FERRY_CACHE/containers/run" --storage-driver vfs)
OUT=$FERRY_CACHE/images
LOGS=$FERRY_CACHE/logs
mkdir -p "$OUT" "$LOGS"
say() { printf '[image] %s\n' "$*" >&2; }

[ "$(id -u)" = 0 ] || { say "building the image needs root (buildah with vfs storage, mmdebstrap --mode=root)"; exit 1; }
for t in buildah mmdebstrap; do
  command -v $t >/dev/null || { say "$t is missing: bash test/testbed/provision.sh image-tools (or apt-get install -y $t)"; exit 1; }
done

# One build at a time per cache: buildah's vfs storage and the archive are shared.
exec 8>"$FERRY_CACHE/.image.lock"
flock 8

if [ -z "$TAG" ]; then
  hash=$(find Dockerfile .dockerignore package.json package-lock.json tsconfig.json tsconfig.build.json .ci/build-bundle.ts .ci/fetch-protos.ts .ci/csi-protos.json src crds \
    -type f ! -name '*.test.ts' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)
  TAG=ferry.test/ferry:$hash
fi
archive=$OUT/$(echo "$TAG" | tr '/:' '__').tar
if [ -f "$archive" ] && [ -n "${hash:-}" ]; then
  say "reusing $archive (same build context)"
  echo "$archive"
  exit 0
fi

if ! buildah "${STORE[@]}" inspect --type image "$BASE" >/dev/null 2>&1; then
  say "making $BASE with mmdebstrap (minbase, ~20 s) — log: $LOGS/mmdebstrap.log"
  rootfs=$(mktemp -d)/rootfs.tar
  # Without documentation, manual pages and locales, as the official slim image.
  mmdebstrap --variant=minbase --mode=root \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    bookworm "$rootfs" >"$LOGS/mmdebstrap.log" 2>&1
  c=$(buildah "${STORE[@]}" from scratch)
  tar -xf "$rootfs" -C "$(buildah "${STORE[@]}" mount "$c")"
  buildah "${STORE[@]}" umount "$c" >/dev/null
  buildah "${STORE[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd bash "$c"
  buildah "${STORE[@]}" commit -q --rm "$c" "$BASE" >/dev/null
  rm -rf "$(dirname "$rootfs")"
fi

log=$LOGS/build-image.log
say "building $TAG from the Dockerfile with buildah — log: $log"
start=$(date +%s)
# The host's CA bundle reaches npm inside the build as a secret (never a layer): registries here
# may sit behind a TLS-intercepting proxy.
secret=()
ca=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
[ -f "$ca" ] && secret=(--secret "id=ca,src=$ca")
if ! buildah "${STORE[@]}" bud --isolation chroot --pull=never --layers=false "${secret[@]}" -t "$TAG" . >"$log" 2>&1; then
  say "FAILED to build the image. Read $log (last lines below):"; tail -n 25 "$log" >&2; exit 1
fi
rm -f "$archive"
buildah "${STORE[@]}" push -q "$TAG" "docker-archive:$archive:$TAG" >/dev/null
# Keep only this build: every source change makes a new 360 MB archive and image otherwise.
for old in "$OUT"/ferry.test_ferry_*.tar; do [ "$old" = "$archive" ] || rm -f "$old"; done
buildah "${STORE[@]}" images --format '{{.Name}}:{{.Tag}}' | grep '^ferry.test/ferry:' | grep -vxF "$TAG" \
  | xargs -r buildah "${STORE[@]}" rmi -f >/dev/null 2>&1 || true
buildah "${STORE[@]}" rmi --prune >/dev/null 2>&1 || true
say "built $TAG in $(( $(date +%s) - start ))s; image (uncompressed archive) $(du -m "$archive" | cut -f1) MB"
echo "$archive"
