/**
 * BMC addresses the way Metal3 writes them, turned into what Ironic needs: the hardware type
 * (driver), host, port and, for Redfish, the protocol and the System path. Pure.
 *
 *   ipmi://host[:port]                                  → ipmi, port 623
 *   redfish://host[:port]/redfish/v1/Systems/<id>       → redfish over https
 *   redfish+https://…, redfish+http://…                 → redfish over https / http
 *   redfish-virtualmedia://… (+http / +https)           → redfish, boot from virtual media
 *   fake://<anything>                                   → fake-hardware (tests, demos)
 *
 * An address without a scheme is refused rather than guessed: `10.0.0.5` could be IPMI or a
 * Redfish endpoint, and guessing wrong costs a 20-second verification failure in Ironic.
 */
import { ValidationError } from '../../errors.js';

export const BMC_DRIVERS = ['ipmi', 'redfish', 'fake-hardware'] as const;
export type BmcDriver = (typeof BMC_DRIVERS)[number];

export const IPMI_DEFAULT_PORT = 623;
const REDFISH_SYSTEMS_PREFIX = '/redfish/v1/Systems/';

export type BmcAddress =
  | { driver: 'ipmi'; scheme: 'ipmi'; host: string; port: number }
  | {
      driver: 'redfish';
      scheme: RedfishScheme;
      host: string;
      port: number;
      protocol: 'http' | 'https';
      /** The System's path (`/redfish/v1/Systems/1`); absent when the BMC has a single System. */
      systemId?: string;
      virtualMedia: boolean;
    }
  | { driver: 'fake-hardware'; scheme: 'fake'; host: string; port: number };

type RedfishScheme =
  | 'redfish'
  | 'redfish+http'
  | 'redfish+https'
  | 'redfish-virtualmedia'
  | 'redfish-virtualmedia+http'
  | 'redfish-virtualmedia+https';

const REDFISH_SCHEMES: Readonly<Record<RedfishScheme, { protocol: 'http' | 'https'; virtualMedia: boolean }>> = {
  redfish: { protocol: 'https', virtualMedia: false },
  'redfish+http': { protocol: 'http', virtualMedia: false },
  'redfish+https': { protocol: 'https', virtualMedia: false },
  'redfish-virtualmedia': { protocol: 'https', virtualMedia: true },
  'redfish-virtualmedia+http': { protocol: 'http', virtualMedia: true },
  'redfish-virtualmedia+https': { protocol: 'https', virtualMedia: true },
};

/** Vendor schemes Metal3 knows but our Ironic does not enable: say so instead of "unknown". */
const UNSUPPORTED_SCHEMES = ['idrac', 'idrac-redfish', 'idrac-virtualmedia', 'ilo4', 'ilo5', 'irmc', 'ibmc', 'libvirt'];

export type BmcAddressResult = { ok: true; address: BmcAddress } | { ok: false; problem: string };

/** Parses a BMC address; the problem, when there is one, is a sentence that says what to fix. */
export function tryParseBmcAddress(raw: string): BmcAddressResult {
  const address = raw.trim();
  if (address === '') return { ok: false, problem: 'is empty' };
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//i.exec(address);
  if (!schemeMatch?.[1]) {
    return { ok: false, problem: `"${address}" has no scheme: write ipmi://<host>[:port] or redfish://<host>/redfish/v1/Systems/<id>` };
  }
  const scheme = schemeMatch[1].toLowerCase();
  if (scheme === 'ipmi') return parseIpmi(address);
  if (scheme === 'fake') return parseFake(address);
  if (isRedfishScheme(scheme)) return parseRedfish(address, scheme);
  const base = scheme.split('+')[0] ?? scheme;
  if (UNSUPPORTED_SCHEMES.includes(base)) {
    return { ok: false, problem: `uses "${scheme}://", which this Ironic does not enable (supported: ipmi, redfish, redfish-virtualmedia, fake)` };
  }
  return { ok: false, problem: `has an unknown scheme "${scheme}://" (supported: ipmi, redfish, redfish+http, redfish+https, redfish-virtualmedia, fake)` };
}

/** Like tryParseBmcAddress, but throws a ValidationError naming the problem. */
export function parseBmcAddress(raw: string): BmcAddress {
  const result = tryParseBmcAddress(raw);
  if (!result.ok) throw new ValidationError(`The BMC address ${result.problem}.`, [`bmc.address ${result.problem}`]);
  return result.address;
}

function isRedfishScheme(scheme: string): scheme is RedfishScheme {
  return Object.hasOwn(REDFISH_SCHEMES, scheme);
}

interface Authority {
  host: string;
  port?: number;
  path: string;
}

/** Host, port and path by hand: URL() would accept `ipmi://a b` and silently fix up odd hosts. */
function splitAuthority(address: string): { ok: true; authority: Authority } | { ok: false; problem: string } {
  const rest = address.slice(address.indexOf('://') + 3);
  if (/[?#]/.test(rest)) return { ok: false, problem: 'must not contain a query or fragment' };
  if (rest.includes('@')) return { ok: false, problem: 'must not contain user info: credentials are given separately' };
  const slash = rest.indexOf('/');
  const hostPort = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash);
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d*))?$/.exec(hostPort);
  if (!match?.[1]) return { ok: false, problem: `has no valid host in "${hostPort}"` };
  const host = match[1];
  if (!host.startsWith('[') && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) {
    return { ok: false, problem: `has an invalid host "${host}"` };
  }
  const portText = match[2];
  if (portText === undefined) return { ok: true, authority: { host, path } };
  const port = Number(portText);
  if (portText === '' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    return { ok: false, problem: `has an invalid port "${portText}" (1–65535)` };
  }
  return { ok: true, authority: { host, port, path } };
}

function parseIpmi(address: string): BmcAddressResult {
  const split = splitAuthority(address);
  if (!split.ok) return split;
  const { host, port, path } = split.authority;
  if (path !== '' && path !== '/') return { ok: false, problem: `is an IPMI address and cannot have a path ("${path}")` };
  return { ok: true, address: { driver: 'ipmi', scheme: 'ipmi', host: unbracket(host), port: port ?? IPMI_DEFAULT_PORT } };
}

function parseRedfish(address: string, scheme: RedfishScheme): BmcAddressResult {
  const split = splitAuthority(address);
  if (!split.ok) return split;
  const { host, port, path } = split.authority;
  const { protocol, virtualMedia } = REDFISH_SCHEMES[scheme];
  const base = { driver: 'redfish', scheme, host: unbracket(host), port: port ?? (protocol === 'https' ? 443 : 80), protocol, virtualMedia } as const;
  const systemPath = path.replace(/\/+$/, '');
  if (systemPath === '') return { ok: true, address: base };
  if (!systemPath.startsWith(REDFISH_SYSTEMS_PREFIX) || systemPath.length === REDFISH_SYSTEMS_PREFIX.length) {
    return { ok: false, problem: `has the path "${path}", expected ${REDFISH_SYSTEMS_PREFIX}<system id>` };
  }
  const id = systemPath.slice(REDFISH_SYSTEMS_PREFIX.length);
  if (!/^[A-Za-z0-9._~%-]+$/.test(id)) return { ok: false, problem: `has an invalid Redfish system id "${id}"` };
  return { ok: true, address: { ...base, systemId: systemPath } };
}

function parseFake(address: string): BmcAddressResult {
  const rest = address.slice(address.indexOf('://') + 3);
  const host = rest.split('/')[0] ?? '';
  if (host === '') return { ok: false, problem: 'is a fake:// address without a name (write fake://<anything>)' };
  return { ok: true, address: { driver: 'fake-hardware', scheme: 'fake', host, port: 0 } };
}

/** IPv6 literals are bracketed in URLs but not in Ironic's ipmi_address. */
function unbracket(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

/** The address written back in canonical form: lower-case scheme, explicit port. Used to compare. */
export function formatBmcAddress(address: BmcAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  if (address.driver === 'fake-hardware') return `fake://${host}`;
  if (address.driver === 'ipmi') return `ipmi://${host}:${address.port}`;
  return `${address.scheme}://${host}:${address.port}${address.systemId ?? ''}`;
}
