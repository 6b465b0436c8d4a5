import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ColumnInfo, WarehouseSession } from './index.ts';
import { openTestWarehouse } from './test-support.ts';

/** The names and types of a statement's result columns, as a client's RowDescription shows them. */
async function columnsOf(session: WarehouseSession, sql: string): Promise<string[]> {
  const results = await session.execute(sql);
  return (results.at(-1)?.columns ?? []).map((c: ColumnInfo) => `${c.name} ${c.type}`);
}

describe('result column types and names as Redshift gives them', () => {
  let session: WarehouseSession;
  let cleanup: () => Promise<void>;
  before(async () => {
    const opened = await openTestWarehouse();
    cleanup = opened.cleanup;
    session = await opened.warehouse.openSession('awsuser');
    await session.execute(
      'CREATE TABLE public.sales (qtysold SMALLINT, id INTEGER, ts BIGINT, pricepaid NUMERIC(8,2), ratio DOUBLE PRECISION); ' +
        'INSERT INTO public.sales VALUES (1, 1, 10, 100.00, 0.5), (2, 2, 11, 107.05, 0.25), (2, 4, 12, 115.73, 0.75)',
    );
  });
  after(async () => cleanup());

  test('AVG of an integer column is a bigint, of NUMERIC(8,2) a numeric(38,2), of DOUBLE a double', async () => {
    assert.deepEqual(
      await columnsOf(
        session,
        'SELECT avg(qtysold), avg(id), avg(ts), avg(pricepaid), avg(ratio), avg(DISTINCT id) FROM public.sales',
      ),
      ['avg bigint', 'avg bigint', 'avg bigint', 'avg numeric(38,2)', 'avg double precision', 'avg bigint'],
    );
  });

  test('AVG over a window and of an expression has the same types', async () => {
    assert.deepEqual(
      await columnsOf(
        session,
        'SELECT avg(id) OVER (ORDER BY ts), avg(pricepaid * 2) OVER (), avg(id + 0.5) AS half FROM public.sales GROUP BY id, ts, pricepaid',
      ),
      ['avg bigint', 'avg numeric(38,2)', 'half numeric(38,1)'],
    );
  });

  test('a bare NUMERIC cast is numeric(18,0)', async () => {
    assert.deepEqual(await columnsOf(session, 'SELECT 1.5::numeric AS n, CAST(2 AS decimal) AS d'), [
      'n numeric(18,0)',
      'd numeric(18,0)',
    ]);
  });

  test('a cast of a constant is named after its type, a cast of a column or call after that', async () => {
    assert.deepEqual(
      await columnsOf(
        session,
        "SELECT 'a'::text, 1::int, 'x'::char(3), CAST('y' AS varchar(5)), 2.5::numeric, 1::int::text, s.id::text, now()::date, 1 + 2::int FROM public.sales s LIMIT 1",
      ).then((cols) => cols.map((c) => c.split(' ')[0])),
      ['text', 'int4', 'bpchar', 'varchar', 'numeric', 'text', 'id', 'now', '?column?'],
    );
  });

  test('a CHAR(n) cast is typed character(n), as a client sees bpchar', async () => {
    assert.deepEqual(
      await columnsOf(
        session,
        "SELECT 'x'::char(3), CAST('y' AS character(2)) AS c, 'z'::char, 'w'::varchar(4)",
      ),
      ['bpchar character(3)', 'c character(2)', 'bpchar character(1)', 'varchar character varying'],
    );
  });
});
