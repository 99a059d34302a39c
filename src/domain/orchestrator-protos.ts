/**
 * What Graphene's generic-parallel-orchestrator will accept of a pipeline's protos, checked before
 * anything is deployed (issue 15). The orchestrator learns the protos only in `initialize`, after
 * every pod is up, and refuses the whole pipeline there; this module finds the same problems from
 * the proto texts alone.
 *
 * The rules follow the orchestrator's own code, AI4EU-Graphene/generic-parallel-orchestrator,
 * `orchestrator_container/src/ai4eu/orchestrator.py` as released in version 1.4 (commit ab76c0d,
 * the image Slipway starts by default): `ProtobufMerger.merge` and `Core.parse_service_name_from_protofile`. For each entry of
 * `protofiles` it runs `protoc --descriptor_set_out` (Debian buster's protoc 3.6.1) on that file
 * alone, then, for the one FileDescriptorProto it gets back, refuses:
 * - a `package` (`f.package != ''`);
 * - a syntax other than proto3 (`f.syntax != 'proto3'`; a file without a syntax line is proto2);
 * - top-level enums (`f.enum_type`) and top-level extensions (`f.extension`);
 * - a top-level message, or a service, whose name an earlier file already used with a different
 *   descriptor (`msg != messages[msg.name]`, the same for services). Descriptor equality is exact
 *   and ignores comments, whitespace and where in the file a message or service is declared, but
 *   not the order of the fields, nested types, oneofs or rpcs inside one (descriptor lists are
 *   compared element by element). Identical duplicates are merged into one.
 * It then builds one file of the merged top-level messages and services, without package,
 * imports or syntax, and compiles it with grpc_tools.protoc, so a type that comes from an import
 * is undefined there. Finally it takes each node's service name from the first line of the proto
 * text that starts with `service ` and fails when there is none.
 *
 * (Known gap: protoc also lists a map field's synthesized entry type among the nested types, at
 * the place the map is declared; two messages that differ only in where a map field sits relative
 * to a nested message declaration are taken as equal here, the orchestrator would refuse them.)
 *
 * Nested messages and enums are not merged on their own: they are part of their parent's
 * descriptor, so a difference inside them makes the top-level message clash (reported under the
 * top-level name), and nested types of the same name in different parents never clash. Nested
 * enums pass the merge (only top-level enums are refused).
 *
 * protoc also refuses a proto3 file outright for some things protobufjs accepts: explicit
 * `optional` (protoc 3.6.1 predates proto3 optional), default values, groups, extension ranges,
 * a nested enum whose first value is not 0, a type that is not defined. Those are reported too.
 */
import protobuf from 'protobufjs';
import type { Enum, Field, IParserResult, MapField, Method, Namespace, ReflectionObject, Service, Type } from 'protobufjs';
import { parseBlueprint } from './blueprint.js';
import type { RenderedSolution } from './manifests/render-solution.js';
import type { Solution } from './solution.js';

/** One node's proto, as the orchestrator receives it in `protofiles`. */
export interface OrchestratorProtoFile {
  /** The node's blueprint `container_name`. */
  node: string;
  /** The `protofiles` key: `<container_name>.proto`. */
  file: string;
  /** The proto text. */
  text: string;
}

export type OrchestratorProtoRule =
  | 'not-proto3'
  | 'package'
  | 'import'
  | 'enum'
  | 'extension'
  | 'no-service'
  | 'service-clash'
  | 'message-clash'
  | 'unparsable';

export interface OrchestratorProtoProblem {
  rule: OrchestratorProtoRule;
  /** The node(s) whose proto has the problem, in input order. */
  nodes: string[];
  /** The message, service, enum, package or import concerned, when there is one. */
  name?: string;
  /** A sentence saying what is wrong, where, and what to do about it. */
  detail: string;
}

const MERGE_REASON = "the orchestrator merges every node's proto into one file and refuses this";

/**
 * The protos the orchestrator is given for this solution, exactly as the deploy passes them as
 * `protofiles` (see manifests/render-solution.ts): one per deployable (non-SharedFolder) node that
 * has a proto, in blueprint order. A single model starts no orchestrator, so it has none.
 * Throws BlueprintInvalidError when the pipeline's blueprint is invalid (as rendering does).
 */
export function protosOfSolution(solution: Solution): OrchestratorProtoFile[] {
  if (solution.kind === 'model') return [];
  const files: OrchestratorProtoFile[] = [];
  for (const node of parseBlueprint(solution.blueprint).deployableNodes) {
    if (!Object.hasOwn(solution.protos, node.containerName)) continue;
    const text = solution.protos[node.containerName];
    if (text !== undefined) files.push({ node: node.containerName, file: `${node.containerName}.proto`, text });
  }
  return files;
}

/**
 * The same list from a rendered solution: its `protos` are the `protofiles` the deploy gives the
 * orchestrator, keyed `<container_name>.proto`, in blueprint order. A rendered single model has
 * no orchestrator blueprint (it starts no orchestrator), so it has none either.
 */
export function protosOfRendered(rendered: Pick<RenderedSolution, 'protos' | 'orchestratorBlueprint'>): OrchestratorProtoFile[] {
  if (rendered.orchestratorBlueprint === undefined) return [];
  return Object.entries(rendered.protos).map(([file, text]) => ({ node: file.replace(/\.proto$/, ''), file, text }));
}

// ---------------------------------------------------------------------------------------------
// Descriptor-like shapes: what protoc puts in a DescriptorProto / ServiceDescriptorProto, with
// type references resolved to full names, so equal shapes mean equal descriptors.

interface FieldShape {
  name: string;
  number: number;
  label: 'optional' | 'repeated' | 'required';
  /** Scalar type name, or the full name (leading dot) of a message or enum. */
  type: string;
  /** For map fields: the key's scalar type (the value is `type`). */
  mapKey?: string;
  oneof?: string;
  jsonName: string;
  options: string;
}

interface EnumShape {
  name: string;
  values: Array<[string, number]>;
  options: string;
}

interface MessageShape {
  name: string;
  fields: FieldShape[];
  oneofs: Array<{ name: string; options: string }>;
  nested: MessageShape[];
  enums: EnumShape[];
  reservedRanges: string[];
  reservedNames: string[];
  extensionRanges: string[];
  options: string;
}

interface MethodShape {
  name: string;
  input: string;
  output: string;
  clientStreaming: boolean;
  serverStreaming: boolean;
  options: string;
}

interface ServiceShape {
  name: string;
  methods: MethodShape[];
  options: string;
}

/** JSON with object keys sorted, so option objects compare by content. */
function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stable(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function optionsOf(object: ReflectionObject, without: readonly string[] = []): string {
  const options: Record<string, unknown> = { ...(object.options ?? {}) };
  for (const key of without) delete options[key];
  // parsedOptions repeats these (and custom options need an import, which is refused anyway).
  return Object.keys(options).length === 0 ? '' : stable(options);
}

/** protoc's ToJsonName: drop underscores and upper-case the letter after each. */
function protocJsonName(name: string): string {
  let result = '';
  let upper = false;
  for (const char of name) {
    if (char === '_') upper = true;
    else {
      result += upper ? char.toUpperCase() : char;
      upper = false;
    }
  }
  return result;
}

function isScalar(type: string): boolean {
  return Object.hasOwn(protobuf.types.basic, type);
}

type SymbolKind = 'package' | 'message' | 'enum' | 'service' | 'other';

/** What shaping one file needs: its symbols by full name (no leading dot), and what did not resolve. */
interface ShapeContext {
  symbols: Map<string, SymbolKind>;
  unresolved: Array<{ where: string; type: string }>;
}

/** Every symbol protoc would know in this file: packages, types, services and their members. */
function symbolsOf(root: Namespace): Map<string, SymbolKind> {
  const symbols = new Map<string, SymbolKind>();
  const visit = (namespace: Namespace): void => {
    for (const object of namespace.nestedArray) {
      const name = object.fullName.slice(1);
      if (object instanceof protobuf.Type) {
        symbols.set(name, 'message');
        for (const member of [...object.fieldsArray, ...object.oneofsArray]) symbols.set(`${name}.${member.name}`, 'other');
        visit(object);
      } else if (object instanceof protobuf.Enum) {
        symbols.set(name, 'enum');
        // Enum values are scoped like siblings of their enum.
        const parent = name.includes('.') ? name.slice(0, name.lastIndexOf('.') + 1) : '';
        for (const value of Object.keys(object.values)) symbols.set(`${parent}${value}`, 'other');
      } else if (object instanceof protobuf.Service) {
        symbols.set(name, 'service');
        for (const method of object.methodsArray) symbols.set(`${name}.${method.name}`, 'other');
      } else if (object instanceof protobuf.Namespace) {
        symbols.set(name, 'package');
        visit(object);
      } else {
        symbols.set(name, 'other');
      }
    }
  };
  visit(root);
  return symbols;
}

const isTypeSymbol = (kind: SymbolKind | undefined): boolean => kind === 'message' || kind === 'enum';

/**
 * Full name (leading dot) of the message or enum `name` refers to from inside `scope` (a message's
 * or service's full name, no leading dot), following protoc's rules
 * (DescriptorBuilder::LookupSymbolNoPlaceholder): innermost scope first; for a dotted name, the
 * first scope where its first part exists decides. Undefined when protoc would not find a type.
 */
function protocLookup(symbols: Map<string, SymbolKind>, scope: string, name: string): string | undefined {
  if (name.startsWith('.')) return isTypeSymbol(symbols.get(name.slice(1))) ? name : undefined;
  const dot = name.indexOf('.');
  const first = dot < 0 ? name : name.slice(0, dot);
  let scopeToTry = `${scope}.`;
  for (;;) {
    const cut = scopeToTry.lastIndexOf('.');
    if (cut < 0) return isTypeSymbol(symbols.get(name)) ? `.${name}` : undefined;
    scopeToTry = scopeToTry.slice(0, cut);
    const candidate = scopeToTry === '' ? first : `${scopeToTry}.${first}`;
    const found = symbols.get(candidate);
    if (found !== undefined) {
      if (dot >= 0) {
        if (found !== 'other') {
          const full = `${candidate}${name.slice(dot)}`;
          return isTypeSymbol(symbols.get(full)) ? `.${full}` : undefined;
        }
      } else if (isTypeSymbol(found)) {
        return `.${candidate}`;
      }
    }
    if (scopeToTry === '') return undefined;
  }
}

function resolveTypeName(scope: Namespace, type: string, where: string, context: ShapeContext): string {
  if (isScalar(type)) return type;
  const target = protocLookup(context.symbols, scope.fullName.slice(1), type);
  if (target === undefined) {
    context.unresolved.push({ where, type });
    return `?${type}`;
  }
  return target;
}

function rangeText(range: number[]): string {
  const [start, end] = range;
  return start === end ? String(start) : `${start} to ${end}`;
}

function enumShape(enumeration: Enum): EnumShape {
  return {
    name: enumeration.name,
    values: Object.entries(enumeration.values),
    options: stable([optionsOf(enumeration), enumeration.valuesOptions ?? {}]),
  };
}

function messageShape(type: Type, context: ShapeContext): MessageShape {
  const fields = type.fieldsArray.map((field): FieldShape => {
    const where = `field "${field.name}" of message ${type.fullName.slice(1)}`;
    const mapField = field instanceof protobuf.MapField ? (field as unknown as MapField) : undefined;
    const shape: FieldShape = {
      name: field.name,
      number: field.id,
      label: mapField || field.repeated ? 'repeated' : field.required ? 'required' : 'optional',
      type: resolveTypeName(type, field.type, where, context),
      jsonName: typeof field.options?.json_name === 'string' ? field.options.json_name : protocJsonName(field.name),
      options: optionsOf(field, ['json_name']),
    };
    if (mapField) shape.mapKey = mapField.keyType;
    if (field.partOf) shape.oneof = field.partOf.name;
    return shape;
  });
  const nested: MessageShape[] = [];
  const enums: EnumShape[] = [];
  for (const object of type.nestedArray) {
    if (object instanceof protobuf.Type) nested.push(messageShape(object, context));
    else if (object instanceof protobuf.Enum) enums.push(enumShape(object));
  }
  const reserved = type.reserved ?? [];
  return {
    name: type.name,
    fields,
    oneofs: type.oneofsArray.map((oneof) => ({ name: oneof.name, options: optionsOf(oneof) })),
    nested,
    enums,
    reservedRanges: reserved.filter((r): r is number[] => Array.isArray(r)).map(rangeText),
    reservedNames: reserved.filter((r): r is string => typeof r === 'string'),
    extensionRanges: (type.extensions ?? []).map(rangeText),
    options: optionsOf(type),
  };
}

function serviceShape(service: Service, context: ShapeContext): ServiceShape {
  return {
    name: service.name,
    methods: service.methodsArray.map((method: Method) => {
      const where = `rpc ${method.name} of service ${service.fullName.slice(1)}`;
      return {
        name: method.name,
        input: resolveTypeName(service, method.requestType, where, context),
        output: resolveTypeName(service, method.responseType, where, context),
        clientStreaming: method.requestStream === true,
        serverStreaming: method.responseStream === true,
        options: optionsOf(method),
      };
    }),
    options: optionsOf(service),
  };
}

// ---------------------------------------------------------------------------------------------
// Human-readable descriptions of shapes and of the first difference between two shapes.

function typeText(fullName: string): string {
  return fullName.startsWith('.') || fullName.startsWith('?') ? fullName.slice(1) : fullName;
}

function optionsText(options: string): string {
  if (options === '') return '';
  const parsed = JSON.parse(options) as Record<string, unknown>;
  return ` [${Object.entries(parsed)
    .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
    .join(', ')}]`;
}

function fieldText(field: FieldShape): string {
  const type = field.mapKey !== undefined ? `map<${field.mapKey}, ${typeText(field.type)}>` : typeText(field.type);
  const label = field.mapKey === undefined && field.label !== 'optional' ? `${field.label} ` : '';
  const extras: string[] = [];
  if (field.jsonName !== protocJsonName(field.name)) extras.push(`json_name = "${field.jsonName}"`);
  const options = optionsText(field.options);
  if (options !== '') extras.push(options.slice(2, -1));
  const oneof = field.oneof !== undefined ? ` in oneof ${field.oneof}` : '';
  return `${label}${type} ${field.name}${extras.length > 0 ? ` [${extras.join(', ')}]` : ''}${oneof}`;
}

function methodText(method: MethodShape): string {
  const input = `${method.clientStreaming ? 'stream ' : ''}${typeText(method.input)}`;
  const output = `${method.serverStreaming ? 'stream ' : ''}${typeText(method.output)}`;
  return `rpc ${method.name}(${input}) returns (${output})${optionsText(method.options)}`;
}

function enumText(shape: EnumShape): string {
  return `{ ${shape.values.map(([name, number]) => `${name} = ${number}`).join('; ')} }`;
}

function listText(items: readonly string[]): string {
  return items.length === 0 ? 'nothing' : items.join(', ');
}

/** `"a"`, `"a" and "b"`, `"a", "b" and "c"`. */
function namesText(names: readonly string[]): string {
  const quoted = names.map((name) => `"${name}"`);
  if (quoted.length <= 1) return quoted.join('');
  return `${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1]}`;
}

/**
 * First difference between two lists of named things, or undefined when they are equal.
 * `render` describes one item; items are matched by `key` (a field's number, an rpc's name).
 */
function listDifference<T>(
  what: string,
  a: readonly T[],
  b: readonly T[],
  key: (item: T) => string,
  equal: (x: T, y: T) => boolean,
  differs: (x: T, y: T, aLabel: string, bLabel: string) => string,
  render: (item: T) => string,
  aLabel: string,
  bLabel: string,
  orderLabel: (item: T) => string = key,
): string | undefined {
  const bByKey = new Map(b.map((item) => [key(item), item]));
  const aByKey = new Map(a.map((item) => [key(item), item]));
  for (const item of a) {
    const other = bByKey.get(key(item));
    if (other === undefined) return `${aLabel} has ${what} ${render(item)} but ${bLabel} does not`;
    if (!equal(item, other)) return differs(item, other, aLabel, bLabel);
  }
  for (const item of b) {
    if (!aByKey.has(key(item))) return `${bLabel} has ${what} ${render(item)} but ${aLabel} does not`;
  }
  const order = (items: readonly T[]): string => items.map(orderLabel).join(', ');
  if (order(a) !== order(b)) {
    return `they declare the same ${what}s in a different order (${aLabel}: ${order(a)}; ${bLabel}: ${order(b)}), which the orchestrator counts as different`;
  }
  return undefined;
}

function messageDifference(a: MessageShape, b: MessageShape, aLabel: string, bLabel: string): string {
  for (const field of a.fields) {
    const renumbered = b.fields.find((other) => other.name === field.name && other.number !== field.number);
    if (renumbered) return `field ${field.name} is number ${field.number} in ${aLabel} but ${renumbered.number} in ${bLabel}`;
  }
  const fieldDiff = listDifference(
    'field',
    a.fields,
    b.fields,
    (f) => String(f.number),
    (x, y) => stable(x) === stable(y),
    (x, y) => `field ${x.number} is "${fieldText(x)}" in ${aLabel} but "${fieldText(y)}" in ${bLabel}`,
    (f) => `${f.number} ("${fieldText(f)}")`,
    aLabel,
    bLabel,
    (f) => `${f.name} = ${f.number}`,
  );
  if (fieldDiff !== undefined) return fieldDiff;
  const nestedDiff = listDifference(
    'nested message',
    a.nested,
    b.nested,
    (m) => m.name,
    (x, y) => stable(x) === stable(y),
    (x, y) => `in nested message ${x.name}, ${messageDifference(x, y, aLabel, bLabel)}`,
    (m) => m.name,
    aLabel,
    bLabel,
  );
  if (nestedDiff !== undefined) return nestedDiff;
  const enumDiff = listDifference(
    'nested enum',
    a.enums,
    b.enums,
    (e) => e.name,
    (x, y) => stable(x) === stable(y),
    (x, y) => `nested enum ${x.name} is ${enumText(x)} in ${aLabel} but ${enumText(y)} in ${bLabel}${x.options !== y.options ? ' (or its options differ)' : ''}`,
    (e) => e.name,
    aLabel,
    bLabel,
  );
  if (enumDiff !== undefined) return enumDiff;
  const oneofsA = a.oneofs.map((o) => o.name + optionsText(o.options));
  const oneofsB = b.oneofs.map((o) => o.name + optionsText(o.options));
  if (stable(oneofsA) !== stable(oneofsB)) return `its oneofs are ${listText(oneofsA)} in ${aLabel} but ${listText(oneofsB)} in ${bLabel}`;
  const reservedA = [...a.reservedRanges, ...a.reservedNames.map((n) => `"${n}"`)];
  const reservedB = [...b.reservedRanges, ...b.reservedNames.map((n) => `"${n}"`)];
  if (stable(reservedA) !== stable(reservedB)) return `it reserves ${listText(reservedA)} in ${aLabel} but ${listText(reservedB)} in ${bLabel}`;
  if (stable(a.extensionRanges) !== stable(b.extensionRanges)) {
    return `its extension ranges are ${listText(a.extensionRanges)} in ${aLabel} but ${listText(b.extensionRanges)} in ${bLabel}`;
  }
  if (a.options !== b.options) {
    return `its options are${optionsText(a.options) || ' none'} in ${aLabel} but${optionsText(b.options) || ' none'} in ${bLabel}`;
  }
  return 'their definitions differ';
}

function serviceDifference(a: ServiceShape, b: ServiceShape, aLabel: string, bLabel: string): string {
  const methodDiff = listDifference(
    'rpc',
    a.methods,
    b.methods,
    (m) => m.name,
    (x, y) => stable(x) === stable(y),
    (x, y) => `rpc ${x.name} is "${methodText(x)}" in ${aLabel} but "${methodText(y)}" in ${bLabel}`,
    (m) => m.name,
    aLabel,
    bLabel,
  );
  if (methodDiff !== undefined) return methodDiff;
  if (a.options !== b.options) {
    return `its options are${optionsText(a.options) || ' none'} in ${aLabel} but${optionsText(b.options) || ' none'} in ${bLabel}`;
  }
  return 'their definitions differ';
}

// ---------------------------------------------------------------------------------------------
// Per-file checks.

type SyntaxOf = { kind: 'proto3' } | { kind: 'other'; text: string } | { kind: 'unknown' };

/** The file's syntax statement, read with protobufjs's tokenizer (which skips comments). */
function syntaxOf(text: string): SyntaxOf {
  try {
    const tokens = protobuf.tokenize(text, false);
    const keyword = tokens.next();
    if (keyword !== 'syntax' && keyword !== 'edition') {
      return { kind: 'other', text: 'does not start with a syntax line, so it is proto2' };
    }
    if (tokens.next() !== '=') return { kind: 'unknown' };
    const quote = tokens.next();
    if (quote !== '"' && quote !== "'") return { kind: 'unknown' };
    const value = tokens.next() ?? '';
    if (keyword === 'syntax' && value === 'proto3') return { kind: 'proto3' };
    return { kind: 'other', text: keyword === 'syntax' ? `declares syntax "${value}"` : `uses edition "${value}"` };
  } catch {
    return { kind: 'unknown' };
  }
}

/**
 * The service name the orchestrator reads from the proto text (parse_service_name_from_protofile):
 * the first line starting with `service `, up to `{`, after the first space. Undefined where the
 * orchestrator fails (no such line, or nothing after `service`).
 */
function orchestratorServiceName(text: string): string | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith('service '));
  if (line === undefined) return undefined;
  const head = (line.trim().split('{', 1)[0] ?? '').trim();
  const space = head.indexOf(' ');
  if (space < 0) return undefined;
  return head.slice(space + 1).trim();
}

interface ParsedFile {
  input: OrchestratorProtoFile;
  messages: MessageShape[];
  services: ServiceShape[];
}

/** Every Type under `namespace`, depth first (for proto3-only checks on nested messages). */
function allTypes(namespace: Namespace): Type[] {
  const types: Type[] = [];
  for (const object of namespace.nestedArray) {
    if (object instanceof protobuf.Type) types.push(object, ...allTypes(object));
  }
  return types;
}

function allExtensionFields(namespace: Namespace): Field[] {
  const fields: Field[] = [];
  for (const object of namespace.nestedArray) {
    if (object instanceof protobuf.Field && object.extend !== undefined) fields.push(object);
    else if (object instanceof protobuf.Namespace) fields.push(...allExtensionFields(object));
  }
  return fields;
}

function checkFile(input: OrchestratorProtoFile, problems: OrchestratorProtoProblem[]): ParsedFile | undefined {
  const node = `Node "${input.node}"`;
  const add = (rule: OrchestratorProtoRule, detail: string, name?: string): void => {
    problems.push({ rule, nodes: [input.node], ...(name !== undefined ? { name } : {}), detail });
  };

  const syntax = syntaxOf(input.text);
  if (syntax.kind === 'other') {
    add('not-proto3', `${node}'s proto ${syntax.text}: the orchestrator accepts only proto3; start the file with syntax = "proto3";`);
    return undefined;
  }

  let parsed: IParserResult;
  try {
    parsed = protobuf.parse(input.text, { keepCase: true });
  } catch (error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    add('unparsable', `${node}'s proto cannot be parsed: ${message}; the orchestrator compiles every node's proto with protoc and refuses the pipeline, so fix the proto`);
    return undefined;
  }

  const root = parsed.root;
  let scope: Namespace = root;
  if (parsed.package !== undefined) {
    add('package', `${node}'s proto declares package "${parsed.package}": the orchestrator refuses protos with a package when it merges them; remove the package line`, parsed.package);
    const found = root.lookup(parsed.package);
    if (found instanceof protobuf.Namespace) scope = found;
  }
  const imports = [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])];
  for (const imported of imports) {
    add(
      'import',
      `${node}'s proto imports "${imported}": the orchestrator merges only the messages and services each node's proto defines itself, so imported types are missing from the merged file; define what the proto needs (such as message Empty {}) in the file itself and remove the import`,
      imported,
    );
  }

  const context: ShapeContext = { symbols: symbolsOf(root), unresolved: [] };
  const messages: MessageShape[] = [];
  const services: ServiceShape[] = [];
  for (const object of scope.nestedArray) {
    if (object instanceof protobuf.Type) messages.push(messageShape(object, context));
    else if (object instanceof protobuf.Service) services.push(serviceShape(object, context));
    else if (object instanceof protobuf.Enum) {
      add(
        'enum',
        `${node}'s proto defines enum ${object.name} at the top level: the orchestrator refuses top-level enums when it merges the protos; use an int32 or string field instead, or declare the enum inside the message that uses it`,
        object.name,
      );
    }
  }

  for (const extension of allExtensionFields(root)) {
    add(
      'extension',
      `${node}'s proto extends ${extension.extend} (field "${extension.name}"): the orchestrator refuses extensions when it merges the protos; remove the extend block`,
      extension.extend,
    );
  }

  // What protoc refuses in a proto3 file but protobufjs parses.
  for (const type of allTypes(scope)) {
    const name = type.fullName.slice(1);
    const unaccepted = (what: string, fix: string): void => {
      add('unparsable', `${node}'s proto ${what} in message ${name}: protoc, which the orchestrator compiles every proto with, refuses this in proto3; ${fix}`, name);
    };
    if ((type as unknown as { group?: boolean }).group === true) unaccepted('uses a group', 'declare a nested message and a field of that type instead');
    if ((type.extensions ?? []).length > 0) {
      add(
        'extension',
        `${node}'s proto declares extension ranges in message ${name}: proto3 has no extensions and protoc, which the orchestrator compiles every proto with, refuses them; remove the extensions line`,
        name,
      );
    }
    for (const field of type.fieldsArray) {
      if (field.options?.proto3_optional === true) {
        unaccepted(`labels field "${field.name}" optional`, 'remove the optional label (the orchestrator\'s protoc 3.6.1 predates proto3 optional)');
      }
      if (field.options !== undefined && Object.hasOwn(field.options, 'default')) {
        unaccepted(`gives field "${field.name}" a default value`, 'remove [default = …]');
      }
    }
    for (const object of type.nestedArray) {
      if (object instanceof protobuf.Enum) {
        const first = Object.values(object.values)[0];
        if (first !== 0) {
          add(
            'unparsable',
            `${node}'s proto declares nested enum ${object.fullName.slice(1)} whose first value is ${first ?? 'missing'}: protoc, which the orchestrator compiles every proto with, requires the first value of a proto3 enum to be 0; add a first value = 0`,
            object.fullName.slice(1),
          );
        }
      }
    }
  }
  if (imports.length === 0) {
    for (const { where, type } of context.unresolved) {
      add('unparsable', `${node}'s proto uses type "${type}" in ${where}, which it does not define: protoc, which the orchestrator compiles every proto with, refuses this; define the message or fix the name`, type);
    }
  }

  const serviceName = orchestratorServiceName(input.text);
  const declared = services[0]?.name;
  if (declared === undefined) {
    add('no-service', `${node}'s proto defines no service: the orchestrator reads every node's service from its proto and fails without one; define the model's service`);
  } else if (serviceName === undefined) {
    add(
      'no-service',
      `${node}'s proto declares service ${declared} on a line that does not start with "service ": the orchestrator finds a node's service by looking for such a line and fails without one; start the line with service ${declared} {`,
      declared,
    );
  } else if (!services.some((service) => service.name === serviceName)) {
    add(
      'no-service',
      `${node}'s proto has "${serviceName}" as the service name the orchestrator reads (from the first line starting with "service "), which is not a service it defines: the orchestrator would call a service that does not exist; make the first line starting with "service " the declaration of service ${declared}`,
      serviceName,
    );
  }

  return { input, messages, services };
}

// ---------------------------------------------------------------------------------------------
// Clashes between files.

interface Definition<S> {
  node: string;
  shape: S;
}

function clashProblems<S extends { name: string }>(
  rule: 'message-clash' | 'service-clash',
  kind: 'message' | 'service',
  definitions: Map<string, Array<Definition<S>>>,
  difference: (a: S, b: S, aLabel: string, bLabel: string) => string,
): OrchestratorProtoProblem[] {
  const problems: OrchestratorProtoProblem[] = [];
  for (const [name, defs] of definitions) {
    // Group identical definitions, in order of first appearance.
    const groups: Array<{ key: string; shape: S; nodes: string[] }> = [];
    for (const def of defs) {
      const key = stable(def.shape);
      const group = groups.find((candidate) => candidate.key === key);
      if (group) {
        if (!group.nodes.includes(def.node)) group.nodes.push(def.node);
      } else groups.push({ key, shape: def.shape, nodes: [def.node] });
    }
    if (groups.length < 2) continue;
    const [first, ...others] = groups;
    if (first === undefined) continue;
    const nodes = [...new Set(defs.map((def) => def.node))];
    const differences = others.map((other) => difference(first.shape, other.shape, namesText(first.nodes), namesText(other.nodes)));
    problems.push({
      rule,
      nodes,
      name,
      detail: `Nodes ${namesText(nodes)} define ${kind} ${name} differently (${differences.join('; ')}): ${MERGE_REASON}; give them the same definition or rename one`,
    });
  }
  return problems;
}

/**
 * Every reason the orchestrator would refuse these protos when it is initialised; [] when it
 * accepts them. Pure: reads only its argument. Problems come file by file in input order
 * (syntax or parse errors, package, imports, enums, extensions, what protoc refuses, the service
 * line), then clashes between files in order of first definition: messages, then services.
 */
export function checkOrchestratorProtos(protos: readonly OrchestratorProtoFile[]): OrchestratorProtoProblem[] {
  const problems: OrchestratorProtoProblem[] = [];
  const parsed: ParsedFile[] = [];
  const position = new Map(protos.map((input, index) => [input.node, index] as const).reverse());
  const inInputOrder = (nodes: Iterable<string>): string[] =>
    [...new Set(nodes)].sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
  for (const input of protos) {
    const file = checkFile(input, problems);
    if (file) parsed.push(file);
  }

  const messages = new Map<string, Array<Definition<MessageShape>>>();
  const services = new Map<string, Array<Definition<ServiceShape>>>();
  for (const file of parsed) {
    for (const shape of file.messages) {
      const list = messages.get(shape.name) ?? [];
      list.push({ node: file.input.node, shape });
      messages.set(shape.name, list);
    }
    for (const shape of file.services) {
      const list = services.get(shape.name) ?? [];
      list.push({ node: file.input.node, shape });
      services.set(shape.name, list);
    }
  }
  problems.push(...clashProblems('message-clash', 'message', messages, messageDifference));
  problems.push(...clashProblems('service-clash', 'service', services, serviceDifference));

  // The merged file holds messages and services side by side: one name cannot be both.
  for (const [name, serviceDefs] of services) {
    const messageDefs = messages.get(name);
    if (messageDefs === undefined) continue;
    const messageNodes = inInputOrder(messageDefs.map((def) => def.node));
    const serviceNodes = inInputOrder(serviceDefs.map((def) => def.node));
    problems.push({
      rule: 'message-clash',
      nodes: inInputOrder([...messageNodes, ...serviceNodes]),
      name,
      detail: `${messageNodes.length > 1 ? 'Nodes' : 'Node'} ${namesText(messageNodes)} ${messageNodes.length > 1 ? 'define' : 'defines'} message ${name} and ${serviceNodes.length > 1 ? 'nodes' : 'node'} ${namesText(serviceNodes)} ${serviceNodes.length > 1 ? 'define' : 'defines'} service ${name}: the orchestrator merges every node's proto into one file, where a name can be defined only once; rename the message or the service`,
    });
  }
  return problems;
}
