/**
 * One ReadWriteMany PersistentVolumeClaim per blueprint SharedFolder. The first keeps the name
 * the reference deployer uses (`pipeline`) so a namespace it deployed is taken over cleanly.
 */
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { assignKubeNames } from '../names.js';
import { ANNOTATION_KEYS, commonLabels, type LabelContext } from './labels.js';
import type { SharedFolderMount } from './workload.js';

export const FIRST_SHARED_FOLDER_CLAIM = 'pipeline';

export interface SharedFolderClaimOptions {
  namespace: string;
  size: string;
  /** Absent: the cluster's default storage class. */
  storageClass?: string;
}

/** Claim name for each shared-folder path, in the order given; all distinct. */
export function sharedFolderClaimNames(paths: readonly string[]): Map<string, string> {
  const [first, ...others] = paths;
  const claims = new Map<string, string>();
  if (first === undefined) return claims;
  claims.set(first, FIRST_SHARED_FOLDER_CLAIM);
  const derived = assignKubeNames(
    others.map((path) => `${FIRST_SHARED_FOLDER_CLAIM}-${path}`),
    [FIRST_SHARED_FOLDER_CLAIM],
  );
  for (const path of others) claims.set(path, derived.get(`${FIRST_SHARED_FOLDER_CLAIM}-${path}`) ?? FIRST_SHARED_FOLDER_CLAIM);
  return claims;
}

export function renderSharedFolderClaim(
  folder: SharedFolderMount,
  context: LabelContext,
  options: SharedFolderClaimOptions,
): V1PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: folder.claimName,
      namespace: options.namespace,
      labels: commonLabels(context, folder.claimName, 'shared-folder'),
      annotations: { [ANNOTATION_KEYS.sharedFolderPath]: folder.path },
    },
    spec: {
      accessModes: ['ReadWriteMany'],
      resources: { requests: { storage: options.size } },
      ...(options.storageClass !== undefined ? { storageClassName: options.storageClass } : {}),
    },
  };
}
