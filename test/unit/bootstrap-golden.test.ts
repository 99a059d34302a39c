import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { clusterApiSpecFromPlan, renderClusterApi } from '../../src/domain/bootstrap/cluster-api.js';
import type { BootstrapHost } from '../../src/domain/bootstrap/hosts.js';
import { renderKudInventory } from '../../src/domain/bootstrap/inventory.js';
import { renderKudInstaller, renderSshKeySecret } from '../../src/domain/bootstrap/kud-installer.js';
import { planBootstrap, type BootstrapRequest } from '../../src/domain/bootstrap/request.js';
import { objectsToYaml } from '../../src/domain/manifests/yaml.js';
import { assertValidBootstrapObject } from '../support/bootstrap-schema.js';
import { SITE_A } from '../support/bootstrap-reporter.js';

const GOLDEN_DIR = fileURLToPath(new URL('./golden/bootstrap/', import.meta.url));
const JOB_ID = '5f0c2d8e-3b7a-4c1e-9f21-0a6b7c8d9e10';


const REQUEST_A: BootstrapRequest = {
  name: 'edge-a',
  kubernetesVersion: 'v1.29.3',
  podSubnet: '10.233.64.0/18',
  serviceSubnet: '10.233.0.0/18',
  addons: ['qat', 'sriov', 'multus'],
  engine: 'kud-job',
};

function matchGolden(file: string, actual: string): void {
  const path = `${GOLDEN_DIR}${file}`;
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(path, actual);
  }
  if (!existsSync(path)) throw new Error(`golden file ${file} is missing: run UPDATE_GOLDEN=1 npx vitest run test/unit/bootstrap-golden.test.ts`);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

describe('KUD inventory (golden)', () => {
  it('writes current Kubespray group names by default, etcd on the control plane', () => {
    const plan = planBootstrap(REQUEST_A, SITE_A);
    matchGolden('inventory-current.ini', renderKudInventory(plan.split, SITE_A, { cluster: 'edge-a' }));
  });

  it('writes the legacy group names on request; a single host is control plane and node', () => {
    const hosts: BootstrapHost[] = [{ name: 'solo', address: '192.168.50.10', role: 'compute' }];
    const plan = planBootstrap({ ...REQUEST_A, name: 'solo', addons: [] }, hosts);
    matchGolden('inventory-legacy-single.ini', renderKudInventory(plan.split, hosts, { cluster: 'solo', groupStyle: 'legacy' }));
  });

  it('marks a scale-out with the limit the installer runs with', () => {
    const hosts = [...SITE_A, { name: 'node-3', address: '10.10.0.23', role: 'compute' as const }];
    const plan = planBootstrap(REQUEST_A, hosts);
    matchGolden('inventory-scale-out.ini', renderKudInventory(plan.split, hosts, { cluster: 'edge-a', limit: ['node-3'] }));
  });
});

describe('KUD installer objects (golden, schema-checked)', () => {
  const plan = planBootstrap(REQUEST_A, SITE_A);
  const installer = renderKudInstaller(plan, SITE_A, {
    namespace: 'slipway-bootstrap',
    image: 'registry.example/kud/installer:2.4',
    jobId: JOB_ID,
    sshKeySecretName: 'edge-a-ssh',
  });
  const objects: KubernetesObject[] = installer.waves.flat();

  it('renders ServiceAccount, Role, RoleBinding, ConfigMap, then the Job', () => {
    matchGolden('kud-installer.yaml', objectsToYaml(objects));
    expect(installer.waves.map((wave) => wave.map((o) => o.kind))).toEqual([['ServiceAccount', 'Role', 'RoleBinding', 'ConfigMap'], ['Job']]);
  });

  it.each(objects.map((o) => [`${o.kind}/${o.metadata?.name ?? ''}`, o] as const))('%s is a valid Kubernetes object', (_name, object) => {
    expect(() => assertValidBootstrapObject(object)).not.toThrow();
  });

  it('the SSH key Secret is a valid ssh-auth Secret', () => {
    expect(() => assertValidBootstrapObject(renderSshKeySecret(plan, { namespace: 'slipway-bootstrap', jobId: JOB_ID }, 'edge-a-ssh', 'not a real key'))).not.toThrow();
  });
});

describe('Cluster API objects (golden, schema-checked)', () => {
  const plan = planBootstrap({ ...REQUEST_A, engine: 'cluster-api', addons: [] }, SITE_A);
  const rendered = renderClusterApi(clusterApiSpecFromPlan(plan, {
    namespace: 'metal3',
    controlPlaneEndpoint: { host: '10.10.0.100' },
    image: { url: 'http://images.example/ubuntu-22.04.qcow2', checksum: 'http://images.example/ubuntu-22.04.qcow2.sha256sum', checksumType: 'sha256', format: 'qcow2' },
    sshAuthorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnly slipway@example'],
    jobId: JOB_ID,
  }));

  it('renders the seven objects', () => {
    matchGolden('cluster-api.yaml', objectsToYaml(rendered.objects));
    expect(rendered.objects.map((o) => o.kind)).toEqual(['Metal3MachineTemplate', 'Metal3MachineTemplate', 'KubeadmConfigTemplate', 'Metal3Cluster', 'KubeadmControlPlane', 'MachineDeployment', 'Cluster']);
  });

  it.each(rendered.objects.map((o) => [`${o.kind}/${o.metadata?.name ?? ''}`, o] as const))('%s matches its CRD', (_name, object) => {
    expect(() => assertValidBootstrapObject(object)).not.toThrow();
  });
});
