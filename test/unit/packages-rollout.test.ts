import { describe, expect, it } from 'vitest';
import { renderPackageInstallJob, packageJobName } from '../../src/services/packages/install-job.js';
import { planRollout, type NodePackages } from '../../src/services/packages/rollout-plan.js';
import { rolloutPackages, type NodeRolloutResult, type PackageInstaller } from '../../src/services/packages/rollout.js';
import { ValidationError } from '../../src/errors.js';
import { assertValidBootstrapObject } from '../support/bootstrap-schema.js';

const DESIRED = { 'nvidia-driver': '550.54', 'qat-driver': '1.7.2' };

describe('planRollout', () => {
  it('takes exactly the nodes whose versions differ, with exactly the packages that differ', () => {
    const nodes: NodePackages[] = [
      { name: 'node-3', installed: { 'nvidia-driver': '550.54', 'qat-driver': '1.7.2' } },
      { name: 'node-1', installed: { 'nvidia-driver': '535.10', 'qat-driver': '1.7.2', extra: '1' } },
      { name: 'node-2', installed: { 'nvidia-driver': '550.54' } },
    ];
    const plan = planRollout(nodes, DESIRED, 10);
    expect(plan.batches).toEqual([[
      { node: 'node-1', packages: { 'nvidia-driver': '550.54' } },
      { node: 'node-2', packages: { 'qat-driver': '1.7.2' } },
    ]]);
    expect(plan.upToDate).toEqual(['node-3']);
  });

  it('a node added later gets every current package', () => {
    const plan = planRollout([{ name: 'a', installed: DESIRED }, { name: 'new', installed: {} }], DESIRED, 5);
    expect(plan.batches).toEqual([[{ node: 'new', packages: DESIRED }]]);
  });

  it('a new version goes to every node that has the old one, in batches of the given size, by name', () => {
    const nodes = ['e', 'a', 'd', 'c', 'b'].map((name) => ({ name, installed: { 'nvidia-driver': '550.54', 'qat-driver': '1.7.1' } }));
    const plan = planRollout(nodes, DESIRED, 2);
    expect(plan.batches.map((batch) => batch.map((n) => n.node))).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(plan.batches.flat().every((n) => JSON.stringify(n.packages) === JSON.stringify({ 'qat-driver': '1.7.2' }))).toBe(true);
  });

  it('nothing to do: no batch', () => {
    expect(planRollout([{ name: 'a', installed: DESIRED }], DESIRED, 3)).toEqual({ batches: [], upToDate: ['a'], desired: DESIRED });
  });

  it('refuses a batch size below 1', () => {
    expect(() => planRollout([], DESIRED, 0)).toThrow(ValidationError);
    expect(() => planRollout([], DESIRED, 1.5)).toThrow(/batchSize/);
  });
});

/** A simulated installer (a test double): records calls, fails the nodes it is told to. */
function simulatedInstaller(failing: readonly string[] = []) {
  const calls: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const install: PackageInstaller = async (node) => {
    calls.push(node);
    running += 1;
    maxRunning = Math.max(maxRunning, running);
    await new Promise((resolve) => setImmediate(resolve));
    running -= 1;
    if (failing.includes(node)) throw new Error(`dpkg failed on ${node}`);
  };
  return { install, calls, maxRunning: () => maxRunning };
}

describe('rolloutPackages (simulated installer)', () => {
  const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'].map((name) => ({ name, installed: {} }));

  it('installs every node, batch after batch, at most `concurrency` at a time, reporting each change', async () => {
    const installer = simulatedInstaller();
    const seen: NodeRolloutResult[] = [];
    const outcome = await rolloutPackages(installer.install, planRollout(nodes, DESIRED, 3), { concurrency: 2, onNode: (r) => { seen.push(r); } });
    expect(outcome.status).toBe('succeeded');
    expect(outcome.nodes.map((n) => `${n.node}:${n.batch}:${n.status}`)).toEqual(['n1:0:installed', 'n2:0:installed', 'n3:0:installed', 'n4:1:installed', 'n5:1:installed']);
    expect(installer.maxRunning()).toBe(2);
    expect(seen.filter((r) => r.node === 'n1').map((r) => r.status)).toEqual(['installing', 'installed']);
    // Batch 2 starts only once batch 1 is done.
    expect(seen.findIndex((r) => r.node === 'n4' && r.status === 'installing')).toBeGreaterThan(seen.findIndex((r) => r.node === 'n3' && r.status === 'installed'));
  });

  it('a failure stops the rollout after its batch; later nodes are skipped', async () => {
    const installer = simulatedInstaller(['n2']);
    const outcome = await rolloutPackages(installer.install, planRollout(nodes, DESIRED, 2), { concurrency: 1 });
    expect(outcome.status).toBe('partially_failed');
    expect(outcome.nodes.map((n) => `${n.node}:${n.status}`)).toEqual(['n1:installed', 'n2:failed', 'n3:skipped', 'n4:skipped', 'n5:skipped']);
    expect(outcome.nodes[1]?.error).toBe('dpkg failed on n2');
    expect(installer.calls).toEqual(['n1', 'n2']);
  });

  it('continueOnFailure installs the rest; all failing is `failed`', async () => {
    const goOn = await rolloutPackages(simulatedInstaller(['n2']).install, planRollout(nodes, DESIRED, 2), { concurrency: 2, continueOnFailure: true });
    expect(goOn.nodes.filter((n) => n.status === 'installed')).toHaveLength(4);
    const allFail = await rolloutPackages(simulatedInstaller(['n1']).install, planRollout(nodes.slice(0, 1), DESIRED, 1), { concurrency: 1 });
    expect(allFail.status).toBe('failed');
  });

  it('an empty plan succeeds without calling the installer', async () => {
    const installer = simulatedInstaller();
    expect(await rolloutPackages(installer.install, planRollout([], DESIRED, 1), { concurrency: 4 })).toEqual({ status: 'succeeded', nodes: [] });
    expect(installer.calls).toEqual([]);
  });
});

describe('renderPackageInstallJob', () => {
  it('a valid Job pinned to its node, with the packages and where to fetch them', () => {
    const job = renderPackageInstallJob('gpu-1', DESIRED, {
      namespace: 'slipway-system', image: 'registry.example/pkg-installer:1', jobId: 'job-1',
      sourceOf: (name, version) => ({ url: `https://slipway.example/api/v1/packages/${name}/${version}`, sha256: 'f'.repeat(64) }),
    });
    expect(() => assertValidBootstrapObject(job)).not.toThrow();
    expect(job.metadata?.name).toBe(packageJobName('job-1', 'gpu-1'));
    expect(job.spec?.template.spec?.nodeName).toBe('gpu-1');
    const env = Object.fromEntries((job.spec?.template.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
    expect(env.PACKAGES).toBe('nvidia-driver=550.54 qat-driver=1.7.2');
    expect(JSON.parse(env.PACKAGE_SOURCES ?? '[]')).toEqual([
      { name: 'nvidia-driver', version: '550.54', url: 'https://slipway.example/api/v1/packages/nvidia-driver/550.54', sha256: 'f'.repeat(64) },
      { name: 'qat-driver', version: '1.7.2', url: 'https://slipway.example/api/v1/packages/qat-driver/1.7.2', sha256: 'f'.repeat(64) },
    ]);
    expect(packageJobName('job-1', 'x'.repeat(63)).length).toBeLessThanOrEqual(63);
  });
});
