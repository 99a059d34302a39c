/**
 * A bare-metal host as Slipway describes it (after Metal3's BareMetalHost spec), and its
 * validation. Pure. Validation collects every problem, each prefixed with the field's path, so a
 * user fixes a site description in one round. BMC credentials are not part of the spec: they are
 * stored encrypted apart from it and handed to the provisioner only when Ironic needs them.
 */
import { ValidationError } from '../../errors.js';
import { isDnsLabel } from '../names.js';
import { formatBmcAddress, tryParseBmcAddress } from './bmc-address.js';

export const HOST_ROLES = ['compute', 'gpu', 'storage', 'infra', 'control-plane'] as const;
export type HostRole = (typeof HOST_ROLES)[number];

/** Hash algorithms Ironic accepts as `image_os_hash_algo`, with their hex digest lengths. */
export const CHECKSUM_LENGTHS = { md5: 32, sha256: 64, sha512: 128 } as const;
export type ChecksumType = keyof typeof CHECKSUM_LENGTHS;

export const IMAGE_FORMATS = ['raw', 'qcow2', 'vdi', 'vmdk', 'live-iso'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export const BOOT_MODES = ['UEFI', 'UEFISecureBoot', 'legacy'] as const;
export type BootMode = (typeof BOOT_MODES)[number];

/** Hardware a host offers, used to pick add-ons (nfd before sriov and qat) and to check roles. */
export const HARDWARE_FLAGS = ['gpu', 'sriov', 'qat', 'fpga', 'nvme'] as const;
export type HardwareFlag = (typeof HARDWARE_FLAGS)[number];
export type HardwareFlags = Partial<Record<HardwareFlag, boolean>>;

export interface HostImage {
  url: string;
  checksum: string;
  checksumType: ChecksumType;
  format?: ImageFormat;
}

/** Metal3's root device hints; the disk the image is written to must match all given hints. */
export interface RootDeviceHints {
  deviceName?: string;
  hctl?: string;
  model?: string;
  vendor?: string;
  serialNumber?: string;
  minSizeGigabytes?: number;
  wwn?: string;
  wwnWithExtension?: string;
  wwnVendorExtension?: string;
  rotational?: boolean;
}

const STRING_HINTS = ['deviceName', 'hctl', 'model', 'vendor', 'serialNumber', 'wwn', 'wwnWithExtension', 'wwnVendorExtension'] as const;
export const ROOT_DEVICE_HINT_KEYS = [...STRING_HINTS, 'minSizeGigabytes', 'rotational'] as const;

export interface HostSpec {
  /** DNS label; also the Ironic node name, so a host is found again after a restart. */
  name: string;
  role: HostRole;
  bmc: { address: string; disableCertificateVerification?: boolean };
  /** MAC of the NIC the host boots from on the provisioning network (not the BMC's). Lower case. */
  bootMacAddress: string;
  image: HostImage;
  rootDeviceHints?: RootDeviceHints;
  hardware?: HardwareFlags;
  bootMode?: BootMode;
}

/** Ironic needs these to enroll a node; they never appear in a HostSpec. */
export interface BmcCredentials {
  username: string;
  password: string;
}

/** The config drive written next to the image (cloud-init reads it on first boot). */
export interface ConfigDrive {
  metaData?: Record<string, unknown>;
  userData?: string;
  networkData?: Record<string, unknown>;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const HEX = /^[0-9a-f]+$/;

type Problems = string[];

/** Every problem of one host spec, each as `<field> <what is wrong>`; empty when it is valid. */
export function hostSpecProblems(input: unknown, prefix = ''): string[] {
  const problems: Problems = [];
  if (!isRecord(input)) return [`${prefix || 'host'} must be an object`];
  const at = (field: string): string => `${prefix}${field}`;
  checkName(input.name, at('name'), problems);
  checkOneOf(input.role, HOST_ROLES, at('role'), problems);
  checkBmc(input.bmc, at('bmc'), problems);
  checkMac(input.bootMacAddress, at('bootMacAddress'), problems);
  checkImage(input.image, at('image'), problems);
  if (input.rootDeviceHints !== undefined) checkRootDeviceHints(input.rootDeviceHints, at('rootDeviceHints'), problems);
  if (input.hardware !== undefined) checkHardware(input.hardware, at('hardware'), problems);
  if (input.bootMode !== undefined) checkOneOf(input.bootMode, BOOT_MODES, at('bootMode'), problems);
  if (input.role === 'gpu' && !(isRecord(input.hardware) && input.hardware.gpu === true)) {
    problems.push(`${at('hardware.gpu')} must be true for a host with role gpu`);
  }
  checkUnknownKeys(input, ['name', 'role', 'bmc', 'bootMacAddress', 'image', 'rootDeviceHints', 'hardware', 'bootMode'], prefix, problems);
  return problems;
}

/** The spec, typed and normalised (MAC in lower case); a ValidationError listing every problem otherwise. */
export function validateHostSpec(input: unknown): HostSpec {
  const problems = hostSpecProblems(input);
  if (problems.length > 0 || !isRecord(input)) throw invalid(problems);
  return normaliseHostSpec(input);
}

/**
 * A site's hosts: each valid, and no two sharing a name, a boot MAC or a BMC address (two Ironic
 * nodes on one BMC would power each other off).
 */
export function validateHostSpecs(inputs: unknown): HostSpec[] {
  if (!Array.isArray(inputs)) throw invalid(['hosts must be an array']);
  const problems = inputs.flatMap((input, index) => hostSpecProblems(input, `hosts[${index}].`));
  if (problems.length === 0) problems.push(...duplicateProblems(inputs.filter(isRecord)));
  if (problems.length > 0) throw invalid(problems);
  return inputs.filter(isRecord).map(normaliseHostSpec);
}

function invalid(problems: readonly string[]): ValidationError {
  const summary = problems.length === 1 ? problems[0] : `${problems.length} problems`;
  return new ValidationError(`The host description is invalid: ${summary}.`, problems);
}

function duplicateProblems(hosts: Record<string, unknown>[]): string[] {
  const problems: string[] = [];
  const keys: Array<[string, (host: Record<string, unknown>) => string]> = [
    ['name', (host) => String(host.name)],
    ['bootMacAddress', (host) => String(host.bootMacAddress).toLowerCase()],
    ['bmc.address', (host) => bmcKey(host.bmc)],
  ];
  for (const [field, keyOf] of keys) {
    const firstIndex = new Map<string, number>();
    hosts.forEach((host, index) => {
      const key = keyOf(host);
      const first = firstIndex.get(key);
      if (first === undefined) firstIndex.set(key, index);
      else problems.push(`hosts[${index}].${field} repeats hosts[${first}].${field} ("${key}")`);
    });
  }
  return problems;
}

function bmcKey(bmc: unknown): string {
  const address = isRecord(bmc) && typeof bmc.address === 'string' ? bmc.address : '';
  const parsed = tryParseBmcAddress(address);
  return parsed.ok ? formatBmcAddress(parsed.address) : address;
}

/** Only called on input hostSpecProblems accepted, so the casts below restate checked facts. */
function normaliseHostSpec(input: Record<string, unknown>): HostSpec {
  const bmc = input.bmc as HostSpec['bmc'];
  const image = input.image as HostImage;
  const spec: HostSpec = {
    name: input.name as string,
    role: input.role as HostRole,
    bmc: { address: bmc.address.trim(), ...(bmc.disableCertificateVerification === undefined ? {} : { disableCertificateVerification: bmc.disableCertificateVerification }) },
    bootMacAddress: (input.bootMacAddress as string).toLowerCase(),
    image: { url: image.url, checksum: image.checksum.toLowerCase(), checksumType: image.checksumType, ...(image.format ? { format: image.format } : {}) },
  };
  if (input.rootDeviceHints !== undefined) spec.rootDeviceHints = { ...(input.rootDeviceHints as RootDeviceHints) };
  if (input.hardware !== undefined) spec.hardware = { ...(input.hardware as HardwareFlags) };
  if (input.bootMode !== undefined) spec.bootMode = input.bootMode as BootMode;
  return spec;
}

function checkName(value: unknown, field: string, problems: Problems): void {
  if (typeof value !== 'string' || value === '') problems.push(`${field} is required`);
  else if (!isDnsLabel(value)) problems.push(`${field} "${value}" must be a DNS label: lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit`);
}

function checkOneOf(value: unknown, allowed: readonly string[], field: string, problems: Problems): void {
  if (typeof value !== 'string' || !allowed.includes(value)) {
    problems.push(`${field} must be one of ${allowed.join(', ')}${value === undefined ? '' : ` (got ${JSON.stringify(value)})`}`);
  }
}

function checkBmc(value: unknown, field: string, problems: Problems): void {
  if (!isRecord(value)) {
    problems.push(`${field} is required: an object with an address`);
    return;
  }
  if (typeof value.address !== 'string') problems.push(`${field}.address is required`);
  else {
    const parsed = tryParseBmcAddress(value.address);
    if (!parsed.ok) problems.push(`${field}.address ${parsed.problem}`);
  }
  if (value.disableCertificateVerification !== undefined && typeof value.disableCertificateVerification !== 'boolean') {
    problems.push(`${field}.disableCertificateVerification must be true or false`);
  }
  if ('password' in value || 'username' in value || 'credentials' in value) {
    problems.push(`${field} must not carry credentials: they are given separately and stored encrypted`);
  }
  checkUnknownKeys(value, ['address', 'disableCertificateVerification', 'password', 'username', 'credentials'], `${field}.`, problems);
}

function checkMac(value: unknown, field: string, problems: Problems): void {
  if (typeof value !== 'string' || value === '') {
    problems.push(`${field} is required (the MAC of the NIC the host boots from, like 52:54:00:12:34:56)`);
    return;
  }
  const mac = value.toLowerCase();
  if (!MAC.test(mac)) problems.push(`${field} "${value}" is not a MAC address (six hex pairs separated by ':')`);
  else if (mac === '00:00:00:00:00:00') problems.push(`${field} must not be all zeros`);
  else if ((Number.parseInt(mac.slice(0, 2), 16) & 1) === 1) problems.push(`${field} "${value}" is a multicast address, not a NIC's`);
}

function checkImage(value: unknown, field: string, problems: Problems): void {
  if (!isRecord(value)) {
    problems.push(`${field} is required: an object with url, checksum and checksumType`);
    return;
  }
  checkImageUrl(value.url, `${field}.url`, problems);
  checkOneOf(value.checksumType, Object.keys(CHECKSUM_LENGTHS), `${field}.checksumType`, problems);
  if (typeof value.checksum !== 'string' || value.checksum === '') problems.push(`${field}.checksum is required`);
  else if (!HEX.test(value.checksum.toLowerCase())) problems.push(`${field}.checksum must be a hex digest`);
  else if (typeof value.checksumType === 'string' && Object.hasOwn(CHECKSUM_LENGTHS, value.checksumType)) {
    const expected = CHECKSUM_LENGTHS[value.checksumType as ChecksumType];
    if (value.checksum.length !== expected) problems.push(`${field}.checksum has ${value.checksum.length} hex digits; a ${value.checksumType} digest has ${expected}`);
  }
  if (value.format !== undefined) checkOneOf(value.format, IMAGE_FORMATS, `${field}.format`, problems);
  checkUnknownKeys(value, ['url', 'checksum', 'checksumType', 'format'], `${field}.`, problems);
}

function checkImageUrl(value: unknown, field: string, problems: Problems): void {
  if (typeof value !== 'string' || value === '') {
    problems.push(`${field} is required`);
    return;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${field} "${value}" is not a URL`);
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`${field} must be an http or https URL (Ironic downloads the image from it)`);
  if (url.username !== '' || url.password !== '') problems.push(`${field} must not contain credentials`);
}

function checkRootDeviceHints(value: unknown, field: string, problems: Problems): void {
  if (!isRecord(value)) {
    problems.push(`${field} must be an object`);
    return;
  }
  for (const key of STRING_HINTS) {
    const hint = value[key];
    if (hint !== undefined && (typeof hint !== 'string' || hint === '')) problems.push(`${field}.${key} must be a non-empty string`);
  }
  if (typeof value.deviceName === 'string' && value.deviceName !== '' && !value.deviceName.startsWith('/dev/')) {
    problems.push(`${field}.deviceName must start with /dev/`);
  }
  const size = value.minSizeGigabytes;
  if (size !== undefined && (typeof size !== 'number' || !Number.isInteger(size) || size < 0)) {
    problems.push(`${field}.minSizeGigabytes must be a whole number of gigabytes, 0 or more`);
  }
  if (value.rotational !== undefined && typeof value.rotational !== 'boolean') problems.push(`${field}.rotational must be true or false`);
  checkUnknownKeys(value, ROOT_DEVICE_HINT_KEYS, `${field}.`, problems);
}

function checkHardware(value: unknown, field: string, problems: Problems): void {
  if (!isRecord(value)) {
    problems.push(`${field} must be an object of flags (${HARDWARE_FLAGS.join(', ')})`);
    return;
  }
  for (const [key, flag] of Object.entries(value)) {
    if (!(HARDWARE_FLAGS as readonly string[]).includes(key)) problems.push(`${field}.${key} is not a known hardware flag (${HARDWARE_FLAGS.join(', ')})`);
    else if (typeof flag !== 'boolean') problems.push(`${field}.${key} must be true or false`);
  }
}

function checkUnknownKeys(value: Record<string, unknown>, known: readonly string[], prefix: string, problems: Problems): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) problems.push(`${prefix}${key} is not a known field`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
