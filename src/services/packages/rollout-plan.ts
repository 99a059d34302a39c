/**
 * Which nodes need which packages, in batches. Pure. A node is in the plan only when a desired
 * package is missing or at another version on it; it gets exactly those packages. A node added to
 * a site later has nothing installed, so the next plan gives it every current package — that is
 * how "a new node gets the packages" and "a new version reaches the nodes that need it" are one
 * rule. Packages a node has beyond the desired ones are left alone (never removed).
 */
import { ValidationError } from '../../errors.js';

/** Package name → version. */
export type PackageVersions = Record<string, string>;

export interface NodePackages {
  name: string;
  installed: PackageVersions;
}

export interface NodeInstall {
  node: string;
  /** Only what differs from what the node has. */
  packages: PackageVersions;
}

export interface RolloutPlan {
  /** Installed one batch after another; nodes sorted by name. */
  batches: NodeInstall[][];
  /** Nodes that already have every desired version. */
  upToDate: string[];
  desired: PackageVersions;
}

export function planRollout(nodes: readonly NodePackages[], desired: PackageVersions, batchSize: number): RolloutPlan {
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new ValidationError(`batchSize must be a whole number of nodes, 1 or more (got ${batchSize})`, ['batchSize']);
  const installs: NodeInstall[] = [];
  const upToDate: string[] = [];
  for (const node of [...nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const packages = Object.fromEntries(Object.entries(desired).filter(([name, version]) => node.installed[name] !== version).sort(([a], [b]) => (a < b ? -1 : 1)));
    if (Object.keys(packages).length > 0) installs.push({ node: node.name, packages });
    else upToDate.push(node.name);
  }
  const batches: NodeInstall[][] = [];
  for (let i = 0; i < installs.length; i += batchSize) batches.push(installs.slice(i, i + batchSize));
  return { batches, upToDate, desired: { ...desired } };
}
