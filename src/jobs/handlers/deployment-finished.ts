import type { Config } from '../../config.js';
import { inTransaction, type Pool } from '../../adapters/db/pool.js';
import type { JobQueue } from '../queue.js';
import type { JobError, JobRecord } from '../model.js';
import { recordAudit } from '../../services/audit.js';
import type { DeploymentStatus } from '../../services/deployments/model.js';
import { getDeployment, updateDeployment } from '../../services/deployments/store.js';

/**
 * A deployment reached a final status: store it, audit the result, and queue the callback when
 * the deployment asked for one — in one transaction, so none of them is lost alone.
 */
export async function deploymentFinished(
  deps: { pool: Pool; queue: JobQueue; config: Config },
  job: JobRecord,
  status: DeploymentStatus,
  error: JobError | null,
  apply: (tx: Parameters<typeof updateDeployment>[0]) => Promise<void> = async () => undefined,
): Promise<void> {
  const deploymentId = String(job.input.deploymentId ?? job.subjectId);
  await inTransaction(deps.pool, async (tx) => {
    await updateDeployment(tx, deploymentId, { status, error });
    await apply(tx);
    const deployment = await getDeployment(tx, deploymentId);
    if (!deployment) return;
    await recordAudit(tx, {
      actor: job.owner,
      action: job.kind,
      subjectType: 'deployment',
      subjectId: deploymentId,
      clusterServer: deployment.clusterServer,
      namespace: deployment.namespace,
      result: status,
      ...(error ? { detail: { error } } : {}),
    });
    if (deployment.callbackUrl) await deps.queue.enqueueTask(tx, 'notify', { deploymentId });
  });
}
