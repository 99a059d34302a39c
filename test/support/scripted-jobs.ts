/**
 * Installers played by the test on the real control plane — a TEST DOUBLE of what runs inside an
 * installer Pod. Pods of Jobs whose image ends in "/scripted" keep running under kwok until the
 * test decides how they end (tools/kube/examples/stage-scripted.yaml): the test writes what the
 * installer would (a Secret, lines of its log), then sets the exit code, and the real Job
 * controller marks the Job Complete or Failed.
 */
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { ControlPlane } from './real-kube.js';
import { clusterApi } from './real-kube-stand-ins.js';

/** An installer image kwok holds until the test ends its Pod (any registry and tag). */
export const SCRIPTED_IMAGE = 'registry.test/scripted:1';
export const EXIT_CODE_ANNOTATION = 'slipway.test/exit-code';

export interface ScriptedPods {
  /** Pods in `namespace` matching `labelSelector`, as the apiserver has them now. */
  list(namespace: string, labelSelector: string): Promise<V1Pod[]>;
  /** Waits until `count` such Pods run and the test has not ended them yet; returns them. */
  running(namespace: string, labelSelector: string, count: number, timeoutMs?: number): Promise<V1Pod[]>;
  /** Ends the Pod as its installer would: log lines first (kwok serves them as its log), then the exit code. */
  finish(pod: V1Pod, exitCode: number, logLines?: readonly string[]): Promise<void>;
}

export function scriptedPods(plane: ControlPlane): ScriptedPods {
  const api = clusterApi(plane.kubeconfig);
  const logFile = path.join(plane.dir, 'kwok', 'clusters', 'slipway', 'pod-logs.log');
  const isHeld = (pod: V1Pod) => pod.status?.phase === 'Running' && pod.metadata?.annotations?.[EXIT_CODE_ANNOTATION] === undefined;
  const list = async (namespace: string, labelSelector: string) => (await api.listNamespacedPod({ namespace, labelSelector })).items;
  return {
    list,
    async running(namespace, labelSelector, count, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const held = (await list(namespace, labelSelector)).filter(isHeld);
        if (held.length >= count) return held;
        if (Date.now() > until) throw new Error(`${held.length} of ${count} scripted Pods (${labelSelector}) running in ${namespace} after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async finish(pod, exitCode, logLines = []) {
      if (logLines.length > 0) {
        const now = new Date().toISOString();
        await appendFile(logFile, logLines.map((line) => `${now} stdout F ${line}\n`).join(''));
      }
      await plane.kubectl(['annotate', 'pod', '-n', pod.metadata?.namespace ?? '', pod.metadata?.name ?? '', `${EXIT_CODE_ANNOTATION}=${exitCode}`]);
    },
  };
}
