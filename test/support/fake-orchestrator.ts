/**
 * TEST DOUBLE of the Generic Parallel Orchestrator (generic-parallel-orchestrator 1.4): a grpc-js
 * server on 127.0.0.1:<random port> serving our orchestrator.proto. It records every call, answers
 * with the real status strings (`not initialized`, `initialized`, `running`, `OSI initialize
 * exception: …` with code -1; `success` false throughout, as the real servicer sets it) and checks
 * `initialize` the way the real one would fail: JSON inputs, every blueprint node in dockerinfo,
 * no duplicate dockerinfo names, a proto per node with a proto_uri, no SharedFolder node left,
 * protos in proto3 without package or enum (cheap text checks, not protoc). The real orchestrator
 * puts a Python traceback after the prefix; the double puts `ValueError: <reason>`.
 * The status strings are written out here on purpose, not imported from src/, so a typo there
 * is caught by the tests.
 */
import * as grpc from '@grpc/grpc-js';
import { loadOrchestratorService } from '../../src/adapters/orchestrator/proto.js';

export interface FakeOrchestratorOptions {
  /** Start as if someone else's initialize were in progress; it finishes after this many get_status calls. */
  initializingForStatusCalls?: number;
  /** Port on 127.0.0.1 to listen on; one chosen by the system when omitted. */
  port?: number;
}

export interface FakeOrchestratorCall {
  method: string;
  request: unknown;
}

export interface FakeOrchestrator {
  address: string;
  calls: FakeOrchestratorCall[];
  /** The current status message. */
  state(): string;
  /** The next initialize fails with `OSI initialize exception: <message>`. */
  failNextInitialize(message: string): void;
  close(): Promise<void>;
}

interface Status {
  success: boolean;
  code: number;
  message: string;
  active_threads: number;
}

interface Event {
  run: string;
  name: string;
  component: string;
  detail: Record<string, string>;
}

type Observer = { call: grpc.ServerWritableStream<unknown, unknown>; name: RegExp; component: RegExp };

export async function startFakeOrchestrator(options: FakeOrchestratorOptions = {}): Promise<FakeOrchestrator> {
  const calls: FakeOrchestratorCall[] = [];
  let initializingLeft = options.initializingForStatusCalls ?? 0;
  let status: Status = fresh(initializingLeft > 0 ? 'initializing...' : 'not initialized');
  let components: string[] = [];
  let nextInitializeFailure: string | undefined;
  let runCount = 0;
  const pendingEvents: Event[] = [];
  const observers = new Set<Observer>();

  // Like the real observer queue: events wait until someone observes, then go to every observer.
  const emit = (event: Event): void => {
    if (observers.size === 0) {
      pendingEvents.push(event);
      return;
    }
    for (const observer of observers) {
      if (observer.name.test(event.name) && observer.component.test(event.component)) observer.call.write(event);
    }
  };

  const unary =
    (method: string, handle: (request: Record<string, unknown>) => Status) =>
    (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>): void => {
      calls.push({ method, request: call.request });
      callback(null, handle(asRecord(call.request)));
    };

  const implementation: grpc.UntypedServiceImplementation = {
    get_status: unary('get_status', () => {
      if (status.message === 'initializing...' && --initializingLeft <= 0) status = fresh('initialized');
      return status;
    }),
    initialize: unary('initialize', (request) => {
      const problem = nextInitializeFailure ?? findInitializeProblem(request);
      nextInitializeFailure = undefined;
      if (problem !== undefined) {
        status = { success: false, code: -1, message: `OSI initialize exception: ValueError: ${problem}`, active_threads: 0 };
        components = [];
        emit({ run: '', name: 'exception', component: 'orchestrator', detail: { method: 'initialize' } });
        return status;
      }
      components = blueprintNodes(request).map((node) => String(node['container_name']));
      status = { success: false, code: 0, message: 'initialized', active_threads: components.length };
      emit({ run: '', name: 'initialized', component: 'orchestrator', detail: {} });
      return status;
    }),
    run: unary('run', () => {
      if (status.message !== 'initialized' && status.message !== 'running') {
        status = { ...status, code: -1, message: "OSI run exception: AttributeError: 'NoneType' object has no attribute 'start_orchestration'" };
        return status;
      }
      runCount += 1;
      status = { ...status, code: 0, message: 'running' };
      for (const component of components) {
        emit({ run: String(runCount), name: 'thread_started', component, detail: { state: 'started' } });
      }
      return status;
    }),
    stop_orchestration: unary('stop_orchestration', () => {
      emit({ run: String(runCount), name: 'terminate_orchestration', component: 'orchestrator', detail: {} });
      components = [];
      status = fresh('not initialized');
      return status;
    }),
    observe: (call: grpc.ServerWritableStream<unknown, unknown>) => {
      calls.push({ method: 'observe', request: call.request });
      const request = asRecord(call.request);
      const observer: Observer = { call, name: pythonMatch(request['name_regex']), component: pythonMatch(request['component_regex']) };
      observers.add(observer);
      call.on('cancelled', () => observers.delete(observer));
      call.on('close', () => observers.delete(observer));
      for (const event of pendingEvents.splice(0)) emit(event);
    },
  };

  const server = new grpc.Server();
  server.addService(loadOrchestratorService(), implementation);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (error, boundPort) => {
      if (error !== null) reject(error);
      else resolve(boundPort);
    });
  });

  return {
    address: `127.0.0.1:${port}`,
    calls,
    state: () => status.message,
    failNextInitialize: (message) => {
      nextInitializeFailure = message;
    },
    close: async () => {
      for (const observer of observers) observer.call.end();
      observers.clear();
      server.forceShutdown();
    },
  };
}

function fresh(message: string): Status {
  return { success: false, code: 0, message, active_threads: 0 };
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/** Python's re.match: anchored at the start only; an empty pattern matches everything. */
function pythonMatch(pattern: unknown): RegExp {
  return new RegExp(`^(?:${typeof pattern === 'string' ? pattern : ''})`);
}

function blueprintNodes(request: Record<string, unknown>): Record<string, unknown>[] {
  const blueprint = asRecord(JSON.parse(String(request['blueprint'])));
  const nodes = blueprint['nodes'];
  return Array.isArray(nodes) ? nodes.map(asRecord) : [];
}

/** The first reason the real orchestrator would refuse this configuration, or undefined. */
function findInitializeProblem(request: Record<string, unknown>): string | undefined {
  let nodes: Record<string, unknown>[];
  let dockerinfo: Record<string, unknown>;
  try {
    nodes = blueprintNodes(request);
    dockerinfo = asRecord(JSON.parse(String(request['dockerinfo'])));
  } catch (error: unknown) {
    return `json.decoder.JSONDecodeError: ${error instanceof Error ? error.message : String(error)}`;
  }
  const protofiles = asRecord(request['protofiles']);
  for (const [file, text] of Object.entries(protofiles)) {
    const problem = findProtoProblem(file, String(text));
    if (problem !== undefined) return problem;
  }
  const list = dockerinfo['docker_info_list'];
  if (!Array.isArray(list)) return "KeyError: 'docker_info_list'";
  const known = new Set<string>();
  for (const entry of list.map(asRecord)) {
    const name = String(entry['container_name']);
    if (known.has(name)) return `dockerinfo json contains duplicate container name ${name}`;
    known.add(name);
  }
  for (const node of nodes) {
    const name = String(node['container_name']);
    if (node['node_type'] === 'SharedFolder') return `blueprint json contains SharedFolder node ${name}, which cannot be orchestrated`;
    if (!known.has(name)) return `blueprint json contains container named ${name} that is not present in dockerinfo json`;
    if (typeof node['proto_uri'] === 'string' && protofiles[`${name}.proto`] === undefined) {
      return `no protobuf file ${name}.proto for container ${name}`;
    }
  }
  return undefined;
}

function findProtoProblem(file: string, text: string): string | undefined {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const syntax = /^\s*syntax\s*=\s*["']([^"']+)["']/m.exec(code)?.[1] ?? 'proto2';
  if (syntax !== 'proto3') return `cannot process syntax '${syntax}' in file '${file}'`;
  const pkg = /^\s*package\s+([\w.]+)/m.exec(code)?.[1];
  if (pkg !== undefined) return `cannot process package '${pkg}' in file '${file}'`;
  const enums = [...code.matchAll(/\benum\s+(\w+)\s*\{/g)].map((match) => match[1]);
  if (enums.length > 0) return `cannot process protobuf input with enums '${enums.join(', ')}'`;
  return undefined;
}
