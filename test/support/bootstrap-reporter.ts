import type { BootstrapHost } from '../../src/domain/bootstrap/hosts.js';
import type { BootstrapReporter } from '../../src/services/bootstrap/shared.js';

/** A recording reporter (a test double of the job context): steps and events in order. */
export class RecordingReporter implements BootstrapReporter {
  readonly steps: Array<{ name: string; status: 'succeeded' | 'failed' }> = [];
  readonly events: Array<{ type: string; message: string }> = [];
  readonly signal = new AbortController().signal;

  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn();
      this.steps.push({ name, status: 'succeeded' });
      return result;
    } catch (error: unknown) {
      this.steps.push({ name, status: 'failed' });
      throw error;
    }
  }

  async event(type: string, message: string): Promise<void> {
    this.events.push({ type, message });
  }
}

/** A site of three control-plane hosts, two workers and a GPU host (the golden files' site A). */
export const SITE_A: BootstrapHost[] = [
  { name: 'cp-1', address: '10.10.0.11', role: 'control-plane' },
  { name: 'cp-2', address: '10.10.0.12', role: 'control-plane' },
  { name: 'cp-3', address: '10.10.0.13', role: 'control-plane' },
  { name: 'node-1', address: '10.10.0.21', role: 'compute' },
  { name: 'node-2', address: '10.10.0.22', role: 'compute' },
  { name: 'gpu-1', address: '10.10.0.31', role: 'gpu', labels: { 'nvidia.com/gpu': 'true' } },
];
