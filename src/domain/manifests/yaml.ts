/** Manifests as a multi-document YAML stream, in the order given (for solution.zip and golden files). */
import { stringify } from 'yaml';

export function objectsToYaml(objects: readonly object[]): string {
  // lineWidth 0: never fold long strings (images, annotations), so output is diff-friendly;
  // no aliases: kubectl reads them, but a person reading the file should not have to.
  return objects.map((object) => stringify(object, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}
