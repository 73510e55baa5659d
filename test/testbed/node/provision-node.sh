# Sourced by provision.sh: the pieces of a real node — kubelet, kube-controller-manager and
# kube-scheduler built from the Go module proxy, and containerd, runc, the CNI plugins and a
# static busybox from Debian. Expects provision.sh's BIN, SRC, LOGS, say and run_logged.

NODE_BINARIES=(kubelet kube-controller-manager kube-scheduler)
NODE_APT_PACKAGES=(containerd runc containernetworking-plugins busybox-static)

# Installs the container runtime from apt when any piece is missing (root only; it changes the
# system). Without root it only says what is missing and goes on: the rest of the bed still
# works, and the node's tests fail naming the same packages. containerd is not started here:
# the test bed runs its own, with its own config.
ensure_node_runtime() {
  local missing=() p
  for p in "${NODE_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    say "WARNING: the test bed's node (real pods) needs ${missing[*]}: run this as root, or install them with apt-get install -y ${missing[*]}. Node tests will fail until then."
    return 0
  fi
  local log=$LOGS/install-node-runtime.log
  say "installing ${missing[*]} from apt (~30 s) — log: $log"
  : >"$log"
  run_logged node-runtime "$log" apt-get update -q
  # Debian starts the system containerd on install; the bed never uses it, so stop it again.
  run_logged node-runtime "$log" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  if command -v systemctl >/dev/null && systemctl is-active -q containerd 2>/dev/null; then
    systemctl stop containerd >>"$log" 2>&1 || true
  fi
}

# kubelet, kube-controller-manager and kube-scheduler in one `go build` (they share most
# packages), from a wrapper module made like build_kube_apiserver's. Each lands at
# $BIN/<name>-$K8S_VERSION; nothing is rebuilt while all three exist.
build_node_binaries() {
  local b missing=0
  for b in "${NODE_BINARIES[@]}"; do [ -x "$BIN/$b-$K8S_VERSION" ] || missing=1; done
  [ $missing = 0 ] && return 0
  local log=$LOGS/build-node-$K8S_VERSION.log
  say "building kubelet, kube-controller-manager, kube-scheduler $K8S_VERSION (5-10 min cold on 2 cores) — log: $log"
  : >"$log"
  local v=${K8S_VERSION#v} dir=$SRC/k8s-node-$K8S_VERSION
  local minor=${v#1.}
  rm -rf "$dir" && mkdir -p "$dir/out"
  (
    cd "$dir"
    run_logged node "$log" go mod init local.ferry/k8s-node-build
    local gomod
    gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" 2>>"$log" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])') \
      || { say "FAILED to download k8s.io/kubernetes@$K8S_VERSION. Read $log"; exit 1; }
    local m
    for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/.*#\1#p' "$gomod"); do
      go mod edit -replace="$m=$m@v0.$minor"
    done
    grep '^godebug' "$gomod" >>go.mod || true
    local pkgs=()
    for b in "${NODE_BINARIES[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b@$K8S_VERSION"); done
    run_logged node "$log" go get "${pkgs[@]}"
    run_logged node "$log" go build -p 2 -trimpath -o out/ \
      -ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor%%.*}" \
      "${pkgs[@]%@*}"
  )
  for b in "${NODE_BINARIES[@]}"; do mv "$dir/out/$b" "$BIN/$b-$K8S_VERSION"; done
  rm -rf "$dir/out"
  (IFS=,; say "node binaries ready: $BIN/{${NODE_BINARIES[*]}}-$K8S_VERSION")
}
