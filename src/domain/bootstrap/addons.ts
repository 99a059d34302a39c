/**
 * KUD add-ons Slipway knows and the order they are installed in. Order matters: node feature
 * discovery (`nfd`) labels the nodes that the `sriov` and `qat` plug-ins select, so it goes
 * first — and comes along when only those were asked for. Pure.
 */

/** Known add-ons, in install order. */
export const KNOWN_ADDONS = ['multus', 'ovn4nfv', 'nfd', 'sriov', 'qat', 'optane', 'cmk', 'kubevirt', 'cdi', 'virtlet'] as const;
export type Addon = (typeof KNOWN_ADDONS)[number];

/** Add-ons that only work once another one is installed. */
const REQUIRES: Partial<Record<Addon, readonly Addon[]>> = {
  sriov: ['nfd'],
  qat: ['nfd'],
};

export function isKnownAddon(name: string): name is Addon {
  return (KNOWN_ADDONS as readonly string[]).includes(name);
}

export interface OrderedAddons {
  addons: Addon[];
  /** Why the list differs from what was asked (an add-on added as a dependency). */
  notes: string[];
  /** Unknown names, each as a problem line. */
  problems: string[];
}

/** The requested add-ons plus their dependencies, without duplicates, in install order. */
export function orderAddons(requested: readonly string[]): OrderedAddons {
  const problems: string[] = [];
  const notes: string[] = [];
  const chosen = new Set<Addon>();
  requested.forEach((name, index) => {
    if (isKnownAddon(name)) chosen.add(name);
    else problems.push(`addons[${index}] ${JSON.stringify(name)} is not a known add-on (known: ${KNOWN_ADDONS.join(', ')})`);
  });
  for (const addon of [...chosen]) {
    for (const dependency of REQUIRES[addon] ?? []) {
      if (!chosen.has(dependency)) {
        chosen.add(dependency);
        notes.push(`add-on ${dependency} added: ${addon} needs the node labels it writes, so it is installed first`);
      }
    }
  }
  const addons = KNOWN_ADDONS.filter((addon) => chosen.has(addon));
  return { addons, notes, problems };
}
