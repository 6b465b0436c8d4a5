/**
 * Redshift's physical design (DISTSTYLE, DISTKEY, SORTKEY, ENCODE) and its informational
 * PRIMARY KEY / UNIQUE / FOREIGN KEY constraints are recorded when a table is created or
 * altered, and reported by pg_table_def, svv_table_info, pg_constraint, pg_index and
 * information_schema. The catalog rows are compared with PostgreSQL 15's for the same keys.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { SqlError, type QueryResult, type Warehouse, type WarehouseSession } from './index.ts';
import { createDuckDbWarehouse } from './duckdb-warehouse.ts';
import { MemoryObjectStore, openTestWarehouse } from './test-support.ts';

async function rows(session: WarehouseSession, sql: string): Promise<unknown[][]> {
  const results = await session.execute(sql);
  return (results[results.length - 1] as QueryResult).rows.map((r) => [...r]);
}

/** Rows as PostgreSQL's text format shows them (booleans as t / f). */
function asText(table: readonly (readonly unknown[])[]): (string | null)[][] {
  return table.map((r) =>
    r.map((v) => {
      if (v === null || v === undefined) return null;
      if (typeof v === 'boolean') return v ? 't' : 'f';
      return String(v);
    }),
  );
}

const def = (session: WarehouseSession, table: string): Promise<unknown[][]> =>
  rows(
    session,
    `SELECT "column", encoding, distkey, sortkey FROM pg_table_def WHERE schemaname = 'public' AND tablename = '${table}'`,
  );

const info = async (session: WarehouseSession, table: string): Promise<unknown[]> =>
  (
    await rows(
      session,
      `SELECT diststyle, sortkey1, sortkey_num, sortkey1_enc, encoded FROM svv_table_info WHERE "table" = '${table}'`,
    )
  )[0] ?? [];

describe('the physical design a table declares', () => {
  let warehouse: Warehouse;
  let session: WarehouseSession;
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ warehouse, dir, cleanup } = await openTestWarehouse());
    session = await warehouse.openSession('awsuser');
  });
  after(async () => cleanup());

  test('with nothing declared: AUTO(EVEN), AUTO(SORTKEY), ENCODE AUTO and the encodings Redshift assigns', async () => {
    await session.execute(`CREATE TABLE public.plain (n INTEGER, d DECIMAL(10,2), s VARCHAR(10), c CHAR(2),
      b BOOLEAN, f DOUBLE PRECISION, t TIMESTAMP); INSERT INTO public.plain (n) VALUES (1)`);
    assert.deepEqual(await def(session, 'plain'), [
      ['n', 'az64', false, 0],
      ['d', 'az64', false, 0],
      ['s', 'lzo', false, 0],
      ['c', 'lzo', false, 0],
      ['b', 'none', false, 0],
      ['f', 'none', false, 0],
      ['t', 'az64', false, 0],
    ]);
    assert.deepEqual(await info(session, 'plain'), [
      'AUTO(EVEN)',
      'AUTO(SORTKEY)',
      0,
      null,
      'Y, AUTO(ENCODE)',
    ]);
  });

  test('a column DISTKEY means DISTSTYLE KEY; sort key columns are RAW; ENCODE is kept', async () => {
    await session.execute(`CREATE TABLE public.message (id BIGINT, guid VARCHAR(36) ENCODE zstd,
      ts BIGINT NOT NULL DISTKEY SORTKEY, temp NUMERIC(5,2) ENCODE raw); INSERT INTO public.message (ts) VALUES (1)`);
    assert.deepEqual(await def(session, 'message'), [
      ['id', 'az64', false, 0],
      ['guid', 'zstd', false, 0],
      ['ts', 'none', true, 1],
      ['temp', 'none', false, 0],
    ]);
    assert.deepEqual(await info(session, 'message'), ['KEY(ts)', 'ts', 1, 'none', 'Y']);
  });

  test('a compound sort key numbers its columns; an interleaved one alternates their sign', async () => {
    await session.execute(`CREATE TABLE public.compound (a INT, b VARCHAR(4), c DATE ENCODE delta)
        DISTSTYLE ALL COMPOUND SORTKEY (c, a);
      CREATE TABLE public.interleaved (a INT, b VARCHAR(4), c DATE) DISTSTYLE EVEN INTERLEAVED SORTKEY (a, b, c);
      INSERT INTO public.compound VALUES (1, 'x', '2020-01-01'); INSERT INTO public.interleaved VALUES (1, 'x', '2020-01-01')`);
    assert.deepEqual(await def(session, 'compound'), [
      ['a', 'none', false, 2],
      ['b', 'lzo', false, 0],
      ['c', 'delta', false, 1],
    ]);
    assert.deepEqual(await def(session, 'interleaved'), [
      ['a', 'none', false, -1],
      ['b', 'none', false, 2],
      ['c', 'none', false, -3],
    ]);
    assert.deepEqual(await info(session, 'compound'), ['ALL', 'c', 2, 'delta', 'Y']);
    assert.deepEqual(await info(session, 'interleaved'), ['EVEN', 'a', 3, 'none', 'Y, AUTO(ENCODE)']);
  });

  test('CREATE TABLE ... LIKE copies the distribution, sort key and encodings, not the keys', async () => {
    await session.execute(`CREATE TABLE public.keyed (id INT PRIMARY KEY, v VARCHAR(3) ENCODE bytedict) DISTKEY (v) SORTKEY (id);
      CREATE TABLE public.keyed_like (LIKE public.keyed); INSERT INTO public.keyed_like VALUES (1, 'a'), (1, 'b')`);
    assert.deepEqual(await def(session, 'keyed_like'), [
      ['id', 'none', false, 1],
      ['v', 'bytedict', true, 0],
    ]);
    assert.deepEqual(await info(session, 'keyed_like'), ['KEY(v)', 'id', 1, 'none', 'Y']);
    assert.deepEqual(
      await rows(
        session,
        `SELECT count(*) FROM pg_constraint WHERE conrelid = 'public.keyed_like'::regclass`,
      ),
      [[0]],
    );
    // Attributes the statement writes win over the parent's.
    await session.execute('CREATE TABLE public.keyed_even (LIKE public.keyed) DISTSTYLE EVEN');
    assert.deepEqual(await def(session, 'keyed_even'), [
      ['id', 'none', false, 1],
      ['v', 'bytedict', false, 0],
    ]);
  });

  test('CREATE TABLE ... AS records DISTKEY and SORTKEY, and refuses ones the query does not produce', async () => {
    await session.execute(
      'CREATE TABLE public.hot DISTKEY (guid) SORTKEY (ts) AS SELECT guid, ts, temp FROM public.message',
    );
    assert.deepEqual(await def(session, 'hot'), [
      ['guid', 'lzo', true, 0],
      ['ts', 'none', false, 1],
      ['temp', 'az64', false, 0],
    ]);
    await assert.rejects(
      session.execute('CREATE TABLE public.cold SORTKEY (nosuch) AS SELECT guid FROM public.message'),
      (e: unknown) => e instanceof SqlError && e.sqlstate === '42703',
    );
    assert.deepEqual(await rows(session, `SELECT count(*) FROM pg_tables WHERE tablename = 'cold'`), [[0]]);
  });

  test('ALTER DISTSTYLE, DISTKEY, SORTKEY and column ENCODE are recorded', async () => {
    await session.execute(
      `CREATE TABLE public.altered (a INT, b VARCHAR(4), c BIGINT); INSERT INTO public.altered VALUES (1, 'x', 2)`,
    );
    await session.execute('ALTER TABLE public.altered ALTER DISTKEY b');
    await session.execute('ALTER TABLE public.altered ALTER SORTKEY (c, a)');
    await session.execute('ALTER TABLE public.altered ALTER COLUMN b ENCODE zstd');
    assert.deepEqual(await def(session, 'altered'), [
      ['a', 'none', false, 2],
      ['b', 'zstd', true, 0],
      ['c', 'none', false, 1],
    ]);
    assert.deepEqual(await info(session, 'altered'), ['KEY(b)', 'c', 2, 'none', 'Y']);
    await session.execute('ALTER TABLE public.altered ALTER DISTSTYLE ALL');
    await session.execute('ALTER TABLE public.altered ALTER SORTKEY NONE');
    await session.execute('ALTER TABLE public.altered ALTER ENCODE AUTO');
    assert.deepEqual(await info(session, 'altered'), ['ALL', null, 0, null, 'Y, AUTO(ENCODE)']);
    await session.execute('ALTER TABLE public.altered ALTER DISTSTYLE KEY DISTKEY a');
    await session.execute('ALTER TABLE public.altered ALTER SORTKEY AUTO');
    assert.deepEqual(await info(session, 'altered'), ['KEY(a)', 'AUTO(SORTKEY)', 0, null, 'Y, AUTO(ENCODE)']);
    await assert.rejects(
      session.execute('ALTER TABLE public.altered ALTER DISTKEY nosuch'),
      (e: unknown) => e instanceof SqlError && e.sqlstate === '42703',
    );
  });

  test('renaming a table or a column keeps its design and keys; dropping them forgets them', async () => {
    await session.execute(`CREATE TABLE public.before (id INT PRIMARY KEY, k VARCHAR(5) DISTKEY) SORTKEY (k, id);
      INSERT INTO public.before VALUES (1, 'x');
      ALTER TABLE public.before RENAME TO after_rename;
      ALTER TABLE public.after_rename RENAME COLUMN k TO key`);
    assert.deepEqual(await def(session, 'after_rename'), [
      ['id', 'none', false, 2],
      ['key', 'none', true, 1],
    ]);
    assert.deepEqual(await info(session, 'after_rename'), ['KEY(key)', 'key', 2, 'none', 'Y, AUTO(ENCODE)']);
    assert.deepEqual(
      await rows(
        session,
        `SELECT conname, pg_get_constraintdef(c.oid) FROM pg_constraint c WHERE conrelid = 'public.after_rename'::regclass`,
      ),
      [['before_pkey', 'PRIMARY KEY (id)']],
    );
    await session.execute('ALTER TABLE public.after_rename DROP COLUMN key');
    assert.deepEqual(await def(session, 'after_rename'), [['id', 'none', false, 1]]);
    assert.deepEqual(await info(session, 'after_rename'), ['AUTO(EVEN)', 'id', 1, 'none', 'Y, AUTO(ENCODE)']);
    await session.execute('DROP TABLE public.after_rename; CREATE TABLE public.after_rename (id INT)');
    assert.deepEqual(await def(session, 'after_rename'), [['id', 'az64', false, 0]]);
    assert.deepEqual(
      await rows(
        session,
        `SELECT count(*) FROM pg_constraint WHERE conrelid = 'public.after_rename'::regclass`,
      ),
      [[0]],
    );
  });

  test('keys are not enforced: duplicate and dangling values load, as in Redshift', async () => {
    await session.execute(`CREATE TABLE public.parent (id INT PRIMARY KEY);
      CREATE TABLE public.child (id INT PRIMARY KEY, code VARCHAR(3) UNIQUE, parent_id INT REFERENCES public.parent(id))`);
    await session.execute(`INSERT INTO public.child VALUES (1, 'a', 99), (1, 'a', 98)`);
    await session.execute(
      `ALTER TABLE public.child ADD CONSTRAINT child_code_parent UNIQUE (code, parent_id)`,
    );
    assert.deepEqual(await rows(session, 'SELECT count(*) FROM public.child'), [[2]]);
    assert.deepEqual(
      await rows(
        session,
        `SELECT conname, contype FROM pg_constraint WHERE conrelid = 'public.child'::regclass ORDER BY 1`,
      ),
      [
        ['child_code_key', 'u'],
        ['child_code_parent', 'u'],
        ['child_parent_id_fkey', 'f'],
        ['child_pkey', 'p'],
      ],
    );
    await session.execute('ALTER TABLE public.child DROP CONSTRAINT child_code_parent');
    await assert.rejects(
      session.execute('ALTER TABLE public.child DROP CONSTRAINT child_code_parent'),
      (e: unknown) => e instanceof SqlError && e.sqlstate === '42704',
    );
    await assert.rejects(
      session.execute('ALTER TABLE public.child ADD PRIMARY KEY (code)'),
      (e: unknown) => e instanceof SqlError && e.sqlstate === '42P16',
    );
    // Dropping the referenced table drops the foreign keys to it, as CASCADE does.
    await session.execute('DROP TABLE public.parent CASCADE');
    assert.deepEqual(
      await rows(
        session,
        `SELECT conname FROM pg_constraint WHERE conrelid = 'public.child'::regclass ORDER BY 1`,
      ),
      [['child_code_key'], ['child_pkey']],
    );
  });

  test('what was declared is still reported after a restart', async () => {
    const before = await def(session, 'message');
    const keys = await rows(session, `SELECT conname FROM pg_constraint ORDER BY 1`);
    await session.close();
    await warehouse.close();
    warehouse = await createDuckDbWarehouse({ dir, objectStore: new MemoryObjectStore(), threads: 1 });
    session = await warehouse.openSession('awsuser');
    assert.deepEqual(await def(session, 'message'), before);
    assert.deepEqual(await info(session, 'compound'), ['ALL', 'c', 2, 'delta', 'Y']);
    assert.deepEqual(await rows(session, `SELECT conname FROM pg_constraint ORDER BY 1`), keys);
  });

  test('declarations that name missing columns or unknown encodings fail', async () => {
    const fails = async (sql: string, sqlstate: string): Promise<void> =>
      assert.rejects(session.execute(sql), (e: unknown) => e instanceof SqlError && e.sqlstate === sqlstate);
    await fails('CREATE TABLE public.bad (a INT) DISTKEY (b)', '42703');
    await fails('CREATE TABLE public.bad (a INT) SORTKEY (a, b)', '42703');
    await fails('CREATE TABLE public.bad (a INT, PRIMARY KEY (b))', '42703');
    await fails('CREATE TABLE public.bad (a INT ENCODE snappy)', '42704');
    await session.execute('CREATE TABLE public.good (a INT ENCODE AUTO, b INT ENCODE RAW)');
    assert.deepEqual(await def(session, 'good'), [
      ['a', 'az64', false, 0],
      ['b', 'none', false, 0],
    ]);
    await fails('CREATE TABLE public.bad (a INT DISTKEY, b INT DISTKEY)', '42601');
    await fails('CREATE TABLE public.bad (a INT) DISTSTYLE KEY', '42601');
  });
});

/** Tables with the same keys in Sluice and in PostgreSQL 15 (which accepts this DDL as is). */
const KEYS_DDL = `
  CREATE SCHEMA keys;
  CREATE TABLE keys.loc (id INTEGER PRIMARY KEY, code VARCHAR(8) NOT NULL, CONSTRAINT loc_code UNIQUE (code));
  CREATE TABLE keys.msg (id BIGINT NOT NULL, guid VARCHAR(36) UNIQUE, loc INTEGER REFERENCES keys.loc,
    tag VARCHAR(8), PRIMARY KEY (id, guid), FOREIGN KEY (tag) REFERENCES keys.loc (code));
`;

/** Catalog queries whose answers must match PostgreSQL's (oids replaced by the names they stand for). */
const CATALOG_QUERIES: readonly (readonly [string, string])[] = [
  [
    'pg_constraint',
    `SELECT c.conname, c.contype, r.relname, array_to_string(c.conkey, ','), f.relname, array_to_string(c.confkey, ','),
            ix.relname, c.confupdtype, c.confdeltype, c.confmatchtype, c.condeferrable, c.convalidated,
            pg_catalog.pg_get_constraintdef(c.oid, true)
       FROM pg_catalog.pg_constraint c JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace
       JOIN pg_catalog.pg_class r ON r.oid = c.conrelid
       LEFT JOIN pg_catalog.pg_class f ON f.oid = c.confrelid
       LEFT JOIN pg_catalog.pg_class ix ON ix.oid = c.conindid
      WHERE n.nspname = 'keys' ORDER BY 1`,
  ],
  [
    'pg_index',
    `SELECT ic.relname, tc.relname, i.indisprimary, i.indisunique, i.indnatts,
            array_to_string(i.indkey::pg_catalog.int2[], ' '), pg_catalog.pg_get_indexdef(i.indexrelid, 0, true)
       FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_catalog.pg_class tc ON tc.oid = i.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = tc.relnamespace
      WHERE n.nspname = 'keys' ORDER BY 1`,
  ],
  [
    "psql \\d's index list",
    `SELECT c2.relname, i.indisprimary, i.indisunique, i.indisclustered, i.indisvalid,
            pg_catalog.pg_get_indexdef(i.indexrelid, 0, true), pg_catalog.pg_get_constraintdef(con.oid, true), contype,
            condeferrable, condeferred, i.indisreplident
       FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i
       LEFT JOIN pg_catalog.pg_constraint con ON (conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x'))
      WHERE c.oid = 'keys.msg'::pg_catalog.regclass AND c.oid = i.indrelid AND i.indexrelid = c2.oid
      ORDER BY i.indisprimary DESC, c2.relname`,
  ],
  [
    'pgjdbc getPrimaryKeys',
    `SELECT result.COLUMN_NAME, result.KEY_SEQ, result.PK_NAME FROM
       (SELECT a.attname AS COLUMN_NAME, (information_schema._pg_expandarray(i.indkey)).n AS KEY_SEQ, ci.relname AS PK_NAME,
               information_schema._pg_expandarray(i.indkey) AS KEYS, a.attnum AS A_ATTNUM
          FROM pg_catalog.pg_class ct JOIN pg_catalog.pg_attribute a ON (ct.oid = a.attrelid)
          JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid)
          JOIN pg_catalog.pg_index i ON (a.attrelid = i.indrelid)
          JOIN pg_catalog.pg_class ci ON (ci.oid = i.indexrelid)
         WHERE true AND n.nspname = E'keys' AND ct.relname = E'msg' AND i.indisprimary) result
      WHERE result.A_ATTNUM = (result.KEYS).x ORDER BY result.pk_name, result.key_seq`,
  ],
  [
    'information_schema.table_constraints',
    `SELECT constraint_name, table_name, constraint_type, is_deferrable, initially_deferred
       FROM information_schema.table_constraints WHERE table_schema = 'keys' AND constraint_type <> 'CHECK' ORDER BY 1`,
  ],
  [
    'information_schema.key_column_usage',
    `SELECT constraint_name, table_name, column_name, ordinal_position, position_in_unique_constraint
       FROM information_schema.key_column_usage WHERE table_schema = 'keys' ORDER BY 1, 4`,
  ],
  [
    'information_schema.referential_constraints',
    `SELECT constraint_name, unique_constraint_schema, unique_constraint_name, match_option, update_rule, delete_rule
       FROM information_schema.referential_constraints WHERE constraint_schema = 'keys' ORDER BY 1`,
  ],
];

describe('pg_constraint, pg_index and information_schema describe keys as PostgreSQL 15 does', () => {
  let client: pg.Client | undefined;
  let reason = '';
  let session: WarehouseSession;
  let cleanup: () => Promise<void>;
  before(async () => {
    const opened = await openTestWarehouse();
    cleanup = opened.cleanup;
    session = await opened.warehouse.openSession('awsuser');
    await session.execute(KEYS_DDL);
    const c = new pg.Client({
      connectionString: process.env.SLUICE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      connectionTimeoutMillis: 3000,
      types: { getTypeParser: () => (value: string) => value },
    });
    try {
      await c.connect();
      await c.query('BEGIN');
      await c.query(KEYS_DDL);
      client = c;
    } catch (error) {
      reason = `PostgreSQL is not reachable: ${(error as Error).message}`;
      await c.end().catch(() => undefined);
    }
  });
  after(async () => {
    // Nothing is left behind in PostgreSQL: the DDL ran in a transaction.
    await client?.query('ROLLBACK');
    await client?.end();
    await cleanup();
  });

  test('the primary key shows in pg_index and psql \\d (without PostgreSQL)', async () => {
    assert.deepEqual(await rows(session, CATALOG_QUERIES[3]?.[1] as string), [
      ['id', 1, 'msg_pkey'],
      ['guid', 2, 'msg_pkey'],
    ]);
  });

  for (const [title, sql] of CATALOG_QUERIES) {
    test(title, async (t) => {
      if (!client) {
        t.skip(reason);
        return;
      }
      const expected = (await client.query({ text: sql, rowMode: 'array' })).rows as unknown[][];
      assert.ok(expected.length > 0, `PostgreSQL returned no rows for ${title}`);
      assert.deepEqual(asText(await rows(session, sql)), asText(expected));
    });
  }
});
