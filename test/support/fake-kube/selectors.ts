/**
 * Label and field selectors for the fake Kubernetes API server (a test double). Label selectors
 * support equality (`a=b`, `a==b`, `a!=b`), existence (`a`, `!a`) and sets (`a in (x,y)`,
 * `a notin (x)`). Field selectors support `=`, `==` and `!=` on any dotted path
 * (`metadata.name`, `involvedObject.name`, `status.phase`), a superset of what the real server
 * allows per kind.
 */
import { badRequest } from './status.js';
import { asStringMap, readPath, type KubeObject } from './types.js';

export type Matcher = (object: KubeObject) => boolean;

/** Splits on commas that are not inside `( … )`. */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function parseLabelRequirement(requirement: string): (labels: Record<string, string>) => boolean {
  const setMatch = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(requirement);
  if (setMatch) {
    const [, key = '', operator, rawValues = ''] = setMatch;
    const values = new Set(rawValues.split(',').map((v) => v.trim()));
    return operator === 'in'
      ? (labels) => labels[key] !== undefined && values.has(labels[key])
      : (labels) => labels[key] === undefined || !values.has(labels[key]);
  }
  const notEqual = /^([^\s!=]+)\s*!=\s*(\S*)$/.exec(requirement);
  if (notEqual) {
    const [, key = '', value = ''] = notEqual;
    return (labels) => labels[key] !== value;
  }
  const equal = /^([^\s!=]+)\s*==?\s*(\S*)$/.exec(requirement);
  if (equal) {
    const [, key = '', value = ''] = equal;
    return (labels) => labels[key] === value;
  }
  const absent = /^!\s*([^\s!=]+)$/.exec(requirement);
  if (absent) {
    const key = absent[1] ?? '';
    return (labels) => labels[key] === undefined;
  }
  if (/^[^\s!=()]+$/.test(requirement)) {
    return (labels) => labels[requirement] !== undefined;
  }
  throw badRequest(`unable to parse requirement: ${requirement}`);
}

export function labelMatcher(selector: string | undefined): Matcher {
  if (selector === undefined || selector.trim() === '') return () => true;
  const requirements = splitTopLevel(selector).map(parseLabelRequirement);
  return (object) => {
    const labels = asStringMap(object.metadata.labels);
    return requirements.every((matches) => matches(labels));
  };
}

function fieldText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function fieldMatcher(selector: string | undefined): Matcher {
  if (selector === undefined || selector.trim() === '') return () => true;
  const requirements = splitTopLevel(selector).map((requirement) => {
    const match = /^([A-Za-z0-9_.]+)\s*(!=|==|=)\s*(.*)$/.exec(requirement);
    if (!match) throw badRequest(`invalid field selector: ${requirement}`);
    const [, path = '', operator, value = ''] = match;
    return (object: KubeObject): boolean => {
      const actual = fieldText(readPath(object, path));
      return operator === '!=' ? actual !== value : actual === value;
    };
  });
  return (object) => requirements.every((matches) => matches(object));
}

/** Whether `labels` satisfy a `matchLabels`/`matchExpressions` selector (a LabelSelector object). */
export function matchesLabelSelector(selector: unknown, labels: Record<string, string>): boolean {
  const matchLabels = asStringMap(readPath(selector, 'matchLabels'));
  return Object.entries(matchLabels).every(([key, value]) => labels[key] === value);
}
