/**
 * Container logs of the fake Kubernetes API server (a test double). Nothing runs, so a test says
 * what a pod (or every pod of a Job) printed; a failed Job pod without set logs prints its
 * failure message.
 */
import { asStringMap, type KubeObject } from './types.js';

export class LogBook {
  private readonly byPod = new Map<string, string>();
  private readonly byJob = new Map<string, string>();
  private readonly failureMessages = new Map<string, string>();

  setPodLogs(namespace: string, podName: string, text: string): void {
    this.byPod.set(`${namespace}/${podName}`, text);
  }

  setJobLogs(namespace: string, jobName: string, text: string): void {
    this.byJob.set(`${namespace}/${jobName}`, text);
  }

  /** What a failed pod prints when the test set nothing for it. */
  setFailureMessage(namespace: string, podName: string, text: string): void {
    this.failureMessages.set(`${namespace}/${podName}`, text);
  }

  logsOf(pod: KubeObject): string {
    const namespace = pod.metadata.namespace ?? '';
    const name = pod.metadata.name ?? '';
    const jobName = asStringMap(pod.metadata.labels)['job-name'];
    return (
      this.byPod.get(`${namespace}/${name}`) ??
      (jobName !== undefined ? this.byJob.get(`${namespace}/${jobName}`) : undefined) ??
      this.failureMessages.get(`${namespace}/${name}`) ??
      ''
    );
  }
}

/** The last `tailLines` lines, the way the kubelet counts them (a final newline ends a line). */
export function tailLines(text: string, count: number | undefined): string {
  if (count === undefined || count < 0) return text;
  if (count === 0) return '';
  const endsWithNewline = text.endsWith('\n');
  const lines = (endsWithNewline ? text.slice(0, -1) : text).split('\n');
  if (text === '') return '';
  const kept = lines.slice(-count).join('\n');
  return endsWithNewline ? `${kept}\n` : kept;
}
