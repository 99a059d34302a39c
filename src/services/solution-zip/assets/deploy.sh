#!/usr/bin/env bash
# Deploys the solution in this folder (an unpacked solution.zip exported by Slipway) into one
# Kubernetes namespace with kubectl, waits until every Deployment is ready and, for a pipeline,
# starts it on its orchestrator. deployment-readme.txt explains each step. Running it again is
# safe: the namespace is created only when missing, manifests are applied server-side, and a
# pipeline that is already running is left alone.
#
# Usage: bash deploy.sh <namespace>
#
# Environment:
#   KUBECTL               the kubectl command (default: kubectl), e.g. "kubectl --context prod";
#                         KUBECONFIG is honoured as usual
#   WAIT_TIMEOUT          how long to wait for each Deployment (default: 600s)
#   ORCHESTRATOR_ADDRESS  host:port of the orchestrator's gRPC API, when <node address>:<node port>
#                         cannot be used (ClusterIP services, unreachable nodes, port-forward)
#   ORCHESTRATOR_CLIENT   auto (default), grpcurl, python or none: how the orchestrator is called
#
# Exit status: 0 done; 1 a step failed; 2 wrong usage; 3 deployed, but no tool was found to start
# the pipeline (the script prints what to run instead).
set -euo pipefail

readonly FIELD_MANAGER=slipway-script
readonly ORCHESTRATOR_SERVICE=orchestrator
readonly GRPC_MAX_TIME=120
# The orchestrator's pod is Ready before its gRPC server listens: retry for about a minute.
readonly UNREACHABLE_ATTEMPTS=30
# Someone else's initialize may be in progress: wait for about two minutes.
readonly INITIALIZING_ATTEMPTS=60
readonly RETRY_DELAY=2

KUBECTL=${KUBECTL:-kubectl}
WAIT_TIMEOUT=${WAIT_TIMEOUT:-600s}
ORCHESTRATOR_CLIENT=${ORCHESTRATOR_CLIENT:-auto}
read -r -a kubectl_command <<<"$KUBECTL"

namespace=''
node_host=''
work_dir=''

say() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
kube() { "${kubectl_command[@]}" "$@"; }

usage() {
  cat >&2 <<'EOF'
Usage: bash deploy.sh <namespace>

Deploys this solution into <namespace> (created when missing) of the cluster kubectl points at.
<namespace>: lower-case letters, digits and '-', at most 63 characters, e.g. my-pipeline.
See deployment-readme.txt for what it does and the settings it reads from the environment.
EOF
  exit 2
}

cleanup() {
  if [[ -n $work_dir ]]; then rm -rf -- "$work_dir"; fi
}

check_namespace() {
  if [[ ! $namespace =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ || ${#namespace} -gt 63 ]]; then
    die "namespace \"$namespace\" must be lower-case letters, digits and '-', start and end with a letter or digit, at most 63 characters"
  fi
}

ensure_namespace() {
  if kube get namespace "$namespace" >/dev/null 2>&1; then
    say "Namespace $namespace exists"
  else
    say "Creating namespace $namespace"
    kube create namespace "$namespace"
  fi
}

apply_manifests() {
  say "Applying deployments/*.yaml to namespace $namespace"
  kube apply --server-side --field-manager="$FIELD_MANAGER" --namespace "$namespace" --filename deployments/
}

wait_for_rollouts() {
  local file
  for file in deployments/*deployment.yaml; do
    say "Waiting for ${file#deployments/} (at most $WAIT_TIMEOUT)"
    if ! kube rollout status --namespace "$namespace" --filename "$file" --timeout="$WAIT_TIMEOUT"; then
      die "not ready after $WAIT_TIMEOUT; see why with: kubectl --namespace $namespace get pods; kubectl --namespace $namespace describe --filename $file"
    fi
  done
}

# First ExternalIP of the first node, else its first InternalIP; empty when nodes cannot be read.
find_node_host() {
  local type addresses
  for type in ExternalIP InternalIP; do
    addresses=$(kube get nodes --output "jsonpath={.items[0].status.addresses[?(@.type==\"$type\")].address}" 2>/dev/null || true)
    if [[ -n $addresses ]]; then
      printf '%s' "${addresses%% *}"
      return
    fi
  done
}

# node_port <service> <port name>: the node port Kubernetes assigned, empty when there is none.
node_port() {
  kube get service "$1" --namespace "$namespace" --output "jsonpath={.spec.ports[?(@.name==\"$2\")].nodePort}" 2>/dev/null || true
}

orchestrator_address() {
  if [[ -n ${ORCHESTRATOR_ADDRESS:-} ]]; then
    printf '%s' "$ORCHESTRATOR_ADDRESS"
    return
  fi
  local port
  port=$(node_port "$ORCHESTRATOR_SERVICE" protobuf-api)
  if [[ -z $node_host || -z $port ]]; then
    cat >&2 <<EOF
error: cannot tell where the orchestrator is reachable (node address: "${node_host:-unknown}", node port: "${port:-none}").
Forward a local port to it and run this script again, for example:
    kubectl --namespace $namespace port-forward service/$ORCHESTRATOR_SERVICE 8061:8061 &
    ORCHESTRATOR_ADDRESS=127.0.0.1:8061 bash deploy.sh $namespace
EOF
    return 1
  fi
  printf '%s:%s' "$node_host" "$port"
}

choose_client() {
  case $ORCHESTRATOR_CLIENT in
    auto)
      if have grpcurl && { have python3 || have jq; }; then
        echo grpcurl
      elif have python3 && python3 -c 'import grpc' 2>/dev/null; then
        echo python
      else
        echo none
      fi
      ;;
    grpcurl | python | none) echo "$ORCHESTRATOR_CLIENT" ;;
    *) die "ORCHESTRATOR_CLIENT must be auto, grpcurl, python or none (not \"$ORCHESTRATOR_CLIENT\")" ;;
  esac
}

# The body of Orchestrator/initialize as JSON: blueprint.json, dockerinfo.json and every
# microservice/*.proto keyed by its file name, which is what the orchestrator expects.
write_initialize_body() {
  if have python3; then
    python3 orchestrator_client/orchestrator_client.py --print-initialize-body
    return
  fi
  local body proto
  body=$(jq --null-input --rawfile blueprint blueprint.json --rawfile dockerinfo dockerinfo.json \
    '{blueprint: $blueprint, dockerinfo: $dockerinfo, protofiles: {}, queuesize: 0, iterations: 0}')
  for proto in microservice/*.proto; do
    [[ -e $proto ]] || continue
    body=$(jq --arg name "${proto##*/}" --rawfile text "$proto" '.protofiles[$name] = $text' <<<"$body")
  done
  printf '%s\n' "$body"
}

# grpc_call <address> <method> [<JSON body file>]: the reply as JSON on stdout.
grpc_call() {
  local address=$1 method=$2 body=${3:-}
  local grpcurl_command=(grpcurl -plaintext -max-time "$GRPC_MAX_TIME" -import-path protobuf -proto orchestrator.proto)
  if [[ -n $body ]]; then
    "${grpcurl_command[@]}" -d @ "$address" "Orchestrator/$method" <"$body"
  else
    "${grpcurl_command[@]}" -d '{}' "$address" "Orchestrator/$method"
  fi
}

# The `message` of an OrchestrationStatus printed by grpcurl (JSON on stdin).
status_message() {
  if have jq; then
    jq --raw-output '.message // ""'
  else
    python3 -c 'import json, sys; print(json.load(sys.stdin).get("message", ""))'
  fi
}

read_status() {
  local address=$1 attempt reply
  for ((attempt = 1; attempt <= UNREACHABLE_ATTEMPTS; attempt++)); do
    if reply=$(grpc_call "$address" get_status 2>&1); then
      status_message <<<"$reply"
      return
    fi
    sleep "$RETRY_DELAY"
  done
  printf 'error: the orchestrator at %s does not answer: %s\n' "$address" "$reply" >&2
  return 1
}

start_with_grpcurl() {
  local address=$1 message reply attempt=1
  message=$(read_status "$address")
  while [[ $message == "initializing..." ]] && ((attempt < INITIALIZING_ATTEMPTS)); do
    sleep "$RETRY_DELAY"
    message=$(read_status "$address")
    attempt=$((attempt + 1))
  done
  say "Orchestrator status: ${message:-(empty)}"
  if [[ $message == running ]]; then
    say "The pipeline is already running; nothing to start"
    return
  fi
  if [[ $message != initialized ]]; then
    work_dir=$(mktemp -d)
    write_initialize_body >"$work_dir/initialize.json"
    say "Initializing the orchestrator with blueprint.json, dockerinfo.json and microservice/*.proto"
    reply=$(grpc_call "$address" initialize "$work_dir/initialize.json")
    message=$(status_message <<<"$reply")
    [[ $message == initialized ]] || die "the orchestrator refused the pipeline: $message"
  fi
  say "Starting the pipeline"
  reply=$(grpc_call "$address" run)
  message=$(status_message <<<"$reply")
  [[ $message == running ]] || die "the pipeline did not start: $message"
  say "The pipeline is running"
}

print_manual_steps() {
  local address=$1
  cat >&2 <<EOF
The solution is deployed, but no tool was found to start the pipeline: this script needs either
grpcurl (with python3 or jq), or python3 with the grpcio package (pip install grpcio).
Install one and run this script again (safe: finished steps are skipped), for example:
    pip install grpcio && bash deploy.sh $namespace
or call the orchestrator yourself (plaintext gRPC at $address, protobuf/orchestrator.proto):
    python3 orchestrator_client/orchestrator_client.py --print-initialize-body >initialize.json
    grpcurl -plaintext -import-path protobuf -proto orchestrator.proto -d @ $address Orchestrator/initialize <initialize.json
    grpcurl -plaintext -import-path protobuf -proto orchestrator.proto -d '{}' $address Orchestrator/run
EOF
}

start_pipeline() {
  local address client
  address=$(orchestrator_address) || exit 1
  client=$(choose_client)
  say "Orchestrator: $address (client: $client)"
  case $client in
    grpcurl) start_with_grpcurl "$address" ;;
    python) python3 orchestrator_client/orchestrator_client.py "$address" || die "starting the pipeline failed" ;;
    none)
      print_manual_steps "$address"
      exit 3
      ;;
  esac
}

print_web_uis() {
  local file name port
  [[ -n $node_host ]] || return 0
  say "Web UIs (where a container serves one on port 8062):"
  for file in deployments/*service.yaml; do
    name=$(kube get --namespace "$namespace" --filename "$file" --output 'jsonpath={.metadata.name}' 2>/dev/null || true)
    [[ -n $name ]] || continue
    port=$(node_port "$name" webui)
    if [[ -n $port ]]; then printf '    %-32s http://%s:%s\n' "$name" "$node_host" "$port"; fi
  done
}

main() {
  if [[ $# -ne 1 || $1 == -h || $1 == --help ]]; then usage; fi
  namespace=$1
  check_namespace
  cd "$(dirname "${BASH_SOURCE[0]}")"
  [[ -d deployments ]] || die "deployments/ not found next to deploy.sh: run the script from the unpacked solution.zip"
  have "${kubectl_command[0]}" || die "${kubectl_command[0]} not found: install kubectl, or set KUBECTL to the command to use"
  trap cleanup EXIT

  ensure_namespace
  apply_manifests
  wait_for_rollouts
  node_host=$(find_node_host)
  if [[ -f blueprint.json ]]; then start_pipeline; fi
  print_web_uis
  say "Done. To remove everything: kubectl delete namespace $namespace"
}

main "$@"
