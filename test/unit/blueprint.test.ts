import { describe, expect, it } from 'vitest';
import {
  normaliseImage,
  orchestratorBlueprint,
  parseBlueprint,
  sharedFoldersMountedBy,
} from '../../src/domain/blueprint.js';
import { BlueprintInvalidError } from '../../src/errors.js';
import { loadFixtureSolution } from '../support/fixture-solutions.js';

function pipelineBlueprint(name: 'sudoku' | 'shared-folder'): unknown {
  const solution = loadFixtureSolution(name);
  if (solution.kind !== 'pipeline') throw new Error(`${name} is not a pipeline`);
  return solution.blueprint;
}

function node(containerName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    container_name: containerName,
    node_type: 'MLModel',
    image: `registry.example/${containerName}:1`,
    proto_uri: `org/acumos/${containerName}.proto`,
    operation_signature_list: [],
    ...extra,
  };
}

function connectedTo(...names: string[]): Array<Record<string, unknown>> {
  return names.map((name) => ({ container_name: name, operation_signature: { operation_name: 'op' } }));
}

function operation(name: string, targets: string[] = []): Record<string, unknown> {
  return { operation_signature: { operation_name: name }, connected_to: connectedTo(...targets) };
}

/** The problems parseBlueprint reports, or a failure if it accepts the blueprint. */
function problemsOf(raw: unknown): readonly string[] {
  try {
    parseBlueprint(raw);
  } catch (error: unknown) {
    if (error instanceof BlueprintInvalidError) return error.problems;
    throw error;
  }
  throw new Error('the blueprint was accepted');
}

describe('parseBlueprint on the Graphene fixtures', () => {
  it('reads the sudoku pipeline: three deployable nodes and their wiring', () => {
    const blueprint = parseBlueprint(pipelineBlueprint('sudoku'));
    expect(blueprint.name).toBe('Sudoku Tutorial');
    expect(blueprint.version).toBe('2');
    expect(blueprint.deployableNodes.map((n) => n.containerName)).toEqual([
      'aspsolver-clingo-oneshot1',
      'sudoku-tutorial-design-evaluator1',
      'sudoku-tutorial-gui1',
    ]);
    expect(blueprint.sharedFolders).toEqual([]);
    expect(blueprint.probe).toBe(false);
    const gui = blueprint.nodes[2];
    expect(gui?.image).toBe('cicd.ai4eu-dev.eu:7444/tutorials/sudoku:gui-1.4');
    expect(gui?.operations[0]).toEqual({
      operationName: 'requestSudokuEvaluation',
      inputMessageName: 'Empty',
      outputMessageName: 'SudokuDesignEvaluationJob',
      connectedTo: [{ containerName: 'sudoku-tutorial-design-evaluator1', operationName: 'evaluateSudokuDesign' }],
    });
  });

  it('reads the shared folder and which nodes mount it', () => {
    const blueprint = parseBlueprint(pipelineBlueprint('shared-folder'));
    expect(blueprint.deployableNodes.map((n) => n.containerName)).toEqual(['tensorboard1', 'newstrainer1', 'news-classifier1']);
    expect(blueprint.sharedFolders).toEqual([
      { path: '/data/shared', consumers: ['tensorboard1', 'newstrainer1', 'news-classifier1'] },
    ]);
    for (const consumer of ['tensorboard1', 'newstrainer1', 'news-classifier1']) {
      expect(sharedFoldersMountedBy(blueprint, consumer)).toEqual(['/data/shared']);
    }
    expect(sharedFoldersMountedBy(blueprint, '/data/shared')).toEqual([]);
  });
});

describe('parseBlueprint accepts what the reference deployers accept', () => {
  it('strips the http(s):// prefix of old Acumos images', () => {
    const blueprint = parseBlueprint({
      nodes: [node('a', { image: 'https://registry.example:7444/a:1' }), node('b', { image: 'HTTP://registry.example/b' })],
    });
    expect(blueprint.nodes.map((n) => n.image)).toEqual(['registry.example:7444/a:1', 'registry.example/b']);
    expect(normaliseImage('  registry.example/c:2 ')).toBe('registry.example/c:2');
  });

  it('accepts node types outside the documented list and deploys them', () => {
    const blueprint = parseBlueprint({ nodes: [node('a', { node_type: 'SomethingNewer' })] });
    expect(blueprint.deployableNodes.map((n) => n.nodeType)).toEqual(['SomethingNewer']);
  });

  it('reads probeIndicator and the misspelt probeIndocator', () => {
    expect(parseBlueprint({ nodes: [node('a')], probeIndicator: [{ value: 'true' }] }).probe).toBe(true);
    expect(parseBlueprint({ nodes: [node('a')], probeIndocator: [{ value: 'true' }] }).probe).toBe(true);
    expect(parseBlueprint({ nodes: [node('a')], probeIndocator: [{ value: 'false' }] }).probe).toBe(false);
    expect(parseBlueprint({ nodes: [node('a')] }).probe).toBe(false);
  });

  it('does not need an image on a SharedFolder, whose image is never deployed', () => {
    const blueprint = parseBlueprint({
      nodes: [
        { container_name: '/data', node_type: 'SharedFolder', operation_signature_list: [operation('provideFolder', ['a'])] },
        node('a'),
      ],
    });
    expect(blueprint.sharedFolders).toEqual([{ path: '/data', consumers: ['a'] }]);
  });
});

describe('parseBlueprint rejects what cannot be deployed', () => {
  it.each([
    ['a string', 'not a blueprint', 'blueprint: must be a JSON object'],
    ['null', null, 'blueprint: must be a JSON object'],
    ['an array', [], 'blueprint: must be a JSON object'],
    ['no nodes', { name: 'x' }, 'blueprint: nodes must be an array'],
    ['empty nodes', { nodes: [] }, 'blueprint: nodes is empty'],
    ['a node that is not an object', { nodes: [node('a'), 42] }, 'nodes[1]: must be an object'],
    ['a node without container_name', { nodes: [node('a'), { ...node('b'), container_name: undefined }] }, 'nodes[1]: container_name must be a non-empty string'],
    ['a node with an empty container_name', { nodes: [node('')] }, 'nodes[0]: container_name must be a non-empty string'],
    ['a duplicate container_name', { nodes: [node('a'), node('a')] }, 'node "a": container_name is used by more than one node'],
    ['a deployable node without image', { nodes: [node('a', { image: undefined })] }, 'node "a": image must be a non-empty string'],
    ['a deployable node with an empty image', { nodes: [node('a', { image: 'https://' })] }, 'node "a": image must be a non-empty string'],
    ['a node without node_type', { nodes: [node('a', { node_type: undefined })] }, 'node "a": node_type must be a non-empty string'],
    ['a node_type that is not a string', { nodes: [node('a', { node_type: 3 })] }, 'node "a": node_type must be a non-empty string'],
    ['a proto_uri that is not a string', { nodes: [node('a', { proto_uri: 5 })] }, 'node "a": proto_uri must be a string'],
    ['operation_signature_list not an array', { nodes: [node('a', { operation_signature_list: {} })] }, 'node "a": operation_signature_list must be an array'],
    ['operation_signature_list missing', { nodes: [node('a', { operation_signature_list: undefined })] }, 'node "a": operation_signature_list must be an array'],
    [
      'an operation without a name',
      { nodes: [node('a', { operation_signature_list: [{ operation_signature: {}, connected_to: [] }] })] },
      'node "a" operation_signature_list[0]: operation_signature.operation_name must be a non-empty string',
    ],
    [
      'connected_to not an array',
      { nodes: [node('a', { operation_signature_list: [{ operation_signature: { operation_name: 'op' }, connected_to: 'b' }] })] },
      'node "a" operation_signature_list[0]: connected_to must be an array',
    ],
    [
      'a connection without container_name',
      { nodes: [node('a', { operation_signature_list: [{ operation_signature: { operation_name: 'op' }, connected_to: [{}] }] })] },
      'node "a" operation_signature_list[0].connected_to[0]: container_name must be a non-empty string',
    ],
    [
      'connected_to naming an unknown node',
      { nodes: [node('a', { operation_signature_list: [operation('op', ['ghost'])] })] },
      'node "a" operation "op": connected_to names unknown node "ghost"',
    ],
    [
      'a SharedFolder whose name is not an absolute path',
      { nodes: [{ container_name: 'data', node_type: 'SharedFolder', operation_signature_list: [] }, node('a')] },
      'node "data": a SharedFolder container_name is its mount path and must be absolute (start with "/")',
    ],
    [
      'only SharedFolder nodes',
      { nodes: [{ container_name: '/data', node_type: 'SharedFolder', operation_signature_list: [] }] },
      'blueprint: no deployable node (every node is a SharedFolder)',
    ],
    [
      'a node named orchestrator',
      { nodes: [node('orchestrator')] },
      'node "orchestrator": container_name "orchestrator" is reserved for the orchestrator',
    ],
    ['probeIndicator not an array', { nodes: [node('a')], probeIndicator: 'true' }, 'blueprint: probeIndicator must be an array'],
  ])('rejects %s', (_case, raw, problem) => {
    expect(problemsOf(raw)).toEqual([problem]);
  });

  it('lists every problem at once, in one BlueprintInvalidError', () => {
    const raw = {
      nodes: [
        node('a', { image: '' }),
        node('a'),
        node('b', { operation_signature_list: [operation('op', ['ghost'])] }),
        { node_type: 'MLModel', image: 'x', operation_signature_list: [] },
        node('c', { operation_signature_list: 'nope' }),
      ],
    };
    let caught: unknown;
    try {
      parseBlueprint(raw);
    } catch (error: unknown) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BlueprintInvalidError);
    const error = caught as BlueprintInvalidError;
    expect(error.code).toBe('blueprint_invalid');
    expect(error.status).toBe(422);
    expect(error.extra).toEqual({ problems: error.problems });
    expect(error.problems).toEqual([
      'node "a": image must be a non-empty string',
      'nodes[3]: container_name must be a non-empty string',
      'node "c": operation_signature_list must be an array',
      'node "a": container_name is used by more than one node',
      'node "b" operation "op": connected_to names unknown node "ghost"',
    ]);
    for (const problem of error.problems) expect(error.message).toContain(problem);
  });
});

describe('orchestratorBlueprint', () => {
  it('removes SharedFolder nodes and keeps everything else byte for byte', () => {
    const raw = pipelineBlueprint('shared-folder');
    const original = JSON.stringify(raw);
    // The same blueprint with the folder node cut out by hand from the text.
    const parsed = JSON.parse(original) as { nodes: unknown[] };
    const expected = original.replace(`${JSON.stringify(parsed.nodes[0])},`, '');
    expect(expected).not.toBe(original);
    expect(JSON.stringify(orchestratorBlueprint(raw))).toBe(expected);
    expect(JSON.stringify(raw)).toBe(original);
  });

  it('keeps a blueprint without shared folders identical, key order included', () => {
    const raw = pipelineBlueprint('sudoku');
    expect(JSON.stringify(orchestratorBlueprint(raw))).toBe(JSON.stringify(raw));
  });

  it('keeps nodes position and key order of unusual top-level fields', () => {
    const raw = {
      zeta: 1,
      nodes: [{ node_type: 'SharedFolder', container_name: '/d' }, { node_type: 'sharedfolder', container_name: 'x' }],
      alpha: [2],
    };
    expect(JSON.stringify(orchestratorBlueprint(raw))).toBe(
      '{"zeta":1,"nodes":[{"node_type":"sharedfolder","container_name":"x"}],"alpha":[2]}',
    );
  });

  it('returns anything that is not a blueprint object unchanged', () => {
    expect(orchestratorBlueprint('text')).toBe('text');
    expect(orchestratorBlueprint({ nodes: 'x' })).toEqual({ nodes: 'x' });
  });
});
