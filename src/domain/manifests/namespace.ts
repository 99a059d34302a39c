import type { V1Namespace } from '@kubernetes/client-node';
import { commonLabels, type LabelContext } from './labels.js';

export function renderNamespace(namespace: string, context: LabelContext): V1Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespace, labels: commonLabels(context, namespace) },
  };
}
