import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';

/** Drives bench/support/fake-kube-process.ts from the benchmark process. */
export interface RemoteFakeKube {
  kubeconfig: string;
  setLatency(ms: number): Promise<void>;
  reset(): Promise<void>;
  /** Requests received (up to `until`, epoch ms, when given). */
  count(until?: number): Promise<{ requests: number; patches: number }>;
  /** Removes the namespace and its objects at once. */
  purge(namespace: string): Promise<void>;
  close(): Promise<void>;
}

export async function startRemoteFakeKube(): Promise<RemoteFakeKube> {
  const child: ChildProcess = spawn(process.execPath, [...(process.env.FAKE_KUBE_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.FAKE_KUBE_CPU_PROF}`] : []), '--import', 'tsx', new URL('./fake-kube-process.ts', import.meta.url).pathname], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout! });
  const pending: Array<(line: string) => void> = [];
  lines.on('line', (line) => pending.shift()?.(line));
  const next = () => new Promise<string>((resolve) => pending.push(resolve));
  const ask = async (command: string) => {
    const answer = next();
    child.stdin!.write(`${command}\n`);
    return answer;
  };
  const { kubeconfig } = JSON.parse(await next()) as { kubeconfig: string };
  return {
    kubeconfig,
    setLatency: async (ms) => void (await ask(`latency ${ms}`)),
    reset: async () => void (await ask('reset')),
    purge: async (namespace) => void (await ask(`purge ${namespace}`)),
    count: async (until) => JSON.parse(await ask(until === undefined ? 'count' : `count ${until}`)) as { requests: number; patches: number },
    close: async () => {
      child.stdin!.end();
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}
