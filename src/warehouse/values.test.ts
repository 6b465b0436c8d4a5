import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { jsonValue, pgTypeName } from './values.ts';

let conn: DuckDBConnection;
before(async () => {
  conn = await (await DuckDBInstance.create(':memory:')).connect();
});
after(() => conn.closeSync());

/** The type name and client value of each column of a one-row query. */
async function values(sql: string): Promise<[string, unknown][]> {
  const r = await conn.runAndReadAll(sql);
  const row = r.getRows()[0] ?? [];
  return r.columnTypes().map((t, i) => [pgTypeName(t), jsonValue(row[i] ?? null, t)]);
}

test('LIST values are PostgreSQL arrays: element type names and array_out text', async () => {
  assert.deepEqual(
    await values(
      `SELECT [1, NULL, 3] AS i, ['a b', '', 'x"y', 'NULL', 'c,d', 'e\\f', 'plain'] AS t, [[1, 2], [3, 4]] AS m,
              [true, false] AS b, [1.5, 2.25] AS n, [1.5::DOUBLE, 1e300] AS f, []::VARCHAR[] AS e, ['a', 'b']::VARCHAR[2] AS a`,
    ),
    [
      ['integer[]', '{1,NULL,3}'],
      ['character varying[]', '{"a b","","x\\"y","NULL","c,d","e\\\\f",plain}'],
      ['integer[]', '{{1,2},{3,4}}'],
      ['boolean[]', '{t,f}'],
      ['numeric(3,2)[]', '{1.50,2.25}'],
      ['double precision[]', '{1.5,1e+300}'],
      ['character varying[]', '{}'],
      ['character varying[]', '{a,b}'],
    ],
  );
});

test('JSON is json; lists of structs stay JSON text', async () => {
  assert.deepEqual(await values(`SELECT '{"a":1}'::JSON AS j, [{'k': 1}] AS s`), [
    ['json', '{"a":1}'],
    ['character varying', '[{"k":1}]'],
  ]);
});
