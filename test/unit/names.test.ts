import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assignKubeNames,
  defaultNamespace,
  hashHex,
  toKubeName,
  toLabelValue,
} from '../../src/domain/names.js';

const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

function expectKubeName(name: string, maxLength = 63): void {
  expect(name.length).toBeLessThanOrEqual(maxLength);
  expect(name).toMatch(DNS_1035_LABEL);
}

/** Any string, including astral characters and lone surrogates. */
const anyString = fc.string({ unit: 'binary', maxLength: 100 });
/** Strings made of a few characters, so that different strings often clean to the same name. */
const collisionProne = fc.string({ unit: fc.constantFrom('a', 'A', 'b', '-', '_', ' ', '.', '1', '/'), maxLength: 8 });
const nameLists = fc.array(fc.oneof(anyString, collisionProne, fc.constant('orchestrator')), { maxLength: 12 });

describe('toKubeName', () => {
  it('keeps a valid name and only folds ASCII case without a hash', () => {
    expect(toKubeName('aspsolver-clingo-oneshot1')).toBe('aspsolver-clingo-oneshot1');
    expect(toKubeName('EntityRecognizer')).toBe('entityrecognizer');
  });

  it('replaces invalid characters and appends a hash of the original', () => {
    expect(toKubeName('my_model')).toBe(`my-model-${hashHex('my_model')}`);
    expect(toKubeName('Sudoku Tutorial')).toBe(`sudoku-tutorial-${hashHex('Sudoku Tutorial')}`);
    expect(toKubeName('/data/shared')).toBe(`data-shared-${hashHex('/data/shared')}`);
  });

  it('shortens names over 63 characters and keeps them distinct', () => {
    const long = `${'a'.repeat(70)}`;
    const longer = `${'a'.repeat(71)}`;
    expectKubeName(toKubeName(long));
    expect(toKubeName(long)).toBe(`${'a'.repeat(54)}-${hashHex(long)}`);
    expect(toKubeName(long)).not.toBe(toKubeName(longer));
    expect(toKubeName('a'.repeat(63))).toBe('a'.repeat(63));
  });

  it('starts every name with a letter, since Service names must', () => {
    expect(toKubeName('1model')).toBe(`x-1model-${hashHex('1model')}`);
    expect(toKubeName('')).toBe(`x-${hashHex('')}`);
    expect(toKubeName('___')).toBe(`x-${hashHex('___')}`);
  });

  it('treats non-ASCII case folding as a change (Kelvin sign is not k)', () => {
    expect(toKubeName('\u212A')).not.toBe('k');
    expectKubeName(toKubeName('\u212A'));
  });

  it('honours a smaller maximum length and rejects an impossible one', () => {
    expect(toKubeName('abcdefghijklmnop', 12)).toBe(`abc-${hashHex('abcdefghijklmnop')}`);
    expect(() => toKubeName('a', 9)).toThrow(RangeError);
    expect(() => toKubeName('a', 64)).toThrow(RangeError);
  });

  it('gives a valid, stable name for any input', () => {
    fc.assert(
      fc.property(anyString, fc.integer({ min: 10, max: 63 }), (raw, maxLength) => {
        const name = toKubeName(raw, maxLength);
        expectKubeName(name, maxLength);
        expect(toKubeName(raw, maxLength)).toBe(name);
      }),
    );
  });

  it('keeps every name that is already valid', () => {
    const validName = fc.stringMatching(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
    fc.assert(
      fc.property(validName, (name) => {
        expect(toKubeName(name)).toBe(name);
      }),
    );
  });
});

describe('assignKubeNames', () => {
  it('separates names that clean to the same name; the exact one keeps it', () => {
    const names = assignKubeNames(['Model_A', 'model-a']);
    expect(names.get('model-a')).toBe('model-a');
    expect(names.get('Model_A')).toBe(`model-a-${hashHex('Model_A')}`);
  });

  it('hashes every member of a collision when none is exact', () => {
    const names = assignKubeNames(['Model A', 'model_a']);
    expect(names.get('Model A')).toBe(`model-a-${hashHex('Model A')}`);
    expect(names.get('model_a')).toBe(`model-a-${hashHex('model_a')}`);
  });

  it('separates names that differ only in ASCII case', () => {
    const names = assignKubeNames(['Model', 'MODEL']);
    expect(new Set(names.values()).size).toBe(2);
  });

  it('keeps a node named orchestrator away from the orchestrator', () => {
    const names = assignKubeNames(['orchestrator', 'solver']);
    expect(names.get('orchestrator')).toBe(`orchestrator-${hashHex('orchestrator')}`);
    expect(names.get('solver')).toBe('solver');
    expect(assignKubeNames(['orchestrator'], []).get('orchestrator')).toBe('orchestrator');
  });

  it('moves on when a hashed name is itself taken by another node', () => {
    const hashed = `model-a-${hashHex('Model_A')}`;
    const names = assignKubeNames(['Model_A', 'model-a', hashed]);
    expect(names.get(hashed)).toBe(hashed);
    expect(names.get('Model_A')).toBe(`model-a-${hashHex('Model_A', 16)}`);
  });

  it('gives every input a valid name, distinct, never reserved, whatever the order', () => {
    fc.assert(
      fc.property(nameLists, (rawNames) => {
        const names = assignKubeNames(rawNames);
        const unique = new Set(rawNames);
        expect(names.size).toBe(unique.size);
        const values = [...names.values()];
        expect(new Set(values).size).toBe(values.length);
        expect(values).not.toContain('orchestrator');
        for (const value of values) expectKubeName(value);
        const reversed = assignKubeNames([...rawNames].reverse());
        for (const raw of unique) expect(reversed.get(raw)).toBe(names.get(raw));
      }),
    );
  });

  it('keeps already valid, distinct, unreserved names as they are', () => {
    const validNames = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{0,20}$/), { maxLength: 10 });
    fc.assert(
      fc.property(validNames, (rawNames) => {
        const names = assignKubeNames(rawNames.filter((name) => name !== 'orchestrator'));
        for (const [raw, name] of names) expect(name).toBe(raw);
      }),
    );
  });
});

describe('defaultNamespace', () => {
  const revisionId = '2f7c7ef1-262c-4a73-8393-aef1ded7cad3';

  it('keeps the reference deployer’s proposal when it is valid', () => {
    expect(defaultNamespace('Sudoku Tutorial', revisionId)).toBe(`sudoku-tutorial-${revisionId}`);
  });

  it('repairs names the reference deployer would break on', () => {
    const withUnderscore = defaultNamespace('my_solution', revisionId);
    expect(withUnderscore).toBe(`my-solution-${revisionId}-${hashHex(`my_solution-${revisionId}`)}`);
    const long = defaultNamespace('A solution name that is much too long for Kubernetes', revisionId);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(DNS_1123_LABEL);
    expect(long).not.toBe(defaultNamespace('A solution name that is much too long for Kubernetez', revisionId));
  });

  it('is a valid namespace name for any input', () => {
    fc.assert(
      fc.property(anyString, anyString, (name, revision) => {
        const namespace = defaultNamespace(name, revision);
        expect(namespace.length).toBeLessThanOrEqual(63);
        expect(namespace).toMatch(DNS_1123_LABEL);
        expect(defaultNamespace(name, revision)).toBe(namespace);
      }),
    );
  });
});

describe('toLabelValue', () => {
  it('keeps valid values, case included', () => {
    expect(toLabelValue('news-training-pipeline')).toBe('news-training-pipeline');
    expect(toLabelValue('Sudoku.Tutorial_2')).toBe('Sudoku.Tutorial_2');
    expect(toLabelValue('')).toBe('');
  });

  it('cleans and hashes values it has to change', () => {
    expect(toLabelValue('Sudoku Tutorial')).toBe(`Sudoku-Tutorial-${hashHex('Sudoku Tutorial')}`);
    expect(toLabelValue('_x_')).toBe(`x-${hashHex('_x_')}`);
    expect(toLabelValue('!!!')).toBe(`x-${hashHex('!!!')}`);
    expect(toLabelValue('a'.repeat(64))).toBe(`${'a'.repeat(54)}-${hashHex('a'.repeat(64))}`);
  });

  it('is a valid, stable label value for any input', () => {
    fc.assert(
      fc.property(anyString, (raw) => {
        const value = toLabelValue(raw);
        expect(value.length).toBeLessThanOrEqual(63);
        expect(value).toMatch(LABEL_VALUE);
        expect(toLabelValue(raw)).toBe(value);
      }),
    );
  });

  it('gives different values to different inputs it has to change', () => {
    fc.assert(
      fc.property(collisionProne, collisionProne, (a, b) => {
        fc.pre(a !== b);
        expect(toLabelValue(a)).not.toBe(toLabelValue(b));
      }),
    );
  });
});
