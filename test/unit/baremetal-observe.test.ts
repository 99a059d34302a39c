import { describe, expect, it } from 'vitest';
import { differenceFromNode, type RecordedHost } from '../../src/domain/baremetal/observe.js';
import type { HostObservation } from '../../src/domain/baremetal/provisioner.js';

/** Whether a host's Ironic node matches what Slipway recorded, case by case. */
const provisioned: RecordedHost = { state: 'provisioned', errorType: null, poweredOn: true };
const active: HostObservation = { registered: true, nodeId: 'n1', state: 'provisioned', poweredOn: true, powerChanging: false, detail: { provisionState: 'active', maintenance: false } };

describe('differenceFromNode', () => {
  it('agrees when the node is where Slipway recorded the host', () => {
    expect(differenceFromNode(provisioned, active)).toBeNull();
    expect(differenceFromNode({ state: 'enrolled', errorType: null, poweredOn: null }, { registered: false, state: 'enrolled', powerChanging: false })).toBeNull();
  });

  it('reports a failed node with Ironic\'s last error', () => {
    const failed: HostObservation = { ...active, state: 'error', error: { type: 'provisioning error', message: 'disk gone' }, detail: { provisionState: 'deploy failed', lastError: 'disk gone', maintenance: false } };
    expect(differenceFromNode(provisioned, failed)).toEqual({
      state: 'error', reason: 'Ironic reports the node "deploy failed" (error: disk gone) while Slipway recorded provisioned',
      provisionState: 'deploy failed', poweredOn: true, maintenance: false, lastError: 'disk gone',
    });
  });

  it('reports maintenance and a power change nobody asked Slipway for, together', () => {
    const seen: HostObservation = { ...active, poweredOn: false, detail: { provisionState: 'active', maintenance: true } };
    expect(differenceFromNode(provisioned, seen)?.reason).toBe('Ironic has the node in maintenance; the server is powered off, Slipway recorded it on');
    expect(differenceFromNode(provisioned, { ...seen, powerChanging: true, detail: { provisionState: 'active', maintenance: false } })).toBeNull();
  });

  it('reports a node that is gone, or another host\'s', () => {
    expect(differenceFromNode(provisioned, { registered: false, state: 'enrolled', powerChanging: false, problem: { kind: 'gone', message: 'deleted' } })).toMatchObject({ state: 'enrolled', reason: 'deleted' });
    expect(differenceFromNode(provisioned, { registered: false, state: 'error', powerChanging: false, problem: { kind: 'conflict', message: 'belongs to host b/x' } })).toMatchObject({ state: 'error', reason: 'belongs to host b/x' });
    expect(differenceFromNode(provisioned, { registered: false, state: 'enrolled', powerChanging: false })?.reason).toBe('Ironic has no node for this host, which Slipway recorded as provisioned');
  });

  it('does not call one working state another a difference (a job is on it)', () => {
    expect(differenceFromNode({ state: 'preparing', errorType: null, poweredOn: null }, { ...active, state: 'provisioning', detail: { provisionState: 'deploying', maintenance: false } })).toBeNull();
  });
});
