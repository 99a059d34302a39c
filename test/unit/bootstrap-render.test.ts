import type { V1EnvVar } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { clusterApiSpecFromPlan, renderClusterApi, type ClusterApiSpec } from '../../src/domain/bootstrap/cluster-api.js';
import type { BootstrapHost } from '../../src/domain/bootstrap/hosts.js';
import { renderKudInstaller } from '../../src/domain/bootstrap/kud-installer.js';
import { installerJobName } from '../../src/domain/bootstrap/labels.js';
import { planBootstrap, type BootstrapRequest } from '../../src/domain/bootstrap/request.js';
import { ValidationError } from '../../src/errors.js';
import { assertValidBootstrapObject } from '../support/bootstrap-schema.js';

const HOSTS: BootstrapHost[] = [
  { name: 'cp-1', address: '10.10.0.11', role: 'control-plane' },
  { name: 'node-1', address: '10.10.0.21', role: 'compute' },
  { name: 'node-2', address: '10.10.0.22', role: 'compute' },
];
const REQUEST: BootstrapRequest = { name: 'edge-b', kubernetesVersion: 'v1.30.1', podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', addons: ['sriov'], engine: 'kud-job' };
const JOB_ID = 'a3c1e9d2-0000-4000-8000-000000000001';

function envOf(env: V1EnvVar[] | undefined): Record<string, string | undefined> {
  return Object.fromEntries((env ?? []).map((e) => [e.name, e.value]));
}

describe('renderKudInstaller', () => {
  const plan = planBootstrap(REQUEST, HOSTS);
  const options = { namespace: 'bootstrap', image: 'kud:1', jobId: JOB_ID };

  it('a Job that runs once, never restarts, mounts the inventory and is tied to the bootstrap job', () => {
    const { job, configMap, names } = renderKudInstaller(plan, HOSTS, options);
    expect(job.spec?.backoffLimit).toBe(0);
    expect(job.spec?.template.spec?.restartPolicy).toBe('Never');
    expect(job.spec?.template.spec?.volumes).toEqual([{ name: 'inventory', configMap: { name: configMap.metadata?.name } }]);
    expect(job.metadata?.labels?.['slipway.io/bootstrap-job']).toBe(JOB_ID);
    expect(configMap.metadata?.labels?.['slipway.io/bootstrap-job']).toBe(JOB_ID);
    expect(job.spec?.template.metadata?.labels?.['slipway.io/installer-job']).toBe(names.job);
    expect(names.podSelector).toBe(`slipway.io/installer-job=${names.job}`);
    expect(configMap.data?.['hosts.ini']).toContain('[kube_control_plane]\ncp-1\n');
  });

  it('passes version, subnets and add-ons (nfd first) to the installer', () => {
    const env = envOf(renderKudInstaller(plan, HOSTS, options).job.spec?.template.spec?.containers[0]?.env);
    expect(env).toMatchObject({
      KUD_ACTION: 'install',
      KUBE_VERSION: 'v1.30.1',
      KUBE_PODS_SUBNET: '10.244.0.0/16',
      KUBE_SERVICE_ADDRESSES: '10.96.0.0/12',
      KUD_ADDONS: 'nfd sriov',
      KUD_ADMIN_CONF_SECRET: 'edge-b-admin-conf',
      KUD_ADMIN_CONF_KEY: 'admin.conf',
    });
    expect(env.KUD_LIMIT).toBeUndefined();
  });

  it('a scale-out runs with --limit on the new worker', () => {
    const installer = renderKudInstaller(plan, HOSTS, { ...options, scaleOut: ['node-2'] });
    expect(envOf(installer.job.spec?.template.spec?.containers[0]?.env)).toMatchObject({ KUD_ACTION: 'scale', KUD_LIMIT: 'node-2' });
    expect(installer.inventory).toContain('# Scale-out: the installer runs with --limit=node-2.');
  });

  it('refuses to scale out a control-plane node or a stranger', () => {
    expect(() => renderKudInstaller(plan, HOSTS, { ...options, scaleOut: ['cp-1', 'node-9'] })).toThrow(ValidationError);
    expect(() => renderKudInstaller(plan, HOSTS, { ...options, scaleOut: ['cp-1', 'node-9'] })).toThrow(/cp-1 is a control-plane node; scale-out adds workers only; scaleOut: node-9 is not a worker/);
  });

  it('the same bootstrap job names the same Job; another one a new Job', () => {
    expect(installerJobName('edge-b', JOB_ID)).toBe(renderKudInstaller(plan, HOSTS, options).names.job);
    expect(installerJobName('edge-b', 'another-job')).not.toBe(installerJobName('edge-b', JOB_ID));
    // The longest cluster name still gives a Job name that is a label (pods carry it as job-name).
    expect(installerJobName('x'.repeat(40), JOB_ID).length).toBeLessThanOrEqual(63);
  });
});

describe('renderClusterApi', () => {
  const spec: ClusterApiSpec = {
    name: 'edge-c', namespace: 'metal3', kubernetesVersion: 'v1.29.3', podSubnet: '192.168.0.0/18', serviceSubnet: '10.96.0.0/12',
    controlPlaneReplicas: 1, workerReplicas: 2, controlPlaneEndpoint: { host: '10.10.0.11', port: 6443 },
    image: { url: 'https://images.example/u.raw', checksum: 'a'.repeat(64), checksumType: 'sha256' },
  };

  it('references tie together: Cluster → KubeadmControlPlane, Metal3Cluster; pools → their templates', () => {
    const { objects, names } = renderClusterApi(spec);
    const byKind = (kind: string) => objects.filter((o) => o.kind === kind) as Array<{ metadata: { name: string }; spec: Record<string, unknown> }>;
    const cluster = byKind('Cluster')[0];
    expect(cluster?.spec).toMatchObject({
      controlPlaneRef: { kind: 'KubeadmControlPlane', name: byKind('KubeadmControlPlane')[0]?.metadata.name },
      infrastructureRef: { kind: 'Metal3Cluster', name: byKind('Metal3Cluster')[0]?.metadata.name },
    });
    const templateNames = byKind('Metal3MachineTemplate').map((t) => t.metadata.name);
    expect(byKind('KubeadmControlPlane')[0]?.spec).toMatchObject({ replicas: 1, machineTemplate: { infrastructureRef: { name: templateNames[0] } } });
    expect(byKind('MachineDeployment')[0]?.spec).toMatchObject({
      replicas: 2,
      template: { spec: { infrastructureRef: { name: templateNames[1] }, bootstrap: { configRef: { name: byKind('KubeadmConfigTemplate')[0]?.metadata.name } } } },
    });
    expect(names.kubeconfigSecret).toBe('edge-c-kubeconfig');
    for (const object of objects) expect(() => assertValidBootstrapObject(object)).not.toThrow();
  });

  it('replicas come from the split; a cluster without workers untaints its control plane', () => {
    const solo: BootstrapHost[] = [{ name: 'solo', address: '10.10.0.5', role: 'compute' }];
    const plan = planBootstrap({ ...REQUEST, name: 'solo', addons: [], engine: 'cluster-api' }, solo);
    const rendered = renderClusterApi(clusterApiSpecFromPlan(plan, { namespace: 'metal3', controlPlaneEndpoint: { host: '10.10.0.5' }, image: spec.image }));
    const kcp = rendered.objects.find((o) => o.kind === 'KubeadmControlPlane') as unknown as { spec: { replicas: number; kubeadmConfigSpec: { initConfiguration: { nodeRegistration: { taints?: unknown[] } } } } };
    expect(kcp.spec.replicas).toBe(1);
    expect(kcp.spec.kubeadmConfigSpec.initConfiguration.nodeRegistration.taints).toEqual([]);
    expect((rendered.objects.find((o) => o.kind === 'MachineDeployment') as unknown as { spec: { replicas: number } }).spec.replicas).toBe(0);
    for (const object of rendered.objects) expect(() => assertValidBootstrapObject(object)).not.toThrow();
  });

  it('lists every problem of a bad spec', () => {
    try {
      renderClusterApi({ ...spec, controlPlaneReplicas: 2, workerReplicas: -1, controlPlaneEndpoint: { host: 'not a host', port: 70000 }, image: { url: 'ftp://x', checksum: 'abc', checksumType: 'sha256' } });
      expect.unreachable();
    } catch (error: unknown) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).extra.problems).toEqual([
        'controlPlaneReplicas 2 must be an odd number (1, 3, 5): etcd needs a majority',
        'workerReplicas -1 must be a whole number, 0 or more',
        'controlPlaneEndpoint.host "not a host" must be an IP address or a DNS name',
        'controlPlaneEndpoint.port 70000 must be between 1 and 65535',
        'image.url "ftp://x" must be an http(s) URL',
        'image.checksum must be a 64-character lower-case hex sha256 digest or the URL of a checksum file',
      ]);
    }
  });
});

describe('the schema check itself', () => {
  it('catches a misspelt CAPI field, a wrong type and a missing required field', () => {
    const { objects } = renderClusterApi({
      name: 'x', namespace: 'metal3', kubernetesVersion: 'v1.29.3', podSubnet: '192.168.0.0/18', serviceSubnet: '10.96.0.0/12',
      controlPlaneReplicas: 1, workerReplicas: 1, controlPlaneEndpoint: { host: '10.0.0.1' },
      image: { url: 'https://i/u.raw', checksum: 'b'.repeat(64), checksumType: 'sha256' },
    });
    const md = structuredClone(objects.find((o) => o.kind === 'MachineDeployment')) as unknown as { spec: Record<string, unknown> };
    md.spec.replicaz = 1;
    md.spec.replicas = '1';
    delete md.spec.clusterName;
    expect(() => assertValidBootstrapObject(md)).toThrow(/clusterName: required[\s\S]*spec\.replicas: expected an integer[\s\S]*spec\.replicaz: unknown field/);
  });

  it('catches an unknown field in a Job', () => {
    const { job } = renderKudInstaller(planBootstrap(REQUEST, HOSTS), HOSTS, { namespace: 'bootstrap', image: 'kud:1', jobId: JOB_ID });
    const broken = structuredClone(job) as unknown as { spec: Record<string, unknown> };
    broken.spec.backofLimit = 0;
    expect(() => assertValidBootstrapObject(broken)).toThrow(/spec\.backofLimit: unknown field/);
  });
});
