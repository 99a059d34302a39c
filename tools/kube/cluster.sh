#!/usr/bin/env bash
# Starts and stops a real Kubernetes control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler) with kwok standing in for kubelets,
# as local processes on 127.0.0.1 only, offline. See tools/kube/README.md.
#
#   tools/kube/cluster.sh up   [NAME]   # last stdout line: the kubeconfig path
#   tools/kube/cluster.sh down [NAME]   # stops every process of the cluster
#   tools/kube/cluster.sh env  [NAME]   # prints KUBECONFIG=... and PATH=... lines
#
# NAME defaults to "slipway". Environment:
#   SLIPWAY_KUBE_WORKDIR        kwokctl workdir (default ${TMPDIR:-/tmp}/slipway-kwok)
#   SLIPWAY_KUBE_GOAWAY_CHANCE  kube-apiserver --goaway-chance (0 < x <= 0.02; unset: off)
#   SLIPWAY_KUBE_NODES          number of kwok Nodes to create (default 3)
#   SLIPWAY_KUBE_STAGE_CRDS     1: Stages/ClusterLogs/Logs are API objects (tests may
#                               kubectl-apply more at run time; ~3 s slower start);
#                               otherwise they are fixed in kwok's config file
#   SLIPWAY_KUBE_CACHE          passed on to scripts/kube-build.sh
set -euo pipefail

log() { printf 'kube-cluster: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

cmd=${1:-}
name=${2:-slipway}
[[ "$name" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || die "bad cluster name: $name"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(cd "$here/../.." && pwd -P)
workdir=${SLIPWAY_KUBE_WORKDIR:-${TMPDIR:-/tmp}/slipway-kwok}
mkdir -p "$workdir"
workdir=$(cd "$workdir" && pwd -P)
export KWOK_WORKDIR=$workdir
cluster_dir="$workdir/clusters/$name"
kubeconfig="$cluster_dir/kubeconfig.yaml"
# kubectl caches discovery per host:port under ~/.kube/cache; ports are reused
# by the next cluster, so keep the cache with the cluster.
export KUBECACHEDIR="$cluster_dir/kubectl-cache"

# The built binaries (once per machine; seconds when cached).
bin=$("$repo_root/scripts/kube-build.sh" | tail -n 1)
share="$(dirname "$bin")/share"
# kwokctl runs the first `kubectl` on PATH for its own checks: make it ours.
export PATH="$bin:$PATH"

cluster_pids() {
	local f pid
	[[ -d "$cluster_dir/pids" ]] || return 0
	for f in "$cluster_dir"/pids/*.pid; do
		[[ -f "$f" ]] || continue
		pid=$(<"$f")
		if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
			echo "$pid"
		fi
	done
}

down() {
	local pids i
	pids=$(cluster_pids)
	if [[ -d "$cluster_dir" ]]; then
		kwokctl delete cluster --name "$name" >"$workdir/$name.delete.log" 2>&1 ||
			log "kwokctl delete cluster failed; see $workdir/$name.delete.log"
	fi
	# kwokctl sends SIGKILL and does not wait: wait for the processes to go.
	for ((i = 0; i < 50; i++)); do
		local left=""
		for p in $pids; do
			if alive "$p"; then
				left+=" $p"
			fi
		done
		[[ -z "$left" ]] && break
		sleep 0.1
	done
	rm -f "$workdir/$name.kwokctl.yaml"
}

# kwok's default Stages, our Stages (tools/kube/examples/stage-*.yaml) and
# the ClusterLogs rule, as one YAML stream.
stage_and_logs_objects() {
	local f
	echo "---"
	cat "$share/kwok-default-stages.yaml"
	for f in "$here"/examples/stage-*.yaml; do
		echo "---"
		cat "$f"
	done
	echo "---"
	# an absolute path: kwok resolves a relative one against its current
	# directory, which is not always the cluster directory
	sed "s#logsFile: ./pod-logs.log#logsFile: $cluster_dir/pod-logs.log#" "$here/examples/clusterlogs.yaml"
}

# kwok-controller starts with the apiserver and polls it with backoff (1, 2,
# 4, 8, 16 s; then it exits). It opens its port only once connected. If it is
# not listening when the apiserver is ready, restart it (kwokctl start cluster
# starts the components that are not running): Nodes go Ready ~1 s later
# instead of after the next backoff step, and never stay NotReady because
# kwok gave up on a slow machine.
kick_kwok() {
	local pidf="$cluster_dir/pids/kwok-controller.pid" pid="" port="" i
	[[ -f "$pidf" ]] && pid=$(<"$pidf")
	if [[ -n "$pid" && -r /proc/$pid/cmdline ]]; then
		port=$(tr '\0' '\n' <"/proc/$pid/cmdline" | sed -n 's/^--node-port=//p')
	fi
	if [[ -n "$port" ]] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		return 0
	fi
	log "kwok-controller not connected yet; restarting it"
	if [[ -n "$pid" ]] && alive "$pid"; then
		kill "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			alive "$pid" || break
			sleep 0.1
		done
		if alive "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
	fi
	# kwokctl takes a pid that answers signal 0 for running, and a killed
	# process answers until PID 1 reaps it: drop the pid file.
	rm -f "$pidf"
	kwokctl start cluster --name "$name" >>"$workdir/$name.create.log" 2>&1 ||
		die "kwokctl start cluster failed; see $workdir/$name.create.log"
}

# A process that exists and is not a zombie.
alive() {
	[[ -d /proc/$1 ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

up() {
	local cfg="$workdir/$name.kwokctl.yaml" goaway="" crds="" n i t0
	n=${SLIPWAY_KUBE_NODES:-3}
	[[ "$n" =~ ^[0-9]+$ ]] || die "SLIPWAY_KUBE_NODES must be a number"
	if [[ -d "$cluster_dir" ]]; then
		log "cluster $name exists in $workdir; recreating it"
		down
	fi
	if [[ -n "${SLIPWAY_KUBE_GOAWAY_CHANCE:-}" ]]; then
		goaway=$(printf '  - key: goaway-chance\n    value: "%s"\n' "$SLIPWAY_KUBE_GOAWAY_CHANCE")
	fi
	if [[ "${SLIPWAY_KUBE_STAGE_CRDS:-0}" == 1 ]]; then
		crds='  enableCRDs: [Stage, ClusterLogs, Logs]'
	fi
	{
		cat <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  # every component listens on 127.0.0.1 (kwokctl's default is 0.0.0.0)
  bindAddress: 127.0.0.1
  kubeAuthorization: true
  kubeAdmission: true
$crds
  etcdBinary: $bin/etcd
  kubeApiserverBinary: $bin/kube-apiserver
  kubeControllerManagerBinary: $bin/kube-controller-manager
  kubeSchedulerBinary: $bin/kube-scheduler
  kwokControllerBinary: $bin/kwok
  kubectlBinary: $bin/kubectl
componentsPatches:
- name: kube-apiserver
  extraArgs:
  # reach kwok's kubelet API (logs) at the Node's InternalIP, never by
  # resolving the Node's Hostname through DNS
  - key: kubelet-preferred-address-types
    value: InternalIP
  # advertise loopback so no machine address is needed or published (a
  # network namespace with only lo works); loopback is invalid in Endpoints,
  # so the "kubernetes" Service gets no endpoints (nothing here uses them)
  - key: advertise-address
    value: 127.0.0.1
  - key: endpoint-reconciler-type
    value: none
  # node ports below the ports kwokctl gives the components (it counts down from 32766), so a
  # test's fake orchestrator on 127.0.0.1:<node port> never meets a component's port
  - key: service-node-port-range
    value: 30000-31999
$goaway
EOF
		# Without the Stage CRD, kwok reads its Stages and ClusterLogs from this
		# file. Any Stage here replaces ALL of kwok's defaults, so the defaults
		# go in too.
		if [[ -z "$crds" ]]; then
			stage_and_logs_objects
		fi
	} >"$cfg"

	t0=$SECONDS
	# kwokctl picks free ports when it creates a cluster: clusters created at the same moment (test
	# files in parallel) take turns, machine-wide, so two never pick the same ones.
	# (-o: the components kwokctl starts must not inherit the lock.)
	if ! flock -o "${TMPDIR:-/tmp}/slipway-kwok-create.lock" kwokctl create cluster --name "$name" --config "$cfg" --kubeconfig "" --timeout 120s \
		>"$workdir/$name.create.log" 2>&1; then
		log "kwokctl create cluster failed; see $workdir/$name.create.log"
		down
		exit 1
	fi
	for ((i = 0; i < 300; i++)); do
		kubectl --kubeconfig "$kubeconfig" get --raw /readyz >/dev/null 2>&1 && break
		sleep 0.1
	done
	kubectl --kubeconfig "$kubeconfig" get --raw /readyz >/dev/null || die "apiserver not ready"

	kick_kwok

	: >"$cluster_dir/pod-logs.log"
	if [[ -n "$crds" ]]; then
		stage_and_logs_objects | kubectl --kubeconfig "$kubeconfig" apply -f - >/dev/null
	fi
	for ((i = 0; i < n; i++)); do
		echo "---"
		sed "s/kwok-node-0/kwok-node-$i/g; s/zone-0/zone-$i/g" "$here/examples/node.yaml"
	done | kubectl --kubeconfig "$kubeconfig" apply -f - >/dev/null
	if ((n > 0)); then
		kubectl --kubeconfig "$kubeconfig" wait --for=condition=Ready node --all --timeout=60s >/dev/null
	fi
	# The ServiceAccount admission plugin rejects Pods until the controller
	# manager has created the namespace's "default" ServiceAccount.
	for ((i = 0; i < 300; i++)); do
		kubectl --kubeconfig "$kubeconfig" -n default get serviceaccount default >/dev/null 2>&1 && break
		sleep 0.1
	done
	log "cluster $name up in $((SECONDS - t0)) s; $n Ready kwok Nodes; pod logs from $cluster_dir/pod-logs.log"
	echo "$kubeconfig"
}

case "$cmd" in
up) up ;;
down) down ;;
env)
	echo "KUBECONFIG=$kubeconfig"
	echo "KUBECACHEDIR=$KUBECACHEDIR"
	echo "PATH=$bin:\$PATH"
	;;
*)
	echo "usage: $0 up|down|env [NAME]" >&2
	exit 2
	;;
esac
