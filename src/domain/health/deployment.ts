import type { CoreV1Event, V1Deployment, V1Pod } from '@kubernetes/client-node';
import { latestEvent } from './events.js';
import { isPodLive, isPodReady, podProblem, type PodProblem } from './pod.js';
import type { Assessment } from './types.js';

/** The live pods a Deployment's selector picks (matchLabels; solution Deployments use no expressions). */
export function podsOf(deployment: V1Deployment, pods: readonly V1Pod[]): V1Pod[] {
  const wanted = Object.entries(deployment.spec?.selector?.matchLabels ?? {});
  const namespace = deployment.metadata?.namespace;
  if (wanted.length === 0) return [];
  return pods.filter((pod) => {
    if (namespace !== undefined && pod.metadata?.namespace !== undefined && pod.metadata.namespace !== namespace) {
      return false;
    }
    const labels = pod.metadata?.labels ?? {};
    return isPodLive(pod) && wanted.every(([key, value]) => labels[key] === value);
  });
}

/**
 * Ready when the controller has seen the current spec, every wanted replica is updated, ready and
 * available, no old replica is left, and the Deployment's pods report Ready. Otherwise the first
 * terminal pod problem, then the progress deadline, then any pod problem, then a failed ReplicaSet
 * create, then plain progress.
 */
export function assessDeployment(
  deployment: V1Deployment,
  pods: readonly V1Pod[],
  events: readonly CoreV1Event[],
): Assessment {
  const own = podsOf(deployment, pods);
  if (isRolledOut(deployment, own)) return { status: 'ready' };

  const problems = own.map((pod) => podProblem(pod, events)).filter((p): p is PodProblem => p !== undefined);
  const terminal = problems.find((p) => p.terminal);
  if (terminal) return { status: 'failed', reason: terminal.reason };

  const conditions = deployment.status?.conditions ?? [];
  const progressing = conditions.find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return {
      status: 'failed',
      reason: problems[0]?.reason ?? `progress deadline exceeded: ${progressing.message ?? 'no details'}`,
    };
  }
  if (problems[0]) return { status: 'progressing', reason: problems[0].reason };

  const createFailure = replicaCreateFailure(deployment, events);
  if (createFailure) return { status: 'progressing', reason: createFailure };
  return { status: 'progressing', reason: progressText(deployment, own) };
}

function desiredReplicas(deployment: V1Deployment): number {
  return deployment.spec?.replicas ?? 1;
}

function isRolledOut(deployment: V1Deployment, own: readonly V1Pod[]): boolean {
  const desired = desiredReplicas(deployment);
  const status = deployment.status ?? {};
  const observed = (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
  const counts =
    (status.updatedReplicas ?? 0) === desired &&
    (status.readyReplicas ?? 0) === desired &&
    (status.availableReplicas ?? 0) === desired &&
    (status.replicas ?? 0) <= desired;
  return observed && counts && own.length >= desired && own.every(isPodReady);
}

/** Quota and admission refusals show on the ReplicaSet (`<deployment>-<hash>`), not on a pod. */
function replicaCreateFailure(deployment: V1Deployment, events: readonly CoreV1Event[]): string | undefined {
  const name = deployment.metadata?.name ?? '';
  const condition = (deployment.status?.conditions ?? []).find(
    (c) => c.type === 'ReplicaFailure' && c.status === 'True',
  );
  const event = latestEvent(events, {
    kind: 'ReplicaSet',
    name: (candidate) => candidate.startsWith(`${name}-`),
    reasons: ['FailedCreate'],
    type: 'Warning',
  });
  const message = condition?.message ?? event?.message;
  return message === undefined ? undefined : `cannot create pods: ${message}`;
}

function progressText(deployment: V1Deployment, own: readonly V1Pod[]): string {
  const status = deployment.status ?? {};
  if ((status.observedGeneration ?? 0) < (deployment.metadata?.generation ?? 0)) {
    return 'waiting for the Deployment controller to see the new spec';
  }
  const desired = desiredReplicas(deployment);
  const old = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  if ((status.updatedReplicas ?? 0) >= desired && old > 0) {
    return `waiting for ${old} old replica(s) to terminate`;
  }
  const readyPods = own.filter(isPodReady).length;
  return `waiting for pods: ${readyPods} of ${desired} ready`;
}
