import request from 'supertest';
import type { TestStack } from './stack.js';

/** What the deployment API returns, as the tests read it. */
export interface DeploymentBody {
  id: string;
  status: string;
  namespace: string;
  revisionId: string;
  jobId: string | null;
  applied: string[];
  rollbackOf: string | null;
  steps: Array<{ name: string; status: string; durationMs: number | null; detail: string | null }>;
  services: Array<{ name: string; kubeName: string; role: string; nodePorts: { webui?: number; protobufApi?: number }; webUiUrl?: string }>;
  error: { code: string; message: string; details?: unknown } | null;
  preflight: {
    passed: boolean;
    checks: Array<{ name: string; status: 'passed' | 'failed' | 'warning'; detail: string }>;
    plan?: Record<'create' | 'update' | 'prune' | 'unchanged', Array<{ kind: string; name: string; fields?: string[] }>>;
  } | null;
}

export const FINAL_STATUSES = ['succeeded', 'failed', 'cancelled', 'deleted'];

/** Read the deployment until `done` says so (default: a final status); bounded by `timeoutMs`. */
export async function waitForDeployment(
  stack: TestStack,
  token: string,
  id: string,
  done: (d: DeploymentBody) => boolean = (d) => FINAL_STATUSES.includes(d.status),
  timeoutMs = 30_000,
): Promise<DeploymentBody> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const response = await request(stack.runtime.app.server).get(`/api/v1/deployments/${id}`).set('authorization', token);
    const body = response.body as DeploymentBody;
    if (done(body)) return body;
    if (Date.now() > until) throw new Error(`deployment ${id} is still ${body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}
