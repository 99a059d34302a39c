/**
 * Patch semantics for the fake Kubernetes API server (a test double).
 *
 * - JSON merge patch (RFC 7386) and JSON patch (RFC 6902) as specified.
 * - Strategic merge patch: a merge patch whose lists of named items (containers, ports, env, …)
 *   are merged by their key instead of replaced. No `$retainKeys`/`$setElementOrder` directives;
 *   `$patch: delete` on a list item is honoured.
 * - Server-side apply, simplified: the applied configuration is deep-merged into the stored
 *   object (keyed lists merged by key, other lists replaced); fields this manager applied last
 *   time and no longer applies are removed; values the server set (a Service's nodePort, a PVC's
 *   volumeName) survive. Conflicts are detected only between Apply managers, per leaf field.
 */
import { badRequest } from './status.js';
import { asArray, clone, isRecord } from './types.js';

const MERGE_KEYS = ['name', 'containerPort', 'port', 'mountPath', 'devicePath', 'ip', 'type'] as const;

/** The key by which a list of objects is merged, or undefined for an atomic list. */
function mergeKeyOf(items: readonly unknown[]): string | undefined {
  if (items.length === 0 || !items.every(isRecord)) return undefined;
  return MERGE_KEYS.find((key) => items.every((item) => isRecord(item) && item[key] !== undefined));
}

function findByKey(items: readonly unknown[], key: string, value: unknown): unknown {
  return items.find((item) => isRecord(item) && JSON.stringify(item[key]) === JSON.stringify(value));
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return clone(patch);
  const result: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (Array.isArray(patch)) return mergeKeyedList(target, patch);
  if (!isRecord(patch)) return clone(patch);
  const result: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) delete result[key];
    else result[key] = strategicMergePatch(result[key], value);
  }
  return result;
}

function mergeKeyedList(target: unknown, patch: unknown[]): unknown {
  const key = mergeKeyOf(patch);
  if (key === undefined) return clone(patch);
  const result = asArray(target).map((item) => clone(item));
  for (const item of patch) {
    if (!isRecord(item)) continue;
    const index = result.findIndex((existing) => isRecord(existing) && JSON.stringify(existing[key]) === JSON.stringify(item[key]));
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = strategicMergePatch(result[index], item);
    } else {
      result.push(strategicMergePatch(undefined, item));
    }
  }
  return result;
}

// ---------------------------------------------------------------- JSON patch (RFC 6902)

function pointerParts(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw badRequest(`invalid JSON pointer: ${pointer}`);
  return pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(document: unknown, parts: string[]): { parent: unknown; last: string } {
  let current = document;
  for (const part of parts.slice(0, -1)) {
    current = Array.isArray(current) ? current[Number(part)] : isRecord(current) ? current[part] : undefined;
    if (current === undefined) throw badRequest(`the server rejected our request due to an error in our request: missing path ${parts.join('/')}`);
  }
  return { parent: current, last: parts[parts.length - 1] ?? '' };
}

function getAt(document: unknown, pointer: string): unknown {
  const { parent, last } = parentOf(document, pointerParts(pointer));
  return Array.isArray(parent) ? parent[Number(last)] : isRecord(parent) ? parent[last] : undefined;
}

function removeAt(document: unknown, pointer: string): void {
  const { parent, last } = parentOf(document, pointerParts(pointer));
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isRecord(parent) && last in parent) delete parent[last];
  else throw badRequest(`unable to remove nonexistent key: ${pointer}`);
}

function addAt(document: unknown, pointer: string, value: unknown, replace: boolean): void {
  const { parent, last } = parentOf(document, pointerParts(pointer));
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    parent.splice(index, replace ? 1 : 0, clone(value));
  } else if (isRecord(parent)) {
    if (replace && !(last in parent)) throw badRequest(`replace operation does not apply: doc is missing key: ${pointer}`);
    parent[last] = clone(value);
  } else {
    throw badRequest(`doc is missing path: ${pointer}`);
  }
}

export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw badRequest('json patch must be a list of operations');
  const document = { root: clone(target) };
  for (const operation of operations) {
    if (!isRecord(operation) || typeof operation.op !== 'string' || typeof operation.path !== 'string') {
      throw badRequest('invalid json patch operation');
    }
    const path = `/root${operation.path}`;
    const from = typeof operation.from === 'string' ? `/root${operation.from}` : '';
    switch (operation.op) {
      case 'add': addAt(document, path, operation.value, false); break;
      case 'replace': addAt(document, path, operation.value, true); break;
      case 'remove': removeAt(document, path); break;
      case 'copy': addAt(document, path, getAt(document, from), false); break;
      case 'move': { const value = getAt(document, from); removeAt(document, from); addAt(document, path, value, false); break; }
      case 'test':
        if (JSON.stringify(getAt(document, path)) !== JSON.stringify(operation.value)) {
          throw badRequest(`testing value ${operation.path} failed`);
        }
        break;
      default: throw badRequest(`unexpected json patch operation ${operation.op}`);
    }
  }
  return document.root;
}

// ---------------------------------------------------------------- server-side apply

/**
 * Merges `applied` into `base`. `previous` is what the same manager applied last time: fields it
 * held that `applied` no longer holds are removed; everything else in `base` is kept.
 */
export function applyMerge(base: unknown, applied: unknown, previous: unknown): unknown {
  if (isRecord(applied)) {
    const result: Record<string, unknown> = isRecord(base) ? { ...base } : {};
    if (isRecord(previous)) {
      for (const key of Object.keys(previous)) if (!(key in applied)) delete result[key];
    }
    for (const [key, value] of Object.entries(applied)) {
      result[key] = applyMerge(result[key], value, isRecord(previous) ? previous[key] : undefined);
    }
    return result;
  }
  if (Array.isArray(applied)) {
    const key = mergeKeyOf(applied);
    if (key === undefined) return clone(applied);
    const baseItems = asArray(base);
    const previousItems = asArray(previous);
    const merged = applied.map((item) =>
      applyMerge(findByKey(baseItems, key, isRecord(item) ? item[key] : undefined), item, findByKey(previousItems, key, isRecord(item) ? item[key] : undefined)),
    );
    const keptFromBase = baseItems.filter((item) => {
      const value = isRecord(item) ? item[key] : undefined;
      return findByKey(applied, key, value) === undefined && findByKey(previousItems, key, value) === undefined;
    });
    return [...merged, ...keptFromBase.map((item) => clone(item))];
  }
  return clone(applied);
}

/** Leaf paths (`.spec.replicas`) where both configurations set a different value. */
export function conflictingPaths(applied: unknown, other: unknown, path = ''): string[] {
  if (isRecord(applied) && isRecord(other)) {
    return Object.keys(applied).flatMap((key) =>
      key in other ? conflictingPaths(applied[key], other[key], `${path}.${key}`) : [],
    );
  }
  if (Array.isArray(applied) && Array.isArray(other)) {
    const key = mergeKeyOf(applied);
    if (key !== undefined && mergeKeyOf(other) === key) {
      return applied.flatMap((item) => {
        const value = isRecord(item) ? item[key] : undefined;
        const match = findByKey(other, key, value);
        return match === undefined ? [] : conflictingPaths(item, match, `${path}[${key}=${String(value)}]`);
      });
    }
  }
  return JSON.stringify(applied) === JSON.stringify(other) ? [] : [path];
}

/** Removes the leaf at a path produced by `conflictingPaths` (the forced manager takes it over). */
export function removeLeaf(config: unknown, path: string): void {
  const steps = path.split(/(?=\.)|(?=\[)/).filter((s) => s !== '');
  let current: unknown = config;
  steps.forEach((step, index) => {
    const last = index === steps.length - 1;
    const keyed = /^\[([^=]+)=(.*)\]$/.exec(step);
    if (keyed && Array.isArray(current)) {
      const [, key = '', value = ''] = keyed;
      const itemIndex = current.findIndex((item) => isRecord(item) && String(item[key]) === value);
      if (last && itemIndex >= 0) current.splice(itemIndex, 1);
      current = itemIndex >= 0 ? current[itemIndex] : undefined;
    } else if (isRecord(current)) {
      const key = step.replace(/^\./, '');
      if (last) delete current[key];
      current = current[key];
    }
  });
}

/** The `fieldsV1` description of a configuration, as stored in `managedFields`. */
export function fieldsV1Of(config: unknown): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  if (!isRecord(config)) return result;
  for (const [key, value] of Object.entries(config)) {
    result[`f:${key}`] = fieldsOfValue(value);
  }
  return result;
}

function fieldsOfValue(value: unknown): Record<string, unknown> {
  if (isRecord(value)) return fieldsV1Of(value);
  if (Array.isArray(value)) {
    const key = mergeKeyOf(value);
    if (key === undefined) return {};
    const items: Record<string, unknown> = {};
    for (const item of value) {
      if (isRecord(item)) items[`k:${JSON.stringify({ [key]: item[key] })}`] = { '.': {}, ...fieldsV1Of(item) };
    }
    return items;
  }
  return {};
}
