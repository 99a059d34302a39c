/**
 * What the deploy benchmarks share (bench/deploy-apply.ts against the fake API server,
 * bench/real-kube-deploy.ts against the real control plane): the pipeline they deploy, the
 * reference deployer's sequential create-or-replace, and how figures are summarised.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  type V1Deployment,
  type V1Namespace,
  type V1PersistentVolumeClaim,
  type V1Service,
} from '@kubernetes/client-node';
import type { PipelineSolution } from '../../src/domain/solution.js';

/** A chain of `nodes` models, `model-1` → `model-2` → …: solution `bench`, revision `1`. */
export function benchPipeline(nodes: number): PipelineSolution {
  const names = Array.from({ length: nodes }, (_, i) => `model-${i + 1}`);
  const blueprint = {
    name: 'Bench Pipeline',
    version: '1',
    input_ports: [],
    nodes: names.map((name, i) => ({
      container_name: name,
      node_type: 'MLModel',
      image: `registry.example.org/bench/${name}:1`,
      proto_uri: `org/acumos/bench/${name}/1/${name}-1.proto`,
      operation_signature_list: [
        {
          operation_signature: { operation_name: 'step', input_message_name: 'Data', output_message_name: 'Data' },
          connected_to: i + 1 < names.length ? [{ container_name: names[i + 1], operation_signature: { operation_name: 'step' } }] : [],
        },
      ],
    })),
    probeIndicator: [{ value: 'false' }],
  };
  const proto = 'syntax = "proto3";\nmessage Data { string text = 1; }\nservice Model { rpc step(Data) returns (Data); }\n';
  return { kind: 'pipeline', solutionId: 'bench', revisionId: '1', name: 'Bench Pipeline', blueprint, protos: Object.fromEntries(names.map((n) => [n, proto])) };
}

/** Writes the pipeline where SOLUTION_SOURCE=local finds it: `<solutionsDir>/<solutionId>/<revisionId>/`. */
export async function writeLocalSolution(solutionsDir: string, solution: PipelineSolution): Promise<void> {
  const revision = path.join(solutionsDir, solution.solutionId, solution.revisionId);
  await mkdir(path.join(revision, 'microservice'), { recursive: true });
  await writeFile(path.join(revision, 'solution.json'), JSON.stringify({ name: solution.name, kind: 'pipeline' }));
  await writeFile(path.join(revision, 'blueprint.json'), JSON.stringify(solution.blueprint));
  for (const [name, text] of Object.entries(solution.protos)) await writeFile(path.join(revision, 'microservice', `${name}.proto`), text);
}

export type BaselineObject = V1Namespace | V1PersistentVolumeClaim | V1Service | V1Deployment;

/**
 * The reference deployer's way: for each object in order, read it, then replace it when it is
 * there or create it when it is not — one object at a time, with the same client library.
 */
export async function sequentialCreateOrReplace(kubeconfig: string, objects: readonly BaselineObject[], options: { keepAlive?: boolean } = {}): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  // The client library's default makes a new HTTPS agent, so a new TLS connection, for every
  // request; `keepAlive` gives every request of the run one kept-alive connection instead.
  if (options.keepAlive) keepOneConnection(kc);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const exists = async (read: () => Promise<unknown>) => read().then(() => true, () => false);
  for (const object of objects) {
    const name = object.metadata?.name ?? '';
    const namespace = object.metadata?.namespace ?? '';
    if (object.kind === 'Namespace') {
      const body = object as V1Namespace;
      if (await exists(() => core.readNamespace({ name }))) await core.replaceNamespace({ name, body });
      else await core.createNamespace({ body });
    } else if (object.kind === 'PersistentVolumeClaim') {
      const body = object as V1PersistentVolumeClaim;
      if (await exists(() => core.readNamespacedPersistentVolumeClaim({ name, namespace }))) await core.replaceNamespacedPersistentVolumeClaim({ name, namespace, body });
      else await core.createNamespacedPersistentVolumeClaim({ namespace, body });
    } else if (object.kind === 'Service') {
      const body = object as V1Service;
      if (await exists(() => core.readNamespacedService({ name, namespace }))) await core.replaceNamespacedService({ name, namespace, body });
      else await core.createNamespacedService({ namespace, body });
    } else {
      const body = object as V1Deployment;
      if (await exists(() => apps.readNamespacedDeployment({ name, namespace }))) await apps.replaceNamespacedDeployment({ name, namespace, body });
      else await apps.createNamespacedDeployment({ namespace, body });
    }
  }
}

/** Every request of `kc`'s clients over one kept-alive HTTPS connection (the kube config's CA and client certificate). */
function keepOneConnection(kc: KubeConfig): void {
  let agent: Promise<https.Agent> | undefined;
  const authenticate = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = async (context) => {
    await authenticate(context);
    agent ??= (async () => {
      const tls: https.RequestOptions = {};
      await kc.applyToHTTPSOptions(tls);
      return new https.Agent({ keepAlive: true, maxSockets: 1, ca: tls.ca, cert: tls.cert, key: tls.key });
    })();
    context.setAgent(await agent);
  };
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

export const range = (values: readonly number[]): string => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;
