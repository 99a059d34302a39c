import type { CoreV1Event, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { latestEvent } from './events.js';

/** Why one pod is not running, and whether waiting could still fix it. */
export interface PodProblem {
  reason: string;
  terminal: boolean;
}

const IMAGE_PULL_REASONS = ['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull'];
/** The image reference itself is wrong (or pulling is disabled): no retry will find it. */
const TERMINAL_IMAGE_REASONS = ['InvalidImageName', 'ErrImageNeverPull'];
/** A missing Secret or ConfigMap may still be applied, so this one is retried by the kubelet. */
const CONFIG_ERROR_REASONS = ['CreateContainerConfigError'];
/** The runtime refused the container (bad command, bad mount): the same spec fails again. */
const TERMINAL_CONTAINER_REASONS = ['CreateContainerError', 'RunContainerError'];
/**
 * A model may crash while a peer is still starting; after this many restarts it is a bug in the
 * model, not a race, and waiting longer only hides it.
 */
export const CRASH_LOOP_TERMINAL_RESTARTS = 3;

export function isPodReady(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Pods that count: not being deleted, not finished (their controller replaces those). */
export function isPodLive(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return pod.metadata?.deletionTimestamp == null && phase !== 'Succeeded' && phase !== 'Failed';
}

/** The most important problem of one pod, or undefined when it is fine or merely starting. */
export function podProblem(pod: V1Pod, events: readonly CoreV1Event[]): PodProblem | undefined {
  const podName = pod.metadata?.name ?? '';
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const problems = [
    unschedulable(pod, events),
    ...statuses.map((status) => containerProblem(pod, status, events)),
    failedMount(pod, events),
    ...statuses.map((status) => notReady(podName, status, events)),
  ].filter((p): p is PodProblem => p !== undefined);
  return problems.find((p) => p.terminal) ?? problems[0];
}

function unschedulable(pod: V1Pod, events: readonly CoreV1Event[]): PodProblem | undefined {
  const condition = (pod.status?.conditions ?? []).find((c) => c.type === 'PodScheduled');
  if (condition?.status !== 'False') return undefined;
  const event = latestEvent(events, {
    kind: 'Pod',
    name: pod.metadata?.name ?? '',
    reasons: ['FailedScheduling'],
    type: 'Warning',
  });
  const message = condition.message ?? event?.message ?? condition.reason ?? 'no node fits';
  return { reason: `cannot schedule pod ${pod.metadata?.name ?? ''}: ${message}`, terminal: false };
}

function imageOf(pod: V1Pod, status: V1ContainerStatus): string {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  // The status image is empty while nothing was pulled; the spec says what was asked for.
  return containers.find((c) => c.name === status.name)?.image ?? status.image;
}

function containerProblem(
  pod: V1Pod,
  status: V1ContainerStatus,
  events: readonly CoreV1Event[],
): PodProblem | undefined {
  const waiting = status.state?.waiting;
  const reason = waiting?.reason ?? '';
  if (IMAGE_PULL_REASONS.includes(reason)) {
    const image = imageOf(pod, status);
    // "Back-off pulling image" says nothing; the Failed event carries the registry's answer.
    const event = latestEvent(events, {
      kind: 'Pod',
      name: pod.metadata?.name ?? '',
      reasons: ['Failed', 'InspectFailed'],
      type: 'Warning',
      messageIncludes: image,
    });
    const message = event?.message ?? waiting?.message ?? reason;
    return { reason: `cannot pull image ${image} (${reason}): ${message}`, terminal: TERMINAL_IMAGE_REASONS.includes(reason) };
  }
  if (reason === 'CrashLoopBackOff') return crashLoop(status);
  if (CONFIG_ERROR_REASONS.includes(reason) || TERMINAL_CONTAINER_REASONS.includes(reason)) {
    return {
      reason: `cannot create container ${status.name} (${reason}): ${waiting?.message ?? 'no details'}`,
      terminal: TERMINAL_CONTAINER_REASONS.includes(reason),
    };
  }
  return undefined;
}

function crashLoop(status: V1ContainerStatus): PodProblem {
  const last = status.lastState?.terminated;
  const exit = last ? `last exit: ${last.reason ?? 'Error'}, code ${last.exitCode}` : 'no exit recorded';
  const message = last?.message ? `; ${last.message.trim()}` : '';
  return {
    reason: `container ${status.name} keeps crashing (CrashLoopBackOff, ${status.restartCount} restarts; ${exit})${message}`,
    terminal: status.restartCount >= CRASH_LOOP_TERMINAL_RESTARTS,
  };
}

function failedMount(pod: V1Pod, events: readonly CoreV1Event[]): PodProblem | undefined {
  if (pod.status?.phase !== 'Pending') return undefined;
  const event = latestEvent(events, {
    kind: 'Pod',
    name: pod.metadata?.name ?? '',
    reasons: ['FailedMount', 'FailedAttachVolume'],
    type: 'Warning',
  });
  if (event === undefined) return undefined;
  return { reason: `cannot mount a volume for pod ${pod.metadata?.name ?? ''}: ${event.message ?? ''}`, terminal: false };
}

/** A running container whose readiness probe fails: only worth reporting with the probe's answer. */
function notReady(podName: string, status: V1ContainerStatus, events: readonly CoreV1Event[]): PodProblem | undefined {
  if (status.state?.running === undefined || status.ready) return undefined;
  const event = latestEvent(events, { kind: 'Pod', name: podName, reasons: ['Unhealthy'], type: 'Warning' });
  if (event === undefined) return undefined;
  return { reason: `container ${status.name} is running but not ready: ${event.message ?? ''}`, terminal: false };
}
