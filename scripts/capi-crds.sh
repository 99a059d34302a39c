#!/usr/bin/env bash
# The real CustomResourceDefinitions of Cluster API (Cluster, MachineDeployment), its kubeadm
# control-plane and bootstrap providers (KubeadmControlPlane, KubeadmConfigTemplate), the Metal3
# provider (Metal3Cluster, Metal3MachineTemplate) and the BareMetal Operator (BareMetalHost),
# copied from the Go modules pinned in tools/kube/capi (see tools/kube/capi/README.md) into a
# cache outside the repository:
#   ${SLIPWAY_CAPI_CRDS_CACHE:-$HOME/.cache/slipway/capi-crds}/<key>/<file>.yaml
# where <key> is derived from tools/kube/capi/{go.mod,go.sum,crds.txt} and RECIPE_VERSION.
# The folder holds exactly the files crds.txt lists (`kubectl apply -f <folder>` installs them).
#
# Changes to the upstream files (each said on stderr): the provider CRDs get the contract label
# their kustomizations add; a `spec.conversion` stanza (a conversion webhook) and cert-manager's
# CA-injection annotation would be removed — the versions pinned now have neither in their
# bases, so today the files are upstream's byte for byte apart from the label.
#
# Output: progress on stderr; the LAST line of stdout is the absolute folder and nothing else.
# Exit codes: 0 ok, 3 no `go` command (only needed when the cache is cold), other: failure.
set -euo pipefail

# Bump when what the script does to the files changes, so caches are rebuilt.
RECIPE_VERSION=1
CONTRACT_LABEL='cluster.x-k8s.io/v1beta1: v1beta1'

log() { printf 'capi-crds: %s\n' "$*" >&2; }

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
mod="$repo_root/tools/kube/capi"
for f in go.mod go.sum crds.txt; do
	if [[ ! -f "$mod/$f" ]]; then
		log "missing $mod/$f"
		exit 1
	fi
done

key=$(
	{
		echo "recipe=$RECIPE_VERSION"
		cd "$mod" && sha256sum go.mod go.sum crds.txt
	} | sha256sum | cut -c1-16
)
cache_root=${SLIPWAY_CAPI_CRDS_CACHE:-$HOME/.cache/slipway/capi-crds}
mkdir -p "$cache_root"
cache_root=$(cd "$cache_root" && pwd -P)
dest="$cache_root/$key"

# <module> <path> [contract] lines of crds.txt, comments and blank lines left out.
entries=()
while read -r module file flag _; do
	[[ -z "$module" || "$module" == \#* ]] && continue
	entries+=("$module $file ${flag:-}")
done <"$mod/crds.txt"

complete() {
	local dir=$1 entry file
	[[ -d "$dir" ]] || return 1
	for entry in "${entries[@]}"; do
		read -r _ file _ <<<"$entry"
		[[ -s "$dir/$(basename "$file")" ]] || return 1
	done
}

if complete "$dest"; then
	echo "$dest"
	exit 0
fi

if ! command -v go >/dev/null 2>&1; then
	echo "capi-crds: the 'go' command is not on PATH (it downloads the pinned modules from the Go module proxy)" >&2
	exit 3
fi

# One download per key at a time; the rename below keeps the cache whole even without flock.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$cache_root/.$key.lock"
	flock 9
	if complete "$dest"; then
		echo "$dest"
		exit 0
	fi
fi

# Downloads (or finds in Go's module cache) every module go.mod requires, each checked against
# go.sum (-mod=readonly: go.sum is never rewritten; a mismatch is a SECURITY ERROR from go).
# `go mod download -json` prints one JSON object per module, one field per line.
log "go mod download in tools/kube/capi"
json=$(cd "$mod" && GOFLAGS=-mod=readonly GOTOOLCHAIN=local go mod download -json) || {
	log "go mod download failed:"
	printf '%s\n' "$json" >&2
	exit 1
}
declare -A dirs=()
path=''
while IFS= read -r line; do
	case "$line" in
	*'"Path": '*) path=${line#*\"Path\": \"}; path=${path%\"*} ;;
	*'"Dir": '*) dir=${line#*\"Dir\": \"}; dirs[$path]=${dir%\"*} ;;
	esac
done <<<"$json"

tmp=$(mktemp -d "$cache_root/.$key.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

for entry in "${entries[@]}"; do
	read -r module file flag <<<"$entry"
	src="${dirs[$module]:-}/$file"
	if [[ -z "${dirs[$module]:-}" || ! -f "$src" ]]; then
		log "$module has no $file (is it required in tools/kube/capi/go.mod?)"
		exit 1
	fi
	out="$tmp/$(basename "$file")"
	# Drops spec.conversion (two-space indent, to the next key at that level or above) and the
	# cert-manager annotation; adds the contract label right under `metadata:` when asked.
	awk -v contract="$flag" -v label="$CONTRACT_LABEL" '
		/^  conversion:/ { skipping = 1; removed_conversion = 1; next }
		skipping && /^(  )?[^ ]/ { skipping = 0 }
		skipping { next }
		/^    cert-manager\.io\/inject-ca-from:/ { removed_annotation = 1; next }
		{ print }
		/^metadata:$/ && contract == "contract" { print "  labels:"; print "    " label }
		END {
			if (removed_conversion) print "removed spec.conversion" > "/dev/stderr"
			if (removed_annotation) print "removed cert-manager.io/inject-ca-from" > "/dev/stderr"
		}
	' "$src" >"$out" 2> >(sed "s#^#capi-crds: $(basename "$file"): #" >&2)
	if ! grep -q '^kind: CustomResourceDefinition$' "$out"; then
		log "$module/$file is not a CustomResourceDefinition"
		exit 1
	fi
	if grep -q '[$][(]' "$out"; then
		log "$module/$file has a kustomize placeholder \$(...): it is not a plain CRD"
		exit 1
	fi
	if [[ "$flag" == contract && $(grep -c '^  labels:$' "$out") -ne 1 ]]; then
		log "$module/$file already has metadata.labels: the contract label cannot be added by line"
		exit 1
	fi
	chmod 0644 "$out"
done
chmod 0755 "$tmp"
{
	echo "# tools/kube/capi at key $key"
	sed -n 's/^\t\([^ ]*\) \(v[^ ]*\).*/\1 \2/p' "$mod/go.mod"
} >"$cache_root/$key.sources"

if ! mv -T "$tmp" "$dest" 2>/dev/null; then
	# Another run finished first: use its folder.
	complete "$dest" || { log "could not move $tmp to $dest"; exit 1; }
fi
trap - EXIT
log "CRDs in $dest"
echo "$dest"
