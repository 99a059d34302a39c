/**
 * IPv4 and IPv6 CIDR blocks as numbers, to check subnets before an installer spends an hour
 * finding out they overlap. Pure.
 */
import { isIP } from 'node:net';

export interface Cidr {
  family: 4 | 6;
  /** The network address as a number (host bits zero when `hostBitsSet` is false). */
  network: bigint;
  prefix: number;
  /** Whether the address had bits set past the prefix (`10.0.0.1/24`). */
  hostBitsSet: boolean;
  text: string;
}

function ipv4ToBigInt(address: string): bigint {
  return address.split('.').reduce((sum, part) => (sum << 8n) + BigInt(Number(part)), 0n);
}

function ipv6ToBigInt(address: string): bigint {
  let text = address;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (v4 !== undefined) {
    const value = ipv4ToBigInt(v4);
    text = `${text.slice(0, -v4.length)}${(value >> 16n).toString(16)}:${(value & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? 0 : 8 - headParts.length - tailParts.length;
  const parts = [...headParts, ...Array<string>(zeros).fill('0'), ...tailParts];
  return parts.reduce((sum, part) => (sum << 16n) + BigInt(parseInt(part, 16)), 0n);
}

export function ipToBigInt(address: string): { family: 4 | 6; value: bigint } | undefined {
  const family = isIP(address);
  if (family === 4) return { family, value: ipv4ToBigInt(address) };
  if (family === 6) return { family, value: ipv6ToBigInt(address) };
  return undefined;
}

/** The block, or undefined when `text` is not `address/prefix`. */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!match) return undefined;
  const ip = ipToBigInt(match[1] ?? '');
  if (!ip) return undefined;
  const prefix = Number(match[2]);
  const bits = ip.family === 4 ? 32 : 128;
  if (prefix > bits) return undefined;
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  return { family: ip.family, network: ip.value & ~hostMask, prefix, hostBitsSet: (ip.value & hostMask) !== 0n, text };
}

function bitsOf(cidr: Pick<Cidr, 'family'>): number {
  return cidr.family === 4 ? 32 : 128;
}

/** Whether two blocks share an address (never across families). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const shorter = Math.min(a.prefix, b.prefix);
  const shift = BigInt(bitsOf(a) - shorter);
  return a.network >> shift === b.network >> shift;
}

export function cidrContains(cidr: Cidr, address: string): boolean {
  const ip = ipToBigInt(address);
  if (!ip || ip.family !== cidr.family) return false;
  const shift = BigInt(bitsOf(cidr) - cidr.prefix);
  return ip.value >> shift === cidr.network >> shift;
}

/** `10.233.64.0/18` for `10.233.64.1/18`: what the user probably meant. */
export function formatNetwork(cidr: Cidr): string {
  if (cidr.family === 4) {
    const octets = [24n, 16n, 8n, 0n].map((shift) => String((cidr.network >> shift) & 0xffn));
    return `${octets.join('.')}/${cidr.prefix}`;
  }
  const hextets = Array.from({ length: 8 }, (_, i) => ((cidr.network >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return `${hextets.join(':')}/${cidr.prefix}`;
}
