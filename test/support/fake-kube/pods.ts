/**
 * The scheduler and kubelet of the fake Kubernetes API server (a test double). Nothing runs:
 * each controller tick moves a pod one step — scheduled → containers started → Ready — unless a
 * fault holds it (unschedulable, image pull failure, crash loop), in which case the pod shows the
 * status and events a real node would. Pods owned by a Job terminate after a few ticks, with
 * success or with the Job's fault. Not simulated: probes, init containers, resources, evictions.
 */
import type { EventRecorder } from './events.js';
import type { Faults } from './faults.js';
import type { LogBook } from './logs.js';
import type { ObjectStore } from './store.js';
import { asArray, asNumber, asRecord, asString, nowIso, readPath, TimeSlice, type KubeObject, type ResourceType } from './types.js';

const CRASH_RESTART_TICKS = 4;
const PULL_CYCLE_TICKS = 6;
const JOB_RUN_TICKS = 2;

export interface NodePlacement {
  name: string;
  ip: string;
}

interface Container {
  name: string;
  image: string;
}

interface Condition {
  type: string;
  status: 'True' | 'False';
  lastProbeTime: null;
  lastTransitionTime: string;
  reason?: string;
  message?: string;
}

export class PodSimulator {
  private readonly ticksByPod = new Map<string, number>();
  private nextPodIp = 2;

  constructor(
    private readonly store: ObjectStore,
    private readonly pods: ResourceType,
    private readonly events: EventRecorder,
    private readonly faults: Faults,
    private readonly logs: LogBook,
    private readonly placement: () => NodePlacement,
  ) {}

  async tick(): Promise<void> {
    const slice = new TimeSlice();
    const live = new Set<string>();
    // The stored pods themselves (no copies): advancing a pod writes a new object, never this one.
    // Between slices the API may have changed or removed a pod: each is read again when its turn comes.
    for (const listed of this.store.peek(this.pods)) {
      await slice.pause();
      const pod = this.store.peekOne(this.pods, listed.metadata.namespace, listed.metadata.name ?? '');
      if (pod === undefined) continue;
      const uid = pod.metadata.uid ?? '';
      live.add(uid);
      const phase = readPath(pod, 'status.phase');
      if (phase === 'Succeeded' || phase === 'Failed' || pod.metadata.deletionTimestamp) continue;
      const ticks = (this.ticksByPod.get(uid) ?? 0) + 1;
      this.ticksByPod.set(uid, ticks);
      this.advance(pod, ticks);
    }
    for (const uid of this.ticksByPod.keys()) if (!live.has(uid)) this.ticksByPod.delete(uid);
  }

  private advance(pod: KubeObject, ticks: number): void {
    const status = asRecord(pod.status);
    const conditions = conditionsOf(status);
    const scheduled = conditions.some((c) => c.type === 'PodScheduled' && c.status === 'True');
    if (!scheduled) this.schedule(pod, conditions);
    else if (status.phase !== 'Running') this.startContainers(pod, conditions, ticks);
    else this.run(pod, conditions, ticks);
  }

  private schedule(pod: KubeObject, conditions: Condition[]): void {
    const message = this.faults.unschedulableFor(containersOf(pod).map((c) => c.image));
    if (message !== undefined) {
      this.events.record(pod, { reason: 'FailedScheduling', message, type: 'Warning', component: 'default-scheduler' });
      this.writeStatus(pod, { phase: 'Pending', qosClass: 'BestEffort', conditions: [condition(conditions, 'PodScheduled', 'False', 'Unschedulable', message)] });
      return;
    }
    const node = this.placement();
    pod = { ...pod, spec: { ...asRecord(pod.spec), nodeName: node.name } };
    const podIp = `10.244.0.${this.nextPodIp++ % 250}`;
    this.events.record(pod, { reason: 'Scheduled', message: `Successfully assigned ${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''} to ${node.name}`, type: 'Normal', component: 'default-scheduler' });
    this.writeStatus(pod, {
      phase: 'Pending', qosClass: 'BestEffort', hostIP: node.ip, podIP: podIp, podIPs: [{ ip: podIp }], startTime: nowIso(),
      conditions: [condition(conditions, 'PodScheduled', 'True')],
      containerStatuses: containersOf(pod).map((c) => containerStatus(c, { waiting: { reason: 'ContainerCreating' } }, false, 0)),
    });
  }

  private startContainers(pod: KubeObject, conditions: Condition[], ticks: number): void {
    const containers = containersOf(pod);
    const failing = containers.filter((c) => this.faults.imagePullFor(c.image) !== undefined);
    const status = asRecord(pod.status);
    if (failing.length > 0) {
      const backingOff = ticks % PULL_CYCLE_TICKS >= 2;
      const statuses = containers.map((c) => {
        const fault = this.faults.imagePullFor(c.image);
        if (!fault) return containerStatus(c, { waiting: { reason: 'ContainerCreating' } }, false, 0);
        const detail = fault.message ?? `rpc error: code = NotFound desc = failed to pull and unpack image "${c.image}": failed to resolve reference "${c.image}": not found`;
        this.recordPullFailure(pod, c, detail);
        const waiting = backingOff
          ? { reason: 'ImagePullBackOff', message: `Back-off pulling image "${c.image}": ErrImagePull: ${detail}` }
          : { reason: 'ErrImagePull', message: `Failed to pull image "${c.image}": ${detail}` };
        return containerStatus(c, { waiting }, false, 0);
      });
      this.writeStatus(pod, { ...status, phase: 'Pending', conditions: podConditions(conditions, containers, false), containerStatuses: statuses });
      return;
    }
    for (const c of containers) {
      this.events.record(pod, { reason: 'Started', message: `Started container ${c.name}`, type: 'Normal', component: 'kubelet', fieldPath: `spec.containers{${c.name}}` });
    }
    this.writeStatus(pod, {
      ...status, phase: 'Running',
      conditions: podConditions(conditions, containers, false),
      containerStatuses: containers.map((c) => containerStatus(c, { running: { startedAt: nowIso() } }, false, 0)),
    });
  }

  private recordPullFailure(pod: KubeObject, c: Container, detail: string): void {
    const fieldPath = `spec.containers{${c.name}}`;
    this.events.record(pod, { reason: 'Failed', message: `Failed to pull image "${c.image}": ${detail}`, type: 'Warning', component: 'kubelet', fieldPath });
    this.events.record(pod, { reason: 'BackOff', message: `Back-off pulling image "${c.image}"`, type: 'Normal', component: 'kubelet', fieldPath });
  }

  private run(pod: KubeObject, conditions: Condition[], ticks: number): void {
    const containers = containersOf(pod);
    const status = asRecord(pod.status);
    const previous = asArray(status.containerStatuses).map(asRecord);
    const jobName = jobNameOf(pod);
    const crashing = containers.filter((c) => this.faults.crashLoopFor(c.image) !== undefined);
    if (jobName !== undefined && (crashing.length > 0 || ticks >= JOB_RUN_TICKS + 3)) {
      this.finishJobPod(pod, conditions, containers, jobName, crashing.length > 0);
      return;
    }
    const statuses = containers.map((c) => {
      const old = previous.find((s) => s.name === c.name) ?? {};
      const crash = this.faults.crashLoopFor(c.image);
      const restarts = asNumber(old.restartCount) ?? 0;
      if (!crash) {
        const running = asRecord(readPath(old, 'state.running'));
        return containerStatus(c, { running: { startedAt: asString(running.startedAt) ?? nowIso() } }, true, restarts, asRecord(old.lastState));
      }
      const restartNow = readPath(old, 'lastState.terminated') === undefined || ticks % CRASH_RESTART_TICKS === 0;
      const count = restartNow ? restarts + 1 : restarts;
      const terminated = restartNow
        ? { exitCode: crash.exitCode, reason: crash.reason, startedAt: nowIso(), finishedAt: nowIso(), containerID: containerId(c) }
        : asRecord(readPath(old, 'lastState.terminated'));
      this.events.record(pod, { reason: 'BackOff', message: `Back-off restarting failed container ${c.name} in pod ${pod.metadata.name ?? ''}_${pod.metadata.namespace ?? ''}(${pod.metadata.uid ?? ''})`, type: 'Warning', component: 'kubelet', fieldPath: `spec.containers{${c.name}}` });
      const waiting = { reason: 'CrashLoopBackOff', message: `back-off ${10 * 2 ** Math.min(count, 5)}s restarting failed container=${c.name} pod=${pod.metadata.name ?? ''}_${pod.metadata.namespace ?? ''}(${pod.metadata.uid ?? ''})` };
      return containerStatus(c, { waiting }, false, count, { terminated });
    });
    const ready = crashing.length === 0;
    this.writeStatus(pod, { ...status, phase: 'Running', conditions: podConditions(conditions, containers, ready, crashing), containerStatuses: statuses });
  }

  private finishJobPod(pod: KubeObject, conditions: Condition[], containers: Container[], jobName: string, crashed: boolean): void {
    const failureMessage = this.faults.jobFailureFor(jobName);
    const failed = crashed || failureMessage !== undefined;
    const namespace = pod.metadata.namespace ?? '';
    if (failureMessage !== undefined) this.logs.setFailureMessage(namespace, pod.metadata.name ?? '', `${failureMessage}\n`);
    const statuses = containers.map((c) => {
      const crash = this.faults.crashLoopFor(c.image);
      const terminated = failed
        ? { exitCode: crash?.exitCode ?? 1, reason: crash?.reason ?? 'Error', message: failureMessage, startedAt: nowIso(), finishedAt: nowIso(), containerID: containerId(c) }
        : { exitCode: 0, reason: 'Completed', startedAt: nowIso(), finishedAt: nowIso(), containerID: containerId(c) };
      return containerStatus(c, { terminated }, false, 0);
    });
    const reason = failed ? 'PodFailed' : 'PodCompleted';
    this.writeStatus(pod, {
      ...asRecord(pod.status),
      phase: failed ? 'Failed' : 'Succeeded',
      conditions: [
        condition(conditions, 'PodScheduled', 'True'),
        condition(conditions, 'Initialized', 'True', reason),
        condition(conditions, 'ContainersReady', 'False', reason),
        condition(conditions, 'Ready', 'False', reason),
      ],
      containerStatuses: statuses,
    });
  }

  /** Writes the pod with its new status, unless nothing changed. */
  private writeStatus(pod: KubeObject, status: Record<string, unknown>): void {
    const next = { ...pod, status };
    const stored = this.store.peekOne(this.pods, pod.metadata.namespace, pod.metadata.name ?? '');
    if (stored === undefined) return;
    const { resourceVersion: _stored, ...storedMeta } = stored.metadata;
    const { resourceVersion: _next, ...nextMeta } = next.metadata;
    if (JSON.stringify({ ...stored, metadata: storedMeta }) === JSON.stringify({ ...next, metadata: nextMeta })) return;
    this.store.write(this.pods, next);
  }
}

function conditionsOf(status: Record<string, unknown>): Condition[] {
  return asArray(status.conditions).map((entry) => {
    const c = asRecord(entry);
    return {
      type: asString(c.type) ?? '',
      status: c.status === 'True' ? 'True' : 'False',
      lastProbeTime: null,
      lastTransitionTime: asString(c.lastTransitionTime) ?? nowIso(),
      ...(typeof c.reason === 'string' ? { reason: c.reason } : {}),
      ...(typeof c.message === 'string' ? { message: c.message } : {}),
    };
  });
}

export function containersOf(pod: KubeObject): Container[] {
  return asArray(readPath(pod, 'spec.containers')).map((entry) => {
    const c = asRecord(entry);
    return { name: asString(c.name) ?? '', image: asString(c.image) ?? '' };
  });
}

function jobNameOf(pod: KubeObject): string | undefined {
  return (pod.metadata.ownerReferences ?? []).find((owner) => owner.kind === 'Job')?.name;
}

function containerId(c: Container): string {
  return `containerd://${Buffer.from(c.name + c.image).toString('hex').slice(0, 32).padEnd(32, '0')}`;
}

function containerStatus(
  c: Container,
  state: Record<string, unknown>,
  ready: boolean,
  restartCount: number,
  lastState: Record<string, unknown> = {},
): Record<string, unknown> {
  const started = state.running !== undefined;
  return {
    name: c.name,
    image: c.image,
    imageID: started || state.terminated !== undefined ? `${c.image}@sha256:${'0'.repeat(64)}` : '',
    ...(started ? { containerID: containerId(c) } : {}),
    ready,
    started,
    restartCount,
    state,
    lastState,
  };
}

/** A condition, keeping its transition time when its status did not change. */
function condition(old: Condition[], type: string, status: 'True' | 'False', reason?: string, message?: string): Condition {
  const previous = old.find((c) => c.type === type);
  const lastTransitionTime = previous && previous.status === status ? previous.lastTransitionTime : nowIso();
  return { type, status, lastProbeTime: null, lastTransitionTime, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

function podConditions(old: Condition[], containers: Container[], ready: boolean, unready: Container[] = containers): Condition[] {
  const why = ready ? undefined : `containers with unready status: [${unready.map((c) => c.name).join(' ')}]`;
  return [
    condition(old, 'PodScheduled', 'True'),
    condition(old, 'Initialized', 'True'),
    condition(old, 'ContainersReady', ready ? 'True' : 'False', ready ? undefined : 'ContainersNotReady', why),
    condition(old, 'Ready', ready ? 'True' : 'False', ready ? undefined : 'ContainersNotReady', why),
  ];
}
