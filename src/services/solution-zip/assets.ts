import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The files every solution.zip carries unchanged, kept as real files under ./assets/ so they can
 * be read, linted (`bash -n`, shellcheck) and run as they are. Resolved next to this module, like
 * orchestrator.proto, so they are found from the sources and from the compiled layout (the build
 * must copy `assets/` next to the emitted .js).
 */
const ASSET_NAMES = ['deploy.sh', 'orchestrator_client.py'] as const;
export type AssetName = (typeof ASSET_NAMES)[number];

export function assetPath(name: AssetName): string {
  return fileURLToPath(new URL(`./assets/${name}`, import.meta.url));
}

const cache = new Map<AssetName, string>();

export function readAsset(name: AssetName): string {
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const text = readFileSync(assetPath(name), 'utf8');
  cache.set(name, text);
  return text;
}
