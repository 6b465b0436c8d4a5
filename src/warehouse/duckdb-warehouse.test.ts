import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDuckDbWarehouse } from './duckdb-warehouse.ts';
import { SqlError, type Warehouse, type WarehouseSession } from './index.ts';
import { checkScramPassword, verifyScramClientProof, hmacSha256, sha256 } from './users.ts';
import { MemoryObjectStore, openTestWarehouse } from './test-support.ts';

function sqlError(sqlstate: string, check?: (e: SqlError) => void): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof SqlError, `expected SqlError, got ${String(e)}`);
    assert.equal(e.sqlstate, sqlstate, e.message);
    check?.(e);
    return true;
  };
}

describe('sessions', () => {
  let warehouse: Warehouse;
  let session: WarehouseSession;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ warehouse, cleanup } = await openTestWarehouse({ statementTimeoutMs: 1500 }));
    session = await warehouse.openSession('awsuser');
    await session.execute(
      'CREATE TABLE public.t (id INTEGER, name VARCHAR(10), price NUMERIC(8,2), seen_at TIMESTAMP)',
    );
  });
  after(async () => cleanup());

  test('a script returns one result per statement with PostgreSQL command tags', async () => {
    const results = await session.execute(`
      INSERT INTO public.t VALUES (1, 'a', 1.5, '2024-01-01 00:00:00'), (2, 'b', 2.25, '2024-01-01 10:11:12.5');
      UPDATE public.t SET name = 'c' WHERE id = 2;
      SELECT id, name, price, seen_at FROM public.t ORDER BY id;
      DELETE FROM public.t WHERE id = 1;
      SET search_path TO public;
      -- only a comment here
    `);
    assert.deepEqual(
      results.map((r) => [r.command, r.rowCount]),
      [
        ['INSERT', 2],
        ['UPDATE', 1],
        ['SELECT', 2],
        ['DELETE', 1],
        ['SET', 0],
      ],
    );
    const select = results[2];
    assert.deepEqual(select?.columns, [
      { name: 'id', type: 'integer' },
      { name: 'name', type: 'character varying(10)' },
      { name: 'price', type: 'numeric(8,2)' },
      { name: 'seen_at', type: 'timestamp without time zone' },
    ]);
    assert.deepEqual(select?.rows, [
      [1, 'a', '1.50', '2024-01-01 00:00:00'],
      [2, 'c', '2.25', '2024-01-01 10:11:12.5'],
    ]);
  });

  test('an error in statement 2 stops statement 3 and carries the results of statement 1', async () => {
    const script = 'SELECT 1 AS one; SELECT nosuch FROM public.t; INSERT INTO public.t (id) VALUES (99)';
    await assert.rejects(
      session.execute(script),
      sqlError('42703', (e) => {
        assert.equal(e.options.statementIndex, 1);
        assert.deepEqual(
          e.options.results?.map((r) => r.rows),
          [[[1]]],
        );
        assert.equal(e.options.position, script.indexOf('nosuch') + 1);
        assert.equal(e.message, 'column "nosuch" does not exist');
      }),
    );
    assert.deepEqual((await session.execute('SELECT count(*) FROM public.t WHERE id = 99'))[0]?.rows, [[0]]);
  });

  test('missing tables, schemas, syntax and types map to real SQLSTATEs', async () => {
    await assert.rejects(
      session.execute('SELECT * FROM public.nosuch'),
      sqlError('42P01', (e) => assert.equal(e.options.position, 15)),
    );
    await assert.rejects(session.execute('SELECT * FROM nope.t'), sqlError('3F000'));
    await assert.rejects(
      session.execute('SELEC 1'),
      sqlError('42601', (e) => assert.equal(e.options.position, 1)),
    );
    await assert.rejects(session.execute("SELECT 'abc'::integer"), sqlError('22P02'));
    await assert.rejects(session.execute('CREATE TABLE public.t (a INT)'), sqlError('42P07'));
    await assert.rejects(session.execute('CREATE SCHEMA public'), sqlError('42P06'));
    await assert.rejects(
      session.execute('CREATE TABLE public.nn (a INT NOT NULL); INSERT INTO public.nn VALUES (NULL)'),
      sqlError('23502'),
    );
    await assert.rejects(session.execute('DROP TABLE public.nosuch'), sqlError('42P01'));
    await assert.rejects(session.execute('DROP SCHEMA _sluice CASCADE'), sqlError('42501'));
    await assert.rejects(
      session.execute("COPY public.t FROM 's3://b/x' FORMAT AS AVRO 'auto'"),
      sqlError('0A000', (e) => assert.match(e.message, /AVRO/)),
    );
  });

  test('the statement timeout cancels a long query with 57014', async () => {
    const started = Date.now();
    await assert.rejects(
      session.execute(
        'SELECT count(*) FROM range(100000000) a, range(100000) b WHERE a.range + b.range = -1',
      ),
      sqlError('57014', (e) => assert.equal(e.message, 'canceling statement due to statement timeout')),
    );
    assert.ok(Date.now() - started < 10_000);
    assert.deepEqual((await session.execute('SELECT 1'))[0]?.rows, [[1]]);
  });

  test('cancel() and an aborted signal cancel the running statement', async () => {
    const controller = new AbortController();
    const running = session.execute(
      'SELECT count(*) FROM range(100000000) a, range(100000) b WHERE a.range + b.range = -1',
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(
      running,
      sqlError('57014', (e) => assert.equal(e.message, 'canceling statement due to user request')),
    );
    const again = session.execute(
      'SET statement_timeout TO 0; SELECT count(*) FROM range(100000000) a, range(100000) b WHERE a.range + b.range = -1',
    );
    setTimeout(() => session.cancel(), 100);
    await assert.rejects(again, sqlError('57014'));
    await session.execute('RESET statement_timeout');
  });

  test('BEGIN, COMMIT and ROLLBACK are per session; a failed transaction ignores commands until it ends', async () => {
    const other = await warehouse.openSession('awsuser');
    await session.execute('BEGIN; INSERT INTO public.t (id) VALUES (100)');
    assert.equal(session.transactionStatus, 'open');
    assert.deepEqual((await other.execute('SELECT count(*) FROM public.t WHERE id = 100'))[0]?.rows, [[0]]);
    await session.execute('COMMIT');
    assert.equal(session.transactionStatus, 'idle');
    assert.deepEqual((await other.execute('SELECT count(*) FROM public.t WHERE id = 100'))[0]?.rows, [[1]]);

    await session.execute('BEGIN; INSERT INTO public.t (id) VALUES (101)');
    await assert.rejects(session.execute('SELECT * FROM public.nosuch'), sqlError('42P01'));
    assert.equal(session.transactionStatus, 'failed');
    await assert.rejects(session.execute('SELECT 1'), sqlError('25P02'));
    const [end] = await session.execute('COMMIT');
    assert.equal(end?.command, 'ROLLBACK');
    assert.deepEqual((await other.execute('SELECT count(*) FROM public.t WHERE id = 101'))[0]?.rows, [[0]]);
    await other.close();
  });

  test('SET search_path is per session', async () => {
    const other = await warehouse.openSession('awsuser');
    await session.execute(
      'CREATE SCHEMA sp; CREATE TABLE sp.only_here (x INT); SET search_path TO sp, public',
    );
    assert.deepEqual((await session.execute('SELECT count(*) FROM only_here'))[0]?.rows, [[0]]);
    await assert.rejects(other.execute('SELECT count(*) FROM only_here'), sqlError('42P01'));
    assert.deepEqual((await session.execute('SHOW search_path'))[0]?.rows, [['sp, public']]);
    await session.execute('SET search_path TO DEFAULT');
    await other.close();
  });

  test('GETDATE() and SYSDATE are UTC timestamps named like Redshift names them', async () => {
    const [r] = await session.execute('SELECT GETDATE(), SYSDATE');
    assert.deepEqual(r?.columns, [
      { name: 'getdate', type: 'timestamp without time zone' },
      { name: 'sysdate', type: 'timestamp without time zone' },
    ]);
    const getdate = Date.parse(`${String(r?.rows[0]?.[0]).replace(' ', 'T')}Z`);
    assert.ok(Math.abs(getdate - Date.now()) < 5000, 'GETDATE() is now, in UTC');
  });

  test('host files are out of reach of SQL', async () => {
    await assert.rejects(session.execute("SELECT * FROM read_csv('/etc/passwd')"), sqlError('42501'));
  });
});

describe('users', () => {
  let warehouse: Warehouse;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ warehouse, cleanup } = await openTestWarehouse());
  });
  after(async () => cleanup());

  test('authenticate accepts the right password and refuses a wrong one or an unknown user', async () => {
    assert.equal(await warehouse.authenticate('awsuser', 'secret'), true);
    assert.equal(await warehouse.authenticate('awsuser', 'Secret'), false);
    assert.equal(await warehouse.authenticate('nobody', 'secret'), false);
    await warehouse.ensureUser('awsuser', 'new password');
    assert.equal(await warehouse.authenticate('awsuser', 'secret'), false);
    assert.equal(await warehouse.authenticate('awsuser', 'new password'), true);
  });

  test('only SCRAM-SHA-256 verifiers are stored, and they verify a SCRAM client proof', async () => {
    await warehouse.ensureUser('loader', 'p@ss', { superuser: false });
    const session = await warehouse.openSession('awsuser');
    const [stored] = await session.execute("SELECT * FROM _sluice.users WHERE usename = 'loader'");
    assert.ok(!JSON.stringify(stored?.rows).includes('p@ss'));
    const v = await warehouse.getScramVerifier('loader');
    assert.ok(v);
    assert.equal(v.iterations, 4096);
    assert.equal(await checkScramPassword(v, 'p@ss'), true);
    // A client that knows the password computes the proof (RFC 5802 section 3).
    const { pbkdf2Sync } = await import('node:crypto');
    const salted = pbkdf2Sync('p@ss', v.salt, v.iterations, 32, 'sha256');
    const clientKey = hmacSha256(salted, 'Client Key');
    const authMessage = 'n=,r=abc,r=abcdef,s=xyz,i=4096,c=biws,r=abcdef';
    const signature = hmacSha256(sha256(clientKey), authMessage);
    const proof = Buffer.from(clientKey.map((b, i) => b ^ (signature[i] as number)));
    assert.equal(verifyScramClientProof(v, authMessage, proof), true);
    assert.equal(verifyScramClientProof(v, `${authMessage}x`, proof), false);
    assert.equal(await warehouse.getScramVerifier('nobody'), undefined);
    await session.close();
  });

  test('a session for an unknown user is refused', async () => {
    await assert.rejects(warehouse.openSession('nobody'), sqlError('28000'));
  });
});

describe("delivery loads with DuckDB's JSON reader", () => {
  test('a clean batch loads natively and a batch with a bad record falls back and rejects only it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-wh-native-'));
    const store = new MemoryObjectStore();
    try {
      const wh = await createDuckDbWarehouse({ dir, objectStore: store, threads: 1 });
      await wh.ensureUser('awsuser', 'pw', { superuser: true });
      const s = await wh.openSession('awsuser');
      await s.execute(
        "CREATE SCHEMA sensor; CREATE TABLE sensor.message (id BIGINT IDENTITY(1,1), guid VARCHAR(36) NOT NULL, ts BIGINT NOT NULL DISTKEY SORTKEY, temp NUMERIC(5,2) NOT NULL, created TIMESTAMP DEFAULT ('now'::text)::timestamp with time zone)",
      );
      const reading = (i: number, extra = {}): string =>
        JSON.stringify({ guid: `g-${i}`, ts: 1_700_000_000 + i, temp: 65.25 + (i % 10), ...extra });
      const clean = Array.from({ length: 1000 }, (_, i) => reading(i)).join('');
      await store.put('s3://b/clean.gz', gzipSync(clean));
      await store.put(
        's3://b/m1',
        JSON.stringify({ entries: [{ url: 's3://b/clean.gz', mandatory: true }] }),
      );
      const first = await wh.loadBatch({
        ledger: { stream: 's', destinationId: 'd', firstOffset: 0, lastOffset: 999 },
        copy: "COPY sensor.message (guid, ts, temp) FROM 's3://b/m1' MANIFEST JSON 'auto' GZIP",
        user: 'awsuser',
        rejectBadRecords: true,
      });
      assert.equal(first.reader, 'native');
      assert.equal(first.rowsLoaded, 1000);

      const dirty = [reading(1000), reading(1001, { temp: 'abc' }), '{"guid": broken', reading(1002)].join(
        '',
      );
      await store.put('s3://b/dirty.gz', gzipSync(dirty));
      await store.put(
        's3://b/m2',
        JSON.stringify({ entries: [{ url: 's3://b/dirty.gz', mandatory: true }] }),
      );
      const second = await wh.loadBatch({
        ledger: { stream: 's', destinationId: 'd', firstOffset: 1000, lastOffset: 1003 },
        copy: "COPY sensor.message (guid, ts, temp) FROM 's3://b/m2' MANIFEST JSON 'auto' GZIP",
        user: 'awsuser',
        rejectBadRecords: true,
      });
      assert.equal(second.reader, 'records');
      assert.equal(second.rowsLoaded, 2);
      assert.equal(second.rejected.length, 2);

      const [r] = await s.execute(
        "SELECT count(*), count(DISTINCT id), min(id), max(id), sum(temp), count(created) FROM sensor.message WHERE guid LIKE 'g-%'",
      );
      const expectedSum =
        Array.from({ length: 1000 }, (_, i) => 65.25 + (i % 10)).reduce((a, b) => a + b, 0) + 65.25 + 67.25;
      assert.deepEqual(r?.rows[0], [1002, 1002, 1, 1002, expectedSum.toFixed(2), 1002]);
      await wh.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the database file', () => {
  test('data, users and the ledger survive close and reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-wh-reopen-'));
    const store = new MemoryObjectStore();
    try {
      const first = await createDuckDbWarehouse({ dir, objectStore: store, threads: 1 });
      await first.ensureUser('awsuser', 'pw', { superuser: true });
      const s = await first.openSession('awsuser');
      await s.execute(
        "CREATE SCHEMA sensor; CREATE TABLE sensor.m (id BIGINT IDENTITY(1,1), guid VARCHAR(36)); INSERT INTO sensor.m (guid) VALUES ('a'), ('b')",
      );
      await store.put('s3://b/p/1.json', '{"guid":"c"}');
      await first.loadBatch({
        ledger: { stream: 's', destinationId: 'd', firstOffset: 0, lastOffset: 41 },
        copy: "COPY sensor.m (guid) FROM 's3://b/p/' JSON 'auto'",
        user: 'awsuser',
        rejectBadRecords: true,
      });
      await first.close();

      const second = await createDuckDbWarehouse({ dir, objectStore: store, threads: 1 });
      assert.equal(await second.authenticate('awsuser', 'pw'), true);
      assert.equal(await second.loadedThrough('s', 'd'), 41);
      const s2 = await second.openSession('awsuser');
      await s2.execute("INSERT INTO sensor.m (guid) VALUES ('d')");
      const [r] = await s2.execute('SELECT id, guid FROM sensor.m ORDER BY id');
      assert.deepEqual(r?.rows, [
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
        [4, 'd'],
      ]);
      assert.deepEqual(r?.columns[1], { name: 'guid', type: 'character varying(36)' });
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
