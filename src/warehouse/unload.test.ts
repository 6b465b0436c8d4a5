import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { SqlError, type WarehouseSession } from './index.ts';
import { openTestWarehouse, type MemoryObjectStore } from './test-support.ts';

async function rows(session: WarehouseSession, sql: string): Promise<readonly (readonly unknown[])[]> {
  return (await session.execute(sql)).at(-1)?.rows ?? [];
}

describe('UNLOAD', () => {
  let store: MemoryObjectStore;
  let session: WarehouseSession;
  let cleanup: () => Promise<void>;
  before(async () => {
    const opened = await openTestWarehouse();
    ({ store, cleanup } = opened);
    session = await opened.warehouse.openSession('awsuser');
    await store.createBucket('lake');
    await session.execute(
      "CREATE TABLE public.readings (guid VARCHAR(36), ts BIGINT, temp NUMERIC(5,2), note VARCHAR(20)); INSERT INTO public.readings VALUES ('s1', 1609459200, 70.25, 'it''s'), ('s2', 1609459260, 65.50, NULL), ('s3', 1609459320, 80.00, 'a,b')",
    );
  });
  after(async () => cleanup());

  test('the default writes pipe-delimited text to <prefix>0000_part_00, which COPY reads back', async () => {
    const [result] = await session.execute(
      "UNLOAD ('select guid, ts, temp, note from public.readings where guid <> \\'s3\\' order by ts') TO 's3://lake/unload/readings_' IAM_ROLE 'arn:aws:iam::123456789012:role/r'",
    );
    assert.equal(result?.command, 'UNLOAD');
    assert.equal(result?.rowCount, 2);
    const body = (await store.getObject('lake', 'unload/readings_0000_part_00')).toString('utf8');
    assert.equal(body, "s1|1609459200|70.25|it's\ns2|1609459260|65.50|\n");
    await session.execute('CREATE TABLE public.back (LIKE public.readings)');
    await session.execute("COPY public.back FROM 's3://lake/unload/readings_' IAM_ROLE default EMPTYASNULL");
    assert.deepEqual(await rows(session, 'SELECT guid, ts, temp, note FROM public.back ORDER BY ts'), [
      ['s1', 1609459200, '70.25', "it's"],
      ['s2', 1609459260, '65.50', null],
    ]);
  });

  test('CSV with HEADER, GZIP and MANIFEST writes .gz files and a manifest COPY can load', async () => {
    await session.execute(
      "UNLOAD ('SELECT guid, NVL(note, ''none'') AS note, DATEADD(day, 1, TIMESTAMP ''epoch'' + ts * INTERVAL ''1 second'') AS next FROM public.readings ORDER BY guid') TO 's3://lake/csv/r_' CREDENTIALS 'aws_iam_role=arn:aws:iam::1:role/r' FORMAT AS CSV HEADER GZIP MANIFEST VERBOSE",
    );
    const text = gunzipSync(await store.getObject('lake', 'csv/r_0000_part_00.gz')).toString('utf8');
    assert.equal(
      text,
      'guid,note,next\ns1,it\'s,2021-01-02 00:00:00\ns2,none,2021-01-02 00:01:00\ns3,"a,b",2021-01-02 00:02:00\n',
    );
    const manifest = JSON.parse((await store.getObject('lake', 'csv/r_manifest')).toString('utf8')) as {
      entries: { url: string; meta: { content_length: number } }[];
      schema: { elements: { name: string }[] };
      meta: { record_count: number };
    };
    assert.equal(manifest.entries.length, 1);
    assert.equal(manifest.entries[0]?.url, 's3://lake/csv/r_0000_part_00.gz');
    assert.deepEqual(
      manifest.schema.elements.map((e) => e.name),
      ['guid', 'note', 'next'],
    );
    assert.equal(manifest.meta.record_count, 3);
    await session.execute('CREATE TABLE public.csvback (guid VARCHAR(36), note VARCHAR(20), next TIMESTAMP)');
    await session.execute(
      "COPY public.csvback FROM 's3://lake/csv/r_manifest' IAM_ROLE default MANIFEST CSV GZIP IGNOREHEADER 1 TIMEFORMAT 'auto'",
    );
    assert.deepEqual(await rows(session, 'SELECT guid, note, next FROM public.csvback ORDER BY guid'), [
      ['s1', "it's", '2021-01-02 00:00:00'],
      ['s2', 'none', '2021-01-02 00:01:00'],
      ['s3', 'a,b', '2021-01-02 00:02:00'],
    ]);
  });

  test('PARQUET with PARALLEL OFF writes <prefix>000.parquet holding the rows, which COPY FORMAT AS PARQUET reads back', async () => {
    await session.execute(
      "UNLOAD ('select guid, temp from public.readings') TO 's3://lake/pq/r_' IAM_ROLE default FORMAT PARQUET PARALLEL OFF",
    );
    const body = await store.getObject('lake', 'pq/r_000.parquet');
    assert.equal(body.subarray(0, 4).toString('latin1'), 'PAR1');
    const dir = await mkdtemp(join(tmpdir(), 'sluice-unload-'));
    try {
      const file = join(dir, 'r.parquet');
      await writeFile(file, body);
      const db = await DuckDBInstance.create(':memory:');
      const conn = await db.connect();
      const read = await conn.runAndReadAll(
        `SELECT guid, CAST(temp AS VARCHAR) FROM read_parquet('${file}') ORDER BY guid`,
      );
      assert.deepEqual(read.getRows(), [
        ['s1', '70.25'],
        ['s2', '65.50'],
        ['s3', '80.00'],
      ]);
      conn.disconnectSync();
      db.closeSync();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await session.execute('CREATE TABLE public.pqback (who VARCHAR(36), reading NUMERIC(5,2))');
    const [copied] = await session.execute(
      "COPY public.pqback FROM 's3://lake/pq/r_' IAM_ROLE default FORMAT AS PARQUET",
    );
    assert.equal(copied?.rowCount, 3);
    assert.deepEqual(await rows(session, 'SELECT who, reading FROM public.pqback ORDER BY who'), [
      ['s1', '70.25'],
      ['s2', '65.50'],
      ['s3', '80.00'],
    ]);
    await assert.rejects(
      session.execute("COPY public.pqback (who) FROM 's3://lake/pq/r_' IAM_ROLE default FORMAT AS PARQUET"),
      (e: unknown) => e instanceof SqlError && /map by position/.test(e.message),
    );
  });

  test('an UNLOAD over existing files fails unless ALLOWOVERWRITE; DELIMITER and NULL AS apply', async () => {
    const sql =
      "UNLOAD ('select guid, note from public.readings order by guid') TO 's3://lake/ow/r_' IAM_ROLE default DELIMITER AS '\\t' NULL AS '\\N' PARALLEL OFF";
    await session.execute(sql);
    await assert.rejects(
      session.execute(sql),
      (e: unknown) => e instanceof SqlError && /ALLOWOVERWRITE/.test(e.message),
    );
    await session.execute(`${sql} ALLOWOVERWRITE`);
    assert.equal(
      (await store.getObject('lake', 'ow/r_000')).toString('utf8'),
      "s1\tit's\ns2\t\\N\ns3\ta,b\n",
    );
  });

  test('FORMAT JSON writes one object per line, which COPY JSON auto reads back', async () => {
    await session.execute(
      "UNLOAD ('select guid, ts from public.readings order by guid') TO 's3://lake/json/r_' IAM_ROLE default FORMAT JSON GZIP",
    );
    const text = gunzipSync(await store.getObject('lake', 'json/r_0000_part_00.gz')).toString('utf8');
    assert.deepEqual(
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
      [
        { guid: 's1', ts: 1609459200 },
        { guid: 's2', ts: 1609459260 },
        { guid: 's3', ts: 1609459320 },
      ],
    );
    await session.execute('CREATE TABLE public.jsonback (guid VARCHAR(36), ts BIGINT)');
    await session.execute("COPY public.jsonback FROM 's3://lake/json/r_' IAM_ROLE default JSON 'auto' GZIP");
    assert.deepEqual(await rows(session, 'SELECT count(*), max(ts) FROM public.jsonback'), [[3, 1609459320]]);
  });

  test('UNLOAD of a statement that is not a query, or with an unsupported option, fails clearly', async () => {
    await assert.rejects(
      session.execute("UNLOAD ('delete from public.readings') TO 's3://lake/x/' IAM_ROLE default"),
      (e: unknown) => e instanceof SqlError && e.sqlstate === '42601',
    );
    await assert.rejects(
      session.execute("UNLOAD ('select 1') TO 's3://lake/x/' IAM_ROLE default ENCRYPTED"),
      (e: unknown) => e instanceof SqlError && e.sqlstate === '0A000' && /ENCRYPTED/.test(e.message),
    );
    assert.deepEqual(await rows(session, 'SELECT count(*) FROM public.readings'), [[3]]);
  });
});
