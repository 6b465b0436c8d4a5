import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonRecordScanner, ValueKind } from './json-scan.ts';

function scan(
  text: string,
  columns = ['guid', 'ts', 'temp'],
): {
  records: (string | number)[][];
  errors: { line: number; ordinal: number; raw: string }[];
  shared: boolean;
} {
  const keys = new Map(columns.map((c, i) => [c, i]));
  const s = new JsonRecordScanner(text, keys, columns.length, false);
  const records: (string | number)[][] = [];
  const errors: { line: number; ordinal: number; raw: string }[] = [];
  for (;;) {
    const r = s.next();
    if (r === 'end') break;
    if (r === 'error')
      errors.push({ line: s.line, ordinal: s.ordinal, raw: text.slice(s.recordStart, s.recordEnd) });
    else
      records.push(
        columns.map((_, i) => (s.kinds[i] === ValueKind.missing ? 'MISSING' : `${s.kinds[i]}:${s.texts[i]}`)),
      );
  }
  return { records, errors, shared: s.sharedLine };
}

test('concatenated objects are records, values keep their exact text', () => {
  const r = scan(
    '{"guid":"a","ts":1700000000,"temp":71.50}{"guid":"b\\u0041","ts":12345678901234567890,"temp":-1e2}',
  );
  assert.deepEqual(r.records, [
    ['1:a', '2:1700000000', '2:71.50'],
    ['1:bA', '2:12345678901234567890', '2:-1e2'],
  ]);
  assert.equal(r.shared, true);
});

test('newline-delimited objects report lines; missing keys and nested values are told apart', () => {
  const r = scan('{"guid":"a"}\n{"ts":null,"temp":{"x":[1,2]},"other":true}\n');
  assert.deepEqual(r.records, [
    ['1:a', 'MISSING', 'MISSING'],
    ['MISSING', '5:', '6:{"x":[1,2]}'],
  ]);
  assert.equal(r.shared, false);
});

test('one bad object is one error and the scan resumes at the next object', () => {
  const r = scan(
    '{"guid":"a","ts":1,"temp":1}\n{"guid": "b", "ts": }\n{"guid":"c","ts":3,"temp":3}\n{"guid":"d","nested":{"x":}}\n{"guid":"e"}',
  );
  assert.deepEqual(
    r.records.map((x) => x[0]),
    ['1:a', '1:c', '1:e'],
  );
  assert.deepEqual(r.errors, [
    { line: 2, ordinal: 2, raw: '{"guid": "b", "ts": }' },
    { line: 4, ordinal: 4, raw: '{"guid":"d","nested":{"x":}}' },
  ]);
});

test('a truncated object with unbalanced braces does not swallow the next records', () => {
  const r = scan('{"guid":"a","ts":1\n{"guid":"b"}\n{"guid":"c"}');
  assert.deepEqual(
    r.records.map((x) => x[0]),
    ['1:b', '1:c'],
  );
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0]?.raw, '{"guid":"a","ts":1');
});

test('junk between objects is one error', () => {
  const r = scan('{"guid":"a"} junk, more {"guid":"b"}');
  assert.deepEqual(
    r.records.map((x) => x[0]),
    ['1:a', '1:b'],
  );
  assert.deepEqual(
    r.errors.map((e) => e.raw),
    ['junk, more'],
  );
});

test('invalid JSON inside strings and numbers is caught', () => {
  for (const bad of [
    '{"guid":"a\tb"}',
    '{"guid":"\\x"}',
    '{"ts":01}',
    '{"ts":1.}',
    '{"ts":-}',
    '{"guid":tru}',
    '{"guid" "a"}',
  ]) {
    assert.equal(scan(bad).errors.length, 1, bad);
  }
});
