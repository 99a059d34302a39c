import type { CoreV1Event, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { latestEvent } from './events.js';
import type { Assessment } from './types.js';

/**
 * Bound is ready; Lost is failed. A Pending claim says nothing about why, so the newest warning
 * event on it does: ProvisioningFailed (e.g. a storage class that cannot do ReadWriteMany) or
 * FailedBinding (no default storage class and no matching volume). Both can still be fixed by an
 * administrator while we wait, so they stay `progressing` and the deploy timeout decides.
 */
export function assessPvc(pvc: V1PersistentVolumeClaim, events: readonly CoreV1Event[]): Assessment {
  const phase = pvc.status?.phase;
  if (phase === 'Bound') return { status: 'ready' };
  if (phase === 'Lost') {
    return { status: 'failed', reason: 'the claim lost its volume (the bound PersistentVolume no longer exists)' };
  }
  const name = pvc.metadata?.name ?? '';
  const warning = latestEvent(events, {
    kind: 'PersistentVolumeClaim',
    name,
    reasons: ['ProvisioningFailed', 'FailedBinding'],
    type: 'Warning',
  });
  if (warning) {
    const what = warning.reason === 'ProvisioningFailed' ? 'cannot provision volume' : 'cannot bind volume';
    return { status: 'progressing', reason: `${what}: ${warning.message ?? 'no details'}` };
  }
  const waiting = latestEvent(events, { kind: 'PersistentVolumeClaim', name, reasons: ['WaitForFirstConsumer'] });
  if (waiting) return { status: 'progressing', reason: 'waiting for the first pod that uses it (WaitForFirstConsumer)' };
  return { status: 'progressing', reason: 'waiting for the volume to be bound' };
}
