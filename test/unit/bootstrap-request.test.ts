import { describe, expect, it } from 'vitest';
import { orderAddons } from '../../src/domain/bootstrap/addons.js';
import { cidrContains, cidrsOverlap, parseCidr } from '../../src/domain/bootstrap/cidr.js';
import type { BootstrapHost } from '../../src/domain/bootstrap/hosts.js';
import { checkBootstrapRequest, planBootstrap, type BootstrapRequest } from '../../src/domain/bootstrap/request.js';
import { ValidationError } from '../../src/errors.js';

const HOSTS: BootstrapHost[] = [
  { name: 'cp-1', address: '10.10.0.11', role: 'control-plane' },
  { name: 'node-1', address: '10.10.0.21', role: 'compute' },
  { name: 'node-2', address: '10.10.0.22', role: 'compute' },
];

const VALID: BootstrapRequest = {
  name: 'edge-a',
  kubernetesVersion: 'v1.29.3',
  podSubnet: '10.233.64.0/18',
  serviceSubnet: '10.233.0.0/18',
  addons: [],
  engine: 'kud-job',
};

function problemsOf(request: BootstrapRequest, hosts: BootstrapHost[] = HOSTS): string[] {
  const result = checkBootstrapRequest(request, hosts);
  if (result.ok) throw new Error('expected problems');
  return result.problems;
}

describe('checkBootstrapRequest', () => {
  it('accepts a valid request and plans it', () => {
    const plan = planBootstrap(VALID, HOSTS);
    expect(plan).toMatchObject({ name: 'edge-a', engine: 'kud-job', addons: [] });
    expect(plan.split.controlPlane).toEqual(['cp-1']);
    expect(plan.notes.length).toBeGreaterThan(0);
  });

  it('lists every problem of a bad request at once, each naming its field', () => {
    const problems = problemsOf({
      name: 'Edge_A',
      kubernetesVersion: '1.29',
      podSubnet: '10.233.64.1/18',
      serviceSubnet: '10.0.0.0/8',
      addons: ['nfd', 'turbo'],
      engine: 'ansible' as BootstrapRequest['engine'],
      controlPlane: ['cp-1', 'ghost'],
    });
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^name "Edge_A" must be an RFC 1123 label/),
      expect.stringMatching(/^kubernetesVersion "1\.29" must look like v1\.29\.3/),
      'podSubnet 10.233.64.1/18 has bits set past the prefix; did you mean 10.233.64.0/18?',
      'serviceSubnet 10.0.0.0/8 is too large: the API server accepts at most /12',
      expect.stringMatching(/^serviceSubnet 10\.0\.0\.0\/8 contains cp-1's address 10\.10\.0\.11/),
      expect.stringMatching(/^addons\[1\] "turbo" is not a known add-on/),
      expect.stringMatching(/^engine "ansible" must be one of kud-job, cluster-api/),
      expect.stringMatching(/^controlPlane: 2 hosts; etcd needs an odd number/),
      expect.stringMatching(/^controlPlane\[1\] "ghost" is not a provisioned host/),
    ]));
  });

  it('refuses overlapping subnets and a pod subnet too small for the nodes', () => {
    expect(problemsOf({ ...VALID, podSubnet: '10.233.0.0/16', serviceSubnet: '10.233.0.0/18' })).toContain(
      'podSubnet 10.233.0.0/16 and serviceSubnet 10.233.0.0/18 overlap; pick ranges that share no address',
    );
    expect(problemsOf({ ...VALID, podSubnet: '10.244.0.0/24' })).toEqual([
      'podSubnet 10.244.0.0/24 is too small: each node gets a /24, so 3 node(s) need at least a /22',
    ]);
  });

  it('accepts IPv6 subnets and checks them the same way', () => {
    expect(checkBootstrapRequest({ ...VALID, podSubnet: 'fd00:10:233::/56', serviceSubnet: 'fd00:10:96::/112' }, HOSTS).ok).toBe(true);
    expect(problemsOf({ ...VALID, podSubnet: 'fd00::/56', serviceSubnet: 'fd00::/112' })[0]).toMatch(/overlap/);
  });

  it('checks the hosts: bad addresses, names and addresses used twice', () => {
    const problems = problemsOf(VALID, [
      { name: 'a', address: '10.0.0.300', role: 'compute' },
      { name: 'a', address: '10.9.0.1', role: 'compute' },
      { name: 'B', address: '10.9.0.1', role: 'compute' },
    ]);
    expect(problems).toEqual(expect.arrayContaining([
      'hosts[0].address "10.0.0.300" (a) is not an IP address',
      'hosts[1].name "a" is used by hosts[0] too',
      expect.stringMatching(/^hosts\[2\]\.name "B" must be an RFC 1123 label/),
      'hosts[2].address 10.9.0.1 is also the address of a',
    ]));
  });

  it('planBootstrap throws a ValidationError carrying the problems', () => {
    try {
      planBootstrap({ ...VALID, name: '' }, HOSTS);
      expect.unreachable();
    } catch (error: unknown) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).extra.problems).toEqual([expect.stringMatching(/^name "" must be/)]);
    }
  });
});

describe('orderAddons', () => {
  it('installs nfd before sriov and qat, whatever order they were asked in', () => {
    expect(orderAddons(['qat', 'sriov', 'nfd', 'multus']).addons).toEqual(['multus', 'nfd', 'sriov', 'qat']);
  });

  it('adds nfd when sriov or qat needs it, and says so', () => {
    const ordered = orderAddons(['qat']);
    expect(ordered.addons).toEqual(['nfd', 'qat']);
    expect(ordered.notes).toEqual(['add-on nfd added: qat needs the node labels it writes, so it is installed first']);
  });

  it('drops duplicates and reports unknown names', () => {
    const ordered = orderAddons(['multus', 'multus', 'flux-capacitor']);
    expect(ordered.addons).toEqual(['multus']);
    expect(ordered.problems).toEqual([expect.stringMatching(/^addons\[2\] "flux-capacitor" is not a known add-on/)]);
  });
});

describe('CIDR arithmetic', () => {
  it('parses IPv4 and IPv6 blocks and rejects what is not one', () => {
    expect(parseCidr('10.0.0.0/8')).toMatchObject({ family: 4, prefix: 8, hostBitsSet: false });
    expect(parseCidr('fd00::1/64')).toMatchObject({ family: 6, prefix: 64, hostBitsSet: true });
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
    expect(parseCidr('10.0.0.0')).toBeUndefined();
    expect(parseCidr('example/8')).toBeUndefined();
  });

  it('overlap and containment', () => {
    const a = parseCidr('10.233.0.0/18');
    const b = parseCidr('10.233.64.0/18');
    const c = parseCidr('10.233.0.0/16');
    if (!a || !b || !c) throw new Error('parse failed');
    expect(cidrsOverlap(a, b)).toBe(false);
    expect(cidrsOverlap(a, c)).toBe(true);
    expect(cidrsOverlap(c, b)).toBe(true);
    expect(cidrContains(a, '10.233.63.255')).toBe(true);
    expect(cidrContains(a, '10.233.64.0')).toBe(false);
    expect(cidrContains(a, 'fd00::1')).toBe(false);
  });
});
