/**
 * Kubernetes names for things Graphene names freely: blueprint container names, solution names,
 * label values. Pure and deterministic: the same input always gives the same name, so a
 * re-deploy finds the objects of the previous one.
 *
 * The one rule every function here follows: a name is kept as it is (ASCII letters folded to
 * lower case where Kubernetes demands it) when it is already valid; otherwise it is cleaned,
 * shortened if needed, and given a suffix of a hash of the ORIGINAL string, so two different
 * originals that clean to the same text still get different names.
 */
import { createHash } from 'node:crypto';

export const DNS_LABEL_MAX_LENGTH = 63;
export const LABEL_VALUE_MAX_LENGTH = 63;
const HASH_LENGTH = 8;
/** The shortest name toKubeName can build: one letter, a dash and the hash. */
const MIN_KUBE_NAME_LENGTH = HASH_LENGTH + 2;

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/**
 * Hex digest of the string's UTF-16 code units. UTF-16 rather than UTF-8 because UTF-8 encoding
 * turns every lone surrogate into U+FFFD, and two different strings would share a hash.
 */
export function hashHex(raw: string, length = HASH_LENGTH): string {
  return createHash('sha256').update(Buffer.from(raw, 'utf16le')).digest('hex').slice(0, length);
}

/** RFC 1123 label: what Kubernetes requires of namespace and container names. */
export function isDnsLabel(name: string): boolean {
  return name.length <= DNS_LABEL_MAX_LENGTH && DNS_1123_LABEL.test(name);
}

/** RFC 1035 label (starts with a letter): what Kubernetes requires of Service names. */
export function isDns1035Label(name: string): boolean {
  return name.length <= DNS_LABEL_MAX_LENGTH && DNS_1035_LABEL.test(name);
}

export function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= LABEL_VALUE_MAX_LENGTH && LABEL_VALUE.test(value));
}

/** Lower-case ASCII letters only: `toLowerCase` also folds signs such as K (Kelvin) into `k`. */
function foldAsciiCase(raw: string): string {
  return raw.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

/** Runs of anything outside [a-z0-9-] become one dash; no dash at either end. */
function cleanLabel(folded: string): string {
  return folded.replace(/[^a-z0-9-]+/g, '-').replace(/^-+/, '').replace(/-+$/, '');
}

/** `<cleaned, cut to fit>-<hash of raw>`, starting with a letter. */
function hashedKubeName(cleaned: string, hashSource: string, maxLength: number, hashLength: number): string {
  // The name is changed anyway, so runs of dashes can go too (`pipeline-/data` → `pipeline-data`).
  const tidy = cleaned.replace(/-{2,}/g, '-');
  const base = /^[a-z]/.test(tidy) ? tidy : tidy === '' ? 'x' : `x-${tidy}`;
  const stem = base.slice(0, maxLength - hashLength - 1).replace(/-+$/, '');
  return `${stem}-${hashHex(hashSource, hashLength)}`;
}

/**
 * A valid Kubernetes name for `raw`: an RFC 1035 label (lower case, [a-z0-9-], starts with a
 * letter, ends with a letter or digit, at most `maxLength` characters). RFC 1035 rather than
 * RFC 1123 because the same name is used for the node's Service, and Service names must start
 * with a letter.
 *
 * Folding ASCII upper case to lower case is the only change made without a hash suffix (Graphene
 * names like `EntityRecognizer` become `entityrecognizer`, as the reference deployers do);
 * distinctness across one solution is `assignKubeNames`' job.
 */
export function toKubeName(raw: string, maxLength: number = DNS_LABEL_MAX_LENGTH): string {
  if (!Number.isInteger(maxLength) || maxLength < MIN_KUBE_NAME_LENGTH || maxLength > DNS_LABEL_MAX_LENGTH) {
    throw new RangeError(`maxLength must be an integer from ${MIN_KUBE_NAME_LENGTH} to ${DNS_LABEL_MAX_LENGTH}`);
  }
  const folded = foldAsciiCase(raw);
  const cleaned = cleanLabel(folded);
  if (cleaned === folded && cleaned.length <= maxLength && DNS_1035_LABEL.test(cleaned)) return cleaned;
  return hashedKubeName(cleaned, raw, maxLength, HASH_LENGTH);
}

/**
 * Candidate names for `raw`, tried in order until one is free: the plain name, the name with
 * an 8-character hash, with a 16-character hash, then with hashes of `raw` plus a counter
 * (reached only if two different strings share 16 hex digits of SHA-256).
 */
function* candidateNames(raw: string): Generator<string> {
  const cleaned = cleanLabel(foldAsciiCase(raw));
  yield toKubeName(raw);
  yield hashedKubeName(cleaned, raw, DNS_LABEL_MAX_LENGTH, HASH_LENGTH);
  yield hashedKubeName(cleaned, raw, DNS_LABEL_MAX_LENGTH, 2 * HASH_LENGTH);
  for (let counter = 1; ; counter += 1) {
    yield hashedKubeName(cleaned, `${raw}\u0000${counter}`, DNS_LABEL_MAX_LENGTH, 2 * HASH_LENGTH);
  }
}

/**
 * Distinct Kubernetes names for a set of container names, none equal to a reserved name.
 *
 * A name keeps its plain `toKubeName` form when no other input cleans to the same form, or when
 * it IS that form (`model-a` keeps `model-a`; `Model_A` then gets a hash suffix). Everything else
 * gets the first free hashed candidate. Inputs are processed sorted, so the result does not
 * depend on their order; duplicates in the input share one entry.
 */
export function assignKubeNames(
  containerNames: readonly string[],
  reserved: readonly string[] = ['orchestrator'],
): Map<string, string> {
  const unique = [...new Set(containerNames)].sort();
  const taken = new Set(reserved);
  const plainNameUsers = new Map<string, number>();
  for (const raw of unique) {
    const plain = toKubeName(raw);
    plainNameUsers.set(plain, (plainNameUsers.get(plain) ?? 0) + 1);
  }

  const assigned = new Map<string, string>();
  for (const raw of unique) {
    const plain = toKubeName(raw);
    if (taken.has(plain)) continue;
    if (plainNameUsers.get(plain) === 1 || raw === plain) assigned.set(raw, plain);
  }
  for (const name of assigned.values()) taken.add(name);

  for (const raw of unique) {
    if (assigned.has(raw)) continue;
    for (const candidate of candidateNames(raw)) {
      if (taken.has(candidate)) continue;
      assigned.set(raw, candidate);
      taken.add(candidate);
      break;
    }
  }
  return new Map(containerNames.map((raw) => [raw, assigned.get(raw) ?? toKubeName(raw)]));
}

/**
 * The namespace proposed for a deployment. The reference deployer proposes
 * `<solution name>-<revisionId>` lower-cased with spaces turned into dashes; that is kept when it
 * is a valid namespace name, and otherwise (an `_`, a long name) replaced by a valid one.
 */
export function defaultNamespace(solutionName: string, revisionId: string): string {
  const referenceName = `${solutionName}-${revisionId}`.toLowerCase().replace(/ /g, '-');
  if (isDnsLabel(referenceName)) return referenceName;
  return toKubeName(`${solutionName}-${revisionId}`);
}

/**
 * A valid label value for `raw` (at most 63 of [A-Za-z0-9-_.], letter or digit at both ends, or
 * empty). Unchanged when already valid; otherwise cleaned, cut and given a hash suffix.
 */
export function toLabelValue(raw: string): string {
  if (isLabelValue(raw)) return raw;
  const cleaned = raw
    .replace(/[^-A-Za-z0-9_.]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[^A-Za-z0-9]+$/, '');
  const stem = cleaned.slice(0, LABEL_VALUE_MAX_LENGTH - HASH_LENGTH - 1).replace(/[^A-Za-z0-9]+$/, '');
  return `${stem === '' ? 'x' : stem}-${hashHex(raw)}`;
}
