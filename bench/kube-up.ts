/**
 * How long the real control plane (test/support/real-kube.ts) takes from `kube:up` until its
 * three kwok Nodes are Ready, against the 30 s target; and how long finding the built binaries
 * takes once they are cached (the first build is measured in tools/kube/README.md: it is once per
 * machine). Five rounds.
 * Run: npm run bench:kube
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { kubeBinDir, startControlPlane } from '../test/support/real-kube.js';

const ROUNDS = Number(process.env.BENCH_RUNS ?? 5);
const TARGET_MS = 30_000;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

const lookups: number[] = [];
const ups: number[] = [];
const downs: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  let started = performance.now();
  await kubeBinDir();
  lookups.push(performance.now() - started);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'slipway-bench-kube-'));
  started = performance.now();
  const plane = await startControlPlane(dir);
  ups.push(performance.now() - started);
  started = performance.now();
  await plane.stop();
  downs.push(performance.now() - started);
  await rm(dir, { recursive: true, force: true });
}
const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
process.stdout.write(
  [
    `kube:up → 3 Nodes Ready, median of ${ROUNDS}: ${seconds(median(ups))} (range ${seconds(Math.min(...ups))}–${seconds(Math.max(...ups))}); target ${seconds(TARGET_MS)}: ${(median(ups) / TARGET_MS * 100).toFixed(0)} % of it`,
    `kube:down, median: ${seconds(median(downs))}`,
    `cached binaries found (scripts/kube-build.sh), median: ${seconds(median(lookups))}`,
    '',
  ].join('\n'),
);
