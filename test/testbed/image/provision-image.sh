# Sourced by provision.sh: the tools that build Ferry's image without a Docker engine — buildah
# (builds the Dockerfile) and mmdebstrap (makes the debian:bookworm-slim base from Debian's own
# packages, since no container registry is reachable). Expects provision.sh's LOGS, say and run_logged.

IMAGE_APT_PACKAGES=(buildah mmdebstrap)

# Installs buildah and mmdebstrap from apt when missing (root only). Without root it says what is
# missing and goes on; the image and chart-on-node tests then fail naming the packages.
ensure_image_tools() {
  local missing=() p
  for p in "${IMAGE_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    say "WARNING: building Ferry's image needs ${missing[*]}: run this as root, or apt-get install -y ${missing[*]}."
    return 0
  fi
  local log=$LOGS/install-image-tools.log
  say "installing ${missing[*]} from apt (~30 s) — log: $log"
  : >"$log"
  run_logged image-tools "$log" apt-get update -q
  run_logged image-tools "$log" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}
