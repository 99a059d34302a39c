import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HOST_ERROR_TYPES,
  HOST_STATES,
  operationAllowed,
  transition,
  type HealthyHostState,
  type HostStatus,
} from '../../src/domain/baremetal/states.js';

const healthy = HOST_STATES.filter((state): state is HealthyHostState => state !== 'error');

function advance(status: HostStatus, state: HealthyHostState): HostStatus {
  const result = transition(status, { type: 'advance', state });
  if (!result.ok) throw new Error(result.reason);
  return result.status;
}

describe('host state transitions', () => {
  it('follows the provisioning path and back', () => {
    let status: HostStatus = { state: 'enrolled' };
    for (const state of ['delayed', 'registering', 'inspecting', 'preparing', 'available', 'provisioning', 'provisioned', 'deprovisioning', 'available', 'deleting', 'enrolled'] as const) {
      status = advance(status, state);
    }
    expect(status).toEqual({ state: 'enrolled' });
  });

  it('refuses jumps that cannot happen, saying which', () => {
    expect(transition({ state: 'enrolled' }, { type: 'advance', state: 'provisioned' })).toEqual({ ok: false, reason: 'a host cannot go from enrolled to provisioned' });
    expect(transition({ state: 'provisioning' }, { type: 'advance', state: 'available' }).ok).toBe(false);
    expect(transition({ state: 'provisioned' }, { type: 'advance', state: 'enrolled' }).ok).toBe(false);
    expect(transition({ state: 'deleting' }, { type: 'advance', state: 'available' }).ok).toBe(false);
  });

  it('lets a host that registers straight into a deployed node be provisioned', () => {
    expect(advance({ state: 'registering' }, 'provisioned')).toEqual({ state: 'provisioned' });
  });

  it('fails from any state, carrying type and message, and retries from error to anywhere', () => {
    fc.assert(
      fc.property(fc.constantFrom(...HOST_STATES), fc.constantFrom(...HOST_ERROR_TYPES), fc.string(), fc.constantFrom(...healthy), (state, type, message, next) => {
        const from: HostStatus = state === 'error' ? { state, error: { type: 'timeout', message: 'before' } } : { state };
        const failed = transition(from, { type: 'fail', error: { type, message } });
        expect(failed).toEqual({ ok: true, status: { state: 'error', error: { type, message } } });
        if (failed.ok) expect(transition(failed.status, { type: 'advance', state: next }).ok).toBe(true);
      }),
    );
  });

  it('treats staying in the same state as allowed (a poll that saw no change)', () => {
    for (const state of healthy) expect(transition({ state }, { type: 'advance', state })).toEqual({ ok: true, status: { state } });
  });
});

describe('operationAllowed', () => {
  it('refuses any operation while a job works on the host', () => {
    for (const state of ['delayed', 'registering', 'inspecting', 'preparing', 'provisioning', 'deprovisioning', 'deleting'] as const) {
      const answer = operationAllowed(state, 'provision');
      expect(answer.ok).toBe(false);
      if (!answer.ok) expect(answer.reason).toContain(`the host is ${state}`);
    }
  });

  it('allows operations on settled hosts, but no power change without a node', () => {
    expect(operationAllowed('available', 'provision')).toEqual({ ok: true });
    expect(operationAllowed('provisioned', 'deprovision')).toEqual({ ok: true });
    expect(operationAllowed('error', 'remove')).toEqual({ ok: true });
    expect(operationAllowed('provisioned', 'power')).toEqual({ ok: true });
    expect(operationAllowed('enrolled', 'power')).toEqual({ ok: false, reason: 'the host is not registered with Ironic yet; provision it first' });
  });
});
