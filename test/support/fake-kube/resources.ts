/**
 * The resource types the fake Kubernetes API server (a test double) serves, and the discovery
 * documents built from them (`/api`, `/api/v1`, `/apis`, `/apis/<group>/<version>`), which is
 * what `KubernetesObjectApi` reads to learn a kind's plural and whether it is namespaced.
 */
import { groupVersionOf, type ResourceType } from './types.js';

const BUILT_IN: readonly ResourceType[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', singular: 'namespace', namespaced: false, shortNames: ['ns'], subresources: ['status'] },
  { group: '', version: 'v1', kind: 'Node', plural: 'nodes', singular: 'node', namespaced: false, shortNames: ['no'], subresources: ['status'] },
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', singular: 'pod', namespaced: true, shortNames: ['po'], subresources: ['status', 'log'] },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', singular: 'service', namespaced: true, shortNames: ['svc'], subresources: ['status'] },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', singular: 'secret', namespaced: true, subresources: [] },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', singular: 'configmap', namespaced: true, shortNames: ['cm'], subresources: [] },
  { group: '', version: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', singular: 'persistentvolumeclaim', namespaced: true, shortNames: ['pvc'], subresources: ['status'] },
  { group: '', version: 'v1', kind: 'Event', plural: 'events', singular: 'event', namespaced: true, shortNames: ['ev'], subresources: [] },
  { group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', singular: 'serviceaccount', namespaced: true, shortNames: ['sa'], subresources: [] },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', singular: 'deployment', namespaced: true, shortNames: ['deploy'], subresources: ['status'] },
  { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', singular: 'job', namespaced: true, subresources: ['status'] },
  { group: '', version: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', singular: 'resourcequota', namespaced: true, shortNames: ['quota'], subresources: ['status'] },
  { group: 'storage.k8s.io', version: 'v1', kind: 'StorageClass', plural: 'storageclasses', singular: 'storageclass', namespaced: false, shortNames: ['sc'], subresources: [] },
  { group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectAccessReview', plural: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', namespaced: false, subresources: [] },
  { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', singular: 'customresourcedefinition', namespaced: false, shortNames: ['crd'], subresources: ['status'] },
];

/** Whether only the `/status` sub-resource (or the simulated controllers) may write the status. */
export function hasStatusSubresource(resource: ResourceType): boolean {
  return resource.subresources.includes('status');
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export class ResourceRegistry {
  private readonly types: ResourceType[] = [...BUILT_IN];

  /** Adds (or replaces) a served resource type, e.g. for a custom resource. */
  register(resource: ResourceType): void {
    const index = this.types.findIndex(
      (t) => t.group === resource.group && t.version === resource.version && t.plural === resource.plural,
    );
    if (index >= 0) this.types[index] = resource;
    else this.types.push(resource);
  }

  unregister(group: string, plural: string): void {
    for (let i = this.types.length - 1; i >= 0; i -= 1) {
      const t = this.types[i];
      if (t !== undefined && t.group === group && t.plural === plural) this.types.splice(i, 1);
    }
  }

  byPlural(group: string, version: string, plural: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.version === version && t.plural === plural);
  }

  /** Finds a kind in a group; the version is matched when given, else any served version. */
  byKind(group: string, kind: string, version?: string): ResourceType | undefined {
    return this.types.find(
      (t) => t.group === group && t.kind === kind && (version === undefined || t.version === version),
    );
  }

  all(): readonly ResourceType[] {
    return this.types;
  }

  groupVersions(): string[] {
    return [...new Set(this.types.map(groupVersionOf))];
  }

  /** `/api/v1` or `/apis/<group>/<version>`; undefined when nothing is served there. */
  resourceList(group: string, version: string): Record<string, unknown> | undefined {
    const served = this.types.filter((t) => t.group === group && t.version === version);
    if (served.length === 0) return undefined;
    const resources: Record<string, unknown>[] = [];
    for (const t of served) {
      resources.push({
        name: t.plural,
        singularName: t.singular,
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: VERBS,
        ...(t.shortNames ? { shortNames: t.shortNames } : {}),
      });
      for (const sub of t.subresources) {
        resources.push({
          name: `${t.plural}/${sub}`,
          singularName: '',
          namespaced: t.namespaced,
          kind: sub === 'log' ? 'Pod' : t.kind,
          verbs: sub === 'log' ? ['get'] : ['get', 'patch', 'update'],
        });
      }
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersionOf({ group, version }), resources };
  }

  /** `/apis`: every named group with its versions. */
  groupList(): Record<string, unknown> {
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: this.namedGroups().map((g) => this.groupDocument(g)) };
  }

  /** `/apis/<group>`; undefined when the group is not served. */
  group(name: string): Record<string, unknown> | undefined {
    return this.namedGroups().includes(name) ? { kind: 'APIGroup', apiVersion: 'v1', ...this.groupDocument(name) } : undefined;
  }

  private namedGroups(): string[] {
    return [...new Set(this.types.map((t) => t.group).filter((g) => g !== ''))];
  }

  private groupDocument(name: string): Record<string, unknown> {
    const versions = [...new Set(this.types.filter((t) => t.group === name).map((t) => t.version))].map(
      (version) => ({ groupVersion: `${name}/${version}`, version }),
    );
    return { name, versions, preferredVersion: versions[0] };
  }
}

export function coreVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

export const VERSION_INFO = {
  major: '1',
  minor: '30',
  gitVersion: 'v1.30.0-fake-kube',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2024-01-01T00:00:00Z',
  goVersion: 'go1.22.0',
  compiler: 'gc',
  platform: 'linux/amd64',
} as const;
