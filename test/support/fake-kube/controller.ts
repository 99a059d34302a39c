/**
 * The control loop of the fake Kubernetes API server (a test double): a timer that, every tick,
 * finishes namespace deletions (contents first, the Namespace itself after a configurable number
 * of ticks), establishes CustomResourceDefinitions (serving their kinds), runs the Deployment and
 * Job controllers, moves pods along (scheduler + kubelet) and binds PersistentVolumeClaims —
 * unless a fault keeps a claim Pending, with a ProvisioningFailed event.
 */
import type { Admission } from './admission.js';
import { EventRecorder } from './events.js';
import type { Faults } from './faults.js';
import type { LogBook } from './logs.js';
import { PodSimulator, type NodePlacement } from './pods.js';
import type { ResourceRegistry } from './resources.js';
import type { ObjectStore } from './store.js';
import { asArray, asRecord, asString, nowIso, readPath, type KubeObject, type ResourceType } from './types.js';
import { DeploymentController, JobController, type JobCompleteHook } from './workloads.js';

export interface ControllerDeps {
  store: ObjectStore;
  registry: ResourceRegistry;
  admission: Admission;
  faults: Faults;
  logs: LogBook;
  jobHooks: JobCompleteHook[];
  tickMs: number;
  namespaceDeletionTicks: () => number;
}

function requiredType(registry: ResourceRegistry, group: string, kind: string): ResourceType {
  const resource = registry.byKind(group, kind);
  if (!resource) throw new Error(`fake-kube: built-in resource ${kind} missing`);
  return resource;
}

export class ClusterController {
  private timer: NodeJS.Timeout | undefined;
  /** Steps run one after the other, whether the timer or a test (`tick()`) asked for them. */
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;
  private readonly deletionTicks = new Map<string, number>();
  private readonly crdTypes = new Map<string, ResourceType[]>();
  private readonly types: Record<'pods' | 'deployments' | 'jobs' | 'claims' | 'namespaces' | 'nodes' | 'crds' | 'events', ResourceType>;
  private readonly events: EventRecorder;
  private readonly pods: PodSimulator;
  private readonly deployments: DeploymentController;
  private readonly jobs: JobController;

  constructor(private readonly deps: ControllerDeps) {
    const { registry, store } = deps;
    this.types = {
      pods: requiredType(registry, '', 'Pod'),
      deployments: requiredType(registry, 'apps', 'Deployment'),
      jobs: requiredType(registry, 'batch', 'Job'),
      claims: requiredType(registry, '', 'PersistentVolumeClaim'),
      namespaces: requiredType(registry, '', 'Namespace'),
      nodes: requiredType(registry, '', 'Node'),
      crds: requiredType(registry, 'apiextensions.k8s.io', 'CustomResourceDefinition'),
      events: requiredType(registry, '', 'Event'),
    };
    this.events = new EventRecorder(store, this.types.events, () => this.placement().name);
    this.pods = new PodSimulator(store, this.types.pods, this.events, deps.faults, deps.logs, () => this.placement());
    this.deployments = new DeploymentController(store, this.types, deps.admission, this.events);
    this.jobs = new JobController(store, this.types, deps.admission, this.events, deps.faults, deps.jobHooks);
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.pending > 0) return;
      // A failing step is a bug in the double: say so loudly rather than freeze the cluster quietly.
      this.tick().catch((error: unknown) => console.error('fake-kube: controller step failed', error));
    }, this.deps.tickMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.queue;
  }

  namespaceDeleting(name: string): void {
    if (!this.deletionTicks.has(name)) this.deletionTicks.set(name, 0);
    if (this.deps.namespaceDeletionTicks() <= 0) this.finishNamespaceDeletions();
  }

  tick(): Promise<void> {
    this.pending += 1;
    const run = this.queue.then(() => this.step()).finally(() => {
      this.pending -= 1;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async step(): Promise<void> {
    this.finishNamespaceDeletions();
    this.establishCrds();
    await this.deployments.tick();
    await this.jobs.tick();
    await this.pods.tick();
    this.bindClaims();
  }

  /** Where pods go: the first node, by its InternalIP. */
  private placement(): NodePlacement {
    const node = this.deps.store.list(this.types.nodes)[0];
    const addresses = asArray(readPath(node, 'status.addresses')).map(asRecord);
    const ip = asString(addresses.find((a) => a.type === 'InternalIP')?.address) ?? '10.0.0.11';
    return { name: node?.metadata.name ?? 'node-1', ip };
  }

  private finishNamespaceDeletions(): void {
    const { store } = this.deps;
    for (const [name, ticks] of this.deletionTicks) {
      for (const { resource, object } of store.entries()) {
        if (resource.namespaced && object.metadata.namespace === name) {
          store.remove(resource, name, object.metadata.name ?? '');
        }
      }
      if (ticks + 1 >= this.deps.namespaceDeletionTicks()) {
        store.remove(this.types.namespaces, undefined, name);
        this.deletionTicks.delete(name);
      } else {
        this.deletionTicks.set(name, ticks + 1);
      }
    }
  }

  private bindClaims(): void {
    const { store, faults } = this.deps;
    for (const claim of store.list(this.types.claims)) {
      if (readPath(claim, 'status.phase') !== 'Pending') continue;
      const storageClass = asString(readPath(claim, 'spec.storageClassName'));
      const message = faults.claimPendingFor(storageClass);
      if (message !== undefined) {
        this.events.record(claim, { reason: 'ProvisioningFailed', message, type: 'Warning', component: 'persistentvolume-controller' });
        continue;
      }
      const spec = asRecord(claim.spec);
      const volumeName = `pvc-${claim.metadata.uid ?? ''}`;
      this.events.record(claim, { reason: 'ProvisioningSucceeded', message: `Successfully provisioned volume ${volumeName}`, type: 'Normal', component: 'persistentvolume-controller' });
      store.write(this.types.claims, {
        ...claim,
        metadata: {
          ...claim.metadata,
          annotations: { ...claim.metadata.annotations, 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' },
        },
        spec: { ...spec, volumeName },
        status: {
          phase: 'Bound',
          accessModes: spec.accessModes ?? ['ReadWriteOnce'],
          capacity: { storage: asString(readPath(spec, 'resources.requests.storage')) ?? '1Gi' },
        },
      });
    }
  }

  /** Serves the kinds of every CustomResourceDefinition and stops serving those whose definition is gone. */
  private establishCrds(): void {
    const { store, registry } = this.deps;
    const live = new Set<string>();
    for (const crd of store.list(this.types.crds)) {
      const name = crd.metadata.name ?? '';
      live.add(name);
      const types = crdResourceTypes(crd);
      for (const type of types) registry.register(type);
      this.crdTypes.set(name, types);
      this.markEstablished(crd);
    }
    for (const [name, types] of this.crdTypes) {
      if (live.has(name)) continue;
      for (const type of types) {
        for (const object of store.list(type)) store.remove(type, object.metadata.namespace, object.metadata.name ?? '');
        registry.unregister(type.group, type.plural);
      }
      this.crdTypes.delete(name);
    }
  }

  private markEstablished(crd: KubeObject): void {
    if (asArray(readPath(crd, 'status.conditions')).some((c) => readPath(c, 'type') === 'Established')) return;
    const now = nowIso();
    const accepted = { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: now };
    const established = { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: now };
    const storedVersions = asArray(readPath(crd, 'spec.versions')).map(asRecord).filter((v) => v.storage === true).map((v) => v.name);
    this.deps.store.write(this.types.crds, {
      ...crd,
      status: { acceptedNames: readPath(crd, 'spec.names'), conditions: [accepted, established], storedVersions },
    });
  }
}

function crdResourceTypes(crd: KubeObject): ResourceType[] {
  const spec = asRecord(crd.spec);
  const names = asRecord(spec.names);
  const group = asString(spec.group) ?? '';
  const kind = asString(names.kind) ?? '';
  const plural = asString(names.plural) ?? '';
  const shortNames = asArray(names.shortNames).filter((n): n is string => typeof n === 'string');
  return asArray(spec.versions).map(asRecord).filter((v) => v.served !== false).map((v) => ({
    group,
    version: asString(v.name) ?? 'v1',
    kind,
    plural,
    singular: asString(names.singular) ?? kind.toLowerCase(),
    namespaced: spec.scope !== 'Cluster',
    ...(shortNames.length > 0 ? { shortNames } : {}),
    subresources: readPath(v, 'subresources.status') !== undefined ? ['status'] : [],
    custom: true,
  }));
}
