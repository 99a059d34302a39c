#!/usr/bin/env bash
# Slipway's KUD installer: the entry point of the kud-installer image. It installs (or scales out)
# a Kubernetes cluster with Kubespray over SSH, installs the KUD add-ons and hands the new
# cluster's admin.conf back to Slipway.
#
# The contract (src/domain/bootstrap/kud-installer.ts): a Job on Slipway's bootstrap cluster, with
#   KUD_CLUSTER_NAME        the cluster's name (for the log only: Kubespray's own cluster_name is
#                           the cluster's DNS domain and is left alone);
#   KUD_ACTION              install | scale;
#   KUD_LIMIT               scale only: the new worker nodes, comma separated (ansible --limit);
#   KUD_INVENTORY           the Kubespray inventory (hosts.ini, from a read-only ConfigMap);
#   KUBE_VERSION, KUBE_PODS_SUBNET, KUBE_SERVICE_ADDRESSES
#                           Kubespray's kube_version, kube_pods_subnet, kube_service_addresses;
#   KUD_ADDONS              add-ons separated by spaces, installed in that order (may be empty);
#   KUD_ADMIN_CONF_SECRET, KUD_ADMIN_CONF_KEY, POD_NAMESPACE
#                           the Secret (in this Job's namespace) and key the admin.conf goes to,
#                           written with this pod's ServiceAccount;
#   ANSIBLE_PRIVATE_KEY_FILE (optional) the SSH key ansible logs in with (ansible reads it itself).
# The exit status is the Job's outcome; on a failure Slipway shows the end of this log.
#
# Steps:
#   1. Check the whole contract (and the add-ons) before anything runs; a problem is one line
#      starting with `error:` that names the variable.
#   2. The inventory is copied into a writable work directory (Kubespray writes credentials next
#      to its inventory).
#   3. install: `ansible-playbook -i <inventory> --become cluster.yml` with the variables above.
#      scale: Kubespray's facts playbook on every host (so --limit has all facts), then
#      `scale.yml --limit "$KUD_LIMIT"`.
#   4. /etc/kubernetes/admin.conf is fetched from the first host of [kube_control_plane] (or
#      [kube-master]) with `ansible -m fetch`; a server on 127.0.0.1/localhost is replaced by that
#      host's ansible_host/ansible_ssh_host address. It is written with
#      `kubectl create secret generic --dry-run=client -o yaml | kubectl apply --server-side -f -`
#      into POD_NAMESPACE using the in-cluster ServiceAccount (server-side, so no copy of the
#      kubeconfig lands in a last-applied annotation). Its content is never printed.
#   5. Add-ons, in KUD_ADDONS order, each with KUD's own playbook
#      KUD_PLAYBOOKS_DIR/configure-<addon>.yml (run as KUD's installer runs them, with KUBECONFIG
#      set to the new cluster's admin.conf and KUD's legacy group names kube-node, kube-master and
#      k8s-cluster added to the inventory as aliases of the current ones). On scale they run again
#      limited to the new nodes and localhost (node preparation for the new workers, manifests
#      re-applied), except cmk, whose playbook creates rather than applies its objects.
#      Installable: multus ovn4nfv nfd sriov qat optane cmk. Known to Slipway but not installable by
#      this image (step 1 refuses them): kubevirt and cdi (KUD ships them only as Helm charts for
#      EMCO) and virtlet (it needs Docker as the container runtime; Kubespray here installs
#      containerd). Any other name is refused as unknown.
#
# The programs are taken from the environment so that tests can use stand-ins: ANSIBLE_PLAYBOOK,
# ANSIBLE, KUBECTL (default: from PATH), KUBESPRAY_DIR (/opt/kubespray), KUD_PLAYBOOKS_DIR
# (/opt/kud/deployment_infra/playbooks), KUD_WORK_DIR (default: a new temporary directory).
set -euo pipefail
umask 077

ANSIBLE_PLAYBOOK=${ANSIBLE_PLAYBOOK:-ansible-playbook}
ANSIBLE=${ANSIBLE:-ansible}
KUBECTL=${KUBECTL:-kubectl}
KUBESPRAY_DIR=${KUBESPRAY_DIR:-/opt/kubespray}
KUD_PLAYBOOKS_DIR=${KUD_PLAYBOOKS_DIR:-/opt/kud/deployment_infra/playbooks}

readonly KNOWN_ADDONS='multus ovn4nfv nfd sriov qat optane cmk kubevirt cdi virtlet'
readonly ADMIN_CONF_REMOTE=/etc/kubernetes/admin.conf
readonly FIELD_MANAGER=kud-installer

fail() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

step() {
  printf '==> %s\n' "$*"
}

# `name` must be set and not empty; `what` says what it is.
require() {
  local name=$1 what=$2
  [[ -n ${!name:-} ]] || fail "$name is not set: it must be $what"
}

# --- 1. The contract ---------------------------------------------------------------------------

require KUD_CLUSTER_NAME "the name of the cluster"
require KUD_ACTION "install or scale"
require KUD_INVENTORY "the path of the Kubespray inventory (hosts.ini)"
require KUBE_VERSION "the Kubernetes version (Kubespray's kube_version, e.g. v1.29.3)"
require KUBE_PODS_SUBNET "the pod network (Kubespray's kube_pods_subnet, e.g. 10.233.64.0/18)"
require KUBE_SERVICE_ADDRESSES "the service network (Kubespray's kube_service_addresses, e.g. 10.233.0.0/18)"
require KUD_ADMIN_CONF_SECRET "the name of the Secret the new cluster's admin.conf is written to"
require KUD_ADMIN_CONF_KEY "the key of that Secret the admin.conf goes under"
require POD_NAMESPACE "this pod's namespace (the downward API's metadata.namespace)"

case $KUD_ACTION in
  install)
    [[ -z ${KUD_LIMIT:-} ]] || fail "KUD_LIMIT is set but KUD_ACTION is install: an install covers every host of the inventory; KUD_LIMIT is for scale"
    ;;
  scale)
    [[ -n ${KUD_LIMIT:-} ]] || fail "KUD_LIMIT is not set: KUD_ACTION=scale needs the new worker nodes, comma separated"
    [[ $KUD_LIMIT =~ ^[A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*$ ]] || fail "KUD_LIMIT must be node names separated by commas (got \"$KUD_LIMIT\")"
    ;;
  *) fail "KUD_ACTION must be install or scale (got \"$KUD_ACTION\")" ;;
esac

[[ -f $KUD_INVENTORY && -r $KUD_INVENTORY ]] || fail "KUD_INVENTORY $KUD_INVENTORY is not a readable file: is the inventory ConfigMap mounted?"
[[ $KUBE_VERSION =~ ^v?[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "KUBE_VERSION must be a Kubernetes version like v1.29.3 (got \"$KUBE_VERSION\")"
kubespray_kube_version=v${KUBE_VERSION#v}
readonly CIDR_RE='^([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}$'
[[ $KUBE_PODS_SUBNET =~ $CIDR_RE ]] || fail "KUBE_PODS_SUBNET must be an IPv4 network like 10.233.64.0/18 (got \"$KUBE_PODS_SUBNET\")"
[[ $KUBE_SERVICE_ADDRESSES =~ $CIDR_RE ]] || fail "KUBE_SERVICE_ADDRESSES must be an IPv4 network like 10.233.0.0/18 (got \"$KUBE_SERVICE_ADDRESSES\")"
[[ $KUD_ADMIN_CONF_SECRET =~ ^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$ ]] || fail "KUD_ADMIN_CONF_SECRET must be a Kubernetes object name (got \"$KUD_ADMIN_CONF_SECRET\")"
[[ $KUD_ADMIN_CONF_KEY =~ ^[-._a-zA-Z0-9]{1,253}$ ]] || fail "KUD_ADMIN_CONF_KEY must be a Secret key: letters, digits, - _ . (got \"$KUD_ADMIN_CONF_KEY\")"
[[ $POD_NAMESPACE =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] || fail "POD_NAMESPACE must be a namespace name (got \"$POD_NAMESPACE\")"
if [[ -n ${ANSIBLE_PRIVATE_KEY_FILE:-} ]]; then
  [[ -f $ANSIBLE_PRIVATE_KEY_FILE && -r $ANSIBLE_PRIVATE_KEY_FILE ]] || fail "ANSIBLE_PRIVATE_KEY_FILE $ANSIBLE_PRIVATE_KEY_FILE is not a readable file: is the SSH key Secret mounted?"
fi

addons=()
read -r -a addons <<<"${KUD_ADDONS:-}" || true
seen=' '
for addon in "${addons[@]}"; do
  [[ " $KNOWN_ADDONS " == *" $addon "* ]] || fail "KUD_ADDONS: unknown add-on \"$addon\" (known: $KNOWN_ADDONS)"
  [[ $seen != *" $addon "* ]] || fail "KUD_ADDONS names $addon twice"
  seen+="$addon "
  case $addon in
    kubevirt | cdi) fail "KUD_ADDONS: add-on $addon is not installable by this image (KUD ships it only as a Helm chart for EMCO)" ;;
    virtlet) fail "KUD_ADDONS: add-on virtlet is not installable by this image (it needs Docker as the container runtime; Kubespray here installs containerd)" ;;
  esac
  [[ -f $KUD_PLAYBOOKS_DIR/configure-$addon.yml ]] || fail "KUD_ADDONS: add-on $addon has no playbook $KUD_PLAYBOOKS_DIR/configure-$addon.yml"
done

[[ -d $KUBESPRAY_DIR ]] || fail "KUBESPRAY_DIR $KUBESPRAY_DIR is not a directory (Kubespray is not where the image puts it)"
if [[ $KUD_ACTION == install ]]; then
  [[ -f $KUBESPRAY_DIR/cluster.yml ]] || fail "KUBESPRAY_DIR $KUBESPRAY_DIR has no cluster.yml"
else
  [[ -f $KUBESPRAY_DIR/scale.yml ]] || fail "KUBESPRAY_DIR $KUBESPRAY_DIR has no scale.yml"
  facts_playbook=''
  for candidate in playbooks/facts.yml facts.yml; do
    if [[ -f $KUBESPRAY_DIR/$candidate ]]; then facts_playbook=$candidate; break; fi
  done
  [[ -n $facts_playbook ]] || fail "KUBESPRAY_DIR $KUBESPRAY_DIR has no facts playbook (playbooks/facts.yml), which a scale with --limit needs first"
fi

# The first control-plane host of the inventory, and its address.
control_plane=$(awk '
  /^[[:space:]]*([#;]|$)/ { next }
  /^[[:space:]]*\[/ { section = $0; gsub(/[][[:space:]]/, "", section); next }
  (section == "kube_control_plane" || section == "kube-master") { print $1; exit }
' "$KUD_INVENTORY")
[[ -n $control_plane ]] || fail "KUD_INVENTORY $KUD_INVENTORY has no host in [kube_control_plane] (or [kube-master])"
control_plane_address=$(awk -v host="$control_plane" '
  $1 == host { for (i = 2; i <= NF; i++) if ($i ~ /^ansible_(ssh_)?host=/) { sub(/^[^=]*=/, "", $i); print $i; exit } }
' "$KUD_INVENTORY")

# --- 2. The work directory -----------------------------------------------------------------------

if [[ -n ${KUD_WORK_DIR:-} ]]; then
  work=$KUD_WORK_DIR
  mkdir -p -- "$work"
  own_work=''
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/kud.XXXXXX")
  own_work=yes
fi
admin_conf="$work/admin.conf"
cleanup() {
  rm -f -- "$admin_conf" || true
  if [[ -n $own_work ]]; then rm -rf -- "$work" || true; fi
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

mkdir -p -- "$work/inventory"
inventory="$work/inventory/hosts.ini"
cp -- "$KUD_INVENTORY" "$inventory"
if [[ -z ${ANSIBLE_CONFIG:-} && -f $KUBESPRAY_DIR/ansible.cfg ]]; then export ANSIBLE_CONFIG="$KUBESPRAY_DIR/ansible.cfg"; fi
cd "$KUBESPRAY_DIR"

kubespray_vars=(-e "kube_version=$kubespray_kube_version" -e "kube_pods_subnet=$KUBE_PODS_SUBNET" -e "kube_service_addresses=$KUBE_SERVICE_ADDRESSES")
step "cluster $KUD_CLUSTER_NAME: $KUD_ACTION, Kubernetes $kubespray_kube_version, pods $KUBE_PODS_SUBNET, services $KUBE_SERVICE_ADDRESSES, add-ons: ${addons[*]:-none}${KUD_LIMIT:+, nodes $KUD_LIMIT}"

# --- 3. Kubespray ------------------------------------------------------------------------------

if [[ $KUD_ACTION == install ]]; then
  step "Kubespray cluster.yml on every host of the inventory"
  "$ANSIBLE_PLAYBOOK" -i "$inventory" --become --become-user=root "${kubespray_vars[@]}" cluster.yml \
    || fail "Kubespray's cluster.yml failed (the lines above say on which host and task)"
else
  step "Kubespray $facts_playbook on every host (facts for --limit)"
  "$ANSIBLE_PLAYBOOK" -i "$inventory" --become --become-user=root "${kubespray_vars[@]}" "$facts_playbook" \
    || fail "Kubespray's $facts_playbook failed (the lines above say on which host and task)"
  step "Kubespray scale.yml on $KUD_LIMIT"
  "$ANSIBLE_PLAYBOOK" -i "$inventory" --become --become-user=root "${kubespray_vars[@]}" --limit "$KUD_LIMIT" scale.yml \
    || fail "Kubespray's scale.yml failed (the lines above say on which host and task)"
fi

# --- 4. admin.conf -----------------------------------------------------------------------------

step "fetching $ADMIN_CONF_REMOTE from $control_plane"
rm -f -- "$admin_conf"
"$ANSIBLE" "$control_plane" -i "$inventory" --become -m ansible.builtin.fetch \
  -a "src=$ADMIN_CONF_REMOTE dest=$admin_conf flat=yes fail_on_missing=yes" \
  || fail "could not fetch $ADMIN_CONF_REMOTE from $control_plane"
[[ -s $admin_conf ]] || fail "ansible fetched no $ADMIN_CONF_REMOTE from $control_plane"
grep -q '^kind: Config' "$admin_conf" || fail "$ADMIN_CONF_REMOTE from $control_plane is not a kubeconfig"
chmod 0600 "$admin_conf"
if [[ -n $control_plane_address ]]; then
  address=$control_plane_address
  if [[ $address == *:* && $address != \[* ]]; then address="[$address]"; fi
  sed -i -E "s#^([[:space:]]*server:[[:space:]]*https://)(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?#\1${address}\3#" "$admin_conf"
fi

step "writing the admin.conf to Secret $POD_NAMESPACE/$KUD_ADMIN_CONF_SECRET (key $KUD_ADMIN_CONF_KEY)"
# The in-cluster ServiceAccount, not the new cluster: KUBECONFIG is not passed on.
env -u KUBECONFIG "$KUBECTL" create secret generic "$KUD_ADMIN_CONF_SECRET" --namespace "$POD_NAMESPACE" \
  --from-file="$KUD_ADMIN_CONF_KEY=$admin_conf" --dry-run=client -o yaml \
  | env -u KUBECONFIG "$KUBECTL" apply --namespace "$POD_NAMESPACE" --server-side --force-conflicts \
    --field-manager="$FIELD_MANAGER" -f - \
  || fail "could not write Secret $POD_NAMESPACE/$KUD_ADMIN_CONF_SECRET (is the Job's ServiceAccount allowed to write Secrets?)"

# --- 5. Add-ons --------------------------------------------------------------------------------

if [[ ${#addons[@]} -gt 0 ]]; then
  # KUD's playbooks address hosts by the old group names and run kubectl on localhost.
  addon_inventory="$work/inventory-addons.ini"
  {
    cat -- "$inventory"
    printf '\n# Added by kud-install.sh for KUD playbooks.\n[local]\nlocalhost ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"\n'
    for pair in kube_node:kube-node kube_control_plane:kube-master k8s_cluster:k8s-cluster; do
      current=${pair%%:*}
      legacy=${pair#*:}
      if grep -Eq "^[[:space:]]*\[$current(:children)?\]" "$inventory" && ! grep -Eq "^[[:space:]]*\[$legacy(:children)?\]" "$inventory"; then
        printf '\n[%s:children]\n%s\n' "$legacy" "$current"
      fi
    done
  } >"$addon_inventory"
  mkdir -p -- "$work/kud"
  for addon in "${addons[@]}"; do
    limit=()
    if [[ $KUD_ACTION == scale ]]; then
      if [[ $addon == cmk ]]; then
        step "add-on cmk: skipped on scale (KUD's playbook creates its objects and cannot run twice); the new nodes get no CMK"
        continue
      fi
      limit=(--limit "$KUD_LIMIT,localhost")
    fi
    step "add-on $addon: $KUD_PLAYBOOKS_DIR/configure-$addon.yml"
    KUBECONFIG="$admin_conf" "$ANSIBLE_PLAYBOOK" -i "$addon_inventory" -e "base_dest=$work/kud" "${limit[@]}" \
      "$KUD_PLAYBOOKS_DIR/configure-$addon.yml" \
      || fail "add-on $addon failed (configure-$addon.yml; the lines above say which task)"
  done
fi

step "cluster $KUD_CLUSTER_NAME: $KUD_ACTION done"
