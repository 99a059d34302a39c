/**
 * The file layout of solution.zip (graphene.md §8), shared by the export and the import.
 *
 * Pipeline                                  Single model
 *   blueprint.json         (no SharedFolder)   modelname.txt
 *   source-blueprint.json  (only with one)     deployments/service.yaml
 *   dockerinfo.json                            deployments/deployment.yaml
 *   deployments/<kube name>_service.yaml       microservice/<container name>.proto (when it has one)
 *   deployments/<kube name>_deployment.yaml
 *   deployments/pvc.yaml   (with a shared folder)
 *   microservice/<container_name>.proto
 *   protobuf/orchestrator.proto
 *   orchestrator_client/orchestrator_client.py
 * Both: solution.json, deployment-readme.txt, deploy.sh
 *
 * `source-blueprint.json` is Slipway's addition: blueprint.json is what the orchestrator is given
 * (SharedFolder nodes removed, as the reference deployers do), so a zip that is imported back
 * needs the original to recreate the shared volume.
 */
export const ZIP_PATHS = {
  blueprint: 'blueprint.json',
  sourceBlueprint: 'source-blueprint.json',
  dockerinfo: 'dockerinfo.json',
  solution: 'solution.json',
  modelName: 'modelname.txt',
  readme: 'deployment-readme.txt',
  deployScript: 'deploy.sh',
  deploymentsDir: 'deployments/',
  sharedFolderClaims: 'deployments/pvc.yaml',
  modelService: 'deployments/service.yaml',
  modelDeployment: 'deployments/deployment.yaml',
  protoDir: 'microservice/',
  orchestratorProto: 'protobuf/orchestrator.proto',
  orchestratorClient: 'orchestrator_client/orchestrator_client.py',
} as const;

/** Written into solution.json so an import knows which layout it reads. */
export const SOLUTION_ZIP_FORMAT = 'slipway.solution-zip/v1';

/** solution.json inside the zip: enough to import the zip back without losing anything. */
export type ZipSolutionManifest =
  | { format: string; kind: 'pipeline'; solutionId: string; revisionId: string; name: string }
  | { format: string; kind: 'model'; solutionId: string; revisionId: string; name: string; containerName: string; image: string };

export function protoPath(containerName: string): string {
  return `${ZIP_PATHS.protoDir}${containerName}.proto`;
}

/**
 * Why `path` is not a safe relative path inside a zip, or undefined when it is: no absolute path,
 * drive letter, backslash, `.`/`..` or empty segment, control character or over-long name.
 * Used on what the export writes and on what an import reads.
 */
export function unsafePathReason(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (path.length > 255) return 'is longer than 255 characters';
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'contains a control character';
  if (path.includes('\\')) return 'contains a backslash';
  if (path.startsWith('/')) return 'is an absolute path';
  if (/^[A-Za-z]:/.test(path)) return 'starts with a drive letter';
  const segments = path.replace(/\/$/, '').split('/');
  if (segments.some((segment) => segment === '..')) return 'contains ".."';
  if (segments.some((segment) => segment === '' || segment === '.')) return 'contains an empty or "." segment';
  return undefined;
}
