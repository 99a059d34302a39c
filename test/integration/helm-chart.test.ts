import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { attachControlPlane, realKubeUnavailable, type ControlPlane } from '../support/real-kube.js';

/**
 * helm/slipway installed for real: the helm binary built from tools/kube/helm (scripts/kube-build.sh,
 * next to kubectl) lints the chart, then installs, upgrades and uninstalls it in a namespace of the
 * run's real control plane (test/support/global-setup.ts), with the values an operator sets: an
 * external PostgreSQL, the secrets, an ingress with a host and TLS. The namespace enforces the
 * "restricted" Pod Security Standard, so the apiserver's PodSecurity admission judges the pods too.
 * kwok plays the kubelets: the pods are scheduled and reported Ready, no container runs.
 */
const execFileAsync = promisify(execFile);
const CHART = fileURLToPath(new URL('../../helm/slipway', import.meta.url));
const NAMESPACE = 'helm-chart';
const RELEASE = 'slipway';
const HOST = 'slipway.example.org';

const SECRETS = {
  DATABASE_URL: `postgres://slipway:${randomBytes(9).toString('hex')}@postgres.example.org:5432/slipway`,
  JWT_SECRET: randomBytes(24).toString('base64'),
  ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  CDS_PASSWORD: `cds-${randomBytes(9).toString('hex')}`,
  NEXUS_PASSWORD: `nexus-${randomBytes(9).toString('hex')}`,
  CALLBACK_SECRET: randomBytes(24).toString('base64'),
};
/** What an operator writes into a values file (JSON is YAML). */
const VALUES = {
  secrets: SECRETS,
  config: { PUBLIC_URL: `https://${HOST}/creodias-deployer` },
  ingress: { enabled: true, className: 'nginx', host: HOST, annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' }, tls: { enabled: true } },
};

interface KubeObject {
  kind: string;
  metadata: { name: string; uid?: string; generation?: number; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: unknown;
  data?: Record<string, string>;
  type?: string;
  status?: unknown;
}
interface Deployment extends KubeObject {
  spec: { replicas: number; template: { metadata: { annotations?: Record<string, string> }; spec: { containers: Array<{ envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }> }> } } };
  status: { availableReplicas?: number };
}
interface Ingress extends KubeObject {
  spec: {
    ingressClassName?: string;
    tls?: Array<{ hosts: string[]; secretName: string }>;
    rules: Array<{ host: string; http: { paths: Array<{ path: string; pathType: string; backend: { service: { name: string; port: { name?: string } } } }> } }>;
  };
}

const unavailable = realKubeUnavailable();
if (unavailable && process.env.CI === 'true') throw new Error(`CI=true but the real control plane cannot run: ${unavailable}`);
if (unavailable) console.warn(`Skipping the Helm chart tests: ${unavailable}`);

describe.runIf(!unavailable)('the Helm chart installed into the real Kubernetes control plane', () => {
  let plane: ControlPlane;
  let home: string;
  let valuesFile: string;

  /** The real helm, its caches and configuration in a temporary folder (nothing in the repo or $HOME). */
  async function helm(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
    const env = {
      ...process.env,
      KUBECONFIG: plane.kubeconfigFile,
      KUBECACHEDIR: path.join(home, 'kube-cache'),
      HELM_CACHE_HOME: path.join(home, 'cache'),
      HELM_CONFIG_HOME: path.join(home, 'config'),
      HELM_DATA_HOME: path.join(home, 'data'),
    };
    try {
      return await execFileAsync(path.join(plane.binDir, 'helm'), args, { env, maxBuffer: 16 * 1024 * 1024 });
    } catch (error: unknown) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new Error(`helm ${args.join(' ')} failed: ${String(error)}\n${stdout}\n${stderr}`);
    }
  }
  const get = async <T = KubeObject>(kind: string, name: string): Promise<T> => JSON.parse(await plane.kubectl(['get', kind, name, '-n', NAMESPACE, '-o', 'json'])) as T;
  const decoded = (data: Record<string, string> = {}) => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  /** Polls `probe` (bounded) until it holds: the controllers and kwok act asynchronously. */
  async function eventually(what: string, probe: () => Promise<boolean>): Promise<void> {
    for (let attempt = 0; attempt < 150; attempt += 1) {
      if (await probe()) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`still not true: ${what}`);
  }

  beforeAll(async () => {
    plane = await attachControlPlane(inject('realKubeDir'));
    home = await mkdtemp(path.join(os.tmpdir(), 'slipway-helm-'));
    valuesFile = path.join(home, 'values.yaml');
    await writeFile(valuesFile, JSON.stringify(VALUES, null, 2), { mode: 0o600 });
    await plane.kubectl(['create', 'namespace', NAMESPACE]);
    await plane.kubectl(['label', 'namespace', NAMESPACE, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/warn=restricted']);
  }, 120_000);

  afterAll(async () => {
    await plane?.kubectl(['delete', 'namespace', NAMESPACE, '--wait=false', '--ignore-not-found']).catch(() => undefined);
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('helm is the one built from tools/kube/helm, at the version its go.mod pins', async () => {
    const goMod = await readFile(fileURLToPath(new URL('../../tools/kube/helm/go.mod', import.meta.url)), 'utf8');
    const pinned = /^require helm\.sh\/helm\/v4 (v\S+)$/m.exec(goMod)?.[1];
    expect(pinned).toMatch(/^v4\./);
    const { stdout } = await helm(['version', '--template', '{{.Version}}']);
    expect(stdout.trim()).toBe(pinned);
  });

  it('`helm lint --strict` passes: with the defaults (secrets still to be given) and with the values above', async () => {
    const defaults = await helm(['lint', '--strict', CHART]);
    expect(defaults.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(defaults.stdout).not.toMatch(/\[(ERROR|WARNING)\]/);
    const given = await helm(['lint', '--strict', '--kube-version', 'v1.34.4', CHART, '-f', valuesFile]);
    expect(given.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(given.stdout).not.toMatch(/\[(ERROR|WARNING)\]/);
    expect(given.stderr).not.toContain('missing required');
  });

  it('installs: every object it renders is accepted and read back; the pods pass PodSecurity "restricted" and become available', async () => {
    const installed = await helm(['install', RELEASE, CHART, '--namespace', NAMESPACE, '-f', valuesFile, '--wait', '--timeout', '3m']);
    expect(installed.stdout).toContain('STATUS: deployed');
    // No PodSecurity warning (the namespace warns at "restricted" too).
    expect(installed.stderr).not.toMatch(/violate|PodSecurity/i);

    const manifest = (await helm(['get', 'manifest', RELEASE, '--namespace', NAMESPACE])).stdout;
    const rendered = manifest.split(/^---$/m).filter((doc) => /^kind:/m.test(doc)).length;
    const read = JSON.parse(await plane.kubectl(['get', '-n', NAMESPACE, '-f', '-', '-o', 'json'], manifest)) as { items: KubeObject[] };
    expect(read.items.length).toBe(rendered);
    expect(read.items.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['ConfigMap/slipway', 'Deployment/slipway', 'Ingress/slipway', 'Secret/slipway', 'Service/slipway']);
    for (const object of read.items) {
      expect(object.metadata.uid, object.kind).toBeTruthy();
      expect(object.metadata.labels?.['app.kubernetes.io/managed-by'], object.kind).toBe('Helm');
      expect(object.metadata.annotations?.['meta.helm.sh/release-name'], object.kind).toBe(RELEASE);
    }

    const deployment = await get<Deployment>('deployment', 'slipway');
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.status.availableReplicas).toBe(2);
    expect(deployment.spec.template.spec.containers[0]?.envFrom).toEqual([{ configMapRef: { name: 'slipway' } }, { secretRef: { name: 'slipway' } }]);
    const pods = JSON.parse(await plane.kubectl(['get', 'pods', '-n', NAMESPACE, '-l', `app.kubernetes.io/instance=${RELEASE}`, '-o', 'json'])) as { items: Array<{ status: { phase: string } }> };
    expect(pods.items.map((p) => p.status.phase)).toEqual(['Running', 'Running']);

    // The Service selects those pods: its EndpointSlice lists both.
    await eventually('the Service has two endpoints', async () => {
      const slices = JSON.parse(await plane.kubectl(['get', 'endpointslices', '-n', NAMESPACE, '-l', 'kubernetes.io/service-name=slipway', '-o', 'json'])) as { items: Array<{ endpoints?: unknown[] }> };
      return slices.items.flatMap((s) => s.endpoints ?? []).length === 2;
    });

    const ingress = await get<Ingress>('ingress', 'slipway');
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.metadata.annotations?.['cert-manager.io/cluster-issuer']).toBe('letsencrypt');
    expect(ingress.spec.tls).toEqual([{ hosts: [HOST], secretName: 'slipway-tls' }]);
    expect(ingress.spec.rules).toEqual([
      { host: HOST, http: { paths: [{ path: '/creodias-deployer', pathType: 'Prefix', backend: { service: { name: 'slipway', port: { name: 'http' } } } }] } },
    ]);
  }, 240_000);

  it('the secret values are in the Secret, and in neither the ConfigMap nor the Deployment', async () => {
    const secret = await get('secret', 'slipway');
    expect(secret.type).toBe('Opaque');
    expect(decoded(secret.data)).toEqual(SECRETS);
    const configMap = await get('configmap', 'slipway');
    expect(configMap.data?.PUBLIC_URL).toBe(`https://${HOST}/creodias-deployer`);
    expect(configMap.data?.BASE_PATH).toBe('/creodias-deployer');
    for (const [key, value] of Object.entries(SECRETS)) {
      expect(Object.keys(configMap.data ?? {}), key).not.toContain(key);
      expect(JSON.stringify(configMap), key).not.toContain(value);
      expect(JSON.stringify(await get('deployment', 'slipway')), key).not.toContain(value);
    }
  });

  it('`helm upgrade` with more replicas and another log level changes the objects in the apiserver and rolls the pods', async () => {
    const before = await get<Deployment>('deployment', 'slipway');
    const upgraded = await helm(['upgrade', RELEASE, CHART, '--namespace', NAMESPACE, '-f', valuesFile, '--set', 'replicaCount=3', '--set', 'config.LOG_LEVEL=debug', '--wait', '--timeout', '3m']);
    expect(upgraded.stdout).toContain('REVISION: 2');
    const after = await get<Deployment>('deployment', 'slipway');
    expect(after.spec.replicas).toBe(3);
    expect(after.status.availableReplicas).toBe(3);
    expect(after.metadata.generation).toBeGreaterThan(before.metadata.generation ?? 0);
    expect((await get('configmap', 'slipway')).data?.LOG_LEVEL).toBe('debug');
    // The ConfigMap's checksum in the pod template changed: a new ReplicaSet rolls the pods.
    const checksum = (d: Deployment) => d.spec.template.metadata.annotations?.['checksum/config'];
    expect(checksum(after)).toBeTruthy();
    expect(checksum(after)).not.toBe(checksum(before));
    const status = JSON.parse((await helm(['status', RELEASE, '--namespace', NAMESPACE, '-o', 'json'])).stdout) as { version: number; info: { status: string } };
    expect(status).toMatchObject({ version: 2, info: { status: 'deployed' } });
  }, 240_000);

  it('`helm uninstall` removes every object of the release, and the release itself', async () => {
    const manifest = (await helm(['get', 'manifest', RELEASE, '--namespace', NAMESPACE])).stdout;
    await helm(['uninstall', RELEASE, '--namespace', NAMESPACE, '--wait', '--timeout', '2m']);
    // Each object of the manifest, asked for by name: kubectl prints nothing when none is found.
    const left = await plane.kubectl(['get', '-n', NAMESPACE, '-f', '-', '-o', 'name', '--ignore-not-found'], manifest);
    expect(left.trim()).toBe('');
    const labelled = JSON.parse(await plane.kubectl(['get', 'deployments,replicasets,services,configmaps,secrets,ingresses', '-n', NAMESPACE, '-l', `app.kubernetes.io/instance=${RELEASE}`, '-o', 'json'])) as { items: KubeObject[] };
    expect(labelled.items).toEqual([]);
    const secrets = JSON.parse(await plane.kubectl(['get', 'secrets', '-n', NAMESPACE, '-o', 'json'])) as { items: KubeObject[] };
    expect(secrets.items.map((s) => s.metadata.name).filter((name) => name.startsWith('sh.helm.release.'))).toEqual([]);
    expect((await helm(['list', '--namespace', NAMESPACE, '-q'])).stdout.trim()).toBe('');
    await expect(helm(['status', RELEASE, '--namespace', NAMESPACE])).rejects.toThrow(/release: not found/);
    // The garbage collector removes the ReplicaSets' pods after the Deployment.
    await eventually('the pods are gone', async () => {
      const pods = JSON.parse(await plane.kubectl(['get', 'pods', '-n', NAMESPACE, '-o', 'json'])) as { items: unknown[] };
      return pods.items.length === 0;
    });
  }, 240_000);
});
