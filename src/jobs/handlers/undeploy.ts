import type { ClusterClient } from '../../adapters/kubernetes/cluster-client.js';
import type { JobHandler } from '../runner.js';
import { AppError } from '../../errors.js';
import { getDeployment, markTargetDeleted, namespaceCreatedFor, setApplied, targetKey } from '../../services/deployments/store.js';
import type { DeployDeps } from './deploy.js';
import { openDeployment } from './deploy.js';
import { deploymentFinished } from './deployment-finished.js';

const MANAGED = 'app.kubernetes.io/managed-by=slipway';

class UndeployTimeoutError extends AppError {
  constructor(left: string[]) {
    super('undeploy_incomplete', 504, `Objects still present after deleting: ${left.join(', ')}`);
  }
}

/**
 * The undeploy job: delete every object Slipway manages in the namespace (by its ownership
 * label), the namespace itself when Slipway created it, and wait until they are gone.
 * Idempotent: already deleted counts as done.
 */
export function undeployHandler(deps: Omit<DeployDeps, 'connectOrchestrator' | 'solutionSource'>): JobHandler {
  return {
    async run(ctx) {
      const { deploymentId, deployment, kubeconfig } = await openDeployment(deps, ctx);
      const namespace = deployment.namespace;
      const cluster = deps.connectCluster(kubeconfig);
      try {
        await ctx.step('delete objects', () => cluster.deleteByLabel(namespace, MANAGED), (n) => `${n} objects deleted`);
        const ownsNamespace = await namespaceCreatedFor(deps.pool, targetKey(deployment.clusterServer ?? '', namespace));
        if (ownsNamespace) await ctx.step('delete namespace', () => cluster.deleteNamespace(namespace), (r) => (r === 'absent' ? 'already gone' : `namespace ${namespace} deleting`));
        else await ctx.skip('delete namespace', 'the namespace existed before Slipway deployed into it');
        await ctx.step('wait until gone', () => waitUntilGone(cluster, namespace, ownsNamespace, deps.config.deployTimeoutMs, ctx.signal), () => 'nothing left');
        await setApplied(deps.pool, deploymentId, []);
        return { status: 'succeeded' };
      } finally {
        cluster.close();
      }
    },
    async finished(job, status, outcome) {
      if (status === 'succeeded') {
        await deploymentFinished(deps, job, 'deleted', null, async (tx) => {
          const deployment = await getDeployment(tx, String(job.input.deploymentId ?? job.subjectId));
          if (deployment) await markTargetDeleted(tx, targetKey(deployment.clusterServer ?? '', deployment.namespace));
        });
      } else {
        await deploymentFinished(deps, job, 'failed', outcome.error ?? null);
      }
    },
  };
}

async function waitUntilGone(cluster: ClusterClient, namespace: string, namespaceToo: boolean, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let left: string[] = [];
  while (Date.now() < deadline && !signal.aborted) {
    if (namespaceToo && (await cluster.namespacePhase(namespace)) === 'absent') return;
    const state = await cluster.readState(namespace, MANAGED);
    left = [
      ...state.deployments.map((d) => `Deployment/${d.metadata?.name ?? ''}`),
      ...state.services.map((s) => `Service/${s.metadata?.name ?? ''}`),
      ...state.pvcs.map((p) => `PersistentVolumeClaim/${p.metadata?.name ?? ''}`),
    ];
    if (left.length === 0 && !namespaceToo) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new UndeployTimeoutError(left.length > 0 ? left : [`Namespace/${namespace}`]);
}
