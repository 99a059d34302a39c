import { describe, expect, it } from 'vitest';
import { compareVersions } from '../../src/adapters/ironic/client.js';
import { decodeIronicFault, IronicApiError, redact } from '../../src/adapters/ironic/errors.js';
import { configDriveBody, instanceInfo, nodeCreateBody, DEFAULT_NODE_SETTINGS } from '../../src/adapters/ironic/node-request.js';
import { hostStateOf, inTransition, parseNode } from '../../src/adapters/ironic/node.js';
import { parseBmcAddress } from '../../src/domain/baremetal/bmc-address.js';
import type { ProvisionerHost } from '../../src/domain/baremetal/provisioner.js';
import { provisionerHostOf } from '../support/ironic/provisioner-hosts.js';

/** Bodies as Ironic 21.4 sent them (captured with curl against the packaged ironic-api). */
const LOCKED_BODY =
  '{"error_message": "{\\"faultcode\\": \\"Client\\", \\"faultstring\\": \\"Node 533f8282-0500-48cb-8fcb-fb4a2a0a3533 is locked by host 127.0.0.1, please retry after the current operation is completed.\\", \\"debuginfo\\": null}"}';
const INVALID_TRANSITION_BODY =
  '{"error_message": "{\\"faultcode\\": \\"Client\\", \\"faultstring\\": \\"The requested action \\\\\\"manage\\\\\\" can not be performed on node \\\\\\"b9250861\\\\\\" while it is in state \\\\\\"manageable\\\\\\".\\", \\"debuginfo\\": null}"}';
const VERSION_BODY =
  '{"error_message": "{\\"code\\": 406, \\"title\\": \\"Not Acceptable\\", \\"description\\": \\"Version 1.99 was requested but the minor version is not supported by this service. The supported version range is: [1.1, 1.82].\\"}"}';

describe('decodeIronicFault', () => {
  it('digs the faultstring out of the JSON string inside JSON', () => {
    expect(decodeIronicFault(LOCKED_BODY, 409)).toBe('Node 533f8282-0500-48cb-8fcb-fb4a2a0a3533 is locked by host 127.0.0.1, please retry after the current operation is completed.');
    expect(decodeIronicFault(INVALID_TRANSITION_BODY, 400)).toBe('The requested action "manage" can not be performed on node "b9250861" while it is in state "manageable".');
  });

  it('reads the description of a version error', () => {
    expect(decodeIronicFault(VERSION_BODY, 406)).toContain('The supported version range is: [1.1, 1.82]');
  });

  it('falls back to the text, or says there was none', () => {
    expect(decodeIronicFault('<html>Bad Gateway</html>', 502)).toBe('<html>Bad Gateway</html>');
    expect(decodeIronicFault('{"error_message": "plain words"}', 400)).toBe('plain words');
    expect(decodeIronicFault('', 500)).toBe('HTTP 500 without a message');
  });

  it('marks a 409 as "node locked" only when Ironic says so', () => {
    expect(new IronicApiError('PUT', '/v1/nodes/x/states/provision', 409, decodeIronicFault(LOCKED_BODY, 409)).nodeLocked).toBe(true);
    expect(new IronicApiError('POST', '/v1/nodes', 409, 'A node with name n1 already exists.').nodeLocked).toBe(false);
  });

  it('names Ironic, the method and the path in the message', () => {
    const error = new IronicApiError('PUT', '/v1/nodes/n1/states/provision', 400, 'nope');
    expect(error.message).toBe('Ironic: PUT /v1/nodes/n1/states/provision answered HTTP 400: nope');
    expect(error.system).toBe('Ironic');
  });
});

describe('redact and compareVersions', () => {
  it('masks every occurrence of a secret', () => {
    expect(redact('ipmitool -P s3cret! failed; s3cret! again', ['s3cret!'])).toBe('ipmitool -P ****** failed; ****** again');
  });

  it('compares microversions numerically', () => {
    expect(compareVersions('1.9', '1.56')).toBeLessThan(0);
    expect(compareVersions('1.82', '1.78')).toBeGreaterThan(0);
    expect(compareVersions('1.78', '1.78')).toBe(0);
  });
});

const host: ProvisionerHost = provisionerHostOf({
  name: 'w1',
  role: 'gpu',
  bmc: { address: 'ipmi://10.0.0.1:6230' },
  bootMacAddress: '52:54:00:00:00:01',
  image: { url: 'http://img/x.qcow2', checksum: 'a'.repeat(64), checksumType: 'sha256', format: 'qcow2' },
  rootDeviceHints: { deviceName: '/dev/nvme0n1', minSizeGigabytes: 200, serialNumber: 'S1', rotational: false },
  hardware: { gpu: true, sriov: true, qat: false },
  bootMode: 'UEFISecureBoot',
}, 'lab');
const credentials = { username: 'root', password: 'calvin' };

describe('node requests', () => {
  it('builds an ipmi node with credentials, root device hints and boot mode in Ironic\'s terms', () => {
    expect(nodeCreateBody(host, parseBmcAddress(host.bmc.address), credentials, DEFAULT_NODE_SETTINGS)).toEqual({
      name: 'lab.w1',
      driver: 'ipmi',
      driver_info: { ipmi_address: '10.0.0.1', ipmi_port: 6230, ipmi_username: 'root', ipmi_password: 'calvin', ipmi_priv_level: 'ADMINISTRATOR', ipmi_cipher_suite: 3 },
      resource_class: 'baremetal',
      properties: { root_device: { name: '/dev/nvme0n1', size: '>= 200', serial: 'S1', rotational: false }, capabilities: 'boot_mode:uefi,secure_boot:true' },
      extra: { slipway_host: host.node.hostId, slipway_host_name: 'lab/w1', slipway_role: 'gpu', slipway_hardware: 'gpu,sriov' },
    });
  });

  it('builds a redfish node with the System path, and virtual-media boot when asked', () => {
    const redfish = { ...host, bmc: { address: 'redfish-virtualmedia+http://10.0.0.2:8000/redfish/v1/Systems/7', disableCertificateVerification: true } };
    const body = nodeCreateBody(redfish, parseBmcAddress(redfish.bmc.address), credentials, DEFAULT_NODE_SETTINGS);
    expect(body.driver_info).toEqual({
      redfish_address: 'http://10.0.0.2:8000', redfish_system_id: '/redfish/v1/Systems/7', redfish_username: 'root', redfish_password: 'calvin', redfish_verify_ca: false,
    });
    expect(body.boot_interface).toBe('redfish-virtual-media');
  });

  it('gives fake-hardware every fake interface and no credentials at all', () => {
    const fake = { ...host, bmc: { address: 'fake://w1' } };
    const body = nodeCreateBody(fake, parseBmcAddress(fake.bmc.address), credentials, DEFAULT_NODE_SETTINGS);
    expect(body.driver_info).toEqual({});
    expect(JSON.stringify(body)).not.toContain('calvin');
    expect(body).toMatchObject({ deploy_interface: 'fake', power_interface: 'fake', boot_interface: 'fake', management_interface: 'fake', network_interface: 'noop' });
  });

  it('writes instance_info and the config drive as Ironic 1.56+ takes them', () => {
    expect(instanceInfo(host.image)).toEqual({ image_source: 'http://img/x.qcow2', image_os_hash_algo: 'sha256', image_os_hash_value: 'a'.repeat(64), image_disk_format: 'qcow2' });
    expect(configDriveBody(host, { userData: '#cloud-config\n', networkData: { links: [] }, metaData: { role: 'gpu' } })).toEqual({
      meta_data: { name: 'w1', 'local-hostname': 'w1', role: 'gpu' },
      user_data: '#cloud-config\n',
      network_data: { links: [] },
    });
  });
});

function node(fields: Record<string, unknown>): ReturnType<typeof parseNode> {
  return parseNode({ uuid: 'u-1', provision_state: 'enroll', target_provision_state: null, last_error: null, ...fields });
}

describe('hostStateOf', () => {
  it('maps Ironic provision states to host states', () => {
    expect(hostStateOf(node({ provision_state: 'verifying', target_provision_state: 'manageable' }))).toEqual({ state: 'registering' });
    expect(hostStateOf(node({ provision_state: 'manageable' }))).toEqual({ state: 'preparing' });
    expect(hostStateOf(node({ provision_state: 'available' }))).toEqual({ state: 'available' });
    expect(hostStateOf(node({ provision_state: 'wait call-back', target_provision_state: 'active' }))).toEqual({ state: 'provisioning' });
    expect(hostStateOf(node({ provision_state: 'active' }))).toEqual({ state: 'provisioned' });
    expect(hostStateOf(node({ provision_state: 'deleting', target_provision_state: 'available' }))).toEqual({ state: 'deprovisioning' });
  });

  it('reports failures with a type and Ironic\'s last_error', () => {
    expect(hostStateOf(node({ provision_state: 'enroll', last_error: 'IPMI call failed: power status.' }))).toEqual({
      state: 'error', error: { type: 'registration error', message: 'IPMI call failed: power status.' },
    });
    expect(hostStateOf(node({ provision_state: 'deploy failed', target_provision_state: 'active', last_error: 'boom' })).error).toEqual({ type: 'provisioning error', message: 'boom' });
    expect(hostStateOf(node({ provision_state: 'clean failed', target_provision_state: 'available' })).error?.type).toBe('preparation error');
    expect(hostStateOf(node({ provision_state: 'clean failed' })).error?.message).toBe('Ironic reports the node in state "clean failed" without an error message');
  });

  it('does not count a failed state\'s leftover target as work in progress', () => {
    expect(inTransition(node({ provision_state: 'deploy failed', target_provision_state: 'active' }))).toBe(false);
    expect(inTransition(node({ provision_state: 'deploying', target_provision_state: 'active' }))).toBe(true);
  });
});
