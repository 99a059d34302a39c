import type { Config } from '../../config.js';
import type { Pool } from '../../adapters/db/pool.js';
import type { SecretBox } from '../../adapters/crypto/secret-box.js';
import type { SafeKubeconfig } from '../../domain/kubeconfig.js';
import type { SolutionSource } from '../../domain/solution.js';
import type { RenderedSolution } from '../../domain/manifests/render-solution.js';
import type { ClusterClient } from '../../adapters/kubernetes/cluster-client.js';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubernetesApplyError } from '../../adapters/kubernetes/errors.js';
import { describeObject, FIELD_MANAGER } from '../../adapters/kubernetes/apply.js';
import { waitForReady } from '../../adapters/kubernetes/wait-for-ready.js';
import type { OrchestratorClient } from '../../adapters/orchestrator/client.js';
import { startOrchestration } from '../../adapters/orchestrator/start-orchestration.js';
import { renderForConfig } from '../../services/manifests.js';
import { pruneSelector } from '../../domain/manifests/labels.js';
import { openDeploymentKubeconfig } from '../../services/deployments/service.js';
import { getDeployment, revisionLabelId, setApplied, setLiveState, setNamespaceCreated, setPreflight, updateDeployment } from '../../services/deployments/store.js';
import { preflightFor, preflightSummary, PreflightFailedError } from '../../services/deployments/preflight-deploy.js';
import type { DeployedService, DeploymentStatus } from '../../services/deployments/model.js';
import { AppError } from '../../errors.js';
import type { JobQueue } from '../queue.js';
import type { JobContext, JobHandler, JobOutcome } from '../runner.js';
import type { JobStatus } from '../model.js';
import { orchestratorAddress, pickNodeAddress } from './addresses.js';
import { deploymentFinished } from './deployment-finished.js';
import { recentWarnings } from './diagnosis.js';

export interface DeployDeps {
  config: Config;
  pool: Pool;
  queue: JobQueue;
  secretBox: SecretBox;
  solutionSource: SolutionSource;
  connectCluster: (kubeconfig: SafeKubeconfig) => ClusterClient;
  connectOrchestrator: (address: string) => OrchestratorClient;
}

export class DeploymentGoneError extends AppError {
  constructor(id: string) {
    super('deployment_not_found', 404, `Deployment ${id} no longer exists`);
  }
}

const DEPLOYMENT_STATUS: Record<JobStatus, DeploymentStatus> = {
  queued: 'queued',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  partially_failed: 'failed',
  cancelled: 'cancelled',
};

/**
 * Objects of one wave applied at once. A wave is at most one Service or Deployment per node, so
 * with this bound a 64-node pipeline applies each wave in a single round trip of latency.
 */
export const APPLY_CONCURRENCY = 64;


/** Loads the deployment and opens its kube config: shared by the deploy and undeploy jobs. */
export async function openDeployment(deps: Pick<DeployDeps, 'pool' | 'secretBox'>, ctx: JobContext) {
  const deploymentId = String(ctx.job.input.deploymentId ?? ctx.job.subjectId);
  const deployment = await getDeployment(deps.pool, deploymentId);
  const kubeconfig = await openDeploymentKubeconfig(deps, deploymentId);
  if (!deployment || !kubeconfig) throw new DeploymentGoneError(deploymentId);
  return { deploymentId, deployment, kubeconfig };
}

/**
 * The deploy job: fetch → render → apply in waves → wait until really running → prune what the
 * previous revision had and this one has not → start the orchestrator → list the services.
 * Every step is safe to run again (server-side apply; the orchestrator is initialised only when it
 * says `not initialized`), so a job resumed after a crash simply runs again.
 */
export function deployHandler(deps: DeployDeps): JobHandler {
  return {
    async run(ctx) {
      const { deploymentId, deployment, kubeconfig } = await openDeployment(deps, ctx);
      await updateDeployment(deps.pool, deploymentId, { status: 'running', error: null });
      // What a live watcher last saw no longer holds while the deploy runs again.
      await setLiveState(deps.pool, deploymentId, null);
      const cluster = deps.connectCluster(kubeconfig);
      // The TLS handshake happens while the solution is fetched and rendered.
      cluster.preconnect();
      const namespace = deployment.namespace;
      const labelId = await revisionLabelId(deps.pool, deploymentId);
      try {
        const solution = await ctx.step('fetch solution', () => deps.solutionSource.getSolution(deployment.solutionId, deployment.revisionId), (s) => `${s.name} (${s.kind})`);
        const rendered = await ctx.step('render manifests', async () => {
          const result = renderForConfig(solution, deps.config, namespace, labelId);
          await updateDeployment(deps.pool, deploymentId, { services: listServices(result, new Map(), undefined) });
          return result;
        }, (r) => `${r.objects.length} objects`);
        await ctx.step('preflight', async () => {
          const result = await preflightFor(cluster, deps.config, solution, rendered, labelId);
          await setPreflight(deps.pool, deploymentId, result);
          if (!result.passed) throw new PreflightFailedError(result);
          return result;
        }, (r) => preflightSummary(r));
        await ctx.step('apply', () => applyRendered(ctx, deps.pool, cluster, rendered, deploymentId), (r) => `${r.applied} objects in ${r.waves} waves`);
        await ctx.step(
          'wait for readiness',
          () =>
            waitForReady(cluster, namespace, expectedOf(rendered), {
              timeoutMs: deps.config.deployTimeoutMs,
              pollMs: 1000,
              signal: ctx.signal,
              onChange: (health) => void ctx.event('health', summarise(health), health),
            }),
          () => 'every Deployment available, Pods ready, volumes bound',
        );
        await ctx.step('prune', () => cluster.deleteByLabel(namespace, pruneSelector(labelId)), (n) =>
          n > 0 ? `${n} objects left over from the previous revision removed` : 'nothing left over',
        );
        const nodeAddress = await pickNodeAddress(cluster, kubeconfig.server);
        const nodePorts = await cluster.getServiceNodePorts(namespace);
        if (solution.kind === 'pipeline') {
          await ctx.step('start orchestrator', async () => {
            const client = deps.connectOrchestrator(orchestratorAddress(deps.config.orchestratorAddress, namespace, nodeAddress, nodePorts));
            try {
              return await startOrchestration(
                client,
                { blueprint: JSON.stringify(rendered.orchestratorBlueprint), dockerinfo: JSON.stringify(rendered.dockerinfo), protofiles: rendered.protos },
                (report) => void ctx.event('orchestrator', `${report.step}: ${report.status.message}`, report),
              );
            } finally {
              client.close();
            }
          }, (result) => result.action.replace('_', ' '));
        }
        const services = await ctx.step('collect services', async () => listServices(rendered, nodePorts, nodeAddress), (s) => `${s.length} services`);
        await updateDeployment(deps.pool, deploymentId, { services });
        return { status: 'succeeded', result: { services } } satisfies JobOutcome;
      } catch (error: unknown) {
        await afterFailure(ctx, deps, cluster, deployment.cleanupOnFailure, namespace, labelId, deploymentId);
        throw error;
      } finally {
        cluster.close();
      }
    },
    async finished(job, status, outcome) {
      await deploymentFinished(deps, job, DEPLOYMENT_STATUS[status], outcome.error ?? null);
    },
  };
}

/** Say why (the cluster's recent warnings), then either keep what was applied for diagnosis or remove it. */
async function afterFailure(ctx: JobContext, deps: DeployDeps, cluster: ClusterClient, cleanup: boolean, namespace: string, labelId: string, deploymentId: string): Promise<void> {
  try {
    const warnings = await recentWarnings(cluster, namespace);
    if (warnings.length > 0) await ctx.event('diagnosis', warnings.map((w) => `${w.object}: ${w.reason}: ${w.message}`).join('\n'), { warnings });
  } catch {
    // The diagnosis is a courtesy; the job's own error already says what failed.
  }
  if (!cleanup) {
    const kept = (await getDeployment(deps.pool, deploymentId))?.applied ?? [];
    if (kept.length > 0) await ctx.event('kept', `Kept for diagnosis: ${kept.join(', ')}`, { applied: kept });
    return;
  }
  // Only what this deploy labelled: a failed re-deploy of a standing revision removes nothing of it.
  const removed = labelId === deploymentId ? await cluster.deleteByLabel(namespace, `slipway.io/deployment-id=${deploymentId}`).catch(() => -1) : 0;
  await ctx.event('cleanup', removed >= 0 ? `Removed ${removed} objects this deployment applied` : 'Removing what this deployment applied failed; it is listed in `applied`');
  if (removed >= 0) await setApplied(deps.pool, deploymentId, []);
}

async function applyRendered(ctx: JobContext, pool: Pool, cluster: ClusterClient, rendered: RenderedSolution, deploymentId: string): Promise<{ applied: number; waves: number }> {
  const rest = [rendered.persistentVolumeClaims, rendered.services, rendered.deployments].filter((wave) => wave.length > 0);
  const applied: string[] = [];
  let marking: Promise<void> = Promise.resolve();
  const options = {
    fieldManager: FIELD_MANAGER,
    concurrency: APPLY_CONCURRENCY,
    signal: ctx.signal,
    onApplied: (object: KubernetesObject, result: { managers: readonly string[] }) => {
      applied.push(describeObject(object));
      // Slipway made the namespace (and undeploy removes it) when no other field manager has
      // ever touched it: one that existed before carries its creator's entry (kubectl-create, …).
      if (object.kind === 'Namespace' && result.managers.every((manager) => manager === FIELD_MANAGER)) {
        marking = setNamespaceCreated(pool, deploymentId);
      }
    },
  };
  try {
    const first = await applyNamespace(ctx, cluster, rendered, options);
    const result = await cluster.applyWaves(rest, options);
    // One event for the lot: an event per object would queue a hundred writes behind the apply.
    await ctx.event('applied', `${applied.length} objects applied`, { objects: applied });
    return { applied: first + result.applied, waves: rest.length + 1 };
  } finally {
    await marking;
    await setApplied(pool, deploymentId, applied);
  }
}

/**
 * The namespace first. A kube config allowed into its own namespace only (a RoleBinding there)
 * may not patch the Namespace object: when the API server forbids that but the namespace exists
 * and is Active, the deploy goes on in it — it is not Slipway's, so undeploy leaves it.
 */
async function applyNamespace(ctx: JobContext, cluster: ClusterClient, rendered: RenderedSolution, options: Parameters<ClusterClient['applyWaves']>[1]): Promise<number> {
  try {
    return (await cluster.applyWaves([[rendered.namespaceObject]], options)).applied;
  } catch (error: unknown) {
    if (!(error instanceof KubernetesApplyError) || error.httpStatus !== 403) throw error;
    const namespace = rendered.namespaceObject.metadata?.name ?? '';
    const phase = await cluster.namespacePhase(namespace).catch(() => undefined);
    if (phase !== 'active') throw error;
    await ctx.event('namespace', `Namespace ${namespace} exists and this kube config may not change it: deploying into it as it is`);
    return 0;
  }
}

function expectedOf(rendered: RenderedSolution) {
  return {
    deployments: rendered.deployments.map((d) => d.metadata?.name ?? ''),
    persistentVolumeClaims: rendered.persistentVolumeClaims.map((p) => p.metadata?.name ?? ''),
  };
}

function summarise(health: { ready: boolean; nodes: ReadonlyArray<{ name: string; status: string; reason?: string }> }): string {
  if (health.ready) return 'all ready';
  return health.nodes
    .filter((node) => node.status !== 'ready')
    .map((node) => `${node.name}: ${node.reason ?? node.status}`)
    .join('; ');
}

function listServices(rendered: RenderedSolution, nodePorts: Map<string, Record<string, number>>, nodeAddress: string | undefined): DeployedService[] {
  return rendered.nodes.map((node) => {
    const ports = nodePorts.get(node.kubeName) ?? {};
    const webui = ports.webui;
    const protobufApi = ports['protobuf-api'];
    return {
      name: node.containerName,
      kubeName: node.kubeName,
      role: node.role,
      image: node.image,
      nodePorts: { ...(protobufApi ? { protobufApi } : {}), ...(webui ? { webui } : {}) },
      ...(webui && nodeAddress ? { webUiUrl: `http://${nodeAddress.includes(':') ? `[${nodeAddress}]` : nodeAddress}:${webui}` } : {}),
    };
  });
}
