import type { V1Container, V1Deployment, V1PodSpec } from '@kubernetes/client-node';
import { podTemplateLabels, selectorLabels, workloadAnnotations, workloadLabels, type LabelContext } from './labels.js';
import { PORT_NAMES, PROTOBUF_API_PORT, SHARED_FOLDER_PATH_ENV, WEBUI_PORT, type Workload } from './workload.js';

export interface DeploymentOptions {
  namespace: string;
  imagePullSecret?: string;
}

function renderContainer(workload: Workload): V1Container {
  const container: V1Container = {
    name: workload.kubeName,
    image: workload.image,
    // Protocol spelled out: ports are a list keyed by port and protocol under server-side apply.
    ports: [
      { name: PORT_NAMES.protobufApi, containerPort: PROTOBUF_API_PORT, protocol: 'TCP' },
      { name: PORT_NAMES.webui, containerPort: WEBUI_PORT, protocol: 'TCP' },
    ],
  };
  const [firstMount] = workload.mounts;
  // The node contract has one variable; a node mounting several folders is told the first.
  if (firstMount) container.env = [{ name: SHARED_FOLDER_PATH_ENV, value: firstMount.path }];
  if (workload.mounts.length > 0) {
    container.volumeMounts = workload.mounts.map((mount) => ({ name: mount.claimName, mountPath: mount.path }));
  }
  return container;
}

function renderPodSpec(workload: Workload, options: DeploymentOptions): V1PodSpec {
  const spec: V1PodSpec = { containers: [renderContainer(workload)] };
  if (workload.mounts.length > 0) {
    spec.volumes = workload.mounts.map((mount) => ({
      name: mount.claimName,
      persistentVolumeClaim: { claimName: mount.claimName },
    }));
  }
  if (options.imagePullSecret !== undefined) spec.imagePullSecrets = [{ name: options.imagePullSecret }];
  return spec;
}

/** One replica of the workload's image, pods labelled `app=<kubeName>`. */
export function renderDeployment(workload: Workload, context: LabelContext, options: DeploymentOptions): V1Deployment {
  const labels = workloadLabels(context, workload);
  const annotations = workloadAnnotations(workload);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: workload.kubeName, namespace: options.namespace, labels, annotations },
    spec: {
      replicas: 1,
      selector: { matchLabels: selectorLabels(workload) },
      template: {
        // A copy: the same object twice in one document would become a YAML alias.
        metadata: { labels: podTemplateLabels(context, workload), annotations: { ...annotations } },
        spec: renderPodSpec(workload, options),
      },
    },
  };
}
