import type { Queryable } from '../../adapters/db/pool.js';
import type { JobQueue } from '../../jobs/queue.js';
import type { JobRecord } from '../../jobs/model.js';
import { insertJob } from '../../jobs/store.js';

export const ROLLOUT_STEPS = ['plan rollout', 'install packages'] as const;

/** What a package-rollout job reads. */
export interface RolloutJobInput {
  clusterId: string;
  /** Limit to these nodes (new nodes of a scale-out); all of the cluster's when absent. */
  nodes?: string[];
  /** Why: `<name>@<version>` uploaded, or `scale-out`. */
  reason: string;
}

/**
 * Enqueue a rollout of the cluster's current packages inside the caller's transaction; the job
 * plans at run time, from what the nodes have then. Wake the queue after the commit.
 */
export async function enqueueRollout(db: Queryable, queue: JobQueue, owner: string, input: RolloutJobInput, timeoutMs: number): Promise<JobRecord> {
  const job = await insertJob(db, {
    kind: 'package-rollout',
    subjectType: 'cluster',
    subjectId: input.clusterId,
    owner,
    input: { ...input },
    steps: ROLLOUT_STEPS,
  });
  await queue.enqueue(db, 'package-rollout', job.id, { expireInSeconds: Math.ceil(timeoutMs / 1000) + 600 });
  return job;
}
