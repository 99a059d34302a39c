/**
 * The KUD installer as Kubernetes objects on the bootstrap cluster: one Job per cluster
 * (`backoffLimit: 0`, `restartPolicy: Never`: a half-run Kubespray is not retried blindly), the
 * inventory in a ConfigMap, and a ServiceAccount allowed to write Secrets of its namespace. Pure.
 *
 * The contract with the installer image (environment variables):
 * - `KUD_CLUSTER_NAME`, `KUD_ACTION` (`install` | `scale`), `KUD_LIMIT` (scale only, comma
 *   separated node names, passed to ansible as `--limit`), `KUD_INVENTORY` (the hosts.ini path);
 * - `KUBE_VERSION`, `KUBE_PODS_SUBNET`, `KUBE_SERVICE_ADDRESSES` (Kubespray's variable names);
 * - `KUD_ADDONS`: add-ons separated by spaces, in install order (nfd before sriov and qat);
 * - `KUD_ADMIN_CONF_SECRET`, `KUD_ADMIN_CONF_KEY`, `POD_NAMESPACE`: once the cluster is up, the
 *   installer writes the new cluster's admin.conf to that Secret and key in its own namespace;
 * - `ANSIBLE_PRIVATE_KEY_FILE` when an SSH key Secret is mounted (key `ssh-privatekey`, the
 *   key of `kubernetes.io/ssh-auth` Secrets).
 */
import type { KubernetesObject, V1ConfigMap, V1EnvVar, V1Job, V1Role, V1RoleBinding, V1Secret, V1ServiceAccount, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { ValidationError } from '../../errors.js';
import { renderKudInventory, type InventoryGroupStyle } from './inventory.js';
import { ADMIN_CONF_KEY, adminConfSecretName, BOOTSTRAP_LABEL_KEYS, bootstrapLabels, installerJobName } from './labels.js';
import type { BootstrapHost } from './hosts.js';
import type { BootstrapPlan } from './request.js';

export const INVENTORY_DIR = '/etc/kud/inventory';
export const INVENTORY_FILE = 'hosts.ini';
export const SSH_KEY_DIR = '/etc/kud/ssh';
export const SSH_KEY_FILE = 'ssh-privatekey';
const COMPONENT = 'kud-installer';
const THREE_HOURS_S = 3 * 3600;
const SEVEN_DAYS_S = 7 * 24 * 3600;

export interface KudInstallerOptions {
  /** Namespace of the bootstrap cluster the Job runs in. */
  namespace: string;
  image: string;
  /** The bootstrap job's id: labels every object and names the Job. */
  jobId: string;
  groupStyle?: InventoryGroupStyle;
  /** A scale-out: only these (new) worker nodes are installed (`--limit`). */
  scaleOut?: readonly string[];
  /** Secret (of `namespace`) holding the SSH private key under `ssh-privatekey`. */
  sshKeySecretName?: string;
  /** Kubernetes stops the Job after this long (default 3 h). */
  activeDeadlineSeconds?: number;
  /** Kubernetes deletes the finished Job (and its logs) after this long (default 7 days). */
  ttlSecondsAfterFinished?: number;
}

export interface KudInstallerNames {
  job: string;
  configMap: string;
  serviceAccount: string;
  adminConfSecret: string;
  /** Selects the installer's pods. */
  podSelector: string;
}

export interface KudInstaller {
  inventory: string;
  names: KudInstallerNames;
  serviceAccount: V1ServiceAccount;
  role: V1Role;
  roleBinding: V1RoleBinding;
  configMap: V1ConfigMap;
  job: V1Job;
  /** Apply order: access and inventory first, then the Job that uses them. */
  waves: KubernetesObject[][];
}

type PlanForKud = Pick<BootstrapPlan, 'name' | 'kubernetesVersion' | 'podSubnet' | 'serviceSubnet' | 'addons' | 'split'>;

export function renderKudInstaller(plan: PlanForKud, hosts: readonly BootstrapHost[], options: KudInstallerOptions): KudInstaller {
  const scaleOut = options.scaleOut ?? [];
  checkScaleOut(plan, scaleOut);
  const jobName = installerJobName(plan.name, options.jobId);
  const names: KudInstallerNames = {
    job: jobName,
    configMap: `${jobName}-inventory`,
    serviceAccount: jobName,
    adminConfSecret: adminConfSecretName(plan.name),
    podSelector: `${BOOTSTRAP_LABEL_KEYS.installerJob}=${jobName}`,
  };
  const labels = bootstrapLabels(plan.name, options.jobId, COMPONENT);
  const metadata = (name: string) => ({ name, namespace: options.namespace, labels: { ...labels } });
  const inventory = renderKudInventory(plan.split, hosts, {
    cluster: plan.name,
    ...(options.groupStyle !== undefined ? { groupStyle: options.groupStyle } : {}),
    ...(scaleOut.length > 0 ? { limit: scaleOut } : {}),
  });

  const serviceAccount: V1ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: metadata(names.serviceAccount) };
  // Secrets only, in its namespace only: the installer writes the admin.conf Secret, nothing else.
  const role: V1Role = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: metadata(names.serviceAccount),
    rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['create', 'get', 'patch', 'update'] }],
  };
  const roleBinding: V1RoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: metadata(names.serviceAccount),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: names.serviceAccount },
    subjects: [{ kind: 'ServiceAccount', name: names.serviceAccount, namespace: options.namespace }],
  };
  const configMap: V1ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata(names.configMap), data: { [INVENTORY_FILE]: inventory } };
  const job = renderJob(plan, options, names, labels, scaleOut);
  return { inventory, names, serviceAccount, role, roleBinding, configMap, job, waves: [[serviceAccount, role, roleBinding, configMap], [job]] };
}

function renderJob(plan: PlanForKud, options: KudInstallerOptions, names: KudInstallerNames, labels: Record<string, string>, scaleOut: readonly string[]): V1Job {
  const volumes: V1Volume[] = [{ name: 'inventory', configMap: { name: names.configMap } }];
  const mounts: V1VolumeMount[] = [{ name: 'inventory', mountPath: INVENTORY_DIR, readOnly: true }];
  if (options.sshKeySecretName !== undefined) {
    volumes.push({ name: 'ssh-key', secret: { secretName: options.sshKeySecretName, defaultMode: 0o400 } });
    mounts.push({ name: 'ssh-key', mountPath: SSH_KEY_DIR, readOnly: true });
  }
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: names.job, namespace: options.namespace, labels: { ...labels } },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: options.activeDeadlineSeconds ?? THREE_HOURS_S,
      ttlSecondsAfterFinished: options.ttlSecondsAfterFinished ?? SEVEN_DAYS_S,
      template: {
        metadata: { labels: { ...labels, [BOOTSTRAP_LABEL_KEYS.installerJob]: names.job } },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: names.serviceAccount,
          containers: [{
            name: 'kud',
            image: options.image,
            imagePullPolicy: 'IfNotPresent',
            env: installerEnv(plan, options, names, scaleOut),
            volumeMounts: mounts,
          }],
          volumes,
        },
      },
    },
  };
}

function installerEnv(plan: PlanForKud, options: KudInstallerOptions, names: KudInstallerNames, scaleOut: readonly string[]): V1EnvVar[] {
  return [
    { name: 'KUD_CLUSTER_NAME', value: plan.name },
    { name: 'KUD_ACTION', value: scaleOut.length > 0 ? 'scale' : 'install' },
    ...(scaleOut.length > 0 ? [{ name: 'KUD_LIMIT', value: scaleOut.join(',') }] : []),
    { name: 'KUD_INVENTORY', value: `${INVENTORY_DIR}/${INVENTORY_FILE}` },
    { name: 'KUBE_VERSION', value: plan.kubernetesVersion },
    { name: 'KUBE_PODS_SUBNET', value: plan.podSubnet },
    { name: 'KUBE_SERVICE_ADDRESSES', value: plan.serviceSubnet },
    { name: 'KUD_ADDONS', value: plan.addons.join(' ') },
    { name: 'KUD_ADMIN_CONF_SECRET', value: names.adminConfSecret },
    { name: 'KUD_ADMIN_CONF_KEY', value: ADMIN_CONF_KEY },
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    ...(options.sshKeySecretName !== undefined ? [{ name: 'ANSIBLE_PRIVATE_KEY_FILE', value: `${SSH_KEY_DIR}/${SSH_KEY_FILE}` }] : []),
  ];
}

/** Kubespray's scale.yml adds worker nodes; a control-plane change needs a new install. */
function checkScaleOut(plan: PlanForKud, scaleOut: readonly string[]): void {
  const problems = scaleOut
    .filter((name) => !plan.split.workers.includes(name))
    .map((name) => plan.split.controlPlane.includes(name)
      ? `scaleOut: ${name} is a control-plane node; scale-out adds workers only`
      : `scaleOut: ${name} is not a worker of cluster ${plan.name}`);
  if (problems.length > 0) throw new ValidationError(`The scale-out is invalid: ${problems.join('; ')}`, problems);
}

/** The Secret holding the installer's SSH private key; applied by the engine, never logged. */
export function renderSshKeySecret(plan: Pick<BootstrapPlan, 'name'>, options: Pick<KudInstallerOptions, 'namespace' | 'jobId'>, secretName: string, privateKey: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secretName, namespace: options.namespace, labels: bootstrapLabels(plan.name, options.jobId, COMPONENT) },
    type: 'kubernetes.io/ssh-auth',
    stringData: { [SSH_KEY_FILE]: privateKey },
  };
}
