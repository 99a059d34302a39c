import { randomUUID } from 'node:crypto';
import type { Config } from '../../config.js';
import type { Pool, Queryable } from '../../adapters/db/pool.js';
import { inTransaction } from '../../adapters/db/pool.js';
import type { SecretBox } from '../../adapters/crypto/secret-box.js';
import type { Solution, SolutionSource } from '../../domain/solution.js';
import { parseKubeconfig, type SafeKubeconfig } from '../../domain/kubeconfig.js';
import { defaultNamespace, toKubeName } from '../../domain/names.js';
import { parseBlueprint } from '../../domain/blueprint.js';
import type { JobQueue } from '../../jobs/queue.js';
import { insertJob, listSteps } from '../../jobs/store.js';
import type { Principal } from '../../http/auth/jwt.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { recordAudit } from '../audit.js';
import { ClusterService } from '../clusters/service.js';
import { checkCallbackUrl } from '../notifications.js';
import type { Deployment, DeploymentView } from './model.js';
import type { ClusterClient } from '../../adapters/kubernetes/cluster-client.js';
import { renderForConfig } from '../manifests.js';
import type { PreflightResult } from './preflight.js';
import { preflightFor } from './preflight-deploy.js';
import { getSealedKubeconfig, standingRevisionId, busyDeploymentOf, deployedSolutions, getDeployment, historyOf, insertDeployment, listDeployments, TargetBusyError, targetKey, targetKeyOf } from './store.js';

/**
 * The deploy job's steps. Leftovers of the previous revision are pruned only once the new one is
 * ready, so a failed update leaves the old pipeline's objects in place next to the new ones.
 */
export const DEPLOY_STEPS = ['fetch solution', 'render manifests', 'preflight', 'apply', 'wait for readiness', 'prune', 'start orchestrator', 'collect services'] as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface CreateDeploymentInput {
  solutionId: string;
  revisionId: string;
  namespace?: string;
  /** Exactly one of `kubeconfig` and `clusterId` (a registered cluster's kube config). */
  kubeconfig?: string;
  clusterId?: string;
  callbackUrl?: string;
  cleanup?: boolean;
  /** Set when a parent job (a site rollout) asked for this deploy. */
  parentId?: string;
}

export interface DeploymentServiceDeps {
  config: Config;
  pool: Pool;
  queue: JobQueue;
  solutionSource: SolutionSource;
  secretBox: SecretBox;
  /** For dry runs (`check`): how to reach a cluster. */
  connectCluster?: (kubeconfig: SafeKubeconfig) => ClusterClient;
}

/** The context a sealed kube config is bound to: it opens only for this deployment's row. */
export function kubeconfigContext(deploymentId: string): string {
  return `deployment:${deploymentId}:kubeconfig`;
}

/** The deployment's kube config, opened; undefined when the row or its sealed kube config is gone. */
export async function openDeploymentKubeconfig(deps: { pool: Pool; secretBox: SecretBox }, deploymentId: string): Promise<SafeKubeconfig | undefined> {
  const sealed = await getSealedKubeconfig(deps.pool, deploymentId);
  return sealed === undefined ? undefined : (JSON.parse(deps.secretBox.open(sealed, kubeconfigContext(deploymentId))) as SafeKubeconfig);
}

/** What a new deploy job needs, whether asked for by a user or by a rollback. */
export interface DeployRequest {
  solution: Solution;
  namespace: string;
  kubeconfig: SafeKubeconfig;
  callbackUrl?: string;
  cleanup?: boolean;
  rollbackOf?: string;
  parentId?: string;
  action: 'deploy' | 'rollback';
}

/**
 * Deploy requests: validate everything that can be checked without the cluster, store the
 * deployment and its job and enqueue the job in one transaction, answer at once.
 */
export class DeploymentService {
  private readonly clusters: ClusterService;

  constructor(private readonly deps: DeploymentServiceDeps) {
    this.clusters = new ClusterService(deps);
  }

  /** The namespace the form proposes: the reference's `<solution name>-<revisionId>`, made DNS-1123-valid. */
  async proposal(solutionId: string, revisionId: string): Promise<{ solution: Solution; namespace: string }> {
    const solution = await this.deps.solutionSource.getSolution(solutionId, revisionId);
    return { solution, namespace: defaultNamespace(solution.name, revisionId) };
  }

  async create(principal: Principal, input: CreateDeploymentInput, isAdmin = false): Promise<DeploymentView> {
    return this.enqueue(principal, await this.resolve(principal, input, isAdmin));
  }

  /**
   * The dry run: the same request checked against the cluster as the deploy's preflight would
   * (permissions, namespace, storage, pull secret, quota, a server-side dry run of every object,
   * the protos) with the plan of what the apply would do. Writes nothing, here or there.
   */
  async check(principal: Principal, input: CreateDeploymentInput, isAdmin = false): Promise<PreflightResult> {
    const request = await this.resolve(principal, input, isAdmin);
    if (!this.deps.connectCluster) throw new Error('DeploymentService.check needs connectCluster');
    const labelId = (await standingRevisionId(this.deps.pool, { targetKey: targetKey(request.kubeconfig.server, request.namespace), solutionId: request.solution.solutionId, revisionId: request.solution.revisionId })) ?? randomUUID();
    const rendered = renderForConfig(request.solution, this.deps.config, request.namespace, labelId);
    const cluster = this.deps.connectCluster(request.kubeconfig);
    try {
      return await preflightFor(cluster, this.deps.config, request.solution, rendered, labelId);
    } finally {
      cluster.close();
    }
  }

  /** Everything about a deploy request that can be checked without the cluster. */
  private async resolve(principal: Principal, input: CreateDeploymentInput, isAdmin: boolean): Promise<DeployRequest> {
    const namespace = input.namespace?.trim() || undefined;
    const problems: string[] = [];
    const hasKubeconfig = input.kubeconfig !== undefined && input.kubeconfig.trim() !== '';
    const hasCluster = input.clusterId !== undefined && input.clusterId.trim() !== '';
    if (hasKubeconfig === hasCluster) {
      problems.push(hasKubeconfig
        ? 'kubeconfig, clusterId: give exactly one of them, not both (a kube config, or the id of a registered cluster)'
        : 'kubeconfig, clusterId: give exactly one of them (a kube config, or the id of a registered cluster)');
    }
    if (namespace !== undefined && (namespace.length > 63 || !DNS_LABEL.test(namespace))) {
      problems.push(`namespace: "${namespace}" is not a valid Kubernetes namespace name (lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit); "${toKubeName(namespace)}" would be`);
    }
    if (input.callbackUrl !== undefined && !this.deps.config.callbackSecret) {
      problems.push('callbackUrl: this service has no CALLBACK_SECRET to sign callbacks with, so it does not send them');
    } else if (input.callbackUrl !== undefined) {
      const problem = checkCallbackUrl(input.callbackUrl, this.deps.config.allowPrivateCallbacks);
      if (problem) problems.push(`callbackUrl: ${problem}`);
    }
    if (problems.length > 0) throw new ValidationError(`The deploy request is invalid: ${problems.join('; ')}`, problems);
    const kubeconfig = hasCluster
      ? (await this.clusters.kubeconfigFor(principal, input.clusterId ?? '', isAdmin)).kubeconfig
      : parseKubeconfig(input.kubeconfig ?? '', { allowInsecure: this.deps.config.allowInsecureClusters });
    const solution = await this.deps.solutionSource.getSolution(input.solutionId, input.revisionId);
    if (solution.kind === 'pipeline') parseBlueprint(solution.blueprint);
    return {
      solution,
      namespace: namespace ?? defaultNamespace(solution.name, solution.revisionId),
      kubeconfig,
      ...(input.callbackUrl ? { callbackUrl: input.callbackUrl } : {}),
      ...(input.cleanup ? { cleanup: true } : {}),
      ...(input.parentId ? { parentId: input.parentId } : {}),
      action: 'deploy',
    };
  }

  /** Store a deployment and its job, enqueue the job, audit it: all in one transaction. */
  async enqueue(principal: Principal, request: DeployRequest): Promise<DeploymentView> {
    const { solution, namespace, kubeconfig } = request;
    const id = randomUUID();
    try {
      const { deployment, steps } = await inTransaction(this.deps.pool, async (tx) => {
        const job = await insertJob(tx, {
          kind: 'deploy',
          subjectType: 'deployment',
          subjectId: id,
          owner: principal.user,
          input: { deploymentId: id },
          steps: solution.kind === 'pipeline' ? DEPLOY_STEPS : DEPLOY_STEPS.filter((step) => step !== 'start orchestrator'),
          ...(request.parentId ? { parentId: request.parentId } : {}),
        });
        const created = await insertDeployment(tx, {
          id,
          owner: principal.user,
          solutionId: solution.solutionId,
          revisionId: solution.revisionId,
          solutionName: solution.name,
          solutionKind: solution.kind,
          namespace,
          clusterServer: kubeconfig.server,
          sealedKubeconfig: this.deps.secretBox.seal(JSON.stringify(kubeconfig), kubeconfigContext(id)),
          jobId: job.id,
          ...(request.callbackUrl ? { callbackUrl: request.callbackUrl } : {}),
          ...(request.cleanup ? { cleanupOnFailure: true } : {}),
          ...(request.rollbackOf ? { rollbackOf: request.rollbackOf } : {}),
        });
        const expireInSeconds = Math.ceil(this.deps.config.deployTimeoutMs / 1000) + 600;
        await this.deps.queue.enqueue(tx, 'deploy', job.id, { expireInSeconds });
        await recordAudit(tx, {
          actor: principal.user,
          action: request.action,
          subjectType: 'deployment',
          subjectId: id,
          clusterServer: kubeconfig.server,
          namespace,
          result: 'accepted',
          detail: { solutionId: solution.solutionId, revisionId: solution.revisionId, ...(request.rollbackOf ? { rollbackOf: request.rollbackOf } : {}) },
        });
        return { deployment: created, steps: await listSteps(tx, job.id) };
      });
      this.deps.queue.wake('deploy');
      return { ...deployment, steps };
    } catch (error: unknown) {
      if (error instanceof TargetBusyError) throw await this.busyError(targetKey(kubeconfig.server, namespace));
      throw error;
    }
  }

  /** 409 naming the deployment that holds the cluster and namespace. */
  async busyError(key: string): Promise<ConflictError> {
    const busy = await busyDeploymentOf(this.deps.pool, key);
    const [server, namespace] = key.split(' ');
    return new ConflictError(
      `Namespace ${namespace ?? ''} on ${server ?? ''} is busy: deployment ${busy?.id ?? '(unknown)'} is ${busy?.status ?? 'in progress'}; wait for it or cancel it`,
      'target_busy',
      { deploymentId: busy?.id ?? null },
    );
  }

  /** Only the owner or an admin may read a deployment; others get 404, not a hint that it exists. */
  async get(principal: Principal, id: string, isAdmin: boolean): Promise<DeploymentView> {
    return this.view(this.deps.pool, await this.authorised(principal, id, isAdmin));
  }

  async authorised(principal: Principal, id: string, isAdmin: boolean): Promise<Deployment> {
    const deployment = await getDeployment(this.deps.pool, id);
    if (!deployment || !(isAdmin || deployment.owner === principal.user)) throw new NotFoundError(`Deployment ${id} not found`, 'deployment_not_found');
    return deployment;
  }

  async view(db: Queryable, deployment: Deployment): Promise<DeploymentView> {
    const steps = deployment.jobId ? await listSteps(db, deployment.jobId) : [];
    return { ...deployment, steps };
  }

  /** The caller's deployments (an admin's: everyone's), newest first, with a cursor to continue. */
  async list(
    principal: Principal,
    isAdmin: boolean,
    query: { solutionId?: string; status?: string; namespace?: string; limit?: number; cursor?: string },
  ): Promise<{ items: Deployment[]; nextCursor: string | null }> {
    const limit = query.limit ?? 50;
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const items = await listDeployments(this.deps.pool, {
      ...(isAdmin ? {} : { owner: principal.user }),
      ...(query.solutionId ? { solutionId: query.solutionId } : {}),
      ...(query.status ? { status: query.status } : {}),
      ...(query.namespace ? { namespace: query.namespace } : {}),
      ...(after ? { after } : {}),
      limit: limit + 1,
    });
    const page = items.slice(0, limit);
    const last = page.at(-1);
    return { items: page, nextCursor: items.length > limit && last ? encodeCursor(last) : null };
  }

  /** The solutions the caller (an admin: anyone) has deployed, for filters. */
  async deployedSolutions(principal: Principal, isAdmin: boolean): Promise<Array<{ solutionId: string; name: string | null }>> {
    return deployedSolutions(this.deps.pool, isAdmin ? undefined : principal.user);
  }

  /** The namespace's revision history: every deployment to the same cluster and namespace. */
  async history(principal: Principal, id: string, isAdmin: boolean): Promise<Deployment[]> {
    await this.authorised(principal, id, isAdmin);
    const key = await targetKeyOf(this.deps.pool, id);
    const all = key ? await historyOf(this.deps.pool, key) : [];
    return all.filter((d) => isAdmin || d.owner === principal.user);
  }
}

function encodeCursor(d: Deployment): string {
  return Buffer.from(JSON.stringify([d.createdAt, d.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'string' && !Number.isNaN(Date.parse(value[0])) && /^[0-9a-f-]{36}$/.test(value[1])) {
      return { createdAt: value[0], id: value[1] };
    }
  } catch {
    // fall through
  }
  throw new ValidationError('cursor: not a cursor this service returned; pass nextCursor from the previous page', ['cursor: invalid']);
}
