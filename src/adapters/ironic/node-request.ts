/**
 * How a Slipway host becomes Ironic request bodies: the node to create (driver, driver_info,
 * interfaces, properties), the instance_info of a deploy and the config drive. Pure.
 */
import type { BmcAddress, BmcDriver } from '../../domain/baremetal/bmc-address.js';
import type { BmcCredentials, ConfigDrive, HostImage, HostSpec, RootDeviceHints } from '../../domain/baremetal/host.js';
import type { JsonPatchOperation } from './client.js';
import type { NodeIdentity, ProvisionerHost } from '../../domain/baremetal/provisioner.js';

export type NodeInterfaces = Partial<Record<InterfaceName, string>>;
export type InterfaceName = 'bios' | 'boot' | 'console' | 'deploy' | 'inspect' | 'management' | 'network' | 'power' | 'raid' | 'rescue' | 'storage' | 'vendor';

/** fake-hardware does everything instantly and touches nothing: every interface is the fake one. */
const FAKE_HARDWARE_INTERFACES: NodeInterfaces = {
  bios: 'fake',
  boot: 'fake',
  console: 'fake',
  deploy: 'fake',
  inspect: 'fake',
  management: 'fake',
  network: 'noop',
  power: 'fake',
  raid: 'fake',
  rescue: 'fake',
  storage: 'noop',
  vendor: 'fake',
};

export interface NodeRequestSettings {
  /** Ironic's resource class for the nodes Slipway creates. */
  resourceClass: string;
  /** IPMI cipher suite; 3 (AES-128, SHA1) is what most BMCs and ipmi_sim speak. */
  ipmiCipherSuite: number;
  /** Interfaces per driver, over Ironic's defaults (fake-hardware gets all fake ones regardless). */
  interfaces: Partial<Record<BmcDriver, NodeInterfaces>>;
}

export const DEFAULT_NODE_SETTINGS: NodeRequestSettings = { resourceClass: 'baremetal', ipmiCipherSuite: 3, interfaces: {} };

/** The body of POST /v1/nodes. */
export function nodeCreateBody(host: ProvisionerHost, bmc: BmcAddress, credentials: BmcCredentials, settings: NodeRequestSettings): Record<string, unknown> {
  const interfaces = { ...(bmc.driver === 'fake-hardware' ? FAKE_HARDWARE_INTERFACES : {}), ...virtualMediaBoot(bmc), ...settings.interfaces[bmc.driver] };
  return {
    name: host.node.nodeName,
    driver: bmc.driver,
    driver_info: driverInfo(host, bmc, credentials, settings),
    resource_class: settings.resourceClass,
    properties: nodeProperties(host),
    extra: { ...ownerMark(host.node), slipway_role: host.role, ...(host.hardware ? { slipway_hardware: enabledFlags(host) } : {}) },
    ...Object.fromEntries(Object.entries(interfaces).map(([name, value]) => [`${name}_interface`, value])),
  };
}

/** The node's `extra` keys that say whose it is: the host's id (what counts) and its name (for people). */
export const OWNER_KEY = 'slipway_host';
export const OWNER_LABEL_KEY = 'slipway_host_name';

export function ownerMark(node: NodeIdentity): Record<string, string> {
  return { [OWNER_KEY]: node.hostId, [OWNER_LABEL_KEY]: node.label };
}

/** Marks a node as the host's (and gives it the host's node name when it has another). */
export function claimPatch(node: NodeIdentity, currentName: string | null): JsonPatchOperation[] {
  return [
    ...Object.entries(ownerMark(node)).map(([key, value]) => ({ op: 'add' as const, path: `/extra/${key}`, value })),
    ...(currentName === node.nodeName ? [] : [{ op: 'add' as const, path: '/name', value: node.nodeName }]),
  ];
}

/**
 * The driver_info keys for the BMC. fake-hardware gets none: it talks to no BMC, so it has no
 * business holding a password.
 */
export function driverInfo(host: HostSpec, bmc: BmcAddress, credentials: BmcCredentials, settings: NodeRequestSettings): Record<string, unknown> {
  switch (bmc.driver) {
    case 'fake-hardware':
      return {};
    case 'ipmi':
      return {
        ipmi_address: bmc.host,
        ipmi_port: bmc.port,
        ipmi_username: credentials.username,
        ipmi_password: credentials.password,
        ipmi_priv_level: 'ADMINISTRATOR',
        ipmi_cipher_suite: settings.ipmiCipherSuite,
      };
    case 'redfish': {
      const host6 = bmc.host.includes(':') ? `[${bmc.host}]` : bmc.host;
      return {
        redfish_address: `${bmc.protocol}://${host6}:${bmc.port}`,
        ...(bmc.systemId ? { redfish_system_id: bmc.systemId } : {}),
        redfish_username: credentials.username,
        redfish_password: credentials.password,
        redfish_verify_ca: host.bmc.disableCertificateVerification !== true,
      };
    }
  }
}

/** JSON-patch setting each driver_info key (`add` replaces an existing key), to update credentials. */
export function driverInfoPatch(info: Record<string, unknown>): JsonPatchOperation[] {
  return Object.entries(info).map(([key, value]) => ({ op: 'add', path: `/driver_info/${key}`, value }));
}

function virtualMediaBoot(bmc: BmcAddress): NodeInterfaces {
  return bmc.driver === 'redfish' && bmc.virtualMedia ? { boot: 'redfish-virtual-media' } : {};
}

function nodeProperties(host: HostSpec): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  const rootDevice = host.rootDeviceHints ? rootDeviceHints(host.rootDeviceHints) : {};
  if (Object.keys(rootDevice).length > 0) properties.root_device = rootDevice;
  const capabilities = bootModeCapabilities(host);
  if (capabilities !== undefined) properties.capabilities = capabilities;
  return properties;
}

/** Metal3's hint names → Ironic's; the size is a lower bound, as in Metal3. */
export function rootDeviceHints(hints: RootDeviceHints): Record<string, unknown> {
  const ironic: Record<string, unknown> = {};
  if (hints.deviceName !== undefined) ironic.name = hints.deviceName;
  if (hints.hctl !== undefined) ironic.hctl = hints.hctl;
  if (hints.model !== undefined) ironic.model = hints.model;
  if (hints.vendor !== undefined) ironic.vendor = hints.vendor;
  if (hints.serialNumber !== undefined) ironic.serial = hints.serialNumber;
  if (hints.minSizeGigabytes !== undefined) ironic.size = `>= ${hints.minSizeGigabytes}`;
  if (hints.wwn !== undefined) ironic.wwn = hints.wwn;
  if (hints.wwnWithExtension !== undefined) ironic.wwn_with_extension = hints.wwnWithExtension;
  if (hints.wwnVendorExtension !== undefined) ironic.wwn_vendor_extension = hints.wwnVendorExtension;
  if (hints.rotational !== undefined) ironic.rotational = hints.rotational;
  return ironic;
}

function bootModeCapabilities(host: HostSpec): string | undefined {
  switch (host.bootMode) {
    case 'UEFI':
      return 'boot_mode:uefi';
    case 'UEFISecureBoot':
      return 'boot_mode:uefi,secure_boot:true';
    case 'legacy':
      return 'boot_mode:bios';
    case undefined:
      return undefined;
  }
}

function enabledFlags(host: HostSpec): string {
  return Object.entries(host.hardware ?? {})
    .filter(([, enabled]) => enabled)
    .map(([flag]) => flag)
    .sort()
    .join(',');
}

/** instance_info for a deploy of `image`. */
export function instanceInfo(image: HostImage): Record<string, unknown> {
  return {
    image_source: image.url,
    image_os_hash_algo: image.checksumType,
    image_os_hash_value: image.checksum,
    ...(image.format ? { image_disk_format: image.format } : {}),
  };
}

/**
 * The config drive as Ironic takes it since API 1.56 (it builds the ISO itself). The host name is
 * added to meta_data unless the caller set one, so cloud-init names the machine after the host.
 */
export function configDriveBody(host: HostSpec, drive: ConfigDrive): Record<string, unknown> {
  return {
    meta_data: { name: host.name, 'local-hostname': host.name, ...drive.metaData },
    ...(drive.userData !== undefined ? { user_data: drive.userData } : {}),
    ...(drive.networkData !== undefined ? { network_data: drive.networkData } : {}),
  };
}
