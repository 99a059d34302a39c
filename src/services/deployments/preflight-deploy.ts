/**
 * The preflight as a deploy (or a dry run) runs it: the configuration's storage class and pull
 * secret, the solution's protos checked against what the orchestrator accepts, and the error a
 * failed preflight ends the deploy with.
 */
import type { ClusterClient } from '../../adapters/kubernetes/cluster-client.js';
import type { Config } from '../../config.js';
import type { RenderedSolution } from '../../domain/manifests/render-solution.js';
import type { Solution } from '../../domain/solution.js';
import { checkOrchestratorProtos, protosOfSolution } from '../../domain/orchestrator-protos.js';
import { AppError } from '../../errors.js';
import { runPreflight, type PreflightResult } from './preflight.js';

export function preflightFor(cluster: ClusterClient, config: Config, solution: Solution, rendered: RenderedSolution, labelId: string): Promise<PreflightResult> {
  const isPipeline = solution.kind === 'pipeline';
  return runPreflight(cluster, {
    namespace: rendered.namespace,
    rendered,
    labelId,
    ...(config.imagePullSecret ? { imagePullSecret: config.imagePullSecret } : {}),
    ...(config.sharedFolderStorageClass ? { storageClass: config.sharedFolderStorageClass } : {}),
    protoProblems: isPipeline ? checkOrchestratorProtos(protosOfSolution(solution)) : [],
    isPipeline,
  });
}

export function preflightSummary(result: PreflightResult): string {
  const count = (status: string) => result.checks.filter((c) => c.status === status).length;
  const plan = result.plan ? `; plan: ${result.plan.create.length} to create, ${result.plan.update.length} to update, ${result.plan.prune.length} to prune, ${result.plan.unchanged.length} unchanged` : '';
  return `${count('passed')} passed, ${count('warning')} warnings, ${count('failed')} failed${plan}`;
}

/** A failed check: the deploy stops before any object is written, naming every failed check. */
export class PreflightFailedError extends AppError {
  constructor(result: PreflightResult) {
    const failed = result.checks.filter((c) => c.status === 'failed');
    super('preflight_failed', 422, `The preflight failed, nothing was written to the cluster: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`, { checks: result.checks });
  }
}
