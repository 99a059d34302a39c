#!/usr/bin/env bash
# Builds the real Kubernetes control plane used by the integration tests from
# the pinned Go modules under tools/kube/ (see tools/kube/README.md):
#   kube-apiserver kube-controller-manager kube-scheduler kubectl  (tools/kube/kubernetes)
#   etcd                                                             (tools/kube/etcd)
#   kwok kwokctl                                                     (tools/kube/kwok)
#   helm                                                             (tools/kube/helm)
# (helm has a module of its own: it needs newer k8s.io modules than Kubernetes 1.34's.)
#
# The binaries are cached outside the repository, once per machine and per
# version set:
#   ${SLIPWAY_KUBE_CACHE:-$HOME/.cache/slipway/kube}/<key>/bin
# where <key> is derived from the go.mod/go.sum files of the four modules
# (and this script's recipe version), so a version bump builds afresh.
#
# Besides bin/, <key>/share/kwok-default-stages.yaml holds kwok's default
# Stages (node-initialize, node-heartbeat-with-lease, pod-ready, pod-complete,
# pod-delete) from the same kwok module, for clusters that enable the Stage CRD.
#
# Output: progress on stderr; the LAST line of stdout is the absolute bin
# directory and nothing else.
# Exit codes: 0 ok, 3 no `go` command, other non-zero: the build failed.
set -euo pipefail

# Bump when the build recipe (flags, package list) changes so caches rebuild.
RECIPE_VERSION=3
# Oldest Go that builds every module (kwok v0.8.0, etcd v3.6.17 and helm v4.3.2 say go 1.26.0).
MIN_GO_MINOR=26
# Toolchain fetched from the Go module proxy when the local Go is older.
FALLBACK_TOOLCHAIN=go1.26.8

BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwokctl helm)

log() { printf 'kube-build: %s\n' "$*" >&2; }

if ! command -v go >/dev/null 2>&1; then
	echo "kube-build: the 'go' command is not on PATH (Go >= 1.${MIN_GO_MINOR} is needed to build the control plane)" >&2
	exit 3
fi

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
mods="$repo_root/tools/kube"
for m in kubernetes etcd kwok helm; do
	for f in go.mod go.sum; do
		if [[ ! -f "$mods/$m/$f" ]]; then
			log "missing $mods/$m/$f"
			exit 1
		fi
	done
done

key=$(
	{
		echo "recipe=$RECIPE_VERSION binaries=${BINARIES[*]}"
		cd "$mods" && sha256sum kubernetes/go.mod kubernetes/go.sum etcd/go.mod etcd/go.sum kwok/go.mod kwok/go.sum helm/go.mod helm/go.sum
	} | sha256sum | cut -c1-16
)

cache_root=${SLIPWAY_KUBE_CACHE:-$HOME/.cache/slipway/kube}
mkdir -p "$cache_root"
cache_root=$(cd "$cache_root" && pwd -P)
dest="$cache_root/$key"

complete() {
	local dir=$1 b
	for b in "${BINARIES[@]}"; do
		[[ -x "$dir/bin/$b" ]] || return 1
	done
	[[ -s "$dir/share/kwok-default-stages.yaml" && -f "$dir/BUILD-INFO" ]]
}

if complete "$dest"; then
	echo "$dest/bin"
	exit 0
fi

# Serialise builds of the same key on this machine (each Kubernetes build
# takes minutes and GBs of memory); the atomic rename below still protects the
# cache if flock is unavailable or the lock is bypassed.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$cache_root/.$key.lock"
	if ! flock -n 9; then
		log "another build of $key is running; waiting for it"
		flock 9
	fi
	if complete "$dest"; then
		echo "$dest/bin"
		exit 0
	fi
fi

# Go toolchain: use the local one when it is new enough, otherwise let the go
# command fetch $FALLBACK_TOOLCHAIN from the module proxy (once per machine).
go_version=$(GOTOOLCHAIN=local go env GOVERSION)
go_minor=$(sed -E 's/^go1\.([0-9]+).*/\1/' <<<"$go_version")
if [[ ! "$go_minor" =~ ^[0-9]+$ ]] || ((go_minor < MIN_GO_MINOR)); then
	log "local $go_version is older than go1.$MIN_GO_MINOR; using GOTOOLCHAIN=$FALLBACK_TOOLCHAIN"
	export GOTOOLCHAIN=$FALLBACK_TOOLCHAIN
else
	export GOTOOLCHAIN=local
fi
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -mod=readonly -buildvcs=false"

tmp=$(mktemp -d "$cache_root/.$key.tmp.XXXXXX")
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
mkdir "$tmp/bin"

modver() { (cd "$mods/$1" && go list -m -f '{{.Version}}' "$2"); }
kube_version=$(modver kubernetes k8s.io/kubernetes)
etcd_version=$(modver etcd go.etcd.io/etcd/server/v3)
kwok_version=$(modver kwok sigs.k8s.io/kwok)
helm_version=$(modver helm helm.sh/helm/v4)
kube_major=$(sed -E 's/^v([0-9]+)\..*/\1/' <<<"$kube_version")
kube_minor=$(sed -E 's/^v[0-9]+\.([0-9]+)\..*/\1/' <<<"$kube_version")

log "building into $dest (kubernetes $kube_version, etcd $etcd_version, kwok $kwok_version, helm $helm_version, $(go env GOVERSION))"
start=$SECONDS

# Same version stamps as Kubernetes' hack/lib/version.sh, so /version and
# `kubectl version` report the real release instead of v0.0.0-master.
kube_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	kube_ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=$kube_major -X $pkg.gitMinor=$kube_minor -X $pkg.gitTreeState=clean"
done
# kwokctl's default Kubernetes version decides which flags it passes to the
# components: make it the version we actually build.
kwok_ldflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${kwok_version#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${kube_version#v}"
# As Helm's Makefile stamps a release: `helm version` says v4.3.2, not v4.3.
helm_ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=$helm_version -X helm.sh/helm/v4/internal/version.metadata= -X helm.sh/helm/v4/internal/version.gitTreeState=clean"

log "etcd ..."
(cd "$mods/etcd" && go build -trimpath -ldflags='-s -w' -o "$tmp/bin/etcd" go.etcd.io/etcd/server/v3)
log "kwok, kwokctl ..."
(cd "$mods/kwok" && go build -trimpath -ldflags="$kwok_ldflags" -o "$tmp/bin/" \
	sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl)
log "helm ..."
(cd "$mods/helm" && go build -trimpath -ldflags="$helm_ldflags" -o "$tmp/bin/helm" helm.sh/helm/v4/cmd/helm)
log "kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (the long part) ..."
(cd "$mods/kubernetes" && go build -trimpath -ldflags="$kube_ldflags" -o "$tmp/bin/" \
	k8s.io/kubernetes/cmd/kube-apiserver \
	k8s.io/kubernetes/cmd/kube-controller-manager \
	k8s.io/kubernetes/cmd/kube-scheduler \
	k8s.io/kubernetes/cmd/kubectl)

# kwok's built-in default Stages, as kwokctl installs them when the Stage CRD
# is off; with --enable-crds=Stage they must be applied as objects.
kwok_dir=$(cd "$mods/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
mkdir "$tmp/share"
for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
	pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
	echo "---"
	echo "# from sigs.k8s.io/kwok@$kwok_version kustomize/stage/$f"
	cat "$kwok_dir/kustomize/stage/$f"
done >"$tmp/share/kwok-default-stages.yaml"

for b in "${BINARIES[@]}"; do
	if [[ ! -x "$tmp/bin/$b" ]]; then
		log "build produced no $b"
		exit 1
	fi
done
{
	echo "key=$key"
	echo "kubernetes=$kube_version"
	echo "etcd=$etcd_version"
	echo "kwok=$kwok_version"
	echo "helm=$helm_version"
	echo "go=$(go env GOVERSION)"
	echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$tmp/BUILD-INFO"
chmod 755 "$tmp"

# An incomplete leftover at $dest (not one of ours: ours appear whole) is
# moved aside first so the rename below can succeed.
if [[ -e "$dest" ]] && ! complete "$dest"; then
	stale=$(mktemp -d "$cache_root/.$key.stale.XXXXXX")
	if mv -T "$dest" "$stale/old" 2>/dev/null; then
		rm -rf "$stale"
	else
		rmdir "$stale"
	fi
fi
# rename(2) of the finished directory: readers see nothing or everything.
if ! mv -T "$tmp" "$dest" 2>/dev/null; then
	if complete "$dest"; then
		log "another build finished first; using it"
	else
		log "could not move the build into $dest"
		exit 1
	fi
fi
trap - EXIT
rm -rf "$tmp"

log "built in $((SECONDS - start)) s"
echo "$dest/bin"
