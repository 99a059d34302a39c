import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { Pool } from '../../adapters/db/pool.js';
import { callbackBody, deliverCallback } from '../../services/notifications.js';
import { getDeployment } from '../../services/deployments/store.js';

/** The `notify` task: POST the deployment's final state to its callback URL; a throw makes pg-boss retry with backoff. */
export function notifyHandler(deps: { pool: Pool; config: Config; log: Logger }) {
  return async (data: Record<string, unknown>): Promise<void> => {
    const deployment = await getDeployment(deps.pool, String(data.deploymentId));
    if (!deployment?.callbackUrl) return;
    if (!deps.config.callbackSecret) {
      deps.log.warn({ deploymentId: deployment.id }, 'CALLBACK_SECRET is not set: the callback is not sent');
      return;
    }
    await deliverCallback(deployment.callbackUrl, callbackBody(deployment, data.event === 'deployment.health' ? 'deployment.health' : 'deployment.finished'), deps.config.callbackSecret, deps.config.allowPrivateCallbacks);
  };
}
