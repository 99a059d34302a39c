import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { renderSolution, type RenderOptions, type RenderedSolution } from '../../src/domain/manifests/render-solution.js';
import { objectsToYaml } from '../../src/domain/manifests/yaml.js';
import { defaultNamespace, hashHex, toLabelValue } from '../../src/domain/names.js';
import type { PipelineSolution, Solution } from '../../src/domain/solution.js';
import { BlueprintInvalidError, ValidationError } from '../../src/errors.js';
import { loadFixtureSolution, type FixtureSolutionName } from '../support/fixture-solutions.js';
import { assertValidKubernetesObject } from '../support/k8s-schema.js';

const GOLDEN_DIR = fileURLToPath(new URL('./golden/', import.meta.url));
const ORCHESTRATOR_IMAGE = 'cicd.ai4eu-dev.eu:7444/generic-parallel-orchestrator/orchestrator_container:1.4';
const DEPLOYMENT_ID = '0b0e8f46-6d53-4c1e-9a43-5f4ad3f1c2a7';

function optionsFor(solution: Solution, overrides: Partial<RenderOptions> = {}): RenderOptions {
  return {
    namespace: defaultNamespace(solution.name, solution.revisionId),
    orchestratorImage: ORCHESTRATOR_IMAGE,
    sharedFolderSize: '1Gi',
    serviceType: 'NodePort',
    ...overrides,
  };
}

/** Each fixture is rendered with different options so the golden files cover all of them. */
const GOLDEN_CASES: Record<FixtureSolutionName, Partial<RenderOptions>> = {
  simple: { serviceType: 'ClusterIP' },
  sudoku: { deploymentId: DEPLOYMENT_ID, imagePullSecret: 'acumos-registry' },
  'shared-folder': { deploymentId: DEPLOYMENT_ID, sharedFolderStorageClass: 'nfs-client', sharedFolderSize: '5Gi' },
};

function renderFixture(name: FixtureSolutionName): RenderedSolution {
  const solution = loadFixtureSolution(name);
  return renderSolution(solution, optionsFor(solution, GOLDEN_CASES[name]));
}

function podSpecOf(deployment: V1Deployment) {
  const spec = deployment.spec?.template.spec;
  if (!spec) throw new Error('deployment without pod spec');
  return spec;
}

function pipeline(nodes: unknown[]): PipelineSolution {
  return {
    kind: 'pipeline',
    solutionId: 'sol-1',
    revisionId: 'rev-1',
    name: 'Test Pipeline',
    blueprint: { name: 'Test Pipeline', version: '1', nodes },
    protos: {},
  };
}

function blueprintNode(containerName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    container_name: containerName,
    node_type: 'MLModel',
    image: `registry.example/${containerName.toLowerCase()}:1`,
    operation_signature_list: [],
    ...extra,
  };
}

function sharedFolderNode(path: string, consumers: string[]): Record<string, unknown> {
  return {
    container_name: path,
    node_type: 'SharedFolder',
    image: 'placeholder',
    operation_signature_list: [
      {
        operation_signature: { operation_name: 'provideFolder' },
        connected_to: consumers.map((name) => ({ container_name: name, operation_signature: { operation_name: 'mountVolume' } })),
      },
    ],
  };
}

function compareWithGolden(file: string, actual: string): void {
  const path = `${GOLDEN_DIR}${file}`;
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) throw new Error(`golden file ${file} is missing: run UPDATE_GOLDEN=1 npx vitest run test/unit/manifests.test.ts`);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

describe('fixture solutions', () => {
  it('reads the simple solution as a single model', () => {
    const solution = loadFixtureSolution('simple');
    expect(solution).toEqual({
      kind: 'model',
      solutionId: 'e3794e16-0225-4bf1-a99c-b99638a22232',
      revisionId: '7220ac2a-a908-46df-a58d-bad87bbbad23',
      name: 'EntityRecognizer',
      containerName: 'entityrecognizer',
      image: 'hub.cc-asp.fraunhofer.de/ai4media-public/named-entity-recognition-flair:1.0.0',
    });
  });

  it('reads the pipelines with one proto per deployable node', () => {
    const sudoku = loadFixtureSolution('sudoku');
    const sharedFolder = loadFixtureSolution('shared-folder');
    if (sudoku.kind !== 'pipeline' || sharedFolder.kind !== 'pipeline') throw new Error('not pipelines');
    expect(Object.keys(sudoku.protos)).toEqual(['aspsolver-clingo-oneshot1', 'sudoku-tutorial-design-evaluator1', 'sudoku-tutorial-gui1']);
    expect(Object.keys(sharedFolder.protos)).toEqual(['tensorboard1', 'newstrainer1', 'news-classifier1']);
    expect(sudoku.protos['sudoku-tutorial-gui1']).toContain('SudokuDesignEvaluationJob');
  });
});

describe('renderSolution on the Graphene fixtures', () => {
  it('renders the single model as one Deployment and one Service, no orchestrator', () => {
    const rendered = renderFixture('simple');
    expect(rendered.nodes).toEqual([
      {
        containerName: 'entityrecognizer',
        kubeName: 'entityrecognizer',
        nodeType: 'MLModel',
        image: 'hub.cc-asp.fraunhofer.de/ai4media-public/named-entity-recognition-flair:1.0.0',
        role: 'node',
      },
    ]);
    expect(rendered.deployments.map((d) => d.metadata?.name)).toEqual(['entityrecognizer']);
    expect(rendered.services.map((s) => s.metadata?.name)).toEqual(['entityrecognizer']);
    expect(rendered.services[0]?.spec?.type).toBe('ClusterIP');
    expect(rendered.persistentVolumeClaims).toEqual([]);
    expect(rendered.dockerinfo).toEqual({
      docker_info_list: [{ container_name: 'entityrecognizer', ip_address: 'entityrecognizer', port: 8061 }],
    });
    expect(rendered.orchestratorBlueprint).toBeUndefined();
    expect(rendered.protos).toEqual({});
    expect(rendered.namespace).toBe('entityrecognizer-7220ac2a-a908-46df-a58d-bad87bbbad23');
  });

  it('renders sudoku as three nodes and the orchestrator', () => {
    const rendered = renderFixture('sudoku');
    const names = ['aspsolver-clingo-oneshot1', 'sudoku-tutorial-design-evaluator1', 'sudoku-tutorial-gui1', 'orchestrator'];
    expect(rendered.deployments.map((d) => d.metadata?.name)).toEqual(names);
    expect(rendered.services.map((s) => s.metadata?.name)).toEqual(names);
    expect(rendered.nodes.map((n) => n.role)).toEqual(['node', 'node', 'node', 'orchestrator']);
    expect(rendered.dockerinfo.docker_info_list.map((e) => e.container_name)).toEqual(names);
    expect(Object.keys(rendered.protos)).toEqual(names.slice(0, 3).map((name) => `${name}.proto`));
    const sudoku = loadFixtureSolution('sudoku');
    if (sudoku.kind !== 'pipeline') throw new Error('sudoku is not a pipeline');
    expect(JSON.stringify(rendered.orchestratorBlueprint)).toBe(JSON.stringify(sudoku.blueprint));
    const orchestrator = rendered.deployments[3];
    expect(orchestrator && podSpecOf(orchestrator).containers[0]?.image).toBe(ORCHESTRATOR_IMAGE);
    expect(rendered.namespace).toBe('sudoku-tutorial-2f7c7ef1-262c-4a73-8393-aef1ded7cad3');
  });

  it('mounts the shared folder at /data/shared in all three deployable containers', () => {
    const rendered = renderFixture('shared-folder');
    const nodeDeployments = rendered.deployments.filter((d) => d.metadata?.name !== 'orchestrator');
    expect(nodeDeployments.map((d) => d.metadata?.name)).toEqual(['tensorboard1', 'newstrainer1', 'news-classifier1']);
    for (const deployment of nodeDeployments) {
      const spec = podSpecOf(deployment);
      expect(spec.containers[0]?.volumeMounts).toEqual([{ name: 'pipeline', mountPath: '/data/shared' }]);
      expect(spec.containers[0]?.env).toEqual([{ name: 'SHARED_FOLDER_PATH', value: '/data/shared' }]);
      expect(spec.volumes).toEqual([{ name: 'pipeline', persistentVolumeClaim: { claimName: 'pipeline' } }]);
    }
    const orchestrator = rendered.deployments.find((d) => d.metadata?.name === 'orchestrator');
    expect(orchestrator && podSpecOf(orchestrator).volumes).toBeUndefined();
    expect(rendered.persistentVolumeClaims.map((claim) => claim.spec)).toEqual([
      { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '5Gi' } }, storageClassName: 'nfs-client' },
    ]);
    const blueprint = rendered.orchestratorBlueprint as { nodes: Array<{ container_name: string }> };
    expect(blueprint.nodes.map((n) => n.container_name)).toEqual(['tensorboard1', 'newstrainer1', 'news-classifier1']);
    expect(rendered.dockerinfo.docker_info_list.map((e) => e.container_name)).not.toContain('/data/shared');
  });

  it.each(['simple', 'sudoku', 'shared-folder'] as const)('renders %s into objects the API server accepts', (name) => {
    const rendered = renderFixture(name);
    expect(rendered.objects).toEqual([
      rendered.namespaceObject,
      ...rendered.persistentVolumeClaims,
      ...rendered.services,
      ...rendered.deployments,
    ]);
    for (const object of rendered.objects) assertValidKubernetesObject(object);
  });

  it.each(['simple', 'sudoku', 'shared-folder'] as const)('renders %s exactly as its golden files', (name) => {
    const rendered = renderFixture(name);
    compareWithGolden(`${name}.yaml`, objectsToYaml(rendered.objects));
    compareWithGolden(`${name}.dockerinfo.json`, `${JSON.stringify(rendered.dockerinfo, null, 2)}\n`);
  });

  it('is deterministic', () => {
    expect(renderFixture('shared-folder')).toEqual(renderFixture('shared-folder'));
  });
});

describe('renderSolution rules', () => {
  it('labels every object, annotates workloads with the container name, never sets a node port', () => {
    const rendered = renderFixture('sudoku');
    for (const object of rendered.objects) {
      expect(object.metadata?.labels).toMatchObject({
        'app.kubernetes.io/part-of': toLabelValue('Sudoku Tutorial'),
        'app.kubernetes.io/managed-by': 'slipway',
        'slipway.io/deployment-id': DEPLOYMENT_ID,
      });
    }
    for (const workload of [...rendered.services, ...rendered.deployments]) {
      const name = workload.metadata?.name ?? '';
      expect(workload.metadata?.labels).toMatchObject({ app: name, 'app.kubernetes.io/name': name });
      expect(workload.metadata?.annotations).toEqual({ 'slipway.io/container-name': name });
    }
    for (const service of rendered.services) {
      expect(service.spec?.ports).toEqual([
        { name: 'protobuf-api', port: 8061, targetPort: 8061, protocol: 'TCP' },
        { name: 'webui', port: 8062, targetPort: 8062, protocol: 'TCP' },
      ]);
      expect(service.spec?.type).toBe('NodePort');
    }
    for (const deployment of rendered.deployments) {
      expect(podSpecOf(deployment).imagePullSecrets).toEqual([{ name: 'acumos-registry' }]);
      expect(deployment.spec?.replicas).toBe(1);
    }
  });

  it('keeps the deployment id off pod templates, so a new deploy of the same revision restarts no pod', () => {
    const solution = loadFixtureSolution('sudoku');
    const first = renderSolution(solution, optionsFor(solution, { deploymentId: 'first' }));
    const second = renderSolution(solution, optionsFor(solution, { deploymentId: 'second' }));
    expect(first.deployments[0]?.metadata?.labels?.['slipway.io/deployment-id']).toBe('first');
    expect(first.deployments.map((d) => d.spec?.template)).toEqual(second.deployments.map((d) => d.spec?.template));
    expect(first.deployments[0]?.spec?.template.metadata?.labels).not.toHaveProperty(['slipway.io/deployment-id']);
  });

  it('leaves out what options do not ask for', () => {
    const rendered = renderFixture('simple');
    for (const object of rendered.objects) expect(object.metadata?.labels).not.toHaveProperty(['slipway.io/deployment-id']);
    for (const deployment of rendered.deployments) expect(podSpecOf(deployment).imagePullSecrets).toBeUndefined();
    const solution = loadFixtureSolution('shared-folder');
    const withoutClass = renderSolution(solution, optionsFor(solution));
    expect(withoutClass.persistentVolumeClaims[0]?.spec).not.toHaveProperty('storageClassName');
  });

  it('gives colliding container names distinct Kubernetes names and keeps the originals for the orchestrator', () => {
    const solution = { ...pipeline([blueprintNode('Model_A'), blueprintNode('model-a')]), protos: { Model_A: 'p1', 'model-a': 'p2' } };
    const rendered = renderSolution(solution, optionsFor(solution));
    expect(rendered.nodes.map((n) => [n.containerName, n.kubeName])).toEqual([
      ['Model_A', `model-a-${hashHex('Model_A')}`],
      ['model-a', 'model-a'],
      ['orchestrator', 'orchestrator'],
    ]);
    expect(rendered.dockerinfo.docker_info_list).toEqual([
      { container_name: 'Model_A', ip_address: `model-a-${hashHex('Model_A')}`, port: 8061 },
      { container_name: 'model-a', ip_address: 'model-a', port: 8061 },
      { container_name: 'orchestrator', ip_address: 'orchestrator', port: 8061 },
    ]);
    expect(rendered.protos).toEqual({ 'Model_A.proto': 'p1', 'model-a.proto': 'p2' });
    expect(rendered.deployments[0]?.metadata?.annotations).toEqual({ 'slipway.io/container-name': 'Model_A' });
    for (const object of rendered.objects) assertValidKubernetesObject(object);
  });

  it('gives each shared folder its own claim and tells a node mounting two the first', () => {
    const solution = pipeline([
      sharedFolderNode('/data/one', ['a', 'b']),
      sharedFolderNode('/data/two', ['b']),
      sharedFolderNode('/data/unused', []),
      blueprintNode('a'),
      blueprintNode('b'),
      blueprintNode('c'),
    ]);
    const rendered = renderSolution(solution, optionsFor(solution));
    const second = `pipeline-data-two-${hashHex('pipeline-/data/two')}`;
    expect(rendered.persistentVolumeClaims.map((claim) => claim.metadata?.name)).toEqual(['pipeline', second]);
    const [a, b, c] = rendered.deployments;
    if (!a || !b || !c) throw new Error('missing deployments');
    expect(podSpecOf(a).containers[0]?.volumeMounts).toEqual([{ name: 'pipeline', mountPath: '/data/one' }]);
    expect(podSpecOf(b).containers[0]?.volumeMounts).toEqual([
      { name: 'pipeline', mountPath: '/data/one' },
      { name: second, mountPath: '/data/two' },
    ]);
    expect(podSpecOf(b).containers[0]?.env).toEqual([{ name: 'SHARED_FOLDER_PATH', value: '/data/one' }]);
    expect(podSpecOf(c).containers[0]?.volumeMounts).toBeUndefined();
    expect(podSpecOf(c).containers[0]?.env).toBeUndefined();
    for (const object of rendered.objects) assertValidKubernetesObject(object);
  });

  it('strips the https:// prefix of old Acumos images', () => {
    const solution = pipeline([blueprintNode('a', { image: 'https://registry.example:7444/a:1' })]);
    const rendered = renderSolution(solution, optionsFor(solution));
    expect(rendered.nodes[0]?.image).toBe('registry.example:7444/a:1');
    expect(rendered.deployments[0] && podSpecOf(rendered.deployments[0]).containers[0]?.image).toBe('registry.example:7444/a:1');
  });

  it('keeps a long or odd solution name valid as a label value', () => {
    const solution = { ...pipeline([blueprintNode('a')]), name: `My ${'very '.repeat(20)}long pipeline!` };
    const rendered = renderSolution(solution, optionsFor(solution));
    for (const object of rendered.objects) assertValidKubernetesObject(object);
  });

  it('rejects an invalid blueprint with every problem', () => {
    const solution = pipeline([blueprintNode('a', { image: '' }), blueprintNode('a')]);
    expect(() => renderSolution(solution, optionsFor(solution))).toThrow(BlueprintInvalidError);
  });

  it('rejects a model without an image', () => {
    const solution: Solution = { kind: 'model', solutionId: 's', revisionId: 'r', name: 'M', containerName: 'm', image: ' ' };
    expect(() => renderSolution(solution, optionsFor(solution))).toThrow(BlueprintInvalidError);
  });

  it('rejects a namespace that is not a valid name', () => {
    const solution = loadFixtureSolution('simple');
    expect(() => renderSolution(solution, optionsFor(solution, { namespace: 'Not_Valid' }))).toThrow(ValidationError);
  });
});

describe('assertValidKubernetesObject', () => {
  const valid = (): V1Deployment => {
    const deployment = renderFixture('simple').deployments[0];
    if (!deployment) throw new Error('no deployment');
    return structuredClone(deployment);
  };

  it('accepts a rendered Deployment', () => {
    expect(() => assertValidKubernetesObject(valid())).not.toThrow();
  });

  it('catches a misspelt field that the schema validation alone lets through', () => {
    const { replicas, ...rest } = valid().spec ?? {};
    const misspelt = { ...valid(), spec: { ...rest, replicaz: replicas } };
    expect(() => assertValidKubernetesObject(misspelt)).toThrow(/spec\.replicaz: unknown field/);
  });

  it('catches a misspelt field deep inside the pod template', () => {
    const deployment = valid();
    const container = deployment.spec?.template.spec?.containers[0];
    if (!container) throw new Error('no container');
    Object.assign(container, { imagePullPolicyy: 'Always' });
    expect(() => assertValidKubernetesObject(deployment)).toThrow(/spec\.template\.spec\.containers\[0\]\.imagePullPolicyy: unknown field/);
  });

  it('catches wrong types, bad names and bad labels', () => {
    expect(() => assertValidKubernetesObject({ ...valid(), spec: { ...valid().spec, replicas: 'one' } })).toThrow(/schema/);
    expect(() => assertValidKubernetesObject({ ...valid(), metadata: { ...valid().metadata, name: 'Bad_Name' } })).toThrow(/metadata\.name/);
    expect(() => assertValidKubernetesObject({ ...valid(), metadata: { ...valid().metadata, labels: { app: 'has space' } } })).toThrow(/label value/);
    expect(() => assertValidKubernetesObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } })).toThrow(/no schema/);
  });

  it('catches a selector that does not match the pod labels', () => {
    const deployment = valid();
    if (deployment.spec) deployment.spec.selector = { matchLabels: { app: 'other' } };
    expect(() => assertValidKubernetesObject(deployment)).toThrow(/does not match/);
  });
});
