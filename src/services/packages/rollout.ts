/**
 * Runs a rollout plan: batch after batch, at most `concurrency` nodes of a batch at a time, each
 * node's status reported as it changes. A failure stops the rollout after the current batch (the
 * nodes of the batch not started yet and every later batch are `skipped`), so a bad package
 * reaches one batch, not the site — unless `continueOnFailure`. How a node gets its packages is
 * the installer's business: a Kubernetes Job per node on real clusters (install-job.ts), a
 * simulated installer in tests.
 */
import { errorMessage } from '../../errors.js';
import type { PackageVersions, RolloutPlan } from './rollout-plan.js';

export type PackageInstaller = (node: string, packages: PackageVersions, signal?: AbortSignal) => Promise<void>;

export const NODE_ROLLOUT_STATUSES = ['pending', 'installing', 'installed', 'failed', 'skipped'] as const;
export type NodeRolloutStatus = (typeof NODE_ROLLOUT_STATUSES)[number];

export interface NodeRolloutResult {
  node: string;
  /** Index of the node's batch, from 0. */
  batch: number;
  packages: PackageVersions;
  status: NodeRolloutStatus;
  error?: string;
}

export interface RolloutOptions {
  /** Nodes of one batch installed at the same time. */
  concurrency: number;
  /** Every status change of a node, in order (pending → installing → installed | failed, or skipped). */
  onNode?: (result: NodeRolloutResult) => void | Promise<void>;
  signal?: AbortSignal;
  continueOnFailure?: boolean;
}

export interface RolloutOutcome {
  /** succeeded: every node installed (or nothing to do); failed: none; partially_failed: some. */
  status: 'succeeded' | 'partially_failed' | 'failed';
  nodes: NodeRolloutResult[];
}

export async function rolloutPackages(installer: PackageInstaller, plan: RolloutPlan, options: RolloutOptions): Promise<RolloutOutcome> {
  const results = plan.batches.flatMap((batch, index) => batch.map((install): NodeRolloutResult => ({ node: install.node, batch: index, packages: install.packages, status: 'pending' })));
  const report = async (result: NodeRolloutResult, change: Partial<NodeRolloutResult>): Promise<void> => {
    Object.assign(result, change);
    await options.onNode?.({ ...result });
  };
  let stopped = false;
  for (let batch = 0; batch < plan.batches.length; batch++) {
    const queue = results.filter((r) => r.batch === batch);
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        if (stopped || options.signal?.aborted) {
          await report(next, { status: 'skipped' });
          continue;
        }
        await report(next, { status: 'installing' });
        try {
          await installer(next.node, next.packages, options.signal);
          await report(next, { status: 'installed' });
        } catch (error: unknown) {
          if (!options.continueOnFailure) stopped = true;
          await report(next, { status: 'failed', error: errorMessage(error) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, queue.length)) }, worker));
  }
  const installed = results.filter((r) => r.status === 'installed').length;
  const status = installed === results.length ? 'succeeded' : installed === 0 ? 'failed' : 'partially_failed';
  return { status, nodes: results };
}
