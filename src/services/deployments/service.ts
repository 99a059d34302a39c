import { randomUUID } from 'node:crypto';
import type { Config } from '../../config.js';
import type { Pool } from '../../adapters/db/pool.js';
import { inTransaction } from '../../adapters/db/pool.js';
import type { SecretBox } from '../../adapters/crypto/secret-box.js';
import type { Solution, SolutionSource } from '../../domain/solution.js';
import { parseKubeconfig, type SafeKubeconfig } from '../../domain/kubeconfig.js';
import { defaultNamespace, toKubeName } from '../../domain/names.js';
import { parseBlueprint } from '../../domain/blueprint.js';
import type { JobQueue } from '../../jobs/queue.js';
import { insertJob, listSteps } from '../../jobs/store.js';
import type { Principal } from '../../http/auth/jwt.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import type { Deployment, DeploymentView } from './model.js';
import { getDeployment, insertDeployment } from './store.js';

export const DEPLOY_STEPS = ['fetch solution', 'render manifests', 'apply', 'wait for readiness', 'start orchestrator', 'collect services'] as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface CreateDeploymentInput {
  solutionId: string;
  revisionId: string;
  namespace?: string;
  kubeconfig: string;
}

/** The context a sealed kube config is bound to: it opens only for this deployment's row. */
export function kubeconfigContext(deploymentId: string): string {
  return `deployment:${deploymentId}:kubeconfig`;
}

/**
 * Deploy requests: validate everything that can be checked without the cluster, store the
 * deployment and its job and enqueue the job in one transaction, answer at once.
 */
export class DeploymentService {
  constructor(
    private readonly deps: { config: Config; pool: Pool; queue: JobQueue; solutionSource: SolutionSource; secretBox: SecretBox },
  ) {}

  /** The namespace the form proposes: the reference's `<solution name>-<revisionId>`, made DNS-1123-valid. */
  async proposal(solutionId: string, revisionId: string): Promise<{ solution: Solution; namespace: string }> {
    const solution = await this.deps.solutionSource.getSolution(solutionId, revisionId);
    return { solution, namespace: defaultNamespace(solution.name, revisionId) };
  }

  async create(principal: Principal, input: CreateDeploymentInput): Promise<DeploymentView> {
    const namespace = input.namespace?.trim() || undefined;
    if (namespace !== undefined && (namespace.length > 63 || !DNS_LABEL.test(namespace))) {
      throw new ValidationError(
        `namespace "${namespace}" is not a valid Kubernetes namespace name (lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit); "${toKubeName(namespace)}" would be`,
        ['namespace: must be a DNS-1123 label'],
      );
    }
    const kubeconfig = parseKubeconfig(input.kubeconfig, { allowInsecure: this.deps.config.allowInsecureClusters });
    const solution = await this.deps.solutionSource.getSolution(input.solutionId, input.revisionId);
    if (solution.kind === 'pipeline') parseBlueprint(solution.blueprint);
    return this.enqueue(principal, solution, namespace ?? defaultNamespace(solution.name, solution.revisionId), kubeconfig);
  }

  private async enqueue(principal: Principal, solution: Solution, namespace: string, kubeconfig: SafeKubeconfig): Promise<DeploymentView> {
    const id = randomUUID();
    const { deployment, steps } = await inTransaction(this.deps.pool, async (tx) => {
      const job = await insertJob(tx, {
        kind: 'deploy',
        subjectType: 'deployment',
        subjectId: id,
        owner: principal.user,
        input: { deploymentId: id },
        steps: solution.kind === 'pipeline' ? DEPLOY_STEPS : DEPLOY_STEPS.filter((step) => step !== 'start orchestrator'),
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
      });
      const expireInSeconds = Math.ceil(this.deps.config.deployTimeoutMs / 1000) + 600;
      await this.deps.queue.enqueue(tx, 'deploy', job.id, { expireInSeconds });
      return { deployment: created, steps: await listSteps(tx, job.id) };
    });
    return { ...deployment, steps };
  }

  /** Only the owner or an admin may read a deployment; others get 404, not a hint that it exists. */
  async get(principal: Principal, id: string, isAdmin: boolean): Promise<DeploymentView> {
    const deployment = await getDeployment(this.deps.pool, id);
    if (!deployment || !canRead(principal, deployment, isAdmin)) throw new NotFoundError(`Deployment ${id} not found`, 'deployment_not_found');
    const steps = deployment.jobId ? await listSteps(this.deps.pool, deployment.jobId) : [];
    return { ...deployment, steps };
  }
}

export function canRead(principal: Principal, deployment: Deployment, isAdmin: boolean): boolean {
  return isAdmin || deployment.owner === principal.user;
}

