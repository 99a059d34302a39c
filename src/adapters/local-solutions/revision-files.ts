import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../errors.js';
import { mapBounded } from '../map-bounded.js';

/**
 * Reading one revision folder of the local solutions layout (examples/solutions/README.md):
 *
 *   <solutionId>/<revisionId>/solution.json          {"name", "kind": "pipeline" | "model", …}
 *                             blueprint.json         pipeline only
 *                             microservice/<container_name>.proto
 *
 * Every problem is a 422 `solution_incomplete` naming the file relative to the solutions folder,
 * so the message helps whoever put the files there without revealing server paths.
 */
export type RevisionManifest =
  | { kind: 'pipeline'; name: string }
  | { kind: 'model'; name: string; containerName: string; image: string };

export const MANIFEST_FILE = 'solution.json';
export const BLUEPRINT_FILE = 'blueprint.json';
export const PROTO_DIR = 'microservice';
const PROTO_READS_AT_ONCE = 16;

/** A revision folder and how to name its files in messages. */
export interface RevisionFolder {
  dir: string;
  /** `<solutionId>/<revisionId>`, used in messages instead of the absolute path. */
  label: string;
}

export function incomplete(folder: RevisionFolder, file: string, problem: string): AppError {
  return new AppError('solution_incomplete', 422, `${folder.label}/${file} ${problem}`, { file: `${folder.label}/${file}` });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error.code === 'ENOENT' || error.code === 'ENOTDIR');
}

/** The file's text, or undefined when it does not exist. */
async function readOptional(folder: RevisionFolder, file: string): Promise<string | undefined> {
  try {
    return await readFile(path.join(folder.dir, file), 'utf8');
  } catch (error: unknown) {
    if (isMissing(error)) return undefined;
    throw incomplete(folder, file, 'cannot be read');
  }
}

async function readJson(folder: RevisionFolder, file: string): Promise<unknown> {
  const text = await readOptional(folder, file);
  if (text === undefined) throw incomplete(folder, file, 'is missing');
  try {
    return JSON.parse(text) as unknown;
  } catch (error: unknown) {
    const reason = error instanceof SyntaxError ? error.message : 'parse error';
    throw incomplete(folder, file, `is not valid JSON (${reason})`);
  }
}

/**
 * solution.json, or — for an unzipped solution without one — a pipeline named after its
 * blueprint's `name`.
 */
export async function readManifest(folder: RevisionFolder, fallbackName: string): Promise<RevisionManifest> {
  if ((await readOptional(folder, MANIFEST_FILE)) === undefined) {
    if ((await readOptional(folder, BLUEPRINT_FILE)) === undefined) throw incomplete(folder, MANIFEST_FILE, 'is missing (and there is no blueprint.json)');
    const blueprint = await readJson(folder, BLUEPRINT_FILE);
    const name = isRecord(blueprint) && typeof blueprint.name === 'string' && blueprint.name.trim() !== '' ? blueprint.name : fallbackName;
    return { kind: 'pipeline', name };
  }
  return toManifest(folder, await readJson(folder, MANIFEST_FILE));
}

function toManifest(folder: RevisionFolder, body: unknown): RevisionManifest {
  const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);
  if (!isRecord(body)) throw incomplete(folder, MANIFEST_FILE, 'must be a JSON object');
  const name = text(body.name);
  if (name === undefined) throw incomplete(folder, MANIFEST_FILE, 'needs a non-empty "name"');
  if (body.kind === 'pipeline') return { kind: 'pipeline', name };
  if (body.kind !== 'model') throw incomplete(folder, MANIFEST_FILE, 'needs "kind": "pipeline" or "model"');
  const containerName = text(body.containerName);
  const image = text(body.image);
  if (containerName === undefined || image === undefined) {
    throw incomplete(folder, MANIFEST_FILE, 'needs non-empty "containerName" and "image" for a model');
  }
  return { kind: 'model', name, containerName, image };
}

export function readBlueprint(folder: RevisionFolder): Promise<unknown> {
  return readJson(folder, BLUEPRINT_FILE);
}

/** Every microservice/*.proto keyed by file name without `.proto`; no folder means no protos. */
export async function readProtos(folder: RevisionFolder): Promise<Record<string, string>> {
  let entries: string[];
  try {
    entries = await readdir(path.join(folder.dir, PROTO_DIR));
  } catch (error: unknown) {
    if (isMissing(error)) return {};
    throw incomplete(folder, PROTO_DIR, 'cannot be listed');
  }
  const names = entries.filter((name) => name.endsWith('.proto')).sort();
  // A pipeline has a proto per node: read them side by side, not one after another.
  const texts = await mapBounded(names, PROTO_READS_AT_ONCE, async (entry) => {
    const file = `${PROTO_DIR}/${entry}`;
    const text = await readOptional(folder, file);
    if (text === undefined) throw incomplete(folder, file, 'disappeared while being read');
    return text;
  });
  return Object.fromEntries(names.map((entry, index) => [entry.slice(0, -'.proto'.length), texts[index] as string]));
}

/** A model's proto: microservice/<containerName>.proto, else the only .proto there, else none. */
export async function readModelProto(folder: RevisionFolder, containerName: string): Promise<string | undefined> {
  const protos = await readProtos(folder);
  const own = protos[containerName];
  if (own !== undefined) return own;
  const all = Object.values(protos);
  return all.length === 1 ? all[0] : undefined;
}
