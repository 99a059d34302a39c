/**
 * Preflight: everything a deploy can learn about the target before it writes anything — the API
 * server and its version, the kube config's permissions (SelfSubjectAccessReviews), the
 * namespace, the shared folder's storage, the pull secret, the namespace's quotas, a server-side
 * dry run of every object, and what the orchestrator will accept of the solution's protos — and
 * the plan: which objects the apply would create, update (which fields), leave unchanged, and
 * which objects of an earlier revision it would prune. The deploy job runs it first and stops on a
 * failed check; `POST /api/v1/deployments?dryRun=true` runs it alone and writes nothing.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { AccessAttributes, ClusterClient } from '../../adapters/kubernetes/cluster-client.js';
import { describeObject, FIELD_MANAGER } from '../../adapters/kubernetes/apply.js';
import { KubernetesApplyError, KubernetesRequestError } from '../../adapters/kubernetes/errors.js';
import type { RenderedSolution } from '../../domain/manifests/render-solution.js';
import { errorMessage } from '../../errors.js';

export type CheckStatus = 'passed' | 'failed' | 'warning';

export interface PreflightCheck {
  name: string;
  status: CheckStatus;
  detail: string;
}

export interface PlanEntry {
  kind: string;
  name: string;
  /** `update` only: the changed fields, as paths (`spec.template.spec.containers[0].image`). */
  fields?: string[];
}

export interface DeployPlan {
  create: PlanEntry[];
  update: PlanEntry[];
  prune: PlanEntry[];
  unchanged: PlanEntry[];
}

export interface PreflightResult {
  passed: boolean;
  checks: PreflightCheck[];
  /** Absent when the cluster could not be read far enough to tell. */
  plan?: DeployPlan;
  checkedAt: string;
}

export interface PreflightInput {
  namespace: string;
  rendered: RenderedSolution;
  /** The deployment id this deploy labels its objects with: Slipway's objects labelled otherwise are pruned. */
  labelId: string;
  imagePullSecret?: string;
  storageClass?: string;
  /** The orchestrator's objections to the solution's protos, already worked out (pure). */
  protoProblems: Array<{ detail: string }>;
  /** Pipelines only: whether the protos were checked at all. */
  isPipeline: boolean;
}

/** Kinds a deploy writes and prunes, with their resource names for access reviews. */
const KINDS: Record<string, { apiVersion: string; group: string; resource: string }> = {
  Namespace: { apiVersion: 'v1', group: '', resource: 'namespaces' },
  PersistentVolumeClaim: { apiVersion: 'v1', group: '', resource: 'persistentvolumeclaims' },
  Service: { apiVersion: 'v1', group: '', resource: 'services' },
  Deployment: { apiVersion: 'apps/v1', group: 'apps', resource: 'deployments' },
  ConfigMap: { apiVersion: 'v1', group: '', resource: 'configmaps' },
  Secret: { apiVersion: 'v1', group: '', resource: 'secrets' },
};
const PRUNED_KINDS = ['Deployment', 'Service', 'PersistentVolumeClaim', 'ConfigMap', 'Secret'] as const;
const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';

export async function runPreflight(cluster: ClusterClient, input: PreflightInput, now: () => Date = () => new Date()): Promise<PreflightResult> {
  const checks: PreflightCheck[] = [];
  const add = (name: string, status: CheckStatus, detail: string) => checks.push({ name, status, detail });
  const done = (plan?: DeployPlan): PreflightResult => ({ passed: checks.every((c) => c.status !== 'failed'), checks, ...(plan ? { plan } : {}), checkedAt: now().toISOString() });

  // The protos need no cluster: checked first, reported whatever the cluster says.
  const protoCheck = (): void => {
    if (!input.isPipeline) return;
    if (input.protoProblems.length === 0) add('orchestrator protos', 'passed', 'Every node\'s proto can be merged by the orchestrator (proto3, one service each, no package, imports, top-level enums or extensions, no clashing services or messages)');
    else add('orchestrator protos', 'failed', input.protoProblems.map((p) => p.detail).join('; '));
  };

  // Everything at once, so the preflight costs about one round trip: what depends on the
  // namespace existing (the dry run) is sent anyway and read in the light of it.
  // What the namespace holds of the kinds a deploy writes: read once, for the quota and the plan.
  const present: Promise<KubernetesObject[]> = Promise.all(PRUNED_KINDS.map((kind) => cluster.listObjects({ apiVersion: KINDS[kind]?.apiVersion ?? 'v1', kind, namespace: input.namespace }))).then((lists) => lists.flat());
  present.catch(() => undefined);
  const [version, read, access, storage, pullSecret, quota, dryRun] = await Promise.all([
    cluster.serverVersion().then((v) => ({ ok: true as const, v }), (error: unknown) => ({ ok: false as const, error })),
    cluster.namespacePhase(input.namespace).catch((error: unknown) => error),
    checkAccess(cluster, input),
    checkStorage(cluster, input),
    readPullSecret(cluster, input),
    checkQuota(cluster, input, present),
    dryRunAll(cluster, input, present),
  ]);
  if (!version.ok) {
    add('api server', 'failed', `${cluster.system} cannot be reached: ${errorMessage(version.error)}`);
    protoCheck();
    return done();
  }
  add('api server', 'passed', `${cluster.system} answers, Kubernetes ${version.v}`);
  // A kube config bound to one namespace may not read the Namespace object: it is there, then.
  const unreadable = read instanceof KubernetesRequestError && read.httpStatus === 403;
  const phase = unreadable ? 'active' : read;
  const namespaceExists = phase === 'active';
  const accessChecks = access(phase === 'absent');
  checks.push(...accessChecks);
  if (phase instanceof Error) add('namespace', 'failed', `Reading namespace ${input.namespace} failed: ${errorMessage(phase)}`);
  else if (phase === 'terminating') add('namespace', 'failed', `Namespace ${input.namespace} is being deleted (Terminating): wait until it is gone, or deploy into another namespace`);
  else if (unreadable) add('namespace', 'warning', `This kube config may not read Namespace ${input.namespace}; the deploy assumes it exists (as a kube config bound to one namespace would)`);
  else if (phase === 'active') add('namespace', 'passed', `Namespace ${input.namespace} exists and is Active`);
  else add('namespace', accessChecks.some((c) => c.status === 'failed' && c.detail.includes('create namespaces')) ? 'failed' : 'passed', `Namespace ${input.namespace} does not exist; the deploy creates it`);
  const secret = pullSecret(namespaceExists);
  for (const check of [storage, secret, namespaceExists ? quota : undefined]) if (check) checks.push(check);
  const dry = dryRun(namespaceExists);
  checks.push(dry.check);
  protoCheck();
  return done(dry.plan);
}

/** The access reviews, sent before the namespace's state is known; judged once it is. */
async function checkAccess(cluster: ClusterClient, input: PreflightInput): Promise<(createsNamespace: boolean) => PreflightCheck[]> {
  const ns = input.namespace;
  const needs: Array<AccessAttributes & { why: 'apply' | 'diagnose' | 'new-namespace' }> = [];
  needs.push({ verb: 'create', group: '', resource: 'namespaces', why: 'new-namespace' });
  const kinds = new Set(input.rendered.objects.map((o) => o.kind ?? '').filter((k) => k !== 'Namespace'));
  for (const kind of kinds) {
    const k = KINDS[kind];
    if (!k) continue;
    for (const verb of ['get', 'create', 'patch', 'delete']) needs.push({ verb, group: k.group, resource: k.resource, namespace: ns, why: 'apply' });
  }
  for (const kind of ['Deployment', 'Service', 'PersistentVolumeClaim']) {
    const k = KINDS[kind];
    if (k) needs.push({ verb: 'list', group: k.group, resource: k.resource, namespace: ns, why: 'apply' });
  }
  needs.push({ verb: 'list', group: '', resource: 'pods', namespace: ns, why: 'apply' });
  needs.push({ verb: 'get', group: '', resource: 'pods', subresource: 'log', namespace: ns, why: 'diagnose' });
  needs.push({ verb: 'list', group: '', resource: 'events', namespace: ns, why: 'diagnose' });
  let decisions: Awaited<ReturnType<ClusterClient['reviewAccess']>>;
  try {
    decisions = await cluster.reviewAccess(needs);
  } catch (error: unknown) {
    return () => [{ name: 'permissions', status: 'warning', detail: `Could not ask the API server what this kube config may do (${errorMessage(error)}); the apply will tell` }];
  }
  return (createsNamespace) => {
    const asked = needs.map((need, i) => ({ need, allowed: decisions[i]?.allowed === true })).filter(({ need }) => need.why !== 'new-namespace' || createsNamespace);
    const name = (a: AccessAttributes) => `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.group ? `.${a.group}` : ''}${a.namespace ? ` in namespace ${a.namespace}` : ' (cluster-wide)'}`;
    const denied = asked.filter((a) => !a.allowed).map((a) => a.need);
    const blocking = denied.filter((a) => a.why !== 'diagnose');
    const diagnostics = denied.filter((a) => a.why === 'diagnose');
    const checks: PreflightCheck[] = [];
    if (blocking.length > 0) checks.push({ name: 'permissions', status: 'failed', detail: `This kube config may not ${blocking.map(name).join(', ')}: grant these (a Role and RoleBinding in the namespace) or use another kube config` });
    else checks.push({ name: 'permissions', status: 'passed', detail: `This kube config may do all ${asked.length - diagnostics.length} things the deploy needs in namespace ${ns}` });
    if (diagnostics.length > 0) checks.push({ name: 'diagnostic permissions', status: 'warning', detail: `This kube config may not ${diagnostics.map(name).join(', ')}: a failed deploy cannot show the pods' logs and events` });
    return checks;
  };
}

async function checkStorage(cluster: ClusterClient, input: PreflightInput): Promise<PreflightCheck | undefined> {
  if (input.rendered.persistentVolumeClaims.length === 0) return undefined;
  const name = 'shared folder storage';
  let classes: KubernetesObject[];
  try {
    classes = await cluster.listObjects({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass' });
  } catch (error: unknown) {
    return { name, status: 'warning', detail: `Could not list StorageClasses (${errorMessage(error)}): the shared folder's claim may stay Pending` };
  }
  const rwx = 'ReadWriteMany works only if its provisioner supports it (NFS, CephFS, Azure Files …; most block-storage provisioners do not)';
  if (input.storageClass !== undefined) {
    const found = classes.find((c) => c.metadata?.name === input.storageClass) as (KubernetesObject & { provisioner?: string }) | undefined;
    return found
      ? { name, status: 'warning', detail: `StorageClass ${input.storageClass} exists (provisioner ${found.provisioner ?? 'unknown'}); ${rwx}` }
      : { name, status: 'failed', detail: `StorageClass ${input.storageClass} (SHARED_FOLDER_STORAGE_CLASS) does not exist on this cluster; it has ${classes.map((c) => c.metadata?.name).join(', ') || 'none'}` };
  }
  const defaults = classes.filter((c) => c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true') as Array<KubernetesObject & { provisioner?: string }>;
  if (defaults[0]) return { name, status: 'warning', detail: `The default StorageClass ${defaults[0].metadata?.name} (provisioner ${defaults[0].provisioner ?? 'unknown'}) will provision the shared folder; ${rwx}` };
  return { name, status: 'warning', detail: 'No StorageClass is configured (SHARED_FOLDER_STORAGE_CLASS) and the cluster has no default one: the shared folder\'s claim binds only to a ReadWriteMany PersistentVolume made by hand' };
}

async function readPullSecret(cluster: ClusterClient, input: PreflightInput): Promise<(namespaceExists: boolean) => PreflightCheck | undefined> {
  const secretName = input.imagePullSecret;
  if (secretName === undefined) return () => undefined;
  const name = 'pull secret';
  const found = await cluster.readObject({ apiVersion: 'v1', kind: 'Secret', namespace: input.namespace, name: secretName }).then((o) => o !== undefined, (error: unknown) => error);
  return (namespaceExists) => {
    if (!namespaceExists) return { name, status: 'failed', detail: `IMAGE_PULL_SECRET is ${secretName}, but namespace ${input.namespace} does not exist yet, so neither does the Secret: create the namespace and the Secret in it first` };
    if (found === true) return { name, status: 'passed', detail: `Secret ${secretName} exists in namespace ${input.namespace}` };
    if (found === false) return { name, status: 'failed', detail: `Secret ${secretName} (IMAGE_PULL_SECRET) does not exist in namespace ${input.namespace}: the pods could not pull their images` };
    return { name, status: 'warning', detail: `Could not read Secret ${secretName} in namespace ${input.namespace} (${errorMessage(found)})` };
  };
}

/** Resource names a quota counts, and how many of them this deploy would add. */
function additions(input: PreflightInput, existing: ReadonlySet<string>): Record<string, number> {
  const fresh = (kind: string, objects: readonly KubernetesObject[]) => objects.filter((o) => !existing.has(`${kind}/${o.metadata?.name ?? ''}`));
  const pods = fresh('Deployment', input.rendered.deployments).reduce((sum, d) => sum + ((d as { spec?: { replicas?: number } }).spec?.replicas ?? 1), 0);
  const services = fresh('Service', input.rendered.services);
  const nodePorts = services.reduce((sum, s) => sum + ((s as { spec?: { type?: string; ports?: unknown[] } }).spec?.type === 'NodePort' ? ((s as { spec?: { ports?: unknown[] } }).spec?.ports?.length ?? 0) : 0), 0);
  const claims = fresh('PersistentVolumeClaim', input.rendered.persistentVolumeClaims).length;
  return {
    pods, 'count/pods': pods,
    services: services.length, 'count/services': services.length, 'services.nodeports': nodePorts,
    'count/deployments.apps': fresh('Deployment', input.rendered.deployments).length,
    persistentvolumeclaims: claims, 'count/persistentvolumeclaims': claims,
  };
}

async function checkQuota(cluster: ClusterClient, input: PreflightInput, present: Promise<KubernetesObject[]>): Promise<PreflightCheck | undefined> {
  const name = 'resource quota';
  let quotas: Array<KubernetesObject & { status?: { hard?: Record<string, string>; used?: Record<string, string> } }>;
  let existing: Set<string>;
  try {
    quotas = await cluster.listObjects({ apiVersion: 'v1', kind: 'ResourceQuota', namespace: input.namespace });
    if (quotas.length === 0) return { name, status: 'passed', detail: `No ResourceQuota in namespace ${input.namespace}` };
    existing = new Set((await present).map(describeObject));
  } catch (error: unknown) {
    return { name, status: 'warning', detail: `Could not read the ResourceQuotas of namespace ${input.namespace} (${errorMessage(error)})` };
  }
  const adds = additions(input, existing);
  const over: string[] = [];
  const unset: string[] = [];
  for (const quota of quotas) {
    const hard = quota.status?.hard ?? {};
    const used = quota.status?.used ?? {};
    for (const [resource, limit] of Object.entries(hard)) {
      const add = adds[resource];
      if (add !== undefined) {
        const room = Number(limit) - Number(used[resource] ?? 0);
        if (Number.isFinite(room) && add > room) over.push(`${quota.metadata?.name}: ${resource} ${used[resource] ?? 0} used of ${limit}, the deploy adds ${add}`);
      } else if (/^(requests|limits)\.|^(cpu|memory)$/.test(resource)) {
        unset.push(`${quota.metadata?.name} limits ${resource}`);
      }
    }
  }
  if (over.length > 0) return { name, status: 'failed', detail: `Not enough quota in namespace ${input.namespace}: ${over.join('; ')}` };
  if (unset.length > 0) return { name, status: 'warning', detail: `${unset.join('; ')}: pods without resource requests are refused unless a LimitRange gives them defaults` };
  return { name, status: 'passed', detail: `The ResourceQuotas of namespace ${input.namespace} leave room for what the deploy adds` };
}

/**
 * A server-side dry run of every object (validation, defaulting and admission as for the real
 * apply) and, from it, the plan: each object compared with what is there now. Sent before the
 * namespace's state is known: into a namespace that does not exist, only the Namespace counts.
 */
async function dryRunAll(cluster: ClusterClient, input: PreflightInput, present: Promise<KubernetesObject[]>): Promise<(namespaceExists: boolean) => { check: PreflightCheck; plan?: DeployPlan }> {
  const name = 'server-side dry run';
  const objects = input.rendered.objects.filter((o) => o.kind !== 'Namespace');
  const entry = (o: KubernetesObject): PlanEntry => ({ kind: o.kind ?? '', name: o.metadata?.name ?? '' });
  const apply = async (object: KubernetesObject): Promise<{ object?: KubernetesObject; refused?: string }> => {
    try {
      const [applied] = (await cluster.applyWaves([[object]], { fieldManager: FIELD_MANAGER, concurrency: 1, dryRun: true })).objects;
      return applied?.object ? { object: applied.object } : {};
    } catch (error: unknown) {
      if (error instanceof KubernetesApplyError || (error instanceof KubernetesRequestError && !error.transient)) return { refused: `${describeObject(object)}: ${errorMessage(error)}` };
      throw error;
    }
  };
  const [namespaceResult, held, results] = await Promise.all([
    apply(input.rendered.namespaceObject).catch((error: unknown) => ({ refused: `Namespace/${input.namespace}: ${errorMessage(error)}` })),
    present.catch((error: unknown) => error),
    Promise.all(objects.map((o) => apply(o))).catch((error: unknown) => error),
  ]);
  return (namespaceExists) => {
    const plan: DeployPlan = { create: [], update: [], prune: [], unchanged: [] };
    if (!namespaceExists) {
      if (namespaceResult.refused) return { check: { name, status: 'failed', detail: namespaceResult.refused } };
      plan.create.push(entry(input.rendered.namespaceObject), ...objects.map(entry));
      return { check: { name, status: 'warning', detail: `Namespace ${input.namespace} does not exist yet: only the Namespace could be dry-run; its ${objects.length} objects are checked by the apply` }, plan };
    }
    if (!Array.isArray(held) || !Array.isArray(results)) {
      const error = Array.isArray(held) ? results : held;
      return { check: { name, status: 'warning', detail: `The dry run could not be completed (${errorMessage(error)}); the apply will tell` } };
    }
    const existing = new Map(held.map((o) => [describeObject(o), o]));
    const rendered = new Set(objects.map(describeObject));
    const refused: string[] = [];
    objects.forEach((object, i) => {
      const result = results[i] ?? {};
      if (result.refused) refused.push(result.refused);
      const before = existing.get(describeObject(object));
      if (!before) plan.create.push(entry(object));
      else {
        const fields = result.object ? changedFields(before, result.object) : ['(refused by the dry run)'];
        if (fields.length === 0) plan.unchanged.push(entry(object));
        else plan.update.push({ ...entry(object), fields });
      }
    });
    // What the prune step removes: Slipway's objects of another deployment that this one does not render.
    for (const o of held) {
      const labels = o.metadata?.labels ?? {};
      if (labels['app.kubernetes.io/managed-by'] !== 'slipway' || labels['slipway.io/deployment-id'] === input.labelId) continue;
      if (!rendered.has(describeObject(o)) && o.metadata?.deletionTimestamp == null) plan.prune.push(entry(o));
    }
    if (refused.length > 0) return { check: { name, status: 'failed', detail: `The API server refuses ${refused.length} of ${objects.length} objects: ${refused.join('; ')}` }, plan };
    return { check: { name, status: 'passed', detail: `The API server accepts all ${objects.length} objects (validation and admission, nothing stored)` }, plan };
  };
}

/** Paths under spec, data and metadata.labels/annotations whose values differ. */
export function changedFields(before: KubernetesObject, after: KubernetesObject): string[] {
  const pick = (o: KubernetesObject) => {
    const value = o as unknown as Record<string, unknown>;
    return { metadata: { labels: o.metadata?.labels ?? {}, annotations: o.metadata?.annotations ?? {} }, spec: value.spec, data: value.data, stringData: value.stringData };
  };
  const out: string[] = [];
  diff(pick(before), pick(after), '', out);
  return out;
}

function diff(a: unknown, b: unknown, path: string, out: string[]): void {
  if (out.length >= 50) return;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) {
      out.push(path);
      return;
    }
    a.forEach((item, i) => diff(item, b[i], `${path}[${i}]`, out));
    return;
  }
  if (isRecord(a) && isRecord(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      diff(a[key], b[key], path === '' ? key : /^[A-Za-z_][\w]*$/.test(key) ? `${path}.${key}` : `${path}["${key}"]`, out);
    }
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(path);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
