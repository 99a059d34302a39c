import type { V1Service } from '@kubernetes/client-node';
import { selectorLabels, workloadAnnotations, workloadLabels, type LabelContext } from './labels.js';
import { PORT_NAMES, PROTOBUF_API_PORT, WEBUI_PORT, type Workload } from './workload.js';

export const SERVICE_TYPES = ['NodePort', 'ClusterIP', 'LoadBalancer'] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

/**
 * The workload's Service. Node ports are left to Kubernetes (never set here), so two solutions
 * in one cluster cannot clash and a re-apply keeps the ports already assigned.
 */
export function renderService(workload: Workload, namespace: string, context: LabelContext, type: ServiceType): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: workload.kubeName,
      namespace,
      labels: workloadLabels(context, workload),
      annotations: workloadAnnotations(workload),
    },
    spec: {
      type,
      selector: selectorLabels(workload),
      ports: [
        { name: PORT_NAMES.protobufApi, port: PROTOBUF_API_PORT, targetPort: PROTOBUF_API_PORT, protocol: 'TCP' },
        { name: PORT_NAMES.webui, port: WEBUI_PORT, targetPort: WEBUI_PORT, protocol: 'TCP' },
      ],
    },
  };
}
