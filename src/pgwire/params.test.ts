import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bindParams, paramCount, paramLiteral } from './params.ts';

test('$n inside strings, quoted names, dollar quotes and comments is not a parameter', () => {
  const sql = `SELECT '$1', "$2", $$ $3 $$, $tag$ $4 $tag$, E'\\' $5', x$6 -- $7\n/* $8 /* $9 */ */ , $10`;
  assert.equal(paramCount(sql), 10);
  assert.equal(
    bindParams(
      sql,
      Array.from({ length: 10 }, () => 'NULL'),
    ).sql.match(/NULL/g)?.length,
    1,
  );
});

test('values become literals that cannot escape their quotes', () => {
  assert.equal(paramLiteral("it's", 0), "'it''s'");
  assert.equal(paramLiteral('123', 0), "'123'");
  assert.equal(paramLiteral('123', 23), '123');
  assert.equal(paramLiteral('-5', 20), '(-5)');
  assert.equal(paramLiteral('1; DROP TABLE t', 23), "'1; DROP TABLE t'");
  assert.equal(paramLiteral('t', 16), 'TRUE');
  assert.equal(paramLiteral(null, 23), 'NULL');
});

test('an error position in the bound SQL maps back to the statement text', () => {
  const bound = bindParams('SELECT $1 + nosuch', ["'a long value'"]);
  assert.equal(bound.sql, "SELECT 'a long value' + nosuch");
  assert.equal(bound.originalOffset(bound.sql.indexOf('nosuch')), 'SELECT $1 + '.length);
  assert.equal(bound.originalOffset(9), 7);
});

test('an array parameter becomes a list literal whose elements cannot escape their quotes', () => {
  assert.equal(paramLiteral('{1,2,-3}', 1016), '[1, 2, (-3)]');
  assert.equal(paramLiteral(`{"it's","a,b",NULL}`, 1009), `['it''s', 'a,b', NULL]`);
  assert.equal(paramLiteral('{{1,2},{3,4}}', 1007), '[[1, 2], [3, 4]]');
  assert.equal(paramLiteral('{}', 1009), '[]');
  // Not an array literal: left as a string, for the statement to reject.
  assert.equal(paramLiteral('[1,2]', 1007), "'[1,2]'");
});
