/**
 * The engine's own rules (slots, requeue with jitter, restartOnFailure, retries of thrown errors,
 * deadlines) against a scripted provisioner: a TEST DOUBLE defined below that answers each step
 * from a list and records what it was asked.
 */
import { describe, expect, it } from 'vitest';
import { provisionerHostOf } from '../support/ironic/provisioner-hosts.js';
import type { BareMetalProvisioner, HostObservation, Progress, StepOptions, ProvisionerHost } from '../../src/domain/baremetal/provisioner.js';
import { UpstreamError } from '../../src/errors.js';
import { batchOutcome, provisionHosts } from '../../src/services/provisioning/engine.js';
import { pollStep, withJitter, type Clock } from '../../src/services/provisioning/poll.js';
import { Slots } from '../../src/services/provisioning/slots.js';

type Answer = Progress | Error;
type Method = 'register' | 'makeAvailable' | 'provision' | 'abort';
type Script = Partial<Record<Method, Answer[]>>;

/** TEST DOUBLE: each method pops the host's next scripted answer (the last one repeats). */
class ScriptedProvisioner implements BareMetalProvisioner {
  readonly calls: Array<{ method: string; host: string; options?: StepOptions }> = [];
  private readonly scripts = new Map<string, Script>();
  constructor(private readonly scriptFor: (hostName: string) => Script) {}

  private answer(method: Method, host: ProvisionerHost, options?: StepOptions): Promise<Progress> {
    this.calls.push({ method, host: host.name, ...(options ? { options } : {}) });
    if (!this.scripts.has(host.name)) this.scripts.set(host.name, this.scriptFor(host.name));
    const answers = this.scripts.get(host.name)?.[method] ?? [{ done: true, state: 'available' }];
    const next = answers.length > 1 ? answers.shift() : answers[0];
    if (next instanceof Error) return Promise.reject(next);
    return Promise.resolve(next ?? { done: true, state: 'available' });
  }

  register(host: ProvisionerHost, _credentials: unknown, options?: StepOptions): Promise<Progress> {
    return this.answer('register', host, options);
  }
  makeAvailable(host: ProvisionerHost, options?: StepOptions): Promise<Progress> {
    return this.answer('makeAvailable', host, options);
  }
  provision(host: ProvisionerHost, _image: unknown, _drive: unknown, options?: StepOptions): Promise<Progress> {
    return this.answer('provision', host, options);
  }
  abort(host: ProvisionerHost): Promise<Progress> {
    return this.answer('abort', host);
  }
  deprovision(): Promise<Progress> {
    return Promise.resolve({ done: true, state: 'available' });
  }
  setPower(): Promise<Progress> {
    return Promise.resolve({ done: true, state: 'provisioned' });
  }
  remove(): Promise<Progress> {
    return Promise.resolve({ done: true, state: 'enrolled' });
  }
  status(): Promise<HostObservation> {
    return Promise.resolve({ registered: true, state: 'provisioned', powerChanging: false });
  }
}

function clock(): Clock & { slept: number[]; time: number } {
  const state = {
    time: 0,
    slept: [] as number[],
    now: () => state.time,
    sleep: async (ms: number) => {
      state.slept.push(ms);
      state.time += ms;
    },
    random: () => 1,
  };
  return state;
}

const spec = (name: string): ProvisionerHost => provisionerHostOf({
  name,
  role: 'compute',
  bmc: { address: `fake://${name}` },
  bootMacAddress: '52:54:00:00:00:01',
  image: { url: 'http://i/x', checksum: 'a'.repeat(32), checksumType: 'md5' },
});
const credentials = { username: 'u', password: 'p' };

describe('pollStep', () => {
  it('asks for restartOnFailure on the first call only, and waits retryAfterMs give or take 10 %', async () => {
    const time = clock();
    const calls: StepOptions[] = [];
    const answers: Progress[] = [
      { done: false, state: 'provisioning', retryAfterMs: 10_000 },
      { done: false, state: 'provisioning', retryAfterMs: 10_000 },
      { done: true, state: 'provisioned' },
    ];
    const outcome = await pollStep(
      async (options) => {
        calls.push(options);
        return answers.shift() ?? { done: true, state: 'provisioned' };
      },
      { deadline: 60_000, maxConsecutiveFailures: 3, errorType: 'provisioning error' },
      time,
      async () => {},
    );
    expect(outcome).toEqual({ kind: 'done', progress: { done: true, state: 'provisioned' } });
    expect(calls).toEqual([{ restartOnFailure: true }, { restartOnFailure: false }, { restartOnFailure: false }]);
    expect(time.slept).toEqual([11_000, 11_000]);
  });

  it('retries thrown errors with backoff, then fails with the step\'s error type', async () => {
    const time = clock();
    const outcome = await pollStep(
      async () => {
        throw new UpstreamError('Ironic', 'could not be reached (ECONNREFUSED)', 503);
      },
      { deadline: 600_000, maxConsecutiveFailures: 3, errorType: 'deprovisioning error' },
      time,
      async () => {},
    );
    expect(outcome).toEqual({ kind: 'failed', error: { type: 'deprovisioning error', message: 'Ironic: could not be reached (ECONNREFUSED) (3 attempts in a row)' } });
    expect(time.slept).toEqual([1_100, 2_200]);
  });

  it('stops at the deadline, never sleeping past it', async () => {
    const time = clock();
    const outcome = await pollStep(async () => ({ done: false, state: 'provisioning', retryAfterMs: 40_000 }), { deadline: 100_000, maxConsecutiveFailures: 3, errorType: 'provisioning error' }, time, async () => {});
    expect(outcome).toEqual({ kind: 'timeout' });
    expect(time.time).toBe(100_000);
  });

  it('jitter stays within ±10 %, centred on the interval', () => {
    expect(withJitter(1_000, () => 0)).toBe(900);
    expect(withJitter(1_000, () => 0.5)).toBe(1_000);
    expect(withJitter(1_000, () => 0.999)).toBe(1_100);
  });
});

describe('Slots', () => {
  it('grants in order and gives a cancelled waiter\'s place to the next', async () => {
    const slots = new Slots(1);
    expect(slots.tryAcquire()).toBe(true);
    const order: string[] = [];
    const cancelled = new AbortController();
    const first = slots.acquire(cancelled.signal).then(() => order.push('first'), () => order.push('first gave up'));
    const second = slots.acquire().then(() => order.push('second'));
    cancelled.abort();
    await first;
    slots.release();
    await second;
    expect(order).toEqual(['first gave up', 'second']);
    expect(slots.tryAcquire()).toBe(false);
  });
});

describe('provisionHosts (scripted provisioner)', () => {
  it('keeps going with the other hosts when one fails, and says which failed', async () => {
    const provisioner = new ScriptedProvisioner((name) =>
      name === 'bad'
        ? { register: [{ done: false, state: 'error', error: { type: 'registration error', message: 'IPMI call failed' } }] }
        : { register: [{ done: true, state: 'preparing' }], provision: [{ done: true, state: 'provisioned' }] },
    );
    const result = await provisionHosts(provisioner, ['a', 'bad', 'c'].map((name) => ({ host: spec(name), credentials })), clock());
    expect(result.outcome).toBe('partially_failed');
    expect(result.hosts.map((entry) => entry.status)).toEqual([
      { state: 'provisioned' },
      { state: 'error', error: { type: 'registration error', message: 'IPMI call failed' } },
      { state: 'provisioned' },
    ]);
  });

  it('times a host out from when it got its slot, and asks the provisioner to abort', async () => {
    const provisioner = new ScriptedProvisioner(() => ({
      register: [{ done: true, state: 'available' }],
      provision: [{ done: false, state: 'provisioning', retryAfterMs: 10_000 }],
      abort: [{ done: true, state: 'provisioning' }],
    }));
    const result = await provisionHosts(provisioner, [{ host: spec('slow'), credentials }], { ...clock(), timeoutMs: 30 * 60_000 });
    expect(result.hosts[0]?.status).toMatchObject({ state: 'error', error: { type: 'timeout', message: expect.stringMatching(/^Did not become provisioned within 30 min \(last state: provisioning\)/) } });
    expect(provisioner.calls.at(-1)).toEqual({ method: 'abort', host: 'slow' });
  });
});

describe('batchOutcome', () => {
  it('is succeeded, partially_failed or failed', () => {
    expect(batchOutcome([])).toBe('succeeded');
    expect(batchOutcome([true, true])).toBe('succeeded');
    expect(batchOutcome([true, false])).toBe('partially_failed');
    expect(batchOutcome([false])).toBe('failed');
  });
});
