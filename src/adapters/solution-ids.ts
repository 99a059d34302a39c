import { ValidationError } from '../errors.js';

/**
 * Solution and revision ids arrive from URLs and end up in upstream URLs and file paths. CDS ids
 * are UUIDs; the local examples use slugs and versions. Anything else (slashes, `..`, percent
 * signs) is refused before it can reach a path.
 */
const SAFE_ID = /^[A-Za-z0-9._-]{1,100}$/;

export function isSafeId(value: string): boolean {
  // `.` and `..` pass the character check but mean "here" and "up" in a path or URL.
  return SAFE_ID.test(value) && value !== '.' && value !== '..';
}

export function assertSolutionIds(solutionId: string, revisionId: string): void {
  const problems: string[] = [];
  if (!isSafeId(solutionId)) problems.push(describeBadId('solutionId', solutionId));
  if (!isSafeId(revisionId)) problems.push(describeBadId('revisionId', revisionId));
  if (problems.length > 0) throw new ValidationError(problems.join('; '), problems);
}

function describeBadId(field: string, value: string): string {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return `${field} ${JSON.stringify(shown)} must be 1 to 100 characters from A-Z, a-z, 0-9, '.', '_' and '-'`;
}
