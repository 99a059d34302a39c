import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';

/**
 * Where our copy of the orchestrator's .proto lives. Resolved next to this module, so it is found
 * both when running the TypeScript sources (tsx, vitest: src/adapters/orchestrator/) and in the
 * compiled layout (dist/src/adapters/orchestrator/) — the build copies *.proto files alongside the
 * emitted .js. The solution.zip export ships this same file as `protobuf/orchestrator.proto`.
 */
export const orchestratorProtoPath: string = fileURLToPath(new URL('./orchestrator.proto', import.meta.url));

/** The text of orchestrator.proto, for exports that ship it. */
export function readOrchestratorProto(): string {
  return readFileSync(orchestratorProtoPath, 'utf8');
}

/**
 * keepCase keeps the proto's snake_case field names (`active_threads`, `name_regex`) in the JS
 * objects; defaults fills absent fields, so a status without `success` reads as `false`, as it does
 * for the orchestrator's own Python client.
 */
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

export const ORCHESTRATOR_METHOD_NAMES = [
  'initialize',
  'observe',
  'run',
  'get_status',
  'stop_orchestration',
] as const;
export type OrchestratorMethodName = (typeof ORCHESTRATOR_METHOD_NAMES)[number];

export type OrchestratorMethod = protoLoader.MethodDefinition<object, object>;
export type OrchestratorServiceDefinition = Record<OrchestratorMethodName, OrchestratorMethod>;

let cachedService: OrchestratorServiceDefinition | undefined;

/** The `Orchestrator` service definition (paths `/Orchestrator/<method>`), loaded once. */
export function loadOrchestratorService(): OrchestratorServiceDefinition {
  if (cachedService !== undefined) return cachedService;
  const packageDefinition = protoLoader.loadSync(orchestratorProtoPath, LOADER_OPTIONS);
  const service = packageDefinition['Orchestrator'];
  if (service === undefined || 'format' in service) {
    throw new Error(`${orchestratorProtoPath} does not define service Orchestrator`);
  }
  const methods: Partial<OrchestratorServiceDefinition> = {};
  for (const name of ORCHESTRATOR_METHOD_NAMES) {
    const method = service[name];
    if (method === undefined) throw new Error(`${orchestratorProtoPath}: Orchestrator has no method ${name}`);
    methods[name] = method;
  }
  cachedService = methods as OrchestratorServiceDefinition;
  return cachedService;
}
