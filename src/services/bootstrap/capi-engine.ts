/**
 * The `cluster-api` engine: Cluster API + Metal3 objects applied to the management cluster, then
 * followed — `Cluster.status.phase` and its conditions — until the cluster is `Provisioned` with
 * `ControlPlaneReady`, and the workload cluster's kube config read from the Secret Cluster API
 * writes (`<cluster>-kubeconfig`, key `value`). The controllers do the work; Slipway applies,
 * watches and reports. Safe to run twice: server-side apply of the same objects changes nothing.
 */
import { FIELD_MANAGER } from '../../adapters/kubernetes/apply.js';
import { clusterApiSpecFromPlan, renderClusterApi, type ClusterApiOptions, type RenderedClusterApi } from '../../domain/bootstrap/cluster-api.js';
import { BootstrapFailedError } from '../../domain/bootstrap/errors.js';
import type { BootstrapHost } from '../../domain/bootstrap/hosts.js';
import { CAPI_API_VERSIONS } from '../../domain/bootstrap/cluster-api.js';
import { CAPI_KUBECONFIG_KEY } from '../../domain/bootstrap/labels.js';
import { assessCapiCluster, type CapiClusterState } from '../../domain/bootstrap/progress.js';
import { planBootstrap, type BootstrapPlan, type BootstrapRequest } from '../../domain/bootstrap/request.js';
import type { KubeconfigOptions, SafeKubeconfig } from '../../domain/kubeconfig.js';
import {
  kubeconfigTextOf,
  duration,
  parseNewClusterKubeconfig,
  pollInterval,
  readWhilePolling,
  waitForNextPoll,
  type BootstrapCluster,
  type BootstrapReporter,
  type PollSettings,
} from './shared.js';

export interface ClusterApiBootstrapSettings extends PollSettings {
  jobId: string;
  /** Namespace of the management cluster (where the BareMetalHosts are). */
  namespace: string;
  controlPlaneEndpoint: ClusterApiOptions['controlPlaneEndpoint'];
  image: ClusterApiOptions['image'];
  sshAuthorizedKeys?: string[];
  kubeconfig: KubeconfigOptions;
}

export interface ClusterApiBootstrapResult {
  plan: BootstrapPlan;
  kubeconfig: SafeKubeconfig;
  cluster: string;
}

export async function runClusterApiBootstrap(
  cluster: BootstrapCluster,
  request: BootstrapRequest,
  hosts: readonly BootstrapHost[],
  reporter: BootstrapReporter,
  settings: ClusterApiBootstrapSettings,
): Promise<ClusterApiBootstrapResult> {
  const { plan, rendered } = await reporter.step('plan cluster', async () => {
    const planned = planBootstrap(request, hosts);
    const objects = renderClusterApi(clusterApiSpecFromPlan(planned, {
      namespace: settings.namespace,
      controlPlaneEndpoint: settings.controlPlaneEndpoint,
      image: settings.image,
      jobId: settings.jobId,
      ...(settings.sshAuthorizedKeys !== undefined ? { sshAuthorizedKeys: settings.sshAuthorizedKeys } : {}),
    }));
    if (planned.addons.length > 0) planned.notes.push(`add-ons (${planned.addons.join(', ')}) are not installed by the cluster-api engine; install them once the cluster is up`);
    await reporter.event('bootstrap.plan', planned.notes.join('\n'), { controlPlane: planned.split.controlPlane, workers: planned.split.workers });
    return { plan: planned, rendered: objects };
  }, ({ plan: p }) => `${p.split.controlPlane.length} control-plane and ${p.split.workers.length} worker machine(s)`);

  await reporter.step('apply cluster objects', () =>
    cluster.applyWaves(rendered.waves, { fieldManager: FIELD_MANAGER, concurrency: 4, signal: reporter.signal }),
  (result) => `${result.applied} objects`);
  await reporter.step('wait for cluster', () => followCluster(cluster, rendered, settings, reporter), () => 'Provisioned, control plane ready');
  const kubeconfig = await reporter.step('read kube config', () => waitForKubeconfig(cluster, rendered, settings, reporter), (k) => `API server ${k.server}`);
  return { plan, kubeconfig, cluster: rendered.names.cluster };
}

async function followCluster(cluster: BootstrapCluster, rendered: RenderedClusterApi, settings: ClusterApiBootstrapSettings, reporter: BootstrapReporter): Promise<void> {
  const deadline = Date.now() + settings.timeoutMs;
  const ref = { apiVersion: CAPI_API_VERSIONS.cluster, kind: 'Cluster', namespace: settings.namespace, name: rendered.names.cluster };
  let last = '';
  let state: CapiClusterState | undefined;
  for (;;) {
    reporter.signal.throwIfAborted();
    const read = await readWhilePolling(cluster, ref);
    if (read.kind === 'absent') throw new BootstrapFailedError('cluster_deleted', `Cluster ${settings.namespace}/${ref.name} was deleted while it was being provisioned`);
    if (read.kind === 'found') {
      state = assessCapiCluster(read.object);
      const summary = describe(state);
      if (summary !== last) {
        last = summary;
        await reporter.event('bootstrap.cluster', `Cluster ${ref.name}: ${summary}`, state);
      }
      if (state.state === 'ready') return;
      if (state.state === 'failed') throw new BootstrapFailedError('cluster_failed', `Cluster API reports cluster ${ref.name} as failed: ${state.message}`, { phase: state.phase });
      if (state.state === 'deleting') throw new BootstrapFailedError('cluster_deleted', `Cluster ${ref.name} is being deleted`, { phase: state.phase });
    }
    if (!(await waitForNextPoll(deadline, pollInterval(settings), reporter.signal))) {
      const waiting = state?.state === 'provisioning' ? `; still waiting for ${state.waitingFor.join(', ')}` : '';
      throw new BootstrapFailedError('timeout', `Cluster ${ref.name} was not ready within ${duration(settings.timeoutMs)}${waiting}`, { phase: state?.phase });
    }
  }
}

function describe(state: CapiClusterState): string {
  switch (state.state) {
    case 'provisioning': return `${state.phase}; waiting for ${state.waitingFor.join(', ')}`;
    case 'ready': return `${state.phase}, control plane ready`;
    case 'failed': return `${state.phase}: ${state.message}`;
    case 'deleting': return state.phase;
  }
}

/** Cluster API writes the Secret as the control plane initialises; it may trail the status a little. */
const KUBECONFIG_GRACE_MS = 5 * 60_000;

async function waitForKubeconfig(cluster: BootstrapCluster, rendered: RenderedClusterApi, settings: ClusterApiBootstrapSettings, reporter: BootstrapReporter): Promise<SafeKubeconfig> {
  const where = { namespace: settings.namespace, name: rendered.names.kubeconfigSecret, key: CAPI_KUBECONFIG_KEY };
  const graceMs = Math.min(settings.timeoutMs, KUBECONFIG_GRACE_MS);
  const deadline = Date.now() + graceMs;
  for (;;) {
    const read = await readWhilePolling(cluster, { apiVersion: 'v1', kind: 'Secret', namespace: where.namespace, name: where.name });
    const text = read.kind === 'found' ? kubeconfigTextOf(read.object, where.key) : undefined;
    if (text !== undefined) return parseNewClusterKubeconfig(text, where, settings.kubeconfig);
    if (!(await waitForNextPoll(deadline, pollInterval(settings), reporter.signal))) {
      throw new BootstrapFailedError('kubeconfig_missing', `Cluster ${rendered.names.cluster} is ready but Secret ${where.namespace}/${where.name} (key ${where.key}) did not appear within ${duration(graceMs)}`, { secret: `${where.namespace}/${where.name}` });
    }
  }
}
