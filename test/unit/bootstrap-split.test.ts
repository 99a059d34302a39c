import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BootstrapHost, BootstrapHostRole } from '../../src/domain/bootstrap/hosts.js';
import { decideSplit, type SplitResult } from '../../src/domain/bootstrap/split.js';

function host(name: string, role: BootstrapHostRole, index = 0): BootstrapHost {
  return { name, address: `10.1.0.${10 + index}`, role };
}

function hostsOf(spec: Record<string, BootstrapHostRole>): BootstrapHost[] {
  return Object.entries(spec).map(([name, role], index) => host(name, role, index));
}

function ok(result: SplitResult): Extract<SplitResult, { ok: true }> {
  if (!result.ok) throw new Error(`expected a split, got problems: ${result.problems.join('; ')}`);
  return result;
}

function problemsOf(result: SplitResult): string[] {
  if (result.ok) throw new Error('expected problems, got a split');
  return result.problems;
}

describe('decideSplit without a request', () => {
  it('takes every control-plane host when their number is odd', () => {
    const split = ok(decideSplit(hostsOf({ a: 'control-plane', b: 'control-plane', c: 'control-plane', w1: 'compute', w2: 'gpu' })));
    expect(split.controlPlane).toEqual(['a', 'b', 'c']);
    expect(split.workers).toEqual(['w1', 'w2']);
    expect(split.controlPlaneRunsWorkloads).toBe(false);
  });

  it('turns one of an even number of control-plane hosts into a worker, and says why', () => {
    const split = ok(decideSplit(hostsOf({ a: 'control-plane', b: 'control-plane', c: 'control-plane', d: 'control-plane', w: 'compute' })));
    expect(split.controlPlane).toEqual(['a', 'b', 'c']);
    expect(split.workers).toEqual(['d', 'w']);
    expect(split.explanation.join('\n')).toMatch(/d has role control-plane but runs as a worker: etcd needs an odd number/);
  });

  it('falls back to infra hosts, three of them once there are five hosts', () => {
    const split = ok(decideSplit(hostsOf({ i1: 'infra', i2: 'infra', i3: 'infra', w1: 'compute', w2: 'compute', w3: 'compute' })));
    expect(split.controlPlane).toEqual(['i1', 'i2', 'i3']);
    expect(split.explanation.join('\n')).toMatch(/hosts with role infra; 3 for a highly available control plane/);
  });

  it('with four hosts and no role to go by, one control-plane node, a compute one rather than a GPU one', () => {
    const split = ok(decideSplit(hostsOf({ a: 'gpu', b: 'storage', c: 'compute', d: 'compute' })));
    expect(split.controlPlane).toEqual(['c']);
    expect(split.workers).toEqual(['a', 'b', 'd']);
    expect(split.explanation.join('\n')).toMatch(/1 \(3 need at least 3 candidates and 5 hosts; here 4 and 4\)/);
  });

  it('with five hosts and no role to go by, three control-plane nodes, compute first', () => {
    const split = ok(decideSplit(hostsOf({ g1: 'gpu', g2: 'gpu', c1: 'compute', c2: 'compute', s1: 'storage' })));
    expect(split.controlPlane).toEqual(['c1', 'c2', 's1']);
    expect(split.workers).toEqual(['g1', 'g2']);
  });

  it('one host: control plane that also runs workloads', () => {
    const split = ok(decideSplit([host('solo', 'compute')]));
    expect(split).toMatchObject({ controlPlane: ['solo'], workers: [], controlPlaneRunsWorkloads: true, leftOut: [] });
  });

  it('orders by name, whatever order the hosts came in', () => {
    const hosts = hostsOf({ z: 'compute', y: 'compute', x: 'compute', w: 'compute', v: 'compute' });
    expect(ok(decideSplit(hosts)).controlPlane).toEqual(ok(decideSplit([...hosts].reverse())).controlPlane);
  });

  it('refuses an empty host list', () => {
    expect(problemsOf(decideSplit([]))).toEqual(['hosts: no provisioned host to bootstrap a cluster on']);
  });

  it('always gives an odd, non-empty control plane, apart from the workers, covering every host', () => {
    const roles: BootstrapHostRole[] = ['control-plane', 'compute', 'gpu', 'storage', 'infra'];
    fc.assert(fc.property(fc.array(fc.constantFrom(...roles), { minLength: 1, maxLength: 12 }), (hostRoles) => {
      const hosts = hostRoles.map((role, i) => host(`h${i}`, role, i));
      const split = ok(decideSplit(hosts));
      expect(split.controlPlane.length % 2).toBe(1);
      expect(split.controlPlane.filter((n) => split.workers.includes(n))).toEqual([]);
      expect([...split.controlPlane, ...split.workers].sort()).toEqual(hosts.map((h) => h.name).sort());
    }));
  });
});

describe('decideSplit with a request', () => {
  const hosts = hostsOf({ a: 'compute', b: 'compute', c: 'compute', d: 'gpu', e: 'compute' });

  it('uses both lists as given and leaves the other hosts out', () => {
    const split = ok(decideSplit(hosts, { controlPlane: ['a'], workers: ['b', 'd'] }));
    expect(split).toMatchObject({ controlPlane: ['a'], workers: ['b', 'd'], leftOut: ['c', 'e'] });
    expect(split.explanation.join('\n')).toMatch(/left out of the cluster \(in neither list\): c, e/);
  });

  it('control plane only: every other host is a worker', () => {
    expect(ok(decideSplit(hosts, { controlPlane: ['a', 'b', 'c'] }))).toMatchObject({ controlPlane: ['a', 'b', 'c'], workers: ['d', 'e'], leftOut: [] });
  });

  it('workers only: the control plane is chosen among the others, the rest left out', () => {
    const split = ok(decideSplit(hosts, { workers: ['e'] }));
    expect(split.controlPlane).toEqual(['a', 'b', 'c']);
    expect(split.workers).toEqual(['e']);
    expect(split.leftOut).toEqual(['d']);
  });

  it('warns when a GPU host is put in the control plane', () => {
    expect(ok(decideSplit(hosts, { controlPlane: ['d'] })).explanation.join('\n')).toMatch(/note: d is a gpu host in the control plane/);
  });

  it('lists every problem at once: unknown host, duplicate, host in both lists, even control plane', () => {
    const problems = problemsOf(decideSplit(hosts, { controlPlane: ['a', 'b', 'nope', 'b', 'c'], workers: ['a', 'd', 'd'] }));
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^controlPlane\[2\] "nope" is not a provisioned host of this site \(known: a, b, c, d, e\)/),
      expect.stringMatching(/^controlPlane\[3\] "b" is listed twice/),
      expect.stringMatching(/^workers\[2\] "d" is listed twice/),
      expect.stringMatching(/^"a" is in both controlPlane and workers/),
    ]));
    expect(problems.some((p) => /etcd needs an odd number/.test(p))).toBe(true);
    expect(problems).toHaveLength(5);
  });

  it('refuses two control-plane nodes', () => {
    expect(problemsOf(decideSplit(hosts, { controlPlane: ['a', 'b'] }))).toEqual([
      'controlPlane: 2 hosts; etcd needs an odd number (1, 3, 5): 2 members tolerate no more failures than 1',
    ]);
  });

  it('refuses an empty control-plane list and a worker list that takes every host', () => {
    expect(problemsOf(decideSplit(hosts, { controlPlane: [] }))[0]).toMatch(/^controlPlane: name at least one host/);
    expect(problemsOf(decideSplit(hosts, { workers: ['a', 'b', 'c', 'd', 'e'] }))[0]).toMatch(/^workers: every host is listed as a worker/);
  });
});
