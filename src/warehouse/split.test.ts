import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { splitStatements } from './split.ts';
import { tokenize } from './lexer.ts';

test('splits on top-level semicolons only', () => {
  const sql = `SELECT 'a;b'; SELECT "x;y" FROM t; -- c;d
SELECT $$ ; $$, $tag$ ;$ $tag$ /* e; /* nested; */ f; */ ; ;SELECT E'\\';'`;
  assert.deepEqual(
    splitStatements(sql).map((s) => s.text),
    ["SELECT 'a;b'", 'SELECT "x;y" FROM t', 'SELECT $$ ; $$, $tag$ ;$ $tag$', "SELECT E'\\';'"],
  );
});

test('offsets point at each statement in the script', () => {
  const sql = '  SELECT 1;\n\n  SELECT 2  ';
  for (const s of splitStatements(sql)) assert.equal(sql.slice(s.offset, s.offset + s.text.length), s.text);
  assert.deepEqual(
    splitStatements(sql).map((s) => s.offset),
    [2, 15],
  );
});

test('a script of only comments and semicolons has no statements', () => {
  assert.deepEqual(splitStatements(' -- nothing\n ; /* still nothing */ ;'), []);
});

test('an unterminated quote keeps the rest of the script in one statement', () => {
  assert.deepEqual(
    splitStatements("SELECT 'open; SELECT 2").map((s) => s.text),
    ["SELECT 'open; SELECT 2"],
  );
});

test('tokens always cover the input exactly (any text)', () => {
  fc.assert(
    fc.property(
      fc.string({
        unit: fc.constantFrom('a', ' ', ';', "'", '"', '$', '-', '/', '*', 'E', '1', '.', '\n', ':', '\\'),
      }),
      (s) => {
        assert.equal(
          tokenize(s)
            .map((t) => t.text)
            .join(''),
          s,
        );
      },
    ),
  );
});
