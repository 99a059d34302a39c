import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatBmcAddress, parseBmcAddress, tryParseBmcAddress } from '../../src/domain/baremetal/bmc-address.js';
import { hostSpecProblems, validateHostSpec, validateHostSpecs, type HostSpec } from '../../src/domain/baremetal/host.js';
import { ValidationError } from '../../src/errors.js';

function problemOf(address: string): string {
  const result = tryParseBmcAddress(address);
  if (result.ok) throw new Error(`expected ${address} to be refused`);
  return result.problem;
}

describe('parseBmcAddress', () => {
  it('reads IPMI addresses with the default port 623 or an explicit one', () => {
    expect(parseBmcAddress('ipmi://10.0.0.5')).toEqual({ driver: 'ipmi', scheme: 'ipmi', host: '10.0.0.5', port: 623 });
    expect(parseBmcAddress('IPMI://bmc-7.rack2:6230')).toEqual({ driver: 'ipmi', scheme: 'ipmi', host: 'bmc-7.rack2', port: 6230 });
    expect(parseBmcAddress('ipmi://[fd00::5]:624')).toEqual({ driver: 'ipmi', scheme: 'ipmi', host: 'fd00::5', port: 624 });
  });

  it('reads Redfish addresses: protocol from the scheme, the System path as the system id', () => {
    expect(parseBmcAddress('redfish://bmc.example/redfish/v1/Systems/1')).toEqual({
      driver: 'redfish', scheme: 'redfish', host: 'bmc.example', port: 443, protocol: 'https', systemId: '/redfish/v1/Systems/1', virtualMedia: false,
    });
    expect(parseBmcAddress('redfish+http://10.1.1.1:8000/redfish/v1/Systems/System.Embedded.1')).toMatchObject({
      protocol: 'http', port: 8000, systemId: '/redfish/v1/Systems/System.Embedded.1',
    });
    expect(parseBmcAddress('redfish+https://10.1.1.1/')).toMatchObject({ protocol: 'https', port: 443, virtualMedia: false });
    expect(parseBmcAddress('redfish+https://10.1.1.1/')).not.toHaveProperty('systemId');
    expect(parseBmcAddress('redfish-virtualmedia://10.1.1.1/redfish/v1/Systems/abc')).toMatchObject({ driver: 'redfish', virtualMedia: true, protocol: 'https' });
  });

  it('maps fake:// to fake-hardware', () => {
    expect(parseBmcAddress('fake://node-3')).toEqual({ driver: 'fake-hardware', scheme: 'fake', host: 'node-3', port: 0 });
  });

  it('names the problem of an address it refuses', () => {
    expect(problemOf('10.0.0.5')).toContain('has no scheme');
    expect(problemOf('ipmi://10.0.0.5:99999')).toContain('invalid port "99999"');
    expect(problemOf('ipmi://10.0.0.5:')).toContain('invalid port');
    expect(problemOf('ipmi://10.0.0.5/redfish')).toContain('cannot have a path');
    expect(problemOf('ipmi://admin:secret@10.0.0.5')).toContain('must not contain user info');
    expect(problemOf('redfish://bmc/redfish/v1/Chassis/1')).toContain('expected /redfish/v1/Systems/<system id>');
    expect(problemOf('redfish://bmc/redfish/v1/Systems/')).toContain('expected /redfish/v1/Systems/<system id>');
    expect(problemOf('idrac-virtualmedia://bmc/redfish/v1/Systems/1')).toContain('does not enable');
    expect(problemOf('ftp://bmc')).toContain('unknown scheme "ftp://"');
    expect(problemOf('ipmi://bad host')).toBe('has an invalid host "bad host"');
    expect(problemOf('ipmi://:623')).toContain('has no valid host');
    expect(problemOf('')).toBe('is empty');
  });

  it('throws a ValidationError whose problem names the field', () => {
    try {
      parseBmcAddress('bmc.local');
      expect.unreachable();
    } catch (error: unknown) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).extra.problems).toEqual([expect.stringMatching(/^bmc\.address "bmc\.local" has no scheme/)]);
    }
  });

  it('formats every parsed address back to something that parses to the same thing', () => {
    const hosts = fc.oneof(fc.ipV4(), fc.domain());
    const addresses = fc.oneof(
      fc.tuple(hosts, fc.option(fc.integer({ min: 1, max: 65_535 }))).map(([host, port]) => `ipmi://${host}${port === null ? '' : `:${port}`}`),
      fc.tuple(fc.constantFrom('redfish', 'redfish+http', 'redfish-virtualmedia+https'), hosts, fc.stringMatching(/^[A-Za-z0-9.]{1,12}$/)).map(([scheme, host, id]) => `${scheme}://${host}/redfish/v1/Systems/${id}`),
    );
    fc.assert(
      fc.property(addresses, (address) => {
        const parsed = parseBmcAddress(address);
        expect(parseBmcAddress(formatBmcAddress(parsed))).toEqual(parsed);
      }),
    );
  });
});

const validHost = (): HostSpec => ({
  name: 'edge-1-worker-3',
  role: 'compute',
  bmc: { address: 'ipmi://10.0.0.13' },
  bootMacAddress: '52:54:00:AB:CD:13',
  image: { url: 'https://images.example/ubuntu-22.04.qcow2', checksum: 'AB'.repeat(32), checksumType: 'sha256', format: 'qcow2' },
  rootDeviceHints: { deviceName: '/dev/sda', minSizeGigabytes: 100, rotational: false },
  hardware: { sriov: true, qat: false },
  bootMode: 'UEFI',
});

describe('validateHostSpec', () => {
  it('accepts a full host and normalises MAC and checksum to lower case', () => {
    const spec = validateHostSpec(validHost());
    expect(spec.bootMacAddress).toBe('52:54:00:ab:cd:13');
    expect(spec.image.checksum).toBe('ab'.repeat(32));
    expect(spec.rootDeviceHints).toEqual({ deviceName: '/dev/sda', minSizeGigabytes: 100, rotational: false });
  });

  it('reports every problem at once, each naming its field', () => {
    const problems = hostSpecProblems({
      name: 'Worker_1',
      role: 'database',
      bmc: { address: 'bmc-1', password: 'x' },
      bootMacAddress: '01:00:5e:00:00:01',
      image: { url: 'ftp://images/x.img', checksum: 'abc', checksumType: 'sha1', extra: 1 },
      rootDeviceHints: { deviceName: 'sda', minSizeGigabytes: -1, colour: 'blue' },
      hardware: { gpu: 'yes', warp: true },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^name "Worker_1" must be a DNS label/),
        'role must be one of compute, gpu, storage, infra, control-plane (got "database")',
        expect.stringMatching(/^bmc\.address "bmc-1" has no scheme/),
        'bmc must not carry credentials: they are given separately and stored encrypted',
        'bootMacAddress "01:00:5e:00:00:01" is a multicast address, not a NIC\'s',
        'image.url must be an http or https URL (Ironic downloads the image from it)',
        'image.checksumType must be one of md5, sha256, sha512 (got "sha1")',
        'image.extra is not a known field',
        'rootDeviceHints.deviceName must start with /dev/',
        'rootDeviceHints.minSizeGigabytes must be a whole number of gigabytes, 0 or more',
        'rootDeviceHints.colour is not a known field',
        'hardware.gpu must be true or false',
        'hardware.warp is not a known hardware flag (gpu, sriov, qat, fpga, nvme)',
      ]),
    );
    expect(problems).toHaveLength(13);
  });

  it('checks the checksum length against its type', () => {
    const host = { ...validHost(), image: { url: 'http://i/x.img', checksum: 'a'.repeat(64), checksumType: 'md5' } };
    expect(hostSpecProblems(host)).toEqual(['image.checksum has 64 hex digits; a md5 digest has 32']);
  });

  it('requires the gpu flag for a gpu host', () => {
    expect(hostSpecProblems({ ...validHost(), role: 'gpu' })).toEqual(['hardware.gpu must be true for a host with role gpu']);
    expect(hostSpecProblems({ ...validHost(), role: 'gpu', hardware: { gpu: true } })).toEqual([]);
  });

  it('lists missing required fields and throws a ValidationError carrying them', () => {
    expect(() => validateHostSpec({})).toThrow(ValidationError);
    expect(hostSpecProblems({})).toEqual([
      'name is required',
      'role must be one of compute, gpu, storage, infra, control-plane',
      'bmc is required: an object with an address',
      'bootMacAddress is required (the MAC of the NIC the host boots from, like 52:54:00:12:34:56)',
      'image is required: an object with url, checksum and checksumType',
    ]);
    expect(hostSpecProblems('host')).toEqual(['host must be an object']);
  });
});

describe('validateHostSpecs', () => {
  it('refuses two hosts sharing a name, a boot MAC or a BMC (written differently)', () => {
    const first = validHost();
    const second = { ...validHost(), bootMacAddress: '52:54:00:ab:cd:13', bmc: { address: 'IPMI://10.0.0.13:623' } };
    try {
      validateHostSpecs([first, second]);
      expect.unreachable();
    } catch (error: unknown) {
      expect((error as ValidationError).extra.problems).toEqual([
        'hosts[1].name repeats hosts[0].name ("edge-1-worker-3")',
        'hosts[1].bootMacAddress repeats hosts[0].bootMacAddress ("52:54:00:ab:cd:13")',
        'hosts[1].bmc.address repeats hosts[0].bmc.address ("ipmi://10.0.0.13:623")',
      ]);
    }
  });

  it('prefixes each host\'s problems with its index', () => {
    expect(() => validateHostSpecs([validHost(), { ...validHost(), name: 'b', role: 'x' }])).toThrow(/hosts\[1\]\.role must be one of/);
  });

  it('returns normalised specs when all are valid', () => {
    const hosts = validateHostSpecs([validHost(), { ...validHost(), name: 'w2', bootMacAddress: '52:54:00:00:00:02', bmc: { address: 'fake://w2' } }]);
    expect(hosts.map((host) => host.name)).toEqual(['edge-1-worker-3', 'w2']);
  });
});
