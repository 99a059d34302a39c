import type { Config } from '../../config.js';
import type { Pool } from '../../adapters/db/pool.js';
import type { SecretBox } from '../../adapters/crypto/secret-box.js';
import type { SafeKubeconfig } from '../../domain/kubeconfig.js';
import type { SolutionSource } from '../../domain/solution.js';
import type { RenderedSolution } from '../../domain/manifests/render-solution.js';
import type { ClusterClient } from '../../adapters/kubernetes/cluster-client.js';
import { waitForReady } from '../../adapters/kubernetes/wait-for-ready.js';
import type { OrchestratorClient } from '../../adapters/orchestrator/client.js';
import { startOrchestration } from '../../adapters/orchestrator/start-orchestration.js';
import { renderForConfig } from '../../services/manifests.js';
import { kubeconfigContext } from '../../services/deployments/service.js';
import { getDeployment, getSealedKubeconfig, updateDeployment } from '../../services/deployments/store.js';
import type { DeployedService, DeploymentStatus } from '../../services/deployments/model.js';
import { AppError } from '../../errors.js';
import type { JobContext, JobHandler, JobOutcome } from '../runner.js';
import type { JobStatus } from '../model.js';
import { orchestratorAddress, pickNodeAddress } from './addresses.js';

export interface DeployDeps {
  config: Config;
  pool: Pool;
  secretBox: SecretBox;
  solutionSource: SolutionSource;
  connectCluster: (kubeconfig: SafeKubeconfig) => ClusterClient;
  connectOrchestrator: (address: string) => OrchestratorClient;
}

class DeploymentGoneError extends AppError {
  constructor(id: string) {
    super('deployment_not_found', 404, `Deployment ${id} no longer exists`);
  }
}

const DEPLOYMENT_STATUS: Record<JobStatus, DeploymentStatus> = {
  queued: 'queued',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  partially_failed: 'failed',
  cancelled: 'cancelled',
};

/**
 * The deploy job: fetch → render → apply in waves → wait until really running → start the
 * orchestrator → list the services. Every step is safe to run again (server-side apply; the
 * orchestrator is initialised only when it says `not initialized`).
 */
export function deployHandler(deps: DeployDeps): JobHandler {
  return {
    async run(ctx) {
      const deploymentId = String(ctx.job.input.deploymentId ?? ctx.job.subjectId);
      const deployment = await getDeployment(deps.pool, deploymentId);
      const sealed = await getSealedKubeconfig(deps.pool, deploymentId);
      if (!deployment || !sealed) throw new DeploymentGoneError(deploymentId);
      await updateDeployment(deps.pool, deploymentId, { status: 'running', error: null });
      const kubeconfig = JSON.parse(deps.secretBox.open(sealed, kubeconfigContext(deploymentId))) as SafeKubeconfig;
      const cluster = deps.connectCluster(kubeconfig);

      const solution = await ctx.step('fetch solution', () => deps.solutionSource.getSolution(deployment.solutionId, deployment.revisionId), (s) => `${s.name} (${s.kind})`);
      const rendered = await ctx.step('render manifests', async () => renderForConfig(solution, deps.config, deployment.namespace, deploymentId), (r) => `${r.objects.length} objects`);
      await ctx.step('apply', () => applyRendered(ctx, cluster, rendered), (r) => `${r.applied} objects in ${r.waves} waves`);
      await ctx.step(
        'wait for readiness',
        () =>
          waitForReady(cluster, deployment.namespace, expectedOf(rendered), {
            timeoutMs: deps.config.deployTimeoutMs,
            pollMs: 1000,
            onChange: (assessment) => void ctx.event('health', summarise(assessment), assessment),
          }),
        () => 'every Deployment available, Pods ready, volumes bound',
      );
      const nodeAddress = await pickNodeAddress(cluster, kubeconfig.server);
      const nodePorts = await cluster.getServiceNodePorts(deployment.namespace);
      if (solution.kind === 'pipeline') {
        await ctx.step('start orchestrator', async () => {
          const address = orchestratorAddress(deps.config.orchestratorAddress, deployment.namespace, nodeAddress, nodePorts);
          const client = deps.connectOrchestrator(address);
          try {
            return await startOrchestration(
              client,
              {
                blueprint: JSON.stringify(rendered.orchestratorBlueprint),
                dockerinfo: JSON.stringify(rendered.dockerinfo),
                protofiles: rendered.protos,
              },
              (report) => void ctx.event('orchestrator', `${report.step}: ${report.status.message}`, report),
            );
          } finally {
            client.close();
          }
        }, (result) => result.action.replace('_', ' '));
      }
      const services = await ctx.step('collect services', async () => listServices(rendered, nodePorts, nodeAddress), (s) => `${s.length} services`);
      await updateDeployment(deps.pool, deploymentId, { services });
      return { status: 'succeeded', result: { services } } satisfies JobOutcome;
    },
    async finished(job, status, outcome) {
      const deploymentId = String(job.input.deploymentId ?? job.subjectId);
      await updateDeployment(deps.pool, deploymentId, { status: DEPLOYMENT_STATUS[status], error: outcome.error ?? null });
    },
  };
}

async function applyRendered(ctx: JobContext, cluster: ClusterClient, rendered: RenderedSolution): Promise<{ applied: number; waves: number }> {
  const waves = [[rendered.namespaceObject], rendered.persistentVolumeClaims, rendered.services, rendered.deployments].filter((wave) => wave.length > 0);
  const result = await cluster.applyWaves(waves, {
    fieldManager: 'slipway',
    concurrency: 16,
    onApplied: (object) => void ctx.event('applied', `${object.kind}/${object.metadata?.name ?? ''}`),
  });
  return { applied: result.applied, waves: waves.length };
}

function expectedOf(rendered: RenderedSolution) {
  return {
    deployments: rendered.deployments.map((d) => d.metadata?.name ?? ''),
    persistentVolumeClaims: rendered.persistentVolumeClaims.map((p) => p.metadata?.name ?? ''),
  };
}

function summarise(assessment: { ready: boolean; nodes: Array<{ name: string; status: string; reason?: string }> }): string {
  if (assessment.ready) return 'all ready';
  return assessment.nodes
    .filter((node) => node.status !== 'ready')
    .map((node) => `${node.name}: ${node.reason ?? node.status}`)
    .join('; ');
}

function listServices(rendered: RenderedSolution, nodePorts: Map<string, Record<string, number>>, nodeAddress: string): DeployedService[] {
  return rendered.nodes.map((node) => {
    const ports = nodePorts.get(node.kubeName) ?? {};
    const webui = ports.webui;
    return {
      name: node.containerName,
      kubeName: node.kubeName,
      role: node.role,
      image: node.image,
      nodePorts: { ...(ports['protobuf-api'] ? { protobufApi: ports['protobuf-api'] } : {}), ...(webui ? { webui } : {}) },
      ...(webui ? { webUiUrl: `http://${hostForUrl(nodeAddress)}:${webui}` } : {}),
    };
  });
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
