/**
 * The real CustomResourceDefinitions of Cluster API v1.7.0 (Cluster, MachineDeployment,
 * KubeadmControlPlane, KubeadmConfigTemplate), Metal3 CAPM3 v1.7.0 (Metal3Cluster,
 * Metal3MachineTemplate) and the BareMetal Operator v0.6.0 (BareMetalHost): copied out of the Go
 * modules pinned in tools/kube/capi by scripts/capi-crds.sh (cached per machine, milliseconds when
 * cached), installed into a real control plane (test/support/real-kube.ts) with server-side apply.
 *
 * No Cluster API controller runs: the apiserver validates every object against the CRDs'
 * structural schemas (types, enums, required fields, defaults; an undeclared field is refused by
 * server-side apply and by strict field validation, and silently pruned by a create or update
 * without it), and nothing else. Conversion webhooks: none needed (each CRD serves one version,
 * which is also the storage version; strategy None); CAPI's admission webhooks are not there.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { ControlPlane } from './real-kube.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../scripts/capi-crds.sh', import.meta.url));
/** The field manager the CRDs are applied with: the same on every call, so a second apply changes nothing. */
export const CAPI_CRDS_FIELD_MANAGER = 'slipway-test-capi-crds';

export interface CapiCrd {
  /** `<plural>.<group>`, e.g. clusters.cluster.x-k8s.io */
  name: string;
  group: string;
  kind: string;
  plural: string;
  /** The served versions (one each in the pinned releases). */
  served: string[];
  storage: string;
  file: string;
}

let folder: Promise<string> | undefined;

/** The folder of the CRD files (scripts/capi-crds.sh's last line); the script runs once per process. */
export function capiCrdsDir(): Promise<string> {
  folder ??= run('bash', [SCRIPT], { maxBuffer: 4 * 1024 * 1024, timeout: 10 * 60_000 }).then(({ stdout }) => {
    const dir = stdout.trim().split('\n').at(-1) ?? '';
    if (!path.isAbsolute(dir)) throw new Error(`scripts/capi-crds.sh printed no folder: ${stdout}`);
    return dir;
  });
  return folder;
}

interface CrdDocument {
  metadata: { name: string };
  spec: { group: string; names: { kind: string; plural: string }; versions: Array<{ name: string; served: boolean; storage: boolean }> };
}

/** What each file defines (read from the files themselves). */
export async function capiCrds(): Promise<CapiCrd[]> {
  const dir = await capiCrdsDir();
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  return Promise.all(files.map(async (file) => {
    const docs = parseAllDocuments(await readFile(path.join(dir, file), 'utf8')).map((d) => d.toJS() as CrdDocument | null).filter((d): d is CrdDocument => d !== null);
    if (docs.length !== 1) throw new Error(`${file}: expected one CustomResourceDefinition, found ${docs.length} documents`);
    const crd = docs[0] as CrdDocument;
    return {
      name: crd.metadata.name,
      group: crd.spec.group,
      kind: crd.spec.names.kind,
      plural: crd.spec.names.plural,
      served: crd.spec.versions.filter((v) => v.served).map((v) => v.name),
      storage: crd.spec.versions.find((v) => v.storage)?.name ?? '',
      file: path.join(dir, file),
    };
  }));
}

/**
 * Installs the CRDs (server-side apply, one field manager: idempotent, and several test files or
 * runs may call it at once) and waits until each is Established and its group/version lists it
 * in discovery — what a client resolving the kind (Slipway's applyWaves) asks first.
 */
export async function installCapiCrds(plane: ControlPlane, options: { timeoutMs?: number } = {}): Promise<CapiCrd[]> {
  const crds = await capiCrds();
  const dir = await capiCrdsDir();
  const timeoutMs = options.timeoutMs ?? 60_000;
  await plane.kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager', CAPI_CRDS_FIELD_MANAGER, '-f', dir]);
  await plane.kubectl(['wait', '--for', 'condition=Established', `--timeout=${Math.ceil(timeoutMs / 1000)}s`, ...crds.map((c) => `customresourcedefinition/${c.name}`)]);
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    for (const version of crd.served) {
      for (;;) {
        const listed = await plane.kubectl(['get', '--raw', `/apis/${crd.group}/${version}`]).then((out) => JSON.parse(out) as { resources?: Array<{ name: string }> }, () => ({ resources: [] }));
        if (listed.resources?.some((r) => r.name === crd.plural)) break;
        if (Date.now() > deadline) throw new Error(`${crd.plural}.${crd.group}/${version} is not in discovery after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
  return crds;
}
