import { describe, expect, it } from 'vitest';
import { assessCapiCluster, assessInstallerJob, diagnoseInstallerLog, newLogLines, redactLogText, splitLogLines } from '../../src/domain/bootstrap/progress.js';

const condition = (type: string, status: 'True' | 'False', extra: Record<string, string> = {}) => ({ type, status, ...extra });

describe('assessInstallerJob', () => {
  it('pending, running, succeeded, failed', () => {
    expect(assessInstallerJob({ status: {} })).toEqual({ state: 'pending' });
    expect(assessInstallerJob({})).toEqual({ state: 'pending' });
    expect(assessInstallerJob({ status: { active: 1 } })).toEqual({ state: 'running' });
    expect(assessInstallerJob({ status: { succeeded: 1, conditions: [condition('Complete', 'True')] } })).toEqual({ state: 'succeeded' });
    expect(assessInstallerJob({ status: { conditions: [condition('Failed', 'True', { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' })] } }))
      .toEqual({ state: 'failed', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' });
  });

  it('a condition that is False does not count', () => {
    expect(assessInstallerJob({ status: { active: 1, conditions: [condition('Failed', 'False')] } })).toEqual({ state: 'running' });
  });
});

describe('newLogLines', () => {
  it('skips what the previous tail already showed', () => {
    expect(newLogLines(['a', 'b', 'c'], ['b', 'c', 'd', 'e'])).toEqual(['d', 'e']);
    expect(newLogLines([], ['a'])).toEqual(['a']);
    expect(newLogLines(['a', 'b'], ['a', 'b'])).toEqual([]);
  });

  it('a tail that moved past everything seen is all new', () => {
    expect(newLogLines(['a', 'b'], ['x', 'y'])).toEqual(['x', 'y']);
  });

  it('repeated lines: the longest overlap wins', () => {
    expect(newLogLines(['ok', 'ok'], ['ok', 'ok', 'ok'])).toEqual(['ok']);
  });

  it('splitLogLines drops the final empty line only', () => {
    expect(splitLogLines('a\n\nb\n')).toEqual(['a', '', 'b']);
    expect(splitLogLines('')).toEqual([]);
  });
});

describe('diagnoseInstallerLog', () => {
  const log = [
    'TASK [bootstrap-os : Fetch /etc/os-release] ****',
    'fatal: [node-2]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect to the host via ssh: ssh: connect to host 10.10.0.22 port 22: No route to host", "unreachable": true}',
    'fatal: [node-1]: FAILED! => {"changed": false, "msg": "apt failed"}',
    'PLAY RECAP *********',
    'cp-1                       : ok=12   changed=3    unreachable=0    failed=0    skipped=4    rescued=0    ignored=0',
    'node-1                     : ok=2    changed=0    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0',
    'node-3                     : ok=0    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0',
  ].join('\n');

  it('finds unreachable and failed hosts from fatal lines and the recap', () => {
    expect(diagnoseInstallerLog(log)).toEqual({ unreachableHosts: ['node-2', 'node-3'], failedHosts: ['node-1'] });
  });

  it('nothing to report in a clean log', () => {
    expect(diagnoseInstallerLog('PLAY RECAP\ncp-1 : ok=3 changed=0 unreachable=0 failed=0')).toEqual({ unreachableHosts: [], failedHosts: [] });
  });
});

describe('redactLogText', () => {
  it('removes private keys, tokens and passwords', () => {
    const text = [
      'ok: [cp-1] => {"token": "abcdef.0123456789abcdef"}',
      'password=hunter2 next',
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----',
      'Authorization: Bearer eyJhbGciOi',
    ].join('\n');
    const redacted = redactLogText(text);
    for (const secret of ['abcdef.0123456789abcdef', 'hunter2', 'MIIEow', 'eyJhbGciOi']) expect(redacted).not.toContain(secret);
    expect(redacted).toContain('[private key redacted]');
    expect(redacted).toContain('password=[redacted] next');
  });
});

describe('assessCapiCluster', () => {
  it('provisioning says what it waits for', () => {
    expect(assessCapiCluster({ status: { phase: 'Provisioning', conditions: [condition('InfrastructureReady', 'False', { reason: 'WaitingForHosts' })] } })).toEqual({
      state: 'provisioning',
      phase: 'Provisioning',
      waitingFor: ['phase Provisioning (waiting for Provisioned)', 'InfrastructureReady (WaitingForHosts)', 'ControlPlaneReady'],
    });
    expect(assessCapiCluster({})).toMatchObject({ state: 'provisioning', phase: 'Pending' });
  });

  it('Provisioned alone is not enough: the control plane must be ready', () => {
    expect(assessCapiCluster({ status: { phase: 'Provisioned', conditions: [condition('ControlPlaneReady', 'False')] } }))
      .toEqual({ state: 'provisioning', phase: 'Provisioned', waitingFor: ['ControlPlaneReady'] });
    expect(assessCapiCluster({ status: { phase: 'Provisioned', conditions: [condition('ControlPlaneReady', 'True'), condition('InfrastructureReady', 'True')] } }))
      .toEqual({ state: 'ready', phase: 'Provisioned' });
  });

  it('Failed and Deleting are final', () => {
    expect(assessCapiCluster({ status: { phase: 'Failed', failureMessage: 'no host matches' } })).toEqual({ state: 'failed', phase: 'Failed', message: 'no host matches' });
    expect(assessCapiCluster({ status: { phase: 'Deleting' } })).toEqual({ state: 'deleting', phase: 'Deleting' });
  });
});
