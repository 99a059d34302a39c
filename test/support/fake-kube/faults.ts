/**
 * Faults of the fake Kubernetes API server (a test double), settable while it runs. Each setter
 * returns a function that removes that fault again; `clear()` removes them all. The simulated
 * controllers ask the `…For` methods on every tick, so a fault added or removed later takes
 * effect on objects that already exist (a pod that is not Ready yet, a claim still Pending).
 */

export interface CrashLoopSpec {
  /** `lastState.terminated.reason`: `Error`, `OOMKilled`, … */
  reason: string;
  exitCode: number;
}

export interface RequestFailureRule {
  /** HTTP method to match (any when omitted). */
  method?: string;
  /** Substring of the path and query to match (any when omitted): `watch=true` picks watches. */
  pathIncludes?: string;
  status: number;
  /** How many matching requests fail; the rule is removed afterwards. */
  count: number;
  /** Response body; a Kubernetes `Status` matching `status` when omitted. */
  body?: unknown;
  /** `Retry-After` header in seconds; defaults to 1 for 429 and 503. */
  retryAfterSeconds?: number;
}

export interface FaultControls {
  /** Pods with a container whose image contains `imageSubstring` never pull it. */
  imagePull(imageSubstring: string, message?: string): () => void;
  /** Containers whose image matches start, exit and are restarted with a growing back-off. */
  crashLoop(imageSubstring: string, spec: CrashLoopSpec): () => void;
  /** Pods with a container whose image matches are never scheduled. */
  unschedulable(imageSubstring: string, message: string): () => void;
  /** Claims (of one storage class, or all) stay Pending with a ProvisioningFailed event. */
  pvcPending(message: string, options?: { storageClass?: string }): () => void;
  /** The next `count` requests that match answer `status`. */
  failRequests(rule: RequestFailureRule): () => void;
  /** Jobs whose name contains `nameSubstring` fail with `message`. */
  jobFails(nameSubstring: string, message: string): () => void;
  /**
   * SelfSubjectAccessReviews answer "denied" for this verb and resource (`deployments`,
   * `pods/log`; in `namespace`, or anywhere) — the RBAC the fake does not otherwise model.
   */
  denyAccess(rule: { verb: string; resource: string; namespace?: string }): () => void;
  /** Delay added to every request. */
  setLatency(ms: number): void;
  clear(): void;
}

interface Entry<T> {
  id: number;
  value: T;
}

class FaultList<T> {
  private entries: Entry<T>[] = [];
  private nextId = 1;

  add(value: T): () => void {
    const id = this.nextId;
    this.nextId += 1;
    this.entries.push({ id, value });
    return () => {
      this.entries = this.entries.filter((entry) => entry.id !== id);
    };
  }

  find(predicate: (value: T) => boolean): T | undefined {
    return this.entries.find((entry) => predicate(entry.value))?.value;
  }

  removeWhere(predicate: (value: T) => boolean): void {
    this.entries = this.entries.filter((entry) => !predicate(entry.value));
  }

  clear(): void {
    this.entries = [];
  }
}

export class Faults implements FaultControls {
  latencyMs: number;
  private readonly imagePulls = new FaultList<{ image: string; message: string | undefined }>();
  private readonly crashLoops = new FaultList<{ image: string; spec: CrashLoopSpec }>();
  private readonly unschedulables = new FaultList<{ image: string; message: string }>();
  private readonly deniedAccess = new FaultList<{ verb: string; resource: string; namespace?: string }>();
  private readonly pendingClaims = new FaultList<{ message: string; storageClass: string | undefined }>();
  private readonly requestFailures = new FaultList<{ rule: RequestFailureRule; remaining: { count: number } }>();
  private readonly jobFailures = new FaultList<{ name: string; message: string }>();

  constructor(latencyMs = 0) {
    this.latencyMs = latencyMs;
  }

  imagePull(imageSubstring: string, message?: string): () => void {
    return this.imagePulls.add({ image: imageSubstring, message });
  }

  crashLoop(imageSubstring: string, spec: CrashLoopSpec): () => void {
    return this.crashLoops.add({ image: imageSubstring, spec });
  }

  unschedulable(imageSubstring: string, message: string): () => void {
    return this.unschedulables.add({ image: imageSubstring, message });
  }

  denyAccess(rule: { verb: string; resource: string; namespace?: string }): () => void {
    return this.deniedAccess.add(rule);
  }

  /** Whether a review of this verb on this resource (with `/subresource`) in this namespace is denied. */
  accessDenied(verb: string, resource: string, namespace: string | undefined): boolean {
    return this.deniedAccess.find((rule) => rule.verb === verb && rule.resource === resource && (rule.namespace === undefined || rule.namespace === namespace)) !== undefined;
  }

  pvcPending(message: string, options: { storageClass?: string } = {}): () => void {
    return this.pendingClaims.add({ message, storageClass: options.storageClass });
  }

  failRequests(rule: RequestFailureRule): () => void {
    return this.requestFailures.add({ rule, remaining: { count: rule.count } });
  }

  jobFails(nameSubstring: string, message: string): () => void {
    return this.jobFailures.add({ name: nameSubstring, message });
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  clear(): void {
    this.imagePulls.clear();
    this.deniedAccess.clear();
    this.crashLoops.clear();
    this.unschedulables.clear();
    this.pendingClaims.clear();
    this.requestFailures.clear();
    this.jobFailures.clear();
  }

  imagePullFor(image: string): { message: string | undefined } | undefined {
    return this.imagePulls.find((fault) => image.includes(fault.image));
  }

  crashLoopFor(image: string): CrashLoopSpec | undefined {
    return this.crashLoops.find((fault) => image.includes(fault.image))?.spec;
  }

  unschedulableFor(images: readonly string[]): string | undefined {
    return this.unschedulables.find((fault) => images.some((image) => image.includes(fault.image)))?.message;
  }

  claimPendingFor(storageClass: string | undefined): string | undefined {
    return this.pendingClaims.find((fault) => fault.storageClass === undefined || fault.storageClass === storageClass)?.message;
  }

  jobFailureFor(jobName: string): string | undefined {
    return this.jobFailures.find((fault) => jobName.includes(fault.name))?.message;
  }

  /** The failure rule the request falls under, counting it down; undefined when none applies. */
  takeRequestFailure(method: string, path: string): RequestFailureRule | undefined {
    const match = this.requestFailures.find(
      ({ rule, remaining }) =>
        remaining.count > 0 &&
        (rule.method === undefined || rule.method.toUpperCase() === method.toUpperCase()) &&
        (rule.pathIncludes === undefined || path.includes(rule.pathIncludes)),
    );
    if (!match) return undefined;
    match.remaining.count -= 1;
    this.requestFailures.removeWhere((entry) => entry.remaining.count <= 0);
    return match.rule;
  }
}
