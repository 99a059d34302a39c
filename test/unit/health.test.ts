import type {
  CoreV1Event,
  V1ContainerStatus,
  V1Deployment,
  V1PersistentVolumeClaim,
  V1Pod,
  V1PodCondition,
  V1Service,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  assessDeployment,
  assessPvc,
  assessService,
  assessSolution,
  describeUnready,
  type ClusterState,
} from '../../src/domain/health/index.js';

const NS = 'sol-1';
const IMAGE = 'registry.example.org/models/classifier:1.0';

function deployment(name: string, status: V1Deployment['status'] = readyStatus(1), generation = 1): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS, generation },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: IMAGE }] } },
    },
    status,
  };
}

function readyStatus(n: number): V1Deployment['status'] {
  return { observedGeneration: 1, replicas: n, updatedReplicas: n, readyReplicas: n, availableReplicas: n };
}

const startingStatus: V1Deployment['status'] = { observedGeneration: 1, replicas: 1, updatedReplicas: 1, unavailableReplicas: 1 };

function pod(app: string, options: { ready?: boolean; phase?: string; containers?: V1ContainerStatus[]; conditions?: V1PodCondition[]; name?: string } = {}): V1Pod {
  const ready = options.ready ?? true;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: options.name ?? `${app}-7d9f-abcde`, namespace: NS, labels: { app } },
    spec: { containers: [{ name: app, image: IMAGE }] },
    status: {
      phase: options.phase ?? (ready ? 'Running' : 'Pending'),
      conditions: options.conditions ?? [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Ready', status: ready ? 'True' : 'False' },
      ],
      containerStatuses: options.containers ?? [
        { name: app, image: IMAGE, imageID: '', ready, restartCount: 0, state: ready ? { running: {} } : { waiting: { reason: 'ContainerCreating' } } },
      ],
    },
  };
}

function waiting(app: string, reason: string, message?: string, extra: Partial<V1ContainerStatus> = {}): V1ContainerStatus {
  return { name: app, image: IMAGE, imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, ...(message ? { message } : {}) } }, ...extra };
}

function event(kind: string, name: string, reason: string, message: string, at: string, type = 'Warning'): CoreV1Event {
  return {
    metadata: { name: `${name}.${reason}.${at}`, namespace: NS },
    involvedObject: { kind, name, namespace: NS },
    reason,
    message,
    type,
    lastTimestamp: new Date(at),
  };
}

function pvc(name: string, phase: string): V1PersistentVolumeClaim {
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: NS }, spec: { accessModes: ['ReadWriteMany'] }, status: { phase } };
}

function service(name: string, nodePorts: Array<number | undefined>): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: { type: 'NodePort', ports: nodePorts.map((nodePort, i) => ({ port: 8061 + i, ...(nodePort ? { nodePort } : {}) })) },
  };
}

describe('assessDeployment', () => {
  it('is ready when the rollout is complete and its pods are Ready', () => {
    expect(assessDeployment(deployment('a'), [pod('a')], [])).toEqual({ status: 'ready' });
  });

  it('ignores pods of other Deployments and pods being deleted', () => {
    const other = pod('b', { ready: false, containers: [waiting('b', 'CrashLoopBackOff', undefined, { restartCount: 9 })] });
    const deleting = { ...pod('a', { ready: false, name: 'a-old' }), metadata: { ...pod('a').metadata, name: 'a-old', deletionTimestamp: new Date() } };
    expect(assessDeployment(deployment('a'), [pod('a'), other, deleting], []).status).toBe('ready');
  });

  it('is progressing until the controller observed the current generation', () => {
    const result = assessDeployment(deployment('a', readyStatus(1), 2), [pod('a')], []);
    expect(result.status).toBe('progressing');
    expect(result.reason).toMatch(/new spec/);
  });

  it('is progressing while replica counts fall short or old replicas remain', () => {
    expect(assessDeployment(deployment('a', startingStatus), [pod('a', { ready: false })], [])).toEqual({
      status: 'progressing',
      reason: 'waiting for pods: 0 of 1 ready',
    });
    const withOld = { ...readyStatus(1), replicas: 2 };
    expect(assessDeployment(deployment('a', withOld), [pod('a')], []).reason).toMatch(/1 old replica/);
  });

  it('is progressing when the counts say ready but a pod is not Ready yet', () => {
    expect(assessDeployment(deployment('a'), [pod('a', { ready: false })], []).status).toBe('progressing');
    expect(assessDeployment(deployment('a'), [], []).status).toBe('progressing');
  });

  it.each(['ErrImagePull', 'ImagePullBackOff'])('reports %s with the registry answer from the Failed event, not terminal', (reason) => {
    const p = pod('a', { ready: false, containers: [waiting('a', reason, `Back-off pulling image "${IMAGE}"`)] });
    const events = [
      event('Pod', p.metadata!.name!, 'Failed', `Failed to pull image "${IMAGE}": old answer`, '2024-01-01T10:00:00Z'),
      event('Pod', p.metadata!.name!, 'Failed', `Failed to pull image "${IMAGE}": manifest unknown`, '2024-01-01T10:05:00Z'),
      event('Pod', p.metadata!.name!, 'Failed', 'Error: ImagePullBackOff', '2024-01-01T10:06:00Z'),
    ];
    expect(assessDeployment(deployment('a', startingStatus), [p], events)).toEqual({
      status: 'progressing',
      reason: `cannot pull image ${IMAGE} (${reason}): Failed to pull image "${IMAGE}": manifest unknown`,
    });
  });

  it('falls back to the waiting message without events', () => {
    const p = pod('a', { ready: false, containers: [waiting('a', 'ErrImagePull', 'pull access denied')] });
    expect(assessDeployment(deployment('a', startingStatus), [p], []).reason).toBe(`cannot pull image ${IMAGE} (ErrImagePull): pull access denied`);
  });

  it('fails at once on an invalid image name', () => {
    const p = pod('a', { ready: false, containers: [waiting('a', 'InvalidImageName', 'couldn\'t parse image reference')] });
    expect(assessDeployment(deployment('a', startingStatus), [p], [])).toEqual({
      status: 'failed',
      reason: `cannot pull image ${IMAGE} (InvalidImageName): couldn't parse image reference`,
    });
  });

  it('reports a crash loop with the last termination reason and exit code; terminal after 3 restarts', () => {
    const crashing = (restartCount: number): V1Pod =>
      pod('a', {
        ready: false,
        phase: 'Running',
        containers: [
          waiting('a', 'CrashLoopBackOff', 'back-off 40s restarting failed container', {
            restartCount,
            lastState: { terminated: { reason: 'Error', exitCode: 137, message: 'killed\n' } },
          }),
        ],
      });
    const early = assessDeployment(deployment('a', startingStatus), [crashing(1)], []);
    expect(early.status).toBe('progressing');
    expect(early.reason).toBe('container a keeps crashing (CrashLoopBackOff, 1 restarts; last exit: Error, code 137); killed');
    const late = assessDeployment(deployment('a', startingStatus), [crashing(3)], []);
    expect(late.status).toBe('failed');
    expect(late.reason).toContain('code 137');
  });

  it('reports an unschedulable pod with the scheduler message, not terminal', () => {
    const message = '0/1 nodes are available: 1 Insufficient memory.';
    const p = pod('a', {
      ready: false,
      containers: [],
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }],
    });
    expect(assessDeployment(deployment('a', startingStatus), [p], [])).toEqual({
      status: 'progressing',
      reason: `cannot schedule pod ${p.metadata!.name}: ${message}`,
    });
  });

  it('uses the FailedScheduling event when the condition has no message', () => {
    const p = pod('a', { ready: false, containers: [], conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] });
    const events = [event('Pod', p.metadata!.name!, 'FailedScheduling', '0/3 nodes: untolerated taint', '2024-01-01T10:00:00Z')];
    expect(assessDeployment(deployment('a', startingStatus), [p], events).reason).toContain('untolerated taint');
  });

  it('reports container create errors: config errors progressing, runtime errors failed', () => {
    const config = pod('a', { ready: false, containers: [waiting('a', 'CreateContainerConfigError', 'secret "creds" not found')] });
    expect(assessDeployment(deployment('a', startingStatus), [config], [])).toEqual({
      status: 'progressing',
      reason: 'cannot create container a (CreateContainerConfigError): secret "creds" not found',
    });
    const runtime = pod('a', { ready: false, containers: [waiting('a', 'CreateContainerError', 'no command specified')] });
    expect(assessDeployment(deployment('a', startingStatus), [runtime], []).status).toBe('failed');
  });

  it('reports a failed mount of a pending pod', () => {
    const p = pod('a', { ready: false });
    const events = [event('Pod', p.metadata!.name!, 'FailedMount', 'Unable to attach or mount volumes: timed out', '2024-01-01T10:00:00Z')];
    expect(assessDeployment(deployment('a', startingStatus), [p], events).reason).toMatch(/cannot mount a volume .*timed out/);
  });

  it('reports a failing readiness probe of a running container', () => {
    const p = pod('a', { ready: false, phase: 'Running', containers: [{ name: 'a', image: IMAGE, imageID: '', ready: false, restartCount: 0, state: { running: {} } }] });
    const events = [event('Pod', p.metadata!.name!, 'Unhealthy', 'Readiness probe failed: connection refused', '2024-01-01T10:00:00Z')];
    expect(assessDeployment(deployment('a', startingStatus), [p], events).reason).toBe(
      'container a is running but not ready: Readiness probe failed: connection refused',
    );
  });

  it('reports a ReplicaSet that cannot create pods (quota)', () => {
    const events = [event('ReplicaSet', 'a-7d9f', 'FailedCreate', 'pods "a-7d9f-x" is forbidden: exceeded quota', '2024-01-01T10:00:00Z')];
    const result = assessDeployment(deployment('a', { observedGeneration: 1, replicas: 0 }), [], events);
    expect(result).toEqual({ status: 'progressing', reason: 'cannot create pods: pods "a-7d9f-x" is forbidden: exceeded quota' });
    const otherDeployment = [event('ReplicaSet', 'ab-1', 'FailedCreate', 'not ours', '2024-01-01T10:00:00Z')];
    expect(assessDeployment(deployment('a', startingStatus), [], otherDeployment).reason).not.toContain('not ours');
  });

  it('fails when the progress deadline is exceeded, preferring a pod reason', () => {
    const status = { ...startingStatus, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "a-1" has timed out progressing.' }] };
    expect(assessDeployment(deployment('a', status), [pod('a', { ready: false })], [])).toEqual({
      status: 'failed',
      reason: 'progress deadline exceeded: ReplicaSet "a-1" has timed out progressing.',
    });
    const pulling = pod('a', { ready: false, containers: [waiting('a', 'ImagePullBackOff', 'Back-off')] });
    expect(assessDeployment(deployment('a', status), [pulling], []).reason).toMatch(/^cannot pull image/);
  });
});

describe('assessPvc', () => {
  it('is ready when Bound and failed when Lost', () => {
    expect(assessPvc(pvc('pipeline', 'Bound'), [])).toEqual({ status: 'ready' });
    expect(assessPvc(pvc('pipeline', 'Lost'), []).status).toBe('failed');
  });

  it('reports the newest ProvisioningFailed message of a Pending claim', () => {
    const events = [
      event('PersistentVolumeClaim', 'pipeline', 'ProvisioningFailed', 'older', '2024-01-01T09:00:00Z'),
      event('PersistentVolumeClaim', 'pipeline', 'ProvisioningFailed', 'failed to provision volume with StorageClass "local-path": Only support ReadWriteOnce access mode', '2024-01-01T10:00:00Z'),
      event('PersistentVolumeClaim', 'other', 'ProvisioningFailed', 'not this claim', '2024-01-01T11:00:00Z'),
    ];
    expect(assessPvc(pvc('pipeline', 'Pending'), events)).toEqual({
      status: 'progressing',
      reason: 'cannot provision volume: failed to provision volume with StorageClass "local-path": Only support ReadWriteOnce access mode',
    });
  });

  it('reports FailedBinding and WaitForFirstConsumer, and plain waiting otherwise', () => {
    const binding = [event('PersistentVolumeClaim', 'pipeline', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set', '2024-01-01T10:00:00Z')];
    expect(assessPvc(pvc('pipeline', 'Pending'), binding).reason).toMatch(/^cannot bind volume: no persistent volumes/);
    const wait = [event('PersistentVolumeClaim', 'pipeline', 'WaitForFirstConsumer', 'waiting for first consumer', '2024-01-01T10:00:00Z', 'Normal')];
    expect(assessPvc(pvc('pipeline', 'Pending'), wait).reason).toMatch(/WaitForFirstConsumer/);
    expect(assessPvc(pvc('pipeline', 'Pending'), [])).toEqual({ status: 'progressing', reason: 'waiting for the volume to be bound' });
  });
});

describe('assessService', () => {
  it('is ready once every NodePort port has its node port', () => {
    expect(assessService(service('a', [30001, 30002])).status).toBe('ready');
    expect(assessService(service('a', [30001, undefined]))).toEqual({ status: 'progressing', reason: 'waiting for node ports (1 port(s) unassigned)' });
    expect(assessService({ metadata: { name: 'a' }, spec: { type: 'ClusterIP', ports: [{ port: 8061 }] } }).status).toBe('ready');
  });
});

describe('assessSolution', () => {
  const expected = { deployments: ['a', 'b'], persistentVolumeClaims: ['pipeline'], services: ['a', 'b'] };
  const readyState = (): ClusterState => ({
    deployments: [deployment('a'), deployment('b')],
    pods: [pod('a'), pod('b')],
    pvcs: [pvc('pipeline', 'Bound')],
    services: [service('a', [30001, 30002]), service('b', [30003, 30004])],
    events: [],
  });

  it('is ready when every expected object is ready', () => {
    const health = assessSolution(readyState(), expected);
    expect(health.ready).toBe(true);
    expect(health.terminal).toBe(false);
    expect(health.nodes.map((n) => `${n.kind}/${n.name}`)).toEqual([
      'PersistentVolumeClaim/pipeline',
      'Service/a',
      'Service/b',
      'Deployment/a',
      'Deployment/b',
    ]);
    expect(describeUnready(health)).toEqual([]);
  });

  it('reports missing objects as progressing', () => {
    const state = { ...readyState(), deployments: [deployment('a')] };
    const health = assessSolution(state, expected);
    expect(health.ready).toBe(false);
    expect(describeUnready(health)).toEqual(['Deployment/b: not found in the cluster']);
  });

  it('surfaces image pull and unschedulable reasons without being terminal', () => {
    const state = readyState();
    state.deployments = [deployment('a', startingStatus), deployment('b', startingStatus)];
    state.pods = [
      pod('a', { ready: false, containers: [waiting('a', 'ImagePullBackOff', 'Back-off pulling image')] }),
      pod('b', { ready: false, containers: [], conditions: [{ type: 'PodScheduled', status: 'False', message: '0/1 nodes are available' }] }),
    ];
    const health = assessSolution(state, expected);
    expect(health).toMatchObject({ ready: false, terminal: false });
    expect(describeUnready(health)).toEqual([
      `Deployment/a: cannot pull image ${IMAGE} (ImagePullBackOff): Back-off pulling image`,
      'Deployment/b: cannot schedule pod b-7d9f-abcde: 0/1 nodes are available',
    ]);
  });

  it('is terminal when any object failed', () => {
    const state = readyState();
    state.deployments = [deployment('a'), deployment('b', startingStatus)];
    state.pods = [pod('a'), pod('b', { ready: false, containers: [waiting('b', 'InvalidImageName', 'bad ref')] })];
    const health = assessSolution(state, expected);
    expect(health).toMatchObject({ ready: false, terminal: true });
    expect(health.nodes.find((n) => n.kind === 'Deployment' && n.name === 'b')?.status).toBe('failed');
  });
});
