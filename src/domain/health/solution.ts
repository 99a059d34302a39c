import type { V1Service } from '@kubernetes/client-node';
import { assessDeployment } from './deployment.js';
import { assessPvc } from './pvc.js';
import type { Assessment, ClusterState, ExpectedSolution, NodeHealth, SolutionHealth } from './types.js';

const NOT_FOUND: Assessment = { status: 'progressing', reason: 'not found in the cluster' };

/**
 * One verdict for a deployed solution: every expected object assessed by name, in the order
 * PVCs, Services, Deployments (the order they were applied). Terminal when any object failed.
 */
export function assessSolution(state: ClusterState, expected: ExpectedSolution): SolutionHealth {
  const byName = <T extends { metadata?: { name?: string } }>(items: readonly T[], name: string): T | undefined =>
    items.find((item) => item.metadata?.name === name);

  const nodes: NodeHealth[] = [
    ...expected.persistentVolumeClaims.map((name): NodeHealth => {
      const pvc = byName(state.pvcs, name);
      return { name, kind: 'PersistentVolumeClaim', ...(pvc ? assessPvc(pvc, state.events) : NOT_FOUND) };
    }),
    ...(expected.services ?? []).map((name): NodeHealth => {
      const service = byName(state.services, name);
      return { name, kind: 'Service', ...(service ? assessService(service) : NOT_FOUND) };
    }),
    ...expected.deployments.map((name): NodeHealth => {
      const deployment = byName(state.deployments, name);
      const assessment = deployment ? assessDeployment(deployment, state.pods, state.events) : NOT_FOUND;
      return { name, kind: 'Deployment', ...assessment };
    }),
  ];
  return {
    ready: nodes.every((node) => node.status === 'ready'),
    terminal: nodes.some((node) => node.status === 'failed'),
    nodes,
  };
}

/** A NodePort (or LoadBalancer) Service is usable once every port has its node port. */
export function assessService(service: V1Service): Assessment {
  const type = service.spec?.type ?? 'ClusterIP';
  if (type !== 'NodePort' && type !== 'LoadBalancer') return { status: 'ready' };
  const missing = (service.spec?.ports ?? []).filter((port) => port.nodePort === undefined || port.nodePort === 0);
  if (missing.length === 0) return { status: 'ready' };
  return { status: 'progressing', reason: `waiting for node ports (${missing.length} port(s) unassigned)` };
}

/** One line per object that is not ready, e.g. `Deployment/classifier: cannot pull image …`. */
export function describeUnready(health: SolutionHealth): string[] {
  return health.nodes
    .filter((node) => node.status !== 'ready')
    .map((node) => `${node.kind}/${node.name}: ${node.reason ?? node.status}`);
}
