/**
 * deployment-readme.txt: what a person who downloaded solution.zip reads first. Written for this
 * solution (its nodes, its shared folders, the pull secret it needs), not as a generic manual.
 */
import type { RenderedNode } from '../../domain/manifests/render-solution.js';
import type { Solution } from '../../domain/solution.js';
import type { ServiceType } from '../../config.js';

export interface ReadmeClaim {
  name: string;
  path: string;
  size: string;
  storageClass?: string;
}

export interface ReadmeModel {
  solution: Solution;
  nodes: readonly RenderedNode[];
  exampleNamespace: string;
  claims: readonly ReadmeClaim[];
  imagePullSecret?: string;
  serviceType: ServiceType;
  /** Every path in the zip, in zip order. */
  files: readonly string[];
}

function heading(text: string): string[] {
  return ['', text, '-'.repeat(text.length)];
}

function summary(model: ReadmeModel): string[] {
  const { solution } = model;
  const what =
    solution.kind === 'pipeline'
      ? `a pipeline of ${model.nodes.filter((node) => node.role === 'node').length} node(s) and its orchestrator`
      : 'a single model';
  const title = `${solution.name}: deployment package`;
  return [
    title,
    '='.repeat(title.length),
    '',
    `Solution ${solution.solutionId}, revision ${solution.revisionId}: ${what}, exported by Slipway.`,
    'These are the same Kubernetes manifests Slipway applies when it deploys this solution itself.',
  ];
}

function requirements(model: ReadmeModel): string[] {
  const lines = [
    ...heading('What you need'),
    '- A Kubernetes cluster, and kubectl set up for it (KUBECONFIG or ~/.kube/config), allowed to',
    `  create a namespace and, in it, ${model.claims.length > 0 ? 'Services, Deployments and PersistentVolumeClaims' : 'Services and Deployments'}.`,
    '- bash.',
  ];
  if (model.solution.kind === 'pipeline') {
    lines.push(
      '- To start the pipeline, one of: grpcurl together with python3 or jq; or python3 with the',
      '  grpcio package (pip install grpcio). Without either the script deploys everything and prints',
      '  the commands that start the pipeline.',
    );
  }
  for (const claim of model.claims) {
    const storage = claim.storageClass !== undefined ? `the storage class "${claim.storageClass}"` : "the cluster's default storage class";
    lines.push(`- ${storage} able to provide a ReadWriteMany volume of ${claim.size} (claim "${claim.name}", mounted at ${claim.path}).`);
  }
  if (model.imagePullSecret !== undefined) {
    lines.push(
      `- The pods pull their images with the Secret "${model.imagePullSecret}"; create it in the namespace first:`,
      `    kubectl create namespace <namespace>`,
      `    kubectl --namespace <namespace> create secret docker-registry ${model.imagePullSecret} \\`,
      '      --docker-server=<registry> --docker-username=<user> --docker-password=<password>',
    );
  }
  return lines;
}

function usage(model: ReadmeModel): string[] {
  const lines = [
    ...heading('Deploy'),
    '    unzip solution.zip -d solution && cd solution',
    '    bash deploy.sh <namespace>',
    '',
    `<namespace> is created when missing, e.g. bash deploy.sh ${model.exampleNamespace}`,
    '',
    'The script:',
    '1. creates the namespace if it does not exist;',
    '2. applies everything in deployments/ with',
    '     kubectl apply --server-side --field-manager=slipway-script --namespace <namespace> --filename deployments/',
    '3. waits for every Deployment to be available (kubectl rollout status);',
  ];
  if (model.solution.kind === 'pipeline') {
    lines.push(
      "4. finds the orchestrator at <address of the first node>:<node port of the orchestrator's",
      '   protobuf-api port> and calls get_status, then initialize with blueprint.json, dockerinfo.json',
      '   and microservice/*.proto, then run (an orchestrator that is already running is left alone);',
      '5. prints the address of each web UI.',
    );
  } else {
    lines.push('4. prints the address of the web UI (port 8062), if the model serves one.');
  }
  lines.push(
    '',
    'Running it again is safe: it applies the same manifests again and changes nothing that is already',
    'as described. To remove everything: kubectl delete namespace <namespace>',
  );
  return lines;
}

function settings(model: ReadmeModel): string[] {
  const lines = [
    ...heading('Settings (environment variables)'),
    'KUBECTL               the kubectl command, e.g. KUBECTL="kubectl --context my-cluster"',
    'WAIT_TIMEOUT          how long to wait for each Deployment (default 600s)',
  ];
  if (model.solution.kind === 'pipeline') {
    lines.push(
      'ORCHESTRATOR_ADDRESS  host:port of the orchestrator, when the nodes are not reachable from your machine',
      `                      or the Services are not NodePort (these are ${model.serviceType}), e.g.:`,
      '                        kubectl --namespace <namespace> port-forward service/orchestrator 8061:8061 &',
      '                        ORCHESTRATOR_ADDRESS=127.0.0.1:8061 bash deploy.sh <namespace>',
      'ORCHESTRATOR_CLIENT   auto (default), grpcurl, python or none',
      '',
      'Exit status: 0 done; 1 a step failed (the message says which); 2 wrong usage; 3 deployed, but no',
      'gRPC client was found to start the pipeline (the script prints what to run instead).',
    );
  }
  return lines;
}

function nodeTable(model: ReadmeModel): string[] {
  const lines = [...heading('What runs')];
  for (const node of model.nodes) {
    const renamed = node.kubeName !== node.containerName ? ` (blueprint name "${node.containerName}")` : '';
    lines.push(`- ${node.kubeName}${renamed}: ${node.image}`);
  }
  lines.push('Each serves gRPC on port 8061 and, optionally, a web UI on port 8062.');
  return lines;
}

function fileList(model: ReadmeModel): string[] {
  const describe: Record<string, string> = {
    'blueprint.json': 'the pipeline, as the orchestrator is given it (shared folders removed)',
    'source-blueprint.json': 'the pipeline as Graphene stored it, shared folders included',
    'dockerinfo.json': 'where the orchestrator finds each node (Service name and port)',
    'solution.json': 'name, kind and ids, read when this zip is imported into Slipway',
    'modelname.txt': "the model's container name",
    'deploy.sh': 'the deploy script',
    'deployment-readme.txt': 'this file',
    'protobuf/orchestrator.proto': "the orchestrator's gRPC API",
    'orchestrator_client/orchestrator_client.py': 'starts the pipeline (needs python3 and grpcio)',
  };
  const lines = [...heading('Files')];
  for (const file of model.files) lines.push(describe[file] !== undefined ? `${file}: ${describe[file]}` : file);
  lines.push(
    '',
    'To deploy this solution with Slipway instead (no Graphene needed), upload this zip on Slipway\'s',
    'home page or POST it to /api/v1/solutions (multipart field "file").',
  );
  return lines;
}

export function deploymentReadme(model: ReadmeModel): string {
  return [...summary(model), ...requirements(model), ...usage(model), ...settings(model), ...nodeTable(model), ...fileList(model)].join('\n') + '\n';
}
