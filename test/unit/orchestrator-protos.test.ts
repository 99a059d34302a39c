import { describe, expect, it } from 'vitest';
import { renderSolution } from '../../src/domain/manifests/render-solution.js';
import {
  checkOrchestratorProtos,
  protosOfRendered,
  protosOfSolution,
  type OrchestratorProtoFile,
  type OrchestratorProtoProblem,
} from '../../src/domain/orchestrator-protos.js';
import type { PipelineSolution } from '../../src/domain/solution.js';
import { loadFixtureSolution } from '../support/fixture-solutions.js';

/** A node's proto file; `body` goes after the proto3 syntax line unless `text` is given whole. */
function file(node: string, body: string, { syntax = true }: { syntax?: boolean } = {}): OrchestratorProtoFile {
  return { node, file: `${node}.proto`, text: syntax ? `syntax = "proto3";\n\n${body}\n` : body };
}

/** A service line at the start of a line, as the orchestrator looks for it. */
function service(name: string, ...rpcs: string[]): string {
  return `service ${name} {\n${(rpcs.length > 0 ? rpcs : ['rpc predict(Features) returns (Prediction);']).map((rpc) => `  ${rpc}`).join('\n')}\n}`;
}

const PREDICTION = 'message Prediction {\n  float score = 1;\n}';

/** A model proto with message Features defined as `features` and the usual service. */
function model(node: string, features: string, serviceName = `${node.replace(/[^a-z]/g, '')}Service`): OrchestratorProtoFile {
  return file(node, `message Features {\n${features}\n}\n\n${PREDICTION}\n\n${service(serviceName)}`);
}

function check(...files: OrchestratorProtoFile[]): OrchestratorProtoProblem[] {
  return checkOrchestratorProtos(files);
}

function rulesOf(problems: readonly OrchestratorProtoProblem[]): string[] {
  return problems.map((problem) => problem.rule);
}

function only(problems: readonly OrchestratorProtoProblem[]): OrchestratorProtoProblem {
  expect(problems, JSON.stringify(problems, null, 2)).toHaveLength(1);
  const [problem] = problems;
  if (problem === undefined) throw new Error('no problem');
  return problem;
}

function pipeline(name: 'sudoku' | 'shared-folder'): PipelineSolution {
  const solution = loadFixtureSolution(name);
  if (solution.kind !== 'pipeline') throw new Error(`${name} is not a pipeline`);
  return solution;
}

describe('the Graphene fixture solutions', () => {
  it.each(['sudoku', 'shared-folder'] as const)('%s: every deployed node has a proto and the orchestrator accepts them all', (name) => {
    const protos = protosOfSolution(pipeline(name));
    expect(protos.map((proto) => proto.node)).toEqual(
      name === 'sudoku'
        ? ['aspsolver-clingo-oneshot1', 'sudoku-tutorial-design-evaluator1', 'sudoku-tutorial-gui1']
        : ['tensorboard1', 'newstrainer1', 'news-classifier1'],
    );
    expect(checkOrchestratorProtos(protos)).toEqual([]);
  });

  it('sudoku defines the same messages in several nodes, which the orchestrator accepts because they are identical', () => {
    const protos = protosOfSolution(pipeline('sudoku'));
    const definers = protos.filter((proto) => /^message SolveResultAnswersets \{/m.test(proto.text));
    expect(definers.map((proto) => proto.node)).toEqual(['aspsolver-clingo-oneshot1', 'sudoku-tutorial-design-evaluator1']);
    expect(checkOrchestratorProtos(protos)).toEqual([]);
    // …and the same protos with one of those duplicates changed are refused.
    const changed = protos.map((proto) =>
      proto.node === 'sudoku-tutorial-design-evaluator1' ? { ...proto, text: proto.text.replace('bool is_known_optimal = 3;', 'int32 is_known_optimal = 3;') } : proto,
    );
    const problem = only(checkOrchestratorProtos(changed));
    expect(problem).toMatchObject({ rule: 'message-clash', name: 'Answerset', nodes: ['aspsolver-clingo-oneshot1', 'sudoku-tutorial-design-evaluator1'] });
    expect(problem.detail).toContain('field 3 is "bool is_known_optimal" in "aspsolver-clingo-oneshot1" but "int32 is_known_optimal" in "sudoku-tutorial-design-evaluator1"');
  });

  it('a single model starts no orchestrator, so it has no protos to check', () => {
    const model = { ...loadFixtureSolution('simple'), proto: 'enum NotProto3 { A = 1; }' };
    expect(model.kind).toBe('model');
    expect(protosOfSolution(model)).toEqual([]);
  });

  it("leaves out a SharedFolder node's proto, as the deploy does", () => {
    const solution = pipeline('shared-folder');
    const withFolderProto: PipelineSolution = { ...solution, protos: { ...solution.protos, '/data/shared': 'not a proto at all' } };
    expect(protosOfSolution(withFolderProto).map((proto) => proto.node)).not.toContain('/data/shared');
    expect(checkOrchestratorProtos(protosOfSolution(withFolderProto))).toEqual([]);
  });

  it('protosOfRendered gives the protofiles the deploy sends, the same list as protosOfSolution', () => {
    for (const name of ['sudoku', 'shared-folder'] as const) {
      const solution = pipeline(name);
      const rendered = renderSolution(solution, { namespace: 'ns', orchestratorImage: 'orchestrator:1.4', sharedFolderSize: '1Gi', serviceType: 'NodePort' });
      expect(protosOfRendered(rendered)).toEqual(protosOfSolution(solution));
      expect(protosOfRendered(rendered).map((proto) => proto.file)).toEqual(Object.keys(rendered.protos));
    }
    const model = { ...loadFixtureSolution('simple'), proto: 'syntax = "proto3";' };
    const rendered = renderSolution(model, { namespace: 'ns', orchestratorImage: 'orchestrator:1.4', sharedFolderSize: '1Gi', serviceType: 'NodePort' });
    expect(Object.keys(rendered.protos)).toHaveLength(1);
    expect(protosOfRendered(rendered)).toEqual([]);
  });
});

describe('merging: identical definitions are accepted', () => {
  it('accepts the same message and service defined the same way in two nodes', () => {
    const features = '  int32 id = 1;\n  string label = 2;';
    expect(check(model('predictor-a', features, 'Predictor'), model('predictor-b', features, 'Predictor'))).toEqual([]);
  });

  it('ignores comments, whitespace, line endings and the order of top-level declarations', () => {
    const a = file('a', `message Label { string text = 1; }\nmessage Features {\n  int32 id = 1;\n  repeated Label labels = 2;\n  map<string, double> weights = 3;\n  oneof source { string url = 4; bytes data = 5; }\n}\n${PREDICTION}\n${service('Predictor')}`);
    const b = file(
      'b',
      [
        '// the same definitions, written differently',
        service('Predictor').replace('rpc predict(Features) returns (Prediction);', 'rpc   predict ( .Features )returns( Prediction ) ;'),
        '/* Prediction first */ message Prediction { float score=1; }',
        'message Features {',
        '  int32 id=1;   // trailing comment',
        '  repeated .Label labels = 2;',
        '  map<string,double> weights = 3;',
        '  oneof source {',
        '    string url = 4;',
        '    bytes data = 5;',
        '  }',
        '}',
        'message Label {',
        '  string text = 1;',
        '}',
      ].join('\r\n'),
    );
    expect(check(a, b)).toEqual([]);
  });

  it('accepts nested messages of the same name in different parents, and an explicit json_name equal to the default', () => {
    const a = file('a', `message Features {\n  message Part { int32 q = 1; }\n  Part part = 1;\n  int32 my_value = 2;\n}\n${PREDICTION}\n${service('A')}`);
    const b = file(
      'b',
      `message Other {\n  message Part { string q = 1; }\n  Part part = 1;\n}\nmessage Features {\n  message Part { int32 q = 1; }\n  Part part = 1;\n  int32 my_value = 2 [json_name = "myValue"];\n}\n${PREDICTION}\n${service('B', 'rpc predict(Other) returns (Prediction);')}`,
    );
    expect(check(a, b)).toEqual([]);
  });

  it('accepts enums nested in a message (only top-level enums are refused)', () => {
    const features = '  enum Colour { NONE = 0; RED = 1; }\n  Colour colour = 1;';
    expect(check(model('a', features), model('b', features))).toEqual([]);
  });
});

describe('merging: differing definitions clash', () => {
  it('names both nodes, the message and the field that differs', () => {
    const problem = only(check(model('predictor-a', '  int32 id = 1;\n  string label = 2;'), model('predictor-b', '  int32 id = 1;\n  int32 label = 2;')));
    expect(problem).toEqual({
      rule: 'message-clash',
      nodes: ['predictor-a', 'predictor-b'],
      name: 'Features',
      detail:
        'Nodes "predictor-a" and "predictor-b" define message Features differently (field 2 is "string label" in "predictor-a" but "int32 label" in "predictor-b"): ' +
        "the orchestrator merges every node's proto into one file and refuses this; give them the same definition or rename one",
    });
  });

  it.each([
    ['a different field number', '  int32 id = 1;', '  int32 id = 2;', 'field id is number 1 in "a" but 2 in "b"'],
    ['a missing field', '  int32 id = 1;\n  string label = 2;', '  int32 id = 1;', '"a" has field 2 ("string label") but "b" does not'],
    ['an extra field', '  int32 id = 1;', '  int32 id = 1;\n  string label = 2;', '"b" has field 2 ("string label") but "a" does not'],
    ['a different field name', '  int32 id = 1;', '  int32 key = 1;', 'field 1 is "int32 id" in "a" but "int32 key" in "b"'],
    ['repeated in one only', '  int32 id = 1;', '  repeated int32 id = 1;', 'field 1 is "int32 id" in "a" but "repeated int32 id" in "b"'],
    ['a different map value', '  map<string, int32> m = 1;', '  map<string, int64> m = 1;', 'field 1 is "map<string, int32> m" in "a" but "map<string, int64> m" in "b"'],
    ['a field in a oneof in one only', '  oneof o { int32 x = 1; string y = 2; }', '  oneof o { int32 x = 1; }\n  string y = 2;', 'field 2 is "string y in oneof o" in "a" but "string y" in "b"'],
    ['an explicit packed option in one only', '  repeated int32 x = 1;', '  repeated int32 x = 1 [packed = true];', 'field 1 is "repeated int32 x" in "a" but "repeated int32 x [packed = true]" in "b"'],
    ['a different json_name', '  int32 my_x = 1;', '  int32 my_x = 1 [json_name = "other"];', 'field 1 is "int32 my_x" in "a" but "int32 my_x [json_name = "other"]" in "b"'],
    ['fields in a different order', '  int32 x = 1;\n  int32 y = 2;', '  int32 y = 2;\n  int32 x = 1;', 'they declare the same fields in a different order ("a": x = 1, y = 2; "b": y = 2, x = 1)'],
    ['a different nested message', '  message Part { int32 q = 1; }\n  Part part = 1;', '  message Part { string q = 1; }\n  Part part = 1;', 'in nested message Part, field 1 is "int32 q" in "a" but "string q" in "b"'],
    ['a nested message instead of a top-level one', '  Prediction p = 1;', '  message Prediction { float score = 1; }\n  Prediction p = 1;', 'field 1 is "Prediction p" in "a" but "Features.Prediction p" in "b"'],
    ['a different nested enum', '  enum C { NONE = 0; RED = 1; }\n  C c = 1;', '  enum C { NONE = 0; GREEN = 1; }\n  C c = 1;', 'nested enum C is { NONE = 0; RED = 1 } in "a" but { NONE = 0; GREEN = 1 } in "b"'],
    ['a reserved number in one only', '  int32 x = 1;', '  int32 x = 1;\n  reserved 5;', 'it reserves nothing in "a" but 5 in "b"'],
    ['a message option in one only', '  int32 x = 1;', '  option deprecated = true;\n  int32 x = 1;', 'its options are none in "a" but [deprecated = true] in "b"'],
  ])('refuses %s', (_what, featuresA, featuresB, difference) => {
    const problem = only(check(model('a', featuresA), model('b', featuresB)));
    expect(problem).toMatchObject({ rule: 'message-clash', nodes: ['a', 'b'], name: 'Features' });
    expect(problem.detail).toContain(`Nodes "a" and "b" define message Features differently (${difference}`);
  });

  it('reports a clash once, with every node that defines the name, grouping identical definitions', () => {
    const problem = only(check(model('a', '  int32 x = 1;'), model('b', '  int32 x = 1;'), model('c', '  int64 x = 1;')));
    expect(problem.nodes).toEqual(['a', 'b', 'c']);
    expect(problem.detail).toContain('Nodes "a", "b" and "c" define message Features differently (field 1 is "int32 x" in "a" and "b" but "int64 x" in "c")');
  });

  it('compares a message, not the messages its fields refer to: the referred message clashes on its own', () => {
    const a = file('a', `message Label { string text = 1; }\nmessage Features { Label label = 1; }\n${PREDICTION}\n${service('A')}`);
    const b = file('b', `message Label { bytes text = 1; }\nmessage Features { Label label = 1; }\n${PREDICTION}\n${service('B')}`);
    expect(only(check(a, b))).toMatchObject({ rule: 'message-clash', name: 'Label' });
  });

  const rpcCases: Array<[string, string[], string[], string]> = [
    ['a different request type', ['rpc predict(Features) returns (Prediction);'], ['rpc predict(Prediction) returns (Prediction);'], 'rpc predict is "rpc predict(Features) returns (Prediction)" in "v1" but "rpc predict(Prediction) returns (Prediction)" in "v2"'],
    ['a different response type', ['rpc predict(Features) returns (Prediction);'], ['rpc predict(Features) returns (Features);'], 'rpc predict is "rpc predict(Features) returns (Prediction)" in "v1" but "rpc predict(Features) returns (Features)" in "v2"'],
    ['a streaming response in one only', ['rpc predict(Features) returns (Prediction);'], ['rpc predict(Features) returns (stream Prediction);'], 'rpc predict is "rpc predict(Features) returns (Prediction)" in "v1" but "rpc predict(Features) returns (stream Prediction)" in "v2"'],
    ['a streaming request in one only', ['rpc predict(Features) returns (Prediction);'], ['rpc predict(stream Features) returns (Prediction);'], 'rpc predict is "rpc predict(Features) returns (Prediction)" in "v1" but "rpc predict(stream Features) returns (Prediction)" in "v2"'],
    ['an rpc in one only', ['rpc predict(Features) returns (Prediction);'], ['rpc predict(Features) returns (Prediction);', 'rpc explain(Features) returns (Prediction);'], '"v2" has rpc explain but "v1" does not'],
    ['rpcs in a different order', ['rpc predict(Features) returns (Prediction);', 'rpc explain(Features) returns (Prediction);'], ['rpc explain(Features) returns (Prediction);', 'rpc predict(Features) returns (Prediction);'], 'they declare the same rpcs in a different order ("v1": predict, explain; "v2": explain, predict)'],
  ];
  it.each(rpcCases)('refuses two versions of one service with %s', (_what, rpcsA, rpcsB, difference) => {
    const features = 'message Features { int32 id = 1; }';
    const problem = only(check(file('v1', `${features}\n${PREDICTION}\n${service('Predictor', ...rpcsA)}`), file('v2', `${features}\n${PREDICTION}\n${service('Predictor', ...rpcsB)}`)));
    expect(problem).toMatchObject({ rule: 'service-clash', nodes: ['v1', 'v2'], name: 'Predictor' });
    expect(problem.detail).toContain(`Nodes "v1" and "v2" define service Predictor differently (${difference}`);
    expect(problem.detail).toContain('give them the same definition or rename one');
  });

  it('accepts the same service in two nodes when it is the same', () => {
    const proto = `message Features { int32 id = 1; }\n${PREDICTION}\n${service('Predictor', 'rpc predict(stream Features) returns (stream Prediction);')}`;
    expect(check(file('v1', proto), file('v2', proto))).toEqual([]);
  });

  it('refuses a message and a service of the same name in different nodes', () => {
    const a = file('a', `message Features { int32 id = 1; }\nmessage Scorer { int32 id = 1; }\n${PREDICTION}\n${service('A')}`);
    const b = model('b', '  int32 id = 1;', 'Scorer');
    const problem = only(check(a, b));
    expect(problem).toMatchObject({ rule: 'message-clash', nodes: ['a', 'b'], name: 'Scorer' });
    expect(problem.detail).toBe(
      'Node "a" defines message Scorer and node "b" defines service Scorer: the orchestrator merges every node\'s proto into one file, where a name can be defined only once; rename the message or the service',
    );
  });
});

describe('per-file rules', () => {
  it('not-proto3: no syntax line, proto2, an edition', () => {
    const body = `message Features { optional int32 id = 1; }\n${PREDICTION.replace('float', 'optional float')}\n${service('A')}\n`;
    const cases: Array<[string, string]> = [
      [body, 'does not start with a syntax line, so it is proto2'],
      [`syntax = "proto2";\n${body}`, 'declares syntax "proto2"'],
      [`edition = "2023";\n${body.replace(/optional /g, '')}`, 'uses edition "2023"'],
    ];
    for (const [text, why] of cases) {
      const problem = only(check(file('old-model', text, { syntax: false })));
      expect(problem).toEqual({
        rule: 'not-proto3',
        nodes: ['old-model'],
        detail: `Node "old-model"'s proto ${why}: the orchestrator accepts only proto3; start the file with syntax = "proto3";`,
      });
    }
  });

  it('not-proto3: a proto3 syntax line after comments is fine', () => {
    expect(check(file('m', `// header\n/* licence */\nsyntax = 'proto3';\nmessage Features { int32 id = 1; }\n${PREDICTION}\n${service('A')}`, { syntax: false }))).toEqual([]);
  });

  it('package', () => {
    const problem = only(check(file('m', `package asp;\nmessage Features { int32 id = 1; }\n${PREDICTION}\n${service('A')}`)));
    expect(problem).toMatchObject({ rule: 'package', nodes: ['m'], name: 'asp' });
    expect(problem.detail).toContain('Node "m"\'s proto declares package "asp"');
    expect(problem.detail).toContain('remove the package line');
    // A commented-out package, as in the Graphene tutorials, is no package.
    expect(check(file('m', `// package asp;\nmessage Features { int32 id = 1; }\n${PREDICTION}\n${service('A')}`))).toEqual([]);
  });

  it('import: imported types never reach the merged file', () => {
    const problem = only(check(file('m', `import "google/protobuf/empty.proto";\nmessage Features { int32 id = 1; }\n${PREDICTION}\n${service('A', 'rpc predict(google.protobuf.Empty) returns (Prediction);')}`)));
    expect(problem).toMatchObject({ rule: 'import', nodes: ['m'], name: 'google/protobuf/empty.proto' });
    expect(problem.detail).toContain('define what the proto needs (such as message Empty {}) in the file itself');
    expect(check(file('m', `message Empty {}\nmessage Features { int32 id = 1; }\n${PREDICTION}\n${service('A', 'rpc predict(Empty) returns (Prediction);')}`))).toEqual([]);
  });

  it('enum: a top-level enum is refused, naming the node and the enum', () => {
    const problem = only(check(file('m', `enum Colour { NONE = 0; RED = 1; }\nmessage Features { Colour colour = 1; }\n${PREDICTION}\n${service('A')}`)));
    expect(problem).toMatchObject({ rule: 'enum', nodes: ['m'], name: 'Colour' });
    expect(problem.detail).toContain('Node "m"\'s proto defines enum Colour at the top level');
  });

  it('extension: an extend block and extension ranges', () => {
    const extend = check(file('m', `import "google/protobuf/descriptor.proto";\nextend google.protobuf.FieldOptions { string unit = 50000; }\nmessage Features { int32 id = 1; }\n${PREDICTION}\n${service('A')}`));
    expect(rulesOf(extend)).toEqual(['import', 'extension']);
    expect(extend[1]).toMatchObject({ rule: 'extension', nodes: ['m'], name: 'google.protobuf.FieldOptions' });
    expect(extend[1]?.detail).toContain('Node "m"\'s proto extends google.protobuf.FieldOptions (field "unit")');

    const ranges = only(check(model('m', '  int32 id = 1;\n  extensions 100 to 199;')));
    expect(ranges).toMatchObject({ rule: 'extension', nodes: ['m'], name: 'Features' });
    expect(ranges.detail).toContain('declares extension ranges in message Features');
  });

  it('unparsable: protobufjs\'s message with the line', () => {
    const problem = only(check(file('broken', `message Features {\n  int32 id = 1\n}\n${PREDICTION}\n${service('A')}`)));
    expect(problem.rule).toBe('unparsable');
    expect(problem.nodes).toEqual(['broken']);
    expect(problem.detail).toMatch(/^Node "broken"'s proto cannot be parsed: illegal token '\}', ';' expected \(line 5\); /);
  });

  it.each([
    ['explicit optional', '  optional int32 id = 1;', 'labels field "id" optional in message Features'],
    ['a default value', '  int32 id = 1 [default = 3];', 'gives field "id" a default value in message Features'],
    ['a group', '  repeated group Part = 1 { repeated int32 q = 2; }', 'uses a group in message Features.Part'],
    ['a nested enum not starting at 0', '  enum C { RED = 1; }\n  C c = 1;', 'declares nested enum Features.C whose first value is 1'],
    ['an undefined type', '  Missing id = 1;', 'uses type "Missing" in field "id" of message Features, which it does not define'],
    ['a required field', '  required int32 id = 1;', "cannot be parsed: illegal token 'required'"],
  ])('unparsable: what protoc refuses in proto3 — %s', (_what, features, detail) => {
    const problems = check(model('m', features));
    expect(rulesOf(problems)).toContain('unparsable');
    expect(problems.every((problem) => problem.nodes.length === 1 && problem.nodes[0] === 'm')).toBe(true);
    expect(problems.map((problem) => problem.detail).join('\n')).toContain(`Node "m"'s proto ${detail}`);
  });

  it("unparsable: type names resolve as protoc resolves them, innermost scope first", () => {
    // "Part.Inner" inside Features finds Features.Part first, which has no Inner: protoc stops there.
    const shadowed = only(check(file('m', `message Part { message Inner { int32 q = 1; } }\nmessage Features {\n  message Part { int32 z = 1; }\n  Part.Inner inner = 1;\n}\n${PREDICTION}\n${service('A')}`)));
    expect(shadowed).toMatchObject({ rule: 'unparsable', nodes: ['m'], name: 'Part.Inner' });
    expect(shadowed.detail).toContain('uses type "Part.Inner" in field "inner" of message Features, which it does not define');
    // Without the nested Part, the top-level one is found.
    expect(check(file('m', `message Part { message Inner { int32 q = 1; } }\nmessage Features {\n  Part.Inner inner = 1;\n}\n${PREDICTION}\n${service('A')}`))).toEqual([]);
  });

  it('no-service: the orchestrator needs a line starting with "service "', () => {
    const none = only(check(file('m', `message Features { int32 id = 1; }\n${PREDICTION}`)));
    expect(none).toMatchObject({ rule: 'no-service', nodes: ['m'] });
    expect(none.detail).toContain('Node "m"\'s proto defines no service');

    const indented = only(check(file('m', `message Features { int32 id = 1; }\n${PREDICTION}\n  ${service('Scorer')}`)));
    expect(indented).toMatchObject({ rule: 'no-service', nodes: ['m'], name: 'Scorer' });
    expect(indented.detail).toContain('start the line with service Scorer {');

    const inComment = only(check(file('m', `/*\nservice Old {\n*/\nmessage Features { int32 id = 1; }\n${PREDICTION}\n${service('Scorer')}`)));
    expect(inComment).toMatchObject({ rule: 'no-service', nodes: ['m'], name: 'Old' });

    expect(check(file('m', `message Features { int32 id = 1; }\n${PREDICTION}\nservice Scorer{\n  rpc predict(Features) returns (Prediction);\n}`))).toEqual([]);
  });

  it('reports every problem of every node, node by node, then the clashes', () => {
    const problems = check(
      file('a', `package p;\nenum E { Z = 0; }\nmessage Features { int32 id = 1; }\n${PREDICTION}\n${service('A')}`),
      file('b', 'message Features { int32 id = 1; }', { syntax: false }),
      model('c', '  string id = 1;'),
      model('d', '  int64 id = 1;'),
    );
    expect(problems.map((problem) => [problem.rule, problem.nodes])).toEqual([
      ['package', ['a']],
      ['enum', ['a']],
      ['not-proto3', ['b']],
      ['message-clash', ['a', 'c', 'd']],
    ]);
  });
});
