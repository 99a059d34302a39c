/**
 * Deployment and Job controllers of the fake Kubernetes API server (a test double).
 *
 * Deployments: pods are created straight from the template (no ReplicaSet objects are stored;
 * pods point at a ReplicaSet name and carry `pod-template-hash`), a template change replaces all
 * pods at once (no surge/unavailable arithmetic during a rollout), and the status reports
 * observedGeneration, replica counts and the Available/Progressing conditions the way the
 * deployment controller words them, including ProgressDeadlineExceeded after
 * `spec.progressDeadlineSeconds`.
 *
 * Jobs: one pod, no retries (the first failure fails the Job), completion hooks run before the
 * Job is marked Complete so that whatever they create exists when a client sees it.
 */
import { createHash, randomInt, randomUUID } from 'node:crypto';
import type { Admission } from './admission.js';
import type { EventRecorder } from './events.js';
import type { Faults } from './faults.js';
import type { ObjectStore } from './store.js';
import { asNumber, asRecord, asString, asStringMap, asArray, nowIso, readPath, TimeSlice, type KubeObject, type ResourceType } from './types.js';

const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(length: number): string {
  return Array.from({ length }, () => NAME_ALPHABET[randomInt(NAME_ALPHABET.length)]).join('');
}

export function templateHash(template: unknown): string {
  const digest = createHash('sha256').update(JSON.stringify(template ?? {})).digest();
  return Array.from(digest.subarray(0, 10), (byte) => NAME_ALPHABET[byte % NAME_ALPHABET.length]).join('');
}

export function isPodReady(pod: KubeObject): boolean {
  return asArray(readPath(pod, 'status.conditions')).some((c) => readPath(c, 'type') === 'Ready' && readPath(c, 'status') === 'True');
}

interface Types {
  pods: ResourceType;
  deployments: ResourceType;
  jobs: ResourceType;
}

interface ConditionInput {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/** A condition keeping its times when nothing about it changed. */
function workloadCondition(old: unknown, input: ConditionInput, withUpdateTime: boolean): Record<string, unknown> {
  const previous = asArray(old).map(asRecord).find((c) => c.type === input.type);
  const now = nowIso();
  const sameStatus = previous?.status === input.status;
  const same = sameStatus && previous?.reason === input.reason && previous?.message === input.message;
  return {
    type: input.type,
    status: input.status,
    ...(withUpdateTime ? { lastUpdateTime: same ? previous?.lastUpdateTime : now } : { lastProbeTime: same ? previous?.lastProbeTime : now }),
    lastTransitionTime: sameStatus ? previous?.lastTransitionTime : now,
    reason: input.reason,
    message: input.message,
  };
}

export class DeploymentController {
  private readonly replicaSetUids = new Map<string, string>();
  private readonly rolloutStarted = new Map<string, number>();

  constructor(
    private readonly store: ObjectStore,
    private readonly types: Types,
    private readonly admission: Admission,
    private readonly events: EventRecorder,
  ) {}

  async tick(): Promise<void> {
    const slice = new TimeSlice();
    // Read-only scan: reconcile writes new objects, it never changes the stored ones. Between
    // slices the API may have changed or removed a Deployment: each is read again when its turn comes.
    for (const listed of this.store.peek(this.types.deployments)) {
      const deployment = this.store.peekOne(this.types.deployments, listed.metadata.namespace, listed.metadata.name ?? '');
      if (deployment !== undefined) this.reconcile(deployment);
      await slice.pause();
    }
    const live = new Set(this.store.peek(this.types.deployments).map((d) => d.metadata.uid));
    for (const [key, uid] of this.replicaSetUids) {
      const deploymentUid = key.split('/')[0];
      if (live.has(deploymentUid)) continue;
      this.replicaSetUids.delete(key);
      this.rolloutStarted.delete(key);
      for (const pod of this.store.list(this.types.pods)) {
        if ((pod.metadata.ownerReferences ?? []).some((owner) => owner.uid === uid)) {
          this.store.remove(this.types.pods, pod.metadata.namespace, pod.metadata.name ?? '');
        }
      }
    }
  }

  private replicaSetUid(deployment: KubeObject, hash: string): string {
    const key = `${deployment.metadata.uid ?? ''}/${hash}`;
    let uid = this.replicaSetUids.get(key);
    if (uid === undefined) {
      uid = randomUUID();
      this.replicaSetUids.set(key, uid);
      this.rolloutStarted.set(key, Date.now());
    }
    return uid;
  }

  private reconcile(deployment: KubeObject): void {
    const namespace = deployment.metadata.namespace;
    const name = deployment.metadata.name ?? '';
    const template = asRecord(readPath(deployment, 'spec.template'));
    const hash = templateHash(template);
    const replicaSetName = `${name}-${hash}`;
    const currentUid = this.replicaSetUid(deployment, hash);
    const ownedUids = new Set([...this.replicaSetUids].filter(([key]) => key.startsWith(`${deployment.metadata.uid ?? ''}/`)).map(([, uid]) => uid));
    const owned = this.store.peek(this.types.pods, namespace).filter((pod) =>
      (pod.metadata.ownerReferences ?? []).some((owner) => ownedUids.has(owner.uid)),
    );
    const current = owned.filter((pod) => (pod.metadata.ownerReferences ?? []).some((owner) => owner.uid === currentUid));
    for (const pod of owned) {
      if (!current.includes(pod)) this.store.remove(this.types.pods, namespace, pod.metadata.name ?? '');
    }
    const desired = asNumber(readPath(deployment, 'spec.replicas')) ?? 1;
    for (const extra of current.slice(desired)) this.store.remove(this.types.pods, namespace, extra.metadata.name ?? '');
    const missing = Math.max(0, desired - current.length);
    for (let i = 0; i < missing; i += 1) this.createPod(deployment, template, hash, replicaSetName, currentUid);
    if (missing > 0 || current.length > desired) {
      this.events.record(deployment, { reason: 'ScalingReplicaSet', message: `Scaled ${missing > 0 ? 'up' : 'down'} replica set ${replicaSetName} to ${desired}`, type: 'Normal', component: 'deployment-controller' });
    }
    const pods = this.store.peek(this.types.pods, namespace).filter((pod) =>
      (pod.metadata.ownerReferences ?? []).some((owner) => owner.uid === currentUid),
    );
    this.writeStatus(deployment, pods, desired, replicaSetName, `${deployment.metadata.uid ?? ''}/${hash}`);
  }

  private createPod(deployment: KubeObject, template: Record<string, unknown>, hash: string, replicaSetName: string, replicaSetUid: string): void {
    const templateMeta = asRecord(template.metadata);
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${replicaSetName}-${randomSuffix(5)}`,
        namespace: deployment.metadata.namespace,
        labels: { ...asStringMap(templateMeta.labels), 'pod-template-hash': hash },
        annotations: asStringMap(templateMeta.annotations),
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: replicaSetName, uid: replicaSetUid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { restartPolicy: 'Always', schedulerName: 'default-scheduler', ...asRecord(template.spec) },
    };
    this.store.write(this.types.pods, this.admission.prepareCreate(this.types.pods, pod));
  }

  private writeStatus(deployment: KubeObject, pods: KubeObject[], desired: number, replicaSetName: string, rolloutKey: string): void {
    const ready = pods.filter(isPodReady).length;
    const old = readPath(deployment, 'status.conditions');
    const available = ready >= desired - maxUnavailable(deployment, desired);
    const progressed = ready >= desired && pods.length === desired;
    const deadlineSeconds = asNumber(readPath(deployment, 'spec.progressDeadlineSeconds')) ?? 600;
    const started = this.rolloutStarted.get(rolloutKey) ?? Date.now();
    const timedOut = !progressed && Date.now() - started > deadlineSeconds * 1000;
    const progressing: ConditionInput = progressed
      ? { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${replicaSetName}" has successfully progressed.` }
      : timedOut
        ? { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${replicaSetName}" has timed out progressing.` }
        : { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${replicaSetName}" is progressing.` };
    const status = {
      observedGeneration: deployment.metadata.generation ?? 1,
      ...(pods.length > 0 ? { replicas: pods.length, updatedReplicas: pods.length } : {}),
      ...(ready > 0 ? { readyReplicas: ready, availableReplicas: ready } : {}),
      ...(desired - ready > 0 ? { unavailableReplicas: desired - ready } : {}),
      conditions: [
        workloadCondition(old, available
          ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
          : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }, true),
        workloadCondition(old, progressing, true),
      ],
    };
    if (JSON.stringify(status) === JSON.stringify(deployment.status)) return;
    this.store.write(this.types.deployments, { ...deployment, status });
  }
}

/** `spec.strategy.rollingUpdate.maxUnavailable` (count or percentage, rounded down), 25% by default; 0 for Recreate. */
function maxUnavailable(deployment: KubeObject, desired: number): number {
  if (readPath(deployment, 'spec.strategy.type') === 'Recreate') return 0;
  const value = readPath(deployment, 'spec.strategy.rollingUpdate.maxUnavailable') ?? '25%';
  if (typeof value === 'number') return value;
  const percent = /^(\d+)%$/.exec(String(value));
  return percent ? Math.floor((desired * Number(percent[1])) / 100) : 0;
}

export type JobCompleteHook = (job: KubeObject) => void | Promise<void>;

export class JobController {
  constructor(
    private readonly store: ObjectStore,
    private readonly types: Types,
    private readonly admission: Admission,
    private readonly events: EventRecorder,
    private readonly faults: Faults,
    private readonly hooks: JobCompleteHook[],
  ) {}

  async tick(): Promise<void> {
    for (const job of this.store.list(this.types.jobs)) await this.reconcile(job);
    const live = new Set(this.store.list(this.types.jobs).map((job) => job.metadata.uid));
    for (const pod of this.store.list(this.types.pods)) {
      const owner = (pod.metadata.ownerReferences ?? []).find((o) => o.kind === 'Job');
      if (owner && !live.has(owner.uid)) this.store.remove(this.types.pods, pod.metadata.namespace, pod.metadata.name ?? '');
    }
  }

  private async reconcile(job: KubeObject): Promise<void> {
    const finished = asArray(readPath(job, 'status.conditions')).some((c) =>
      (readPath(c, 'type') === 'Complete' || readPath(c, 'type') === 'Failed') && readPath(c, 'status') === 'True');
    if (finished) return;
    const pod = this.store.list(this.types.pods, job.metadata.namespace).find((p) =>
      (p.metadata.ownerReferences ?? []).some((owner) => owner.uid === job.metadata.uid));
    const status = asRecord(job.status);
    if (pod === undefined) {
      const created = this.createPod(job);
      this.events.record(job, { reason: 'SuccessfulCreate', message: `Created pod: ${created}`, type: 'Normal', component: 'job-controller' });
      this.write(job, { ...status, startTime: asString(status.startTime) ?? nowIso(), active: 1, ready: 0, terminating: 0 });
      return;
    }
    const phase = readPath(pod, 'status.phase');
    if (phase === 'Succeeded') await this.complete(job, status);
    else if (phase === 'Failed') this.fail(job, status, this.faults.jobFailureFor(job.metadata.name ?? '') ?? 'Job has reached the specified backoff limit');
    else this.write(job, { ...status, active: 1, ready: isPodReady(pod) ? 1 : 0 });
  }

  private async complete(job: KubeObject, status: Record<string, unknown>): Promise<void> {
    try {
      for (const hook of this.hooks) await hook(job);
    } catch (error: unknown) {
      this.fail(job, status, `completion hook failed: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const now = nowIso();
    this.events.record(job, { reason: 'Completed', message: 'Job completed', type: 'Normal', component: 'job-controller' });
    const { active: _active, ...rest } = status;
    this.write(job, {
      ...rest, ready: 0, succeeded: 1, completionTime: now,
      conditions: [
        { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: now, lastTransitionTime: now },
        { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: now, lastTransitionTime: now },
      ],
    });
  }

  private fail(job: KubeObject, status: Record<string, unknown>, message: string): void {
    const now = nowIso();
    this.events.record(job, { reason: 'BackoffLimitExceeded', message, type: 'Warning', component: 'job-controller' });
    const { active: _active, ...rest } = status;
    this.write(job, {
      ...rest, ready: 0, failed: 1,
      conditions: [
        { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message, lastProbeTime: now, lastTransitionTime: now },
        { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message, lastProbeTime: now, lastTransitionTime: now },
      ],
    });
  }

  private createPod(job: KubeObject): string {
    const template = asRecord(readPath(job, 'spec.template'));
    const templateMeta = asRecord(template.metadata);
    const jobName = job.metadata.name ?? '';
    const name = `${jobName}-${randomSuffix(5)}`;
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: job.metadata.namespace,
        labels: asStringMap(templateMeta.labels),
        annotations: asStringMap(templateMeta.annotations),
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: job.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
      },
      spec: { schedulerName: 'default-scheduler', ...asRecord(template.spec) },
    };
    this.store.write(this.types.pods, this.admission.prepareCreate(this.types.pods, pod));
    return name;
  }

  private write(job: KubeObject, status: Record<string, unknown>): void {
    if (JSON.stringify(status) === JSON.stringify(job.status)) return;
    const latest = this.store.get(this.types.jobs, job.metadata.namespace, job.metadata.name ?? '');
    if (latest === undefined || latest.metadata.uid !== job.metadata.uid) return;
    this.store.write(this.types.jobs, { ...latest, status });
  }
}
