import type { Config } from '../config.js';
import type { Solution } from '../domain/solution.js';
import { renderSolution, type RenderedSolution } from '../domain/manifests/render-solution.js';

/** The render options the configuration decides, for one solution into one namespace. */
export function renderForConfig(solution: Solution, config: Config, namespace: string, deploymentId?: string): RenderedSolution {
  return renderSolution(solution, {
    namespace,
    ...(deploymentId ? { deploymentId } : {}),
    orchestratorImage: config.orchestratorImage,
    ...(config.imagePullSecret ? { imagePullSecret: config.imagePullSecret } : {}),
    sharedFolderSize: config.sharedFolderSize,
    ...(config.sharedFolderStorageClass ? { sharedFolderStorageClass: config.sharedFolderStorageClass } : {}),
    serviceType: config.serviceType,
  });
}
