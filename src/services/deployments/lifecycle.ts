import { inTransaction } from '../../adapters/db/pool.js';
import type { ClusterClient, PodLogs } from '../../adapters/kubernetes/cluster-client.js';
import type { SafeKubeconfig } from '../../domain/kubeconfig.js';
import { parseBlueprint } from '../../domain/blueprint.js';
import type { Principal } from '../../http/auth/jwt.js';
import { cancelQueuedJob, insertJob, requestCancel } from '../../jobs/store.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { recordAudit } from '../audit.js';
import type { Deployment, DeploymentView } from './model.js';
import { DEPLOY_STEPS, openDeploymentKubeconfig, type DeploymentService, type DeploymentServiceDeps } from './service.js';
import { historyOf, liveDeploymentIds, TargetBusyError, targetKey, updateDeployment } from './store.js';

export const UNDEPLOY_STEPS = ['delete objects', 'delete namespace', 'wait until gone'] as const;
const FINAL = ['succeeded', 'failed', 'cancelled', 'deleted'];

/**
 * What happens to a deployment after it was asked for: undeploy, rollback, cancel, logs.
 * Each records an audit entry; the long ones are jobs on the same queue as deploys.
 */
export class DeploymentLifecycle {
  constructor(
    private readonly deps: DeploymentServiceDeps & { connectCluster: (kubeconfig: SafeKubeconfig) => ClusterClient },
    private readonly deployments: DeploymentService,
  ) {}

  /** Remove what Slipway applied to this deployment's namespace (and the namespace when Slipway made it). */
  async undeploy(principal: Principal, id: string, isAdmin: boolean): Promise<DeploymentView> {
    const deployment = await this.deployments.authorised(principal, id, isAdmin);
    if (deployment.status === 'deleted' || deployment.status === 'deleting') return this.deployments.view(this.deps.pool, deployment);
    const key = targetKey(deployment.clusterServer ?? '', deployment.namespace);
    try {
      const view = await inTransaction(this.deps.pool, async (tx) => {
        const job = await insertJob(tx, { kind: 'undeploy', subjectType: 'deployment', subjectId: id, owner: principal.user, input: { deploymentId: id }, steps: UNDEPLOY_STEPS });
        await updateDeployment(tx, id, { status: 'deleting', jobId: job.id, error: null });
        await this.deps.queue.enqueue(tx, 'undeploy', job.id, { expireInSeconds: 1800 });
        await recordAudit(tx, { actor: principal.user, action: 'undeploy', subjectType: 'deployment', subjectId: id, clusterServer: deployment.clusterServer, namespace: deployment.namespace, result: 'accepted' });
        const updated = { ...deployment, status: 'deleting' as const, jobId: job.id, error: null };
        return this.deployments.view(tx, updated);
      });
      this.deps.queue.wake('undeploy');
      return view;
    } catch (error: unknown) {
      if (isBusy(error)) throw await this.deployments.busyError(key);
      throw error;
    }
  }

  /**
   * Apply the recorded revision again, as a new deploy job of this same deployment: what drifted
   * (an object deleted or changed by hand) is put back; what did not is left as it is (server-side
   * apply of the same objects changes nothing). Only a live deployment can be synced.
   */
  async sync(principal: Principal, id: string, isAdmin: boolean): Promise<DeploymentView> {
    const deployment = await this.deployments.authorised(principal, id, isAdmin);
    if (deployment.status !== 'succeeded' || !(await liveDeploymentIds(this.deps.pool)).includes(id)) {
      throw new ConflictError(`Deployment ${id} is ${deployment.status === 'succeeded' ? 'no longer the one live in its namespace' : deployment.status}: only the live deployment of a namespace can be synced`, 'deployment_not_live');
    }
    const key = targetKey(deployment.clusterServer ?? '', deployment.namespace);
    try {
      const view = await inTransaction(this.deps.pool, async (tx) => {
        const steps = deployment.solutionKind === 'pipeline' ? DEPLOY_STEPS : DEPLOY_STEPS.filter((step) => step !== 'start orchestrator');
        const job = await insertJob(tx, { kind: 'deploy', subjectType: 'deployment', subjectId: id, owner: principal.user, input: { deploymentId: id }, steps });
        await updateDeployment(tx, id, { status: 'queued', jobId: job.id, error: null });
        await this.deps.queue.enqueue(tx, 'deploy', job.id, { expireInSeconds: Math.ceil(this.deps.config.deployTimeoutMs / 1000) + 600 });
        await recordAudit(tx, { actor: principal.user, action: 'sync', subjectType: 'deployment', subjectId: id, clusterServer: deployment.clusterServer, namespace: deployment.namespace, result: 'accepted' });
        return this.deployments.view(tx, { ...deployment, status: 'queued' as const, jobId: job.id, error: null });
      });
      this.deps.queue.wake('deploy');
      return view;
    } catch (error: unknown) {
      if (isBusy(error)) throw await this.deployments.busyError(key);
      throw error;
    }
  }

  /**
   * Deploy an earlier revision of this namespace again: the deployment `toDeploymentId` names, or
   * the latest succeeded deployment of Graphene revision `revisionId`, or by default the latest
   * succeeded deployment of another revision than the current one.
   */
  async rollback(principal: Principal, id: string, isAdmin: boolean, to: RollbackTarget = {}): Promise<DeploymentView> {
    const current = await this.deployments.authorised(principal, id, isAdmin);
    const history = await historyOf(this.deps.pool, targetKey(current.clusterServer ?? '', current.namespace));
    const target = rollbackTarget(history, current.namespace, to);
    const solution = await this.deps.solutionSource.getSolution(target.solutionId, target.revisionId);
    if (solution.kind === 'pipeline') parseBlueprint(solution.blueprint);
    const kubeconfig = await this.kubeconfigOf(current);
    return this.deployments.enqueue(principal, {
      solution,
      namespace: current.namespace,
      kubeconfig,
      ...(current.callbackUrl ? { callbackUrl: current.callbackUrl } : {}),
      rollbackOf: current.id,
      action: 'rollback',
    });
  }

  /** Stop a queued or running job at its next step boundary (a wait in progress stops at once). */
  async cancel(principal: Principal, id: string, isAdmin: boolean): Promise<DeploymentView> {
    const deployment = await this.deployments.authorised(principal, id, isAdmin);
    if (FINAL.includes(deployment.status) || !deployment.jobId) {
      throw new ConflictError(`Deployment ${id} is already ${deployment.status}; there is nothing to cancel`, 'not_cancellable');
    }
    const jobId = deployment.jobId;
    await inTransaction(this.deps.pool, async (tx) => {
      const queued = await cancelQueuedJob(tx, jobId);
      if (queued) await updateDeployment(tx, id, { status: deployment.status === 'deleting' ? 'failed' : 'cancelled', error: { code: 'job_cancelled', message: 'Cancelled before it started' } });
      else await requestCancel(tx, jobId);
      await recordAudit(tx, { actor: principal.user, action: 'cancel', subjectType: 'deployment', subjectId: id, clusterServer: deployment.clusterServer, namespace: deployment.namespace, result: queued ? 'cancelled' : 'requested' });
    });
    return this.deployments.get(principal, id, isAdmin);
  }

  /** The last `tail` log lines of one node's pods, read from the cluster now. */
  async logs(principal: Principal, id: string, isAdmin: boolean, node: string, tail: number): Promise<{ node: string; pods: PodLogs[] }> {
    const deployment = await this.deployments.authorised(principal, id, isAdmin);
    const service = deployment.services.find((s) => s.name === node || s.kubeName === node);
    if (!service) {
      const known = deployment.services.map((s) => s.name).join(', ') || 'none yet';
      throw new NotFoundError(`Deployment ${id} has no node "${node}" (nodes: ${known})`, 'node_not_found');
    }
    const cluster = this.deps.connectCluster(await this.kubeconfigOf(deployment));
    try {
      return { node: service.name, pods: await cluster.readLogs(deployment.namespace, `app=${service.kubeName}`, tail) };
    } finally {
      cluster.close();
    }
  }

  /** Read-only uses of the kube config (logs, rollback) open it here; it is never returned. */
  private async kubeconfigOf(deployment: Deployment): Promise<SafeKubeconfig> {
    const kubeconfig = await openDeploymentKubeconfig(this.deps, deployment.id);
    if (!kubeconfig) throw new ConflictError(`Deployment ${deployment.id} has no stored kube config`, 'kubeconfig_missing');
    return kubeconfig;
  }
}

export interface RollbackTarget {
  revisionId?: string;
  toDeploymentId?: string;
}

/** Which deployment of the namespace's history (newest first) a rollback deploys again. */
export function rollbackTarget(history: readonly Deployment[], namespace: string, to: RollbackTarget): Deployment {
  if (to.revisionId !== undefined && to.toDeploymentId !== undefined) {
    throw new ValidationError('revisionId, toDeploymentId: give at most one of them (the revision to go back to, or the deployment)', ['revisionId, toDeploymentId: both given']);
  }
  if (to.toDeploymentId !== undefined) {
    const found = history.find((d) => d.id === to.toDeploymentId);
    if (!found) throw new ValidationError(`toDeploymentId: ${to.toDeploymentId} is not a deployment of namespace ${namespace} on this cluster`, ["toDeploymentId: not in this namespace's history"]);
    return found;
  }
  if (to.revisionId !== undefined) {
    const found = history.find((d) => d.status === 'succeeded' && d.revisionId === to.revisionId);
    if (found) return found;
    const revisions = [...new Set(history.filter((d) => d.status === 'succeeded').map((d) => d.revisionId))];
    throw new ValidationError(
      `revisionId: revision ${to.revisionId} never succeeded in namespace ${namespace} on this cluster (succeeded revisions: ${revisions.join(', ') || 'none'})`,
      ['revisionId: no succeeded deployment of it in this namespace'],
    );
  }
  const found = history.find((d) => d.status === 'succeeded' && d.revisionId !== history[0]?.revisionId);
  if (!found) throw new ConflictError(`Namespace ${namespace} has no earlier succeeded revision to roll back to`, 'nothing_to_roll_back_to');
  return found;
}

function isBusy(error: unknown): boolean {
  if (error instanceof TargetBusyError) return true;
  return typeof error === 'object' && error !== null && 'constraint' in error && error.constraint === 'deployments_one_busy_per_target';
}
