#!/usr/bin/env bash
# Builds or installs every server the test bed runs, cached by version outside the repo.
# Each tool lands at $FERRY_CACHE/bin/<tool>-<version>; an existing file is never rebuilt.
# Usage: provision.sh [tool ...]   (default: all). Tools: etcd kube-apiserver moto k8s-node
set -euo pipefail

FERRY_CACHE=${FERRY_CACHE:-$HOME/.cache/ferry}
# Versions from versions.env, unless the environment already sets them.
while IFS='=' read -r key value; do
  case $key in ''|\#*) continue ;; esac
  [ -n "${!key:-}" ] || export "$key=$value"
done <"$(dirname "$0")/versions.env"

BIN=$FERRY_CACHE/bin
SRC=$FERRY_CACHE/src
LOGS=$FERRY_CACHE/logs
mkdir -p "$BIN" "$SRC" "$LOGS"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false

say() { printf '[provision] %s\n' "$*" >&2; }

# Runs one build step with its output in a log; on failure names the tool and the log.
run_logged() {
  local tool=$1 log=$2; shift 2
  if ! "$@" >>"$log" 2>&1; then
    say "FAILED to build $tool. Read $log (last lines below):"
    tail -n 20 "$log" >&2
    exit 1
  fi
}

build_etcd() {
  local out=$BIN/etcd-$ETCD_VERSION log=$LOGS/build-etcd-$ETCD_VERSION.log
  [ -x "$out" ] && return 0
  say "building etcd $ETCD_VERSION (1-3 min) — log: $log"
  : >"$log"
  local dir=$SRC/etcd-$ETCD_VERSION
  rm -rf "$dir" && mkdir -p "$dir"
  (
    cd "$dir"
    run_logged etcd "$log" go mod init local.ferry/etcd-build
    run_logged etcd "$log" go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    run_logged etcd "$log" go build -trimpath -ldflags='-s -w' -o "$out.tmp" go.etcd.io/etcd/server/v3
  )
  mv "$out.tmp" "$out"
  say "etcd ready: $out"
}

build_kube_apiserver() {
  local out=$BIN/kube-apiserver-$K8S_VERSION log=$LOGS/build-kube-apiserver-$K8S_VERSION.log
  [ -x "$out" ] && return 0
  say "building kube-apiserver $K8S_VERSION (10-20 min cold on 2 cores) — log: $log"
  : >"$log"
  local v=${K8S_VERSION#v} dir=$SRC/kube-apiserver-$K8S_VERSION
  local minor=${v#1.}            # 35.4 -> staging modules are tagged v0.35.4
  rm -rf "$dir" && mkdir -p "$dir"
  (
    cd "$dir"
    run_logged kube-apiserver "$log" go mod init local.ferry/k8s-build
    local gomod
    gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" 2>>"$log" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])') \
      || { say "FAILED to download k8s.io/kubernetes@$K8S_VERSION. Read $log"; exit 1; }
    # k8s.io/kubernetes replaces its staging modules with local paths; a wrapper must name them itself.
    local m
    for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/.*#\1#p' "$gomod"); do
      go mod edit -replace="$m=$m@v0.$minor"
    done
    grep '^godebug' "$gomod" >>go.mod || true
    run_logged kube-apiserver "$log" go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION"
    run_logged kube-apiserver "$log" go build -p 2 -trimpath -o "$out.tmp" \
      -ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor%%.*}" \
      k8s.io/kubernetes/cmd/kube-apiserver
  )
  mv "$out.tmp" "$out"
  say "kube-apiserver ready: $out"
}

install_moto() {
  local venv=$FERRY_CACHE/venv/moto-$MOTO_VERSION log=$LOGS/install-moto-$MOTO_VERSION.log
  [ -x "$BIN/moto_server-$MOTO_VERSION" ] && return 0
  say "installing moto $MOTO_VERSION (PyPI) — log: $log"
  : >"$log"
  rm -rf "$venv"
  run_logged moto "$log" python3 -m venv "$venv"
  run_logged moto "$log" "$venv/bin/pip" install --disable-pip-version-check -q "moto[server]==$MOTO_VERSION"
  ln -sf "$venv/bin/moto_server" "$BIN/moto_server-$MOTO_VERSION"
  say "moto ready: $BIN/moto_server-$MOTO_VERSION"
}

# Prerequisites from Debian when missing (the machine image has them; a slimmer one may not).
need_apt=()
command -v openssl >/dev/null || need_apt+=(openssl)
command -v setpriv >/dev/null || need_apt+=(util-linux)
command -v flock >/dev/null || need_apt+=(util-linux)
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing ${need_apt[*]} from apt"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else say "missing ${need_apt[*]}: install them (apt-get install ${need_apt[*]})"; exit 1; fi
fi
command -v go >/dev/null || { say "Go (1.25+) is required to build etcd and kube-apiserver; install it from your distribution or go.dev"; exit 1; }
command -v python3 >/dev/null || { say "python3 (3.10+) is required for moto"; exit 1; }

tools=("$@")
[ ${#tools[@]} -eq 0 ] && tools=(moto etcd kube-apiserver k8s-node)

# shellcheck source=node/provision-node.sh
source "$(dirname "$0")/node/provision-node.sh"
# apt has its own lock; install the node's runtime before taking the cache lock.
if [[ " ${tools[*]} " == *" k8s-node "* ]]; then ensure_node_runtime; fi

# One provision at a time per cache: concurrent runs wait instead of racing on the same files.
exec 9>"$FERRY_CACHE/.provision.lock"
flock 9

for t in "${tools[@]}"; do
  case $t in
    etcd) build_etcd ;;
    kube-apiserver) build_kube_apiserver ;;
    moto) install_moto ;;
    k8s-node) build_node_binaries ;;
    *) say "unknown tool: $t"; exit 2 ;;
  esac
done
