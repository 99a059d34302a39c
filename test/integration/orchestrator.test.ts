import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamError } from '../../src/errors.js';
import { connectOrchestrator, type OrchestrationEvent, type OrchestratorClient } from '../../src/adapters/orchestrator/client.js';
import { orchestratorProtoPath, readOrchestratorProto } from '../../src/adapters/orchestrator/proto.js';
import {
  OrchestratorRejectedError,
  startOrchestration,
  type StartInput,
  type StartStep,
} from '../../src/adapters/orchestrator/start-orchestration.js';
import { startFakeOrchestrator, type FakeOrchestrator } from '../support/fake-orchestrator.js';

const FIXTURES = new URL('../fixtures/graphene/', import.meta.url);
const noSleep = async (): Promise<void> => {};

interface BlueprintNode {
  container_name: string;
  node_type: string;
  proto_uri?: string;
}
interface Blueprint {
  nodes: BlueprintNode[];
}

function readStub(file: string): { request: { url: string }; response: { jsonBody?: unknown; body?: string } } {
  return JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8'));
}

/** Blueprint, dockerinfo and protos for one Graphene solution, as the deployer would hand them over. */
function solutionInput(blueprintFile: string, protoFiles: string[], keepNode: (node: BlueprintNode) => boolean = () => true): StartInput {
  const blueprint = readStub(blueprintFile).response.jsonBody as Blueprint;
  const nodes = blueprint.nodes.filter(keepNode);
  const protoByUrl = new Map(protoFiles.map((file) => {
    const stub = readStub(file);
    return [stub.request.url, stub.response.body ?? ''] as const;
  }));
  const protofiles: Record<string, string> = {};
  for (const node of nodes) {
    const proto = protoByUrl.get(`/nexus/${node.proto_uri}`);
    if (node.node_type !== 'SharedFolder' && proto !== undefined) protofiles[`${node.container_name}.proto`] = proto;
  }
  const deployed = nodes.filter((node) => node.node_type !== 'SharedFolder');
  const dockerinfo = {
    docker_info_list: [
      ...deployed.map((node) => ({ container_name: node.container_name, ip_address: node.container_name, port: 8061 })),
      { container_name: 'orchestrator', ip_address: 'orchestrator', port: 8061 },
    ],
  };
  return { blueprint: JSON.stringify({ ...blueprint, nodes }), dockerinfo: JSON.stringify(dockerinfo), protofiles };
}

const sudoku = (): StartInput =>
  solutionInput('nexus_sudoku_blueprint.json', ['nexus_sudoku_proto_1.json', 'nexus_sudoku_proto_2.json', 'nexus_sudoku_proto_3.json']);
const SUDOKU_NODES = ['aspsolver-clingo-oneshot1', 'sudoku-tutorial-design-evaluator1', 'sudoku-tutorial-gui1'];
const SHARED_FOLDER_PROTOS = ['nexus_shared_folder_proto_1.json', 'nexus_shared_folder_proto_2.json', 'nexus_shared_folder_proto_3.json'];

describe('orchestrator over gRPC (fake orchestrator on loopback)', () => {
  let fake: FakeOrchestrator;
  let client: OrchestratorClient;

  beforeEach(async () => {
    fake = await startFakeOrchestrator();
    client = connectOrchestrator(fake.address, { timeoutMs: 10_000 });
  });
  afterEach(async () => {
    client.close();
    await fake.close();
  });

  const methods = (): string[] => fake.calls.map((call) => call.method);

  it('runs get_status, initialize, run for the sudoku pipeline', async () => {
    const reported: Array<{ step: StartStep; message: string }> = [];
    const input = sudoku();
    const result = await startOrchestration(client, input, (event) => reported.push({ step: event.step, message: event.status.message }));

    expect(result.action).toBe('started');
    expect(methods()).toEqual(['get_status', 'initialize', 'run']);
    expect(reported).toEqual([
      { step: 'get_status', message: 'not initialized' },
      { step: 'initialize', message: 'initialized' },
      { step: 'run', message: 'running' },
    ]);
    expect(result.statuses.map((status) => status.success)).toEqual([false, false, false]);
    expect(result.statuses[1]).toMatchObject({ code: 0, activeThreads: 3 });
    expect(fake.calls[1]?.request).toEqual({ ...input, queuesize: 0, iterations: 0 });
    expect(Object.keys(input.protofiles).sort()).toEqual(SUDOKU_NODES.map((name) => `${name}.proto`));
    expect(fake.state()).toBe('running');
  });

  it('calls nothing but get_status when the orchestration is already running', async () => {
    await startOrchestration(client, sudoku());
    fake.calls.length = 0;

    const result = await startOrchestration(client, sudoku());

    expect(result.action).toBe('already_running');
    expect(methods()).toEqual(['get_status']);
    expect(result.statuses.map((status) => status.message)).toEqual(['running']);
  });

  it('runs an orchestration that is initialized but not running', async () => {
    const initialized = await client.initialize({ ...sudoku(), queuesize: 0, iterations: 0 });
    expect(initialized.message).toBe('initialized');
    fake.calls.length = 0;

    const result = await startOrchestration(client, sudoku());

    expect(result.action).toBe('run_again');
    expect(methods()).toEqual(['get_status', 'run']);
  });

  it('initializes again after an earlier initialize failed', async () => {
    fake.failNextInitialize('boom');
    await expect(startOrchestration(client, sudoku())).rejects.toBeInstanceOf(OrchestratorRejectedError);
    fake.calls.length = 0;

    const result = await startOrchestration(client, sudoku());

    expect(result.action).toBe('started');
    expect(methods()).toEqual(['get_status', 'initialize', 'run']);
  });

  it('refuses a blueprint node missing from dockerinfo with the orchestrator message', async () => {
    const input = sudoku();
    const dockerinfo = JSON.parse(input.dockerinfo) as { docker_info_list: Array<{ container_name: string }> };
    dockerinfo.docker_info_list = dockerinfo.docker_info_list.filter((entry) => entry.container_name !== 'sudoku-tutorial-gui1');

    const error = await startOrchestration(client, { ...input, dockerinfo: JSON.stringify(dockerinfo) }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OrchestratorRejectedError);
    const rejected = error as OrchestratorRejectedError;
    expect(rejected).toMatchObject({ code: 'orchestrator_failed', status: 502, step: 'initialize', orchestratorCode: -1 });
    expect(rejected.orchestratorMessage).toBe(
      'OSI initialize exception: ValueError: blueprint json contains container named sudoku-tutorial-gui1 that is not present in dockerinfo json',
    );
    expect(rejected.message).toContain(rejected.orchestratorMessage);
    expect(methods()).toEqual(['get_status', 'initialize']);
  });

  it('refuses a blueprint that still holds its SharedFolder node, and accepts it once removed', async () => {
    const withFolder = solutionInput('nexus_shared_folder_blueprint.json', SHARED_FOLDER_PROTOS);
    const rejected = await startOrchestration(client, withFolder).catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(OrchestratorRejectedError);
    expect((rejected as OrchestratorRejectedError).orchestratorMessage).toMatch(/^OSI initialize exception: .*SharedFolder node \/data\/shared/);

    const withoutFolder = solutionInput('nexus_shared_folder_blueprint.json', SHARED_FOLDER_PROTOS, (node) => node.node_type !== 'SharedFolder');
    expect((await startOrchestration(client, withoutFolder)).action).toBe('started');
  });

  it('refuses duplicate dockerinfo names and protos with a package', async () => {
    const input = sudoku();
    const dockerinfo = JSON.parse(input.dockerinfo) as { docker_info_list: unknown[] };
    dockerinfo.docker_info_list.push(dockerinfo.docker_info_list[0]);
    const duplicate = await startOrchestration(client, { ...input, dockerinfo: JSON.stringify(dockerinfo) }).catch((e: unknown) => e);
    expect((duplicate as OrchestratorRejectedError).orchestratorMessage).toContain('duplicate container name aspsolver-clingo-oneshot1');

    const packaged = { ...input.protofiles, 'sudoku-tutorial-gui1.proto': `syntax = "proto3";\npackage sudoku_gui;\nmessage Empty {}\n` };
    const withPackage = await startOrchestration(client, { ...input, protofiles: packaged }).catch((e: unknown) => e);
    expect((withPackage as OrchestratorRejectedError).orchestratorMessage).toContain("cannot process package 'sudoku_gui'");
  });

  it('keeps the orchestrator message verbatim when initialize fails', async () => {
    fake.failNextInitialize('protoc: message SolverJob differs between files');
    const error = await startOrchestration(client, sudoku()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrchestratorRejectedError);
    expect((error as OrchestratorRejectedError).message).toContain(
      'OSI initialize exception: ValueError: protoc: message SolverJob differs between files',
    );
  });

  it('streams events after run and stops when aborted', async () => {
    await startOrchestration(client, sudoku());
    const events: OrchestrationEvent[] = [];
    const controller = new AbortController();

    await client.observe({ nameRegex: 'thread' }, (event) => {
      events.push(event);
      if (events.length === SUDOKU_NODES.length) controller.abort();
    }, controller.signal);

    expect(events.map((event) => event.name)).toEqual(['thread_started', 'thread_started', 'thread_started']);
    expect(events.map((event) => event.component).sort()).toEqual(SUDOKU_NODES);
    expect(events[0]).toMatchObject({ run: '1', detail: { state: 'started' } });
  });

  it('resolves observe at once for an already aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await client.observe({}, () => {}, controller.signal);
    expect(methods()).toEqual([]);
  });
});

describe('orchestrator start sequence edge cases', () => {
  it('waits for an orchestrator that is still initializing', async () => {
    const fake = await startFakeOrchestrator({ initializingForStatusCalls: 2 });
    const client = connectOrchestrator(fake.address);
    try {
      const result = await startOrchestration(client, sudoku(), undefined, { sleep: noSleep });
      expect(result.statuses.map((status) => status.message)).toEqual(['initializing...', 'initialized', 'running']);
      expect(result.action).toBe('run_again');
      expect(fake.calls.map((call) => call.method)).toEqual(['get_status', 'get_status', 'run']);
    } finally {
      client.close();
      await fake.close();
    }
  });

  it('gives up on an orchestrator that stays initializing', async () => {
    const fake = await startFakeOrchestrator({ initializingForStatusCalls: 100 });
    const client = connectOrchestrator(fake.address);
    try {
      const error = await startOrchestration(client, sudoku(), undefined, { sleep: noSleep, initializingPoll: { attempts: 3, delayMs: 0 } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OrchestratorRejectedError);
      expect((error as OrchestratorRejectedError).message).toContain('initializing...');
      expect(fake.calls.map((call) => call.method)).toEqual(['get_status', 'get_status', 'get_status', 'get_status']);
    } finally {
      client.close();
      await fake.close();
    }
  });

  it('answers UpstreamError 503 naming the address after bounded retries when nothing listens', async () => {
    const address = `127.0.0.1:${await unusedPort()}`;
    const real = connectOrchestrator(address, { timeoutMs: 5_000 });
    let attempts = 0;
    const counting: OrchestratorClient = {
      ...real,
      getStatus: (label) => {
        attempts += 1;
        return real.getStatus(label);
      },
    };
    try {
      const error = await startOrchestration(counting, sudoku(), undefined, {
        unavailableRetry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UpstreamError);
      expect(error).toMatchObject({ status: 503, system: 'Orchestrator' });
      expect((error as UpstreamError).message).toContain(address);
      expect(attempts).toBe(3);
    } finally {
      real.close();
    }
  });

  it('finds orchestrator.proto next to the module and it has no package', () => {
    expect(orchestratorProtoPath).toMatch(/orchestrator\.proto$/);
    const text = readOrchestratorProto();
    expect(text).toContain('service Orchestrator');
    expect(text).not.toMatch(/^\s*package\s/m);
  });
});

/** A port nothing listens on: bind one, note it, release it. */
async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
