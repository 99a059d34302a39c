/**
 * deploy.sh, run for real with bash and kubectl against the fake Kubernetes API server, and with
 * each way it has of starting a pipeline: the Python client against the fake orchestrator, grpcurl
 * (a recording double: grpcurl is rarely installed), and no client at all.
 *
 * The fake API server serves no OpenAPI document, which kubectl's client-side validation of
 * `apply` downloads; the KUBECTL the tests hand the script is a wrapper that adds
 * `--validate=false` to `apply` and changes nothing else. A real cluster needs no such thing.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import AdmZip from 'adm-zip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { renderForConfig } from '../../src/services/manifests.js';
import { buildSolutionZip } from '../../src/services/solution-zip/export.js';
import { startFakeKube, type FakeKube } from '../support/fake-kube/index.js';
import { startFakeOrchestrator, type FakeOrchestrator } from '../support/fake-orchestrator.js';
import { loadFixtureSolution, type FixtureSolutionName } from '../support/fixture-solutions.js';

const run = promisify(execFile);
const NODE_IP = '192.0.2.10';
const config = loadConfig({ SOLUTION_SOURCE: 'local', DATA_DIR: '/tmp/slipway-zip-test' });

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
if (!hasKubectl) console.warn('kubectl not found: skipping the deploy.sh tests against the fake API server');
const pythonWithGrpc = ['python3', '/usr/bin/python3'].find((candidate) => spawnSync(candidate, ['-c', 'import grpc']).status === 0);
if (hasKubectl && pythonWithGrpc === undefined) console.warn('no python3 with grpcio: skipping the Python orchestrator client test');
// In CI these tools are installed by scripts/ensure-test-deps.sh: a missing one is a failure there.
const inCi = process.env.CI === 'true';
if (inCi && (!hasKubectl || pythonWithGrpc === undefined)) {
  throw new Error('CI=true but kubectl or python3-grpcio is missing: run scripts/ensure-test-deps.sh');
}

let kube: FakeKube;
let work: string;
let kubeconfig: string;
let kubectlWrapper: string;

interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function unpack(fixture: FixtureSolutionName, into: string): Promise<string> {
  const dir = path.join(work, into);
  new AdmZip(buildSolutionZip(loadFixtureSolution(fixture), config)).extractAllTo(dir, true);
  return dir;
}

async function deploy(dir: string, namespace: string, env: Record<string, string> = {}): Promise<ScriptRun> {
  const fullEnv = { ...process.env, KUBECONFIG: kubeconfig, KUBECTL: kubectlWrapper, WAIT_TIMEOUT: '30s', ...env };
  try {
    const { stdout, stderr } = await run('bash', [path.join(dir, 'deploy.sh'), namespace], { env: fullEnv, encoding: 'utf8', timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error: unknown) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

function managers(object: { metadata?: Record<string, unknown> } | undefined): string[] {
  const fields = object?.metadata?.managedFields;
  return Array.isArray(fields) ? fields.map((field: { manager?: string }) => field.manager ?? '') : [];
}

beforeAll(async () => {
  if (!hasKubectl) return;
  kube = await startFakeKube({ nodes: [{ name: 'node-1', internalIP: '10.0.0.11', externalIP: NODE_IP }] });
  work = await mkdtemp(path.join(os.tmpdir(), 'slipway-script-'));
  kubeconfig = path.join(work, 'kubeconfig');
  await writeFile(kubeconfig, kube.kubeconfig, { mode: 0o600 });
  kubectlWrapper = path.join(work, 'kubectl-no-openapi');
  await writeFile(
    kubectlWrapper,
    '#!/usr/bin/env bash\n# The fake API server has no /openapi: client-side validation is turned off for apply only.\nif [[ ${1:-} == apply ]]; then shift; exec kubectl apply --validate=false "$@"; fi\nexec kubectl "$@"\n',
  );
  await chmod(kubectlWrapper, 0o755);
});

afterAll(async () => {
  await kube?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe.skipIf(!hasKubectl)('deploy.sh against the fake Kubernetes API server', () => {
  it('refuses a bad namespace and wrong usage before touching the cluster', async () => {
    const dir = await unpack('simple', 'usage');
    const bad = await deploy(dir, 'Not_A_Namespace');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('namespace "Not_A_Namespace" must be lower-case letters');
    const usage = spawnSync('bash', [path.join(dir, 'deploy.sh')], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('Usage: bash deploy.sh <namespace>');
    expect(kube.getObject('v1', 'Namespace', undefined, 'not-a-namespace')).toBeUndefined();
  });

  it('deploys a single model: namespace, Service and Deployment applied by slipway-script, web UI printed', async () => {
    const dir = await unpack('simple', 'model');
    const result = await deploy(dir, 'model-ns');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(kube.getObject('v1', 'Namespace', undefined, 'model-ns')).toBeDefined();
    const deployment = kube.getObject('apps/v1', 'Deployment', 'model-ns', 'entityrecognizer');
    expect(managers(deployment)).toContain('slipway-script');
    const service = kube.getObject('v1', 'Service', 'model-ns', 'entityrecognizer') as { spec: { ports: Array<{ name: string; nodePort: number }> } };
    const webui = service.spec.ports.find((port) => port.name === 'webui')?.nodePort;
    expect(result.stdout).toContain(`http://${NODE_IP}:${webui}`);
    expect(result.stdout).not.toContain('Orchestrator');
  });

  describe.skipIf(pythonWithGrpc === undefined)('a pipeline, started with the Python client', () => {
    let orchestrator: FakeOrchestrator;
    let pythonBin: string;

    beforeAll(async () => {
      orchestrator = await startFakeOrchestrator();
      pythonBin = path.join(work, 'python-bin');
      await mkdir(pythonBin, { recursive: true });
      const interpreter = spawnSync(pythonWithGrpc ?? 'python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();
      await symlink(interpreter, path.join(pythonBin, 'python3'));
    });
    afterAll(async () => {
      await orchestrator?.close();
    });

    it('applies everything, initializes the orchestrator with blueprint, dockerinfo and protos, and runs it; a re-run changes nothing', async () => {
      const dir = await unpack('shared-folder', 'pipeline-python');
      const env = { ORCHESTRATOR_CLIENT: 'python', ORCHESTRATOR_ADDRESS: orchestrator.address, PATH: `${pythonBin}:${process.env.PATH ?? ''}` };
      const result = await deploy(dir, 'pipeline-ns', env);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('client: python');
      expect(result.stdout).toContain('The pipeline is running');
      expect(kube.getObject('v1', 'PersistentVolumeClaim', 'pipeline-ns', 'pipeline')).toBeDefined();
      expect(kube.getObject('apps/v1', 'Deployment', 'pipeline-ns', 'orchestrator')).toBeDefined();

      expect(orchestrator.calls.map((call) => call.method)).toEqual(['get_status', 'initialize', 'run']);
      expect(orchestrator.state()).toBe('running');
      const rendered = renderForConfig(loadFixtureSolution('shared-folder'), config, 'pipeline-ns');
      const initialize = orchestrator.calls[1]?.request as { blueprint: string; dockerinfo: string; protofiles: Record<string, string> };
      expect(JSON.parse(initialize.blueprint)).toEqual(rendered.orchestratorBlueprint);
      expect(JSON.parse(initialize.dockerinfo)).toEqual(rendered.dockerinfo);
      expect(initialize.protofiles).toEqual(rendered.protos);

      const again = await deploy(dir, 'pipeline-ns', env);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('already running');
      expect(orchestrator.calls.map((call) => call.method)).toEqual(['get_status', 'initialize', 'run', 'get_status']);
    });

    it('the Python client reports a refused initialize and exits 1', async () => {
      const refusing = await startFakeOrchestrator();
      try {
        refusing.failNextInitialize('blueprint rejected');
        const dir = await unpack('sudoku', 'pipeline-refused');
        const client = path.join(dir, 'orchestrator_client', 'orchestrator_client.py');
        const failed = await run(pythonWithGrpc ?? 'python3', [client, refusing.address], { encoding: 'utf8' }).catch(
          (error: unknown) => error as { code: number; stderr: string },
        );
        expect('code' in failed ? failed.code : 0).toBe(1);
        expect(failed.stderr).toContain('error: the orchestrator refused the pipeline: OSI initialize exception: ValueError: blueprint rejected');
        expect(refusing.calls.map((call) => call.method)).toEqual(['get_status', 'initialize']);
      } finally {
        await refusing.close();
      }
    });
  });

  describe('a pipeline, started with grpcurl', () => {
    let grpcurlBin: string;
    let callsDir: string;

    beforeAll(async () => {
      grpcurlBin = path.join(work, 'grpcurl-bin');
      callsDir = path.join(work, 'grpcurl-calls');
      await mkdir(grpcurlBin, { recursive: true });
      await mkdir(callsDir, { recursive: true });
      // TEST DOUBLE of grpcurl: records its arguments and standard input, answers as the orchestrator would.
      const double = [
        '#!/usr/bin/env bash',
        `calls=${JSON.stringify(callsDir)}`,
        'n=$(find "$calls" -name "*.args" | wc -l)',
        'printf "%s\\n" "$@" >"$calls/$n.args"',
        'if [[ " $* " == *" -d @ "* ]]; then cat >"$calls/$n.stdin"; fi',
        'case "${!#}" in',
        '  Orchestrator/get_status) echo \'{"message": "not initialized"}\' ;;',
        '  Orchestrator/initialize) echo \'{"message": "initialized"}\' ;;',
        '  Orchestrator/run) echo \'{"message": "running", "activeThreads": 3}\' ;;',
        '  *) echo "unexpected method ${!#}" >&2; exit 1 ;;',
        'esac',
      ].join('\n');
      await writeFile(path.join(grpcurlBin, 'grpcurl'), `${double}\n`, { mode: 0o755 });
    });

    it("finds the orchestrator at the node's address and node port, and calls initialize and run with the zip's files", async () => {
      const dir = await unpack('sudoku', 'pipeline-grpcurl');
      // ORCHESTRATOR_CLIENT left at auto: grpcurl on the PATH is preferred.
      const result = await deploy(dir, 'grpcurl-ns', { PATH: `${grpcurlBin}:${process.env.PATH ?? ''}` });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);

      const service = kube.getObject('v1', 'Service', 'grpcurl-ns', 'orchestrator') as { spec: { ports: Array<{ name: string; nodePort: number }> } };
      const nodePort = service.spec.ports.find((port) => port.name === 'protobuf-api')?.nodePort;
      const address = `${NODE_IP}:${nodePort}`;
      expect(result.stdout).toContain(`Orchestrator: ${address} (client: grpcurl)`);

      const calls = (await readdir(callsDir)).filter((file) => file.endsWith('.args')).sort();
      const args = await Promise.all(calls.map(async (file) => (await readFile(path.join(callsDir, file), 'utf8')).trim().split('\n')));
      const common = ['-plaintext', '-max-time', '120', '-import-path', 'protobuf', '-proto', 'orchestrator.proto'];
      expect(args).toEqual([
        [...common, '-d', '{}', address, 'Orchestrator/get_status'],
        [...common, '-d', '@', address, 'Orchestrator/initialize'],
        [...common, '-d', '{}', address, 'Orchestrator/run'],
      ]);
      const body = JSON.parse(await readFile(path.join(callsDir, '1.stdin'), 'utf8')) as { blueprint: string; dockerinfo: string; protofiles: Record<string, string> };
      const rendered = renderForConfig(loadFixtureSolution('sudoku'), config, 'grpcurl-ns');
      expect(JSON.parse(body.blueprint)).toEqual(rendered.orchestratorBlueprint);
      expect(JSON.parse(body.dockerinfo)).toEqual(rendered.dockerinfo);
      expect(body.protofiles).toEqual(rendered.protos);
    });

    it('without any client, deploys, prints the commands to run and exits 3', async () => {
      const dir = await unpack('sudoku', 'pipeline-none');
      const result = await deploy(dir, 'grpcurl-ns', { ORCHESTRATOR_CLIENT: 'none' });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('no tool was found to start the pipeline');
      expect(result.stderr).toMatch(/grpcurl -plaintext -import-path protobuf -proto orchestrator\.proto -d @ 192\.0\.2\.10:\d+ Orchestrator\/initialize <initialize\.json/);
    });
  });
});
