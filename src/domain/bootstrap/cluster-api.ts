/**
 * The Cluster API objects of a cluster on Metal3-provisioned hosts: Cluster →
 * KubeadmControlPlane (control plane) + Metal3Cluster (infrastructure), and a MachineDeployment
 * for the workers, each pool with its Metal3MachineTemplate, the workers with a
 * KubeadmConfigTemplate. Pure. API groups: cluster.x-k8s.io/v1beta1,
 * controlplane.cluster.x-k8s.io/v1beta1, bootstrap.cluster.x-k8s.io/v1beta1,
 * infrastructure.cluster.x-k8s.io/v1beta1 (CAPM3).
 *
 * Metal3 picks BareMetalHosts for each pool by label (`hostSelector`): hosts of the control plane
 * must carry `slipway.io/cluster=<name>` and `slipway.io/cluster-role=control-plane`, workers
 * `…=worker`. Node names come from the host names (Metal3's default `local_hostname` metadata).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { isIP } from 'node:net';
import { ValidationError } from '../../errors.js';
import { bootstrapLabels, capiKubeconfigSecretName } from './labels.js';
import { checkKubernetesVersion, checkName, checkSubnets, type BootstrapPlan } from './request.js';

export const CAPI_API_VERSIONS = {
  cluster: 'cluster.x-k8s.io/v1beta1',
  controlPlane: 'controlplane.cluster.x-k8s.io/v1beta1',
  bootstrap: 'bootstrap.cluster.x-k8s.io/v1beta1',
  infrastructure: 'infrastructure.cluster.x-k8s.io/v1beta1',
} as const;

export const HOST_SELECTOR_KEYS = { cluster: 'slipway.io/cluster', role: 'slipway.io/cluster-role' } as const;
const CLUSTER_NAME_LABEL = 'cluster.x-k8s.io/cluster-name';
const CHECKSUM_LENGTHS = { md5: 32, sha256: 64, sha512: 128 } as const;
const IMAGE_FORMATS = ['raw', 'qcow2', 'vdi', 'vmdk', 'live-iso'] as const;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface ClusterApiImage {
  url: string;
  /** A hex digest, or the URL of a checksum file (Metal3 accepts both). */
  checksum: string;
  checksumType: keyof typeof CHECKSUM_LENGTHS;
  format?: (typeof IMAGE_FORMATS)[number];
}

export interface ClusterApiSpec {
  name: string;
  /** Namespace of the management cluster the objects (and the BareMetalHosts) live in. */
  namespace: string;
  kubernetesVersion: string;
  podSubnet: string;
  serviceSubnet: string;
  controlPlaneReplicas: number;
  workerReplicas: number;
  /** No worker: the control-plane nodes lose kubeadm's NoSchedule taint so workloads can run. */
  controlPlaneRunsWorkloads?: boolean;
  /** The API server address: the single control-plane host, or a virtual IP in front of three. */
  controlPlaneEndpoint: { host: string; port?: number };
  image: ClusterApiImage;
  sshAuthorizedKeys?: string[];
  /** The bootstrap job's id, for labels. */
  jobId?: string;
}

export type ClusterApiOptions = Pick<ClusterApiSpec, 'namespace' | 'controlPlaneEndpoint' | 'image' | 'sshAuthorizedKeys' | 'jobId'>;

export interface RenderedClusterApi {
  names: { cluster: string; controlPlane: string; controlPlaneTemplate: string; workerTemplate: string; workers: string; kubeconfigSecret: string };
  /** Every object, in apply order. */
  objects: KubernetesObject[];
  /** Templates first, then what uses them, the Cluster last. */
  waves: KubernetesObject[][];
}

/** The spec of a planned cluster: replicas from the split, the rest from the options. */
export function clusterApiSpecFromPlan(plan: Pick<BootstrapPlan, 'name' | 'kubernetesVersion' | 'podSubnet' | 'serviceSubnet' | 'split'>, options: ClusterApiOptions): ClusterApiSpec {
  return {
    name: plan.name,
    kubernetesVersion: plan.kubernetesVersion,
    podSubnet: plan.podSubnet,
    serviceSubnet: plan.serviceSubnet,
    controlPlaneReplicas: plan.split.controlPlane.length,
    workerReplicas: plan.split.workers.length,
    controlPlaneRunsWorkloads: plan.split.controlPlaneRunsWorkloads,
    ...options,
  };
}

/** Every problem of the spec, each naming its field. */
export function checkClusterApiSpec(spec: ClusterApiSpec): string[] {
  const problems = [...checkName(spec.name), ...checkKubernetesVersion(spec.kubernetesVersion), ...checkSubnets(spec, [])];
  if (!(spec.namespace.length <= 63 && NAMESPACE.test(spec.namespace))) problems.push(`namespace ${JSON.stringify(spec.namespace)} must be an RFC 1123 label`);
  if (!(Number.isInteger(spec.controlPlaneReplicas) && spec.controlPlaneReplicas >= 1 && spec.controlPlaneReplicas % 2 === 1)) {
    problems.push(`controlPlaneReplicas ${spec.controlPlaneReplicas} must be an odd number (1, 3, 5): etcd needs a majority`);
  }
  if (!(Number.isInteger(spec.workerReplicas) && spec.workerReplicas >= 0)) problems.push(`workerReplicas ${spec.workerReplicas} must be a whole number, 0 or more`);
  const { host, port } = spec.controlPlaneEndpoint;
  if (isIP(host) === 0 && !(host.length <= 253 && DNS_SUBDOMAIN.test(host))) problems.push(`controlPlaneEndpoint.host ${JSON.stringify(host)} must be an IP address or a DNS name`);
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) problems.push(`controlPlaneEndpoint.port ${port} must be between 1 and 65535`);
  problems.push(...checkImage(spec.image));
  return problems;
}

function checkImage(image: ClusterApiImage): string[] {
  const problems: string[] = [];
  if (!/^https?:\/\/\S+$/.test(image.url)) problems.push(`image.url ${JSON.stringify(image.url)} must be an http(s) URL`);
  const length = CHECKSUM_LENGTHS[image.checksumType];
  if (length === undefined) problems.push(`image.checksumType ${JSON.stringify(image.checksumType)} must be one of ${Object.keys(CHECKSUM_LENGTHS).join(', ')}`);
  else if (!/^https?:\/\/\S+$/.test(image.checksum) && !new RegExp(`^[0-9a-f]{${length}}$`).test(image.checksum)) {
    problems.push(`image.checksum must be a ${length}-character lower-case hex ${image.checksumType} digest or the URL of a checksum file`);
  }
  if (image.format !== undefined && !(IMAGE_FORMATS as readonly string[]).includes(image.format)) problems.push(`image.format ${JSON.stringify(image.format)} must be one of ${IMAGE_FORMATS.join(', ')}`);
  return problems;
}

export function renderClusterApi(spec: ClusterApiSpec): RenderedClusterApi {
  const problems = checkClusterApiSpec(spec);
  if (problems.length > 0) throw new ValidationError(`The Cluster API spec is invalid: ${problems.join('; ')}`, problems);
  const names = {
    cluster: spec.name,
    controlPlane: `${spec.name}-controlplane`,
    controlPlaneTemplate: `${spec.name}-controlplane`,
    workerTemplate: `${spec.name}-workers`,
    workers: `${spec.name}-workers`,
    kubeconfigSecret: capiKubeconfigSecretName(spec.name),
  };
  const labels = { [CLUSTER_NAME_LABEL]: spec.name, ...(spec.jobId !== undefined ? bootstrapLabels(spec.name, spec.jobId, 'cluster-api') : {}) };
  const metadata = (name: string) => ({ name, namespace: spec.namespace, labels: { ...labels } });
  const ref = (apiVersion: string, kind: string, name: string) => ({ apiVersion, kind, name, namespace: spec.namespace });

  const controlPlaneTemplate = machineTemplate(spec, metadata(names.controlPlaneTemplate), 'control-plane');
  const workerTemplate = machineTemplate(spec, metadata(names.workerTemplate), 'worker');
  const kubeadmConfigTemplate: KubernetesObject & { spec: unknown } = {
    apiVersion: CAPI_API_VERSIONS.bootstrap,
    kind: 'KubeadmConfigTemplate',
    metadata: metadata(names.workers),
    spec: { template: { spec: { joinConfiguration: { nodeRegistration: nodeRegistration() }, ...users(spec) } } },
  };
  const metal3Cluster: KubernetesObject & { spec: unknown } = {
    apiVersion: CAPI_API_VERSIONS.infrastructure,
    kind: 'Metal3Cluster',
    metadata: metadata(names.cluster),
    spec: { controlPlaneEndpoint: { host: spec.controlPlaneEndpoint.host, port: spec.controlPlaneEndpoint.port ?? 6443 }, noCloudProvider: true },
  };
  const kubeadmControlPlane: KubernetesObject & { spec: unknown } = {
    apiVersion: CAPI_API_VERSIONS.controlPlane,
    kind: 'KubeadmControlPlane',
    metadata: metadata(names.controlPlane),
    spec: {
      replicas: spec.controlPlaneReplicas,
      version: spec.kubernetesVersion,
      machineTemplate: { infrastructureRef: ref(CAPI_API_VERSIONS.infrastructure, 'Metal3MachineTemplate', names.controlPlaneTemplate) },
      kubeadmConfigSpec: {
        initConfiguration: { nodeRegistration: nodeRegistration(spec.controlPlaneRunsWorkloads === true) },
        joinConfiguration: { nodeRegistration: nodeRegistration(spec.controlPlaneRunsWorkloads === true) },
        ...users(spec),
      },
    },
  };
  const poolLabels = { [CLUSTER_NAME_LABEL]: spec.name };
  const machineDeployment: KubernetesObject & { spec: unknown } = {
    apiVersion: CAPI_API_VERSIONS.cluster,
    kind: 'MachineDeployment',
    metadata: metadata(names.workers),
    spec: {
      clusterName: spec.name,
      replicas: spec.workerReplicas,
      selector: { matchLabels: poolLabels },
      template: {
        metadata: { labels: poolLabels },
        spec: {
          clusterName: spec.name,
          version: spec.kubernetesVersion,
          bootstrap: { configRef: ref(CAPI_API_VERSIONS.bootstrap, 'KubeadmConfigTemplate', names.workers) },
          infrastructureRef: ref(CAPI_API_VERSIONS.infrastructure, 'Metal3MachineTemplate', names.workerTemplate),
        },
      },
    },
  };
  const cluster: KubernetesObject & { spec: unknown } = {
    apiVersion: CAPI_API_VERSIONS.cluster,
    kind: 'Cluster',
    metadata: metadata(names.cluster),
    spec: {
      clusterNetwork: { pods: { cidrBlocks: [spec.podSubnet] }, services: { cidrBlocks: [spec.serviceSubnet] }, serviceDomain: 'cluster.local' },
      controlPlaneRef: ref(CAPI_API_VERSIONS.controlPlane, 'KubeadmControlPlane', names.controlPlane),
      infrastructureRef: ref(CAPI_API_VERSIONS.infrastructure, 'Metal3Cluster', names.cluster),
    },
  };
  const waves = [[controlPlaneTemplate, workerTemplate, kubeadmConfigTemplate], [metal3Cluster, kubeadmControlPlane, machineDeployment], [cluster]];
  return { names, objects: waves.flat(), waves };
}

function machineTemplate(spec: ClusterApiSpec, metadata: KubernetesObject['metadata'], role: 'control-plane' | 'worker'): KubernetesObject & { spec: unknown } {
  return {
    apiVersion: CAPI_API_VERSIONS.infrastructure,
    kind: 'Metal3MachineTemplate',
    metadata,
    spec: {
      template: {
        spec: {
          image: { url: spec.image.url, checksum: spec.image.checksum, checksumType: spec.image.checksumType, format: spec.image.format ?? 'raw' },
          hostSelector: { matchLabels: { [HOST_SELECTOR_KEYS.cluster]: spec.name, [HOST_SELECTOR_KEYS.role]: role } },
          automatedCleaningMode: 'metadata',
        },
      },
    },
  };
}

/**
 * Node name = host name; the uuid label lets CAPM3 match node and host without a cloud provider.
 * `taints: []` replaces kubeadm's default control-plane taint (an absent list keeps it).
 */
function nodeRegistration(untainted = false): Record<string, unknown> {
  return {
    name: '{{ ds.meta_data.local_hostname }}',
    kubeletExtraArgs: { 'node-labels': 'metal3.io/uuid={{ ds.meta_data.uuid }}' },
    ...(untainted ? { taints: [] } : {}),
  };
}

function users(spec: ClusterApiSpec): Record<string, unknown> {
  const keys = spec.sshAuthorizedKeys ?? [];
  return keys.length > 0 ? { users: [{ name: 'slipway', sudo: 'ALL=(ALL) NOPASSWD:ALL', sshAuthorizedKeys: [...keys] }] } : {};
}
