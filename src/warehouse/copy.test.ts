import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { SqlError, type Warehouse, type WarehouseSession } from './index.ts';
import { openTestWarehouse, type MemoryObjectStore } from './test-support.ts';

const SEED = new URL('../../seed-data/', import.meta.url);
const BUCKET = 's3://redshift-stack-databucket';

const STAR_SCHEMA = `
CREATE SCHEMA IF NOT EXISTS sensor;
CREATE TABLE IF NOT EXISTS sensor.message (id BIGINT IDENTITY(1,1), guid VARCHAR(36) NOT NULL, ts BIGINT NOT NULL DISTKEY SORTKEY, temp NUMERIC(5,2) NOT NULL, created TIMESTAMP DEFAULT ('now'::text)::timestamp with time zone);
CREATE TABLE IF NOT EXISTS sensor.location (id INTEGER, long NUMERIC(10,7), lat NUMERIC(10,7), description VARCHAR(256));
CREATE TABLE IF NOT EXISTS sensor.history (id INTEGER, serviced BIGINT, action VARCHAR(20), technician_id INTEGER, notes VARCHAR(256));
CREATE TABLE IF NOT EXISTS sensor.sensor (id INTEGER, guid VARCHAR(36), mac VARCHAR(18), sku VARCHAR(18), upc VARCHAR(12), active BOOLEAN DEFAULT TRUE, notes VARCHAR(256));
CREATE TABLE IF NOT EXISTS sensor.manufacturer (id INTEGER, name VARCHAR(100), website VARCHAR(100), notes VARCHAR(256));
CREATE TABLE IF NOT EXISTS sensor.sensors (id BIGINT IDENTITY(1,1), sensor_id INTEGER, manufacturer_id INTEGER, location_id INTEGER, history_id INTEGER, message_guid VARCHAR(36));
`;

const SEED_COPIES: Record<string, string> = {
  sensors: 'sensor_id, manufacturer_id, location_id, history_id, message_guid',
  sensor: 'id, guid, mac, sku, upc, active, notes',
  location: 'id, long, lat, description',
  history: 'id, serviced, action, technician_id, notes',
  manufacturer: 'id, name, website, notes',
};

/** Data lines of a seed file: lines after the header, ignoring a BOM and blank lines. */
function dataLines(text: string): number {
  return (
    text
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/)
      .filter((l) => l.trim() !== '').length - 1
  );
}

async function rows(session: WarehouseSession, sql: string): Promise<readonly (readonly unknown[])[]> {
  return (await session.execute(sql)).at(-1)?.rows ?? [];
}

describe('COPY', () => {
  let warehouse: Warehouse;
  let store: MemoryObjectStore;
  let session: WarehouseSession;
  let cleanup: () => Promise<void>;
  before(async () => {
    const opened = await openTestWarehouse();
    ({ warehouse, store, cleanup } = opened);
    session = await warehouse.openSession('awsuser');
    await session.execute(STAR_SCHEMA);
  });
  after(async () => cleanup());

  test('the scenario seed CSV files load with their quirks: BOM, CRLF, a duplicate id, no final newline, booleans as 1', async () => {
    const expected: Record<string, number> = {};
    for (const table of Object.keys(SEED_COPIES)) {
      const body = await readFile(new URL(`${table}.csv`, SEED));
      expected[table] = dataLines(body.toString('utf8'));
      await store.put(`${BUCKET}/${table}/${table}.csv`, body);
    }
    for (const [table, cols] of Object.entries(SEED_COPIES)) {
      const [result] = await session.execute(
        `COPY sensor.${table} (${cols}) FROM '${BUCKET}/${table}/' CREDENTIALS 'aws_iam_role=arn:aws:iam::123456789012:role/x' CSV IGNOREHEADER 1;`,
      );
      assert.deepEqual([result?.command, result?.rowCount], ['COPY', expected[table]], table);
      assert.deepEqual(
        await rows(session, `SELECT count(*) FROM sensor.${table}`),
        [[expected[table]]],
        table,
      );
    }
    assert.deepEqual(await rows(session, 'SELECT count(*), count(DISTINCT id) FROM sensor.history'), [
      [30, 29],
    ]);
    assert.deepEqual(await rows(session, 'SELECT bool_and(active), count(*) FROM sensor.sensor'), [
      [true, 6],
    ]);
    assert.deepEqual(
      await rows(session, 'SELECT min(id), max(id), count(DISTINCT message_guid) FROM sensor.sensors'),
      [[1, 30, 6]],
    );
    assert.deepEqual(await rows(session, 'SELECT name FROM sensor.manufacturer'), [
      ['National Control Devices, LLC'],
    ]);
    assert.deepEqual(await rows(session, 'SELECT long, lat FROM sensor.location WHERE id = 1'), [
      ['-122.4191599', '37.7068476'],
    ]);
    assert.deepEqual(await rows(session, 'SELECT notes FROM sensor.history WHERE id = 1'), [['']]);
  });

  test("JSON 'auto' GZIP loads concatenated objects; id counts 1, 2, 3 and created is the load time", async () => {
    await session.execute('TRUNCATE sensor.message');
    const body =
      '{"guid":"g1","ts":1700000000,"temp":71.53}{"guid":"g2","ts":1700000001,"temp":71.5}\n {"guid":"g3","ts":1700000002,"temp":"65"}';
    await store.put('s3://json-bucket/message/2024/01/01/00/part-1.gz', gzipSync(body));
    const before = Date.now();
    const [result] = await session.execute(
      "COPY sensor.message (guid, ts, temp) FROM 's3://json-bucket/message/' IAM_ROLE default JSON 'auto' GZIP",
    );
    assert.equal(result?.rowCount, 3);
    const got = await rows(
      session,
      "SELECT id, guid, ts, temp, created FROM sensor.message WHERE guid LIKE 'g%' ORDER BY id",
    );
    assert.deepEqual(
      got.map((r) => r.slice(0, 4)),
      [
        [1, 'g1', 1700000000, '71.53'],
        [2, 'g2', 1700000001, '71.50'],
        [3, 'g3', 1700000002, '65.00'],
      ],
    );
    const created = Date.parse(`${String(got[0]?.[4]).replace(' ', 'T')}Z`);
    assert.ok(Math.abs(created - before) < 60_000, `created ${String(got[0]?.[4])} is the load time`);
  });

  test('a delivery batch rejects a bad JSON object and a 40-character guid, loads the rest, and loads only once', async () => {
    const guid40 = 'x'.repeat(40);
    const body = `{"guid":"ok-1","ts":1,"temp":1.5}{"guid": "broken", "ts": }{"guid":"${guid40}","ts":2,"temp":2}{"guid":"ok-2","ts":3,"temp":3}`;
    await store.put('s3://deliveries/message/2024/01/01/00/stream-1-a.gz', gzipSync(body));
    await store.put(
      's3://deliveries/message/manifests/2024/01/01/00/stream-a',
      JSON.stringify({
        entries: [{ url: 's3://deliveries/message/2024/01/01/00/stream-1-a.gz', mandatory: true }],
      }),
    );
    const errorsBefore = Number((await rows(session, 'SELECT count(*) FROM stl_load_errors'))[0]?.[0]);
    let seenBeforeCommit: readonly unknown[] = [];
    const load = {
      ledger: {
        stream: 'redshift-delivery-stream',
        destinationId: 'destinationId-000000000001',
        firstOffset: 0,
        lastOffset: 3,
      },
      copy: "COPY sensor.message (guid, ts, temp) FROM 's3://deliveries/message/manifests/2024/01/01/00/stream-a' CREDENTIALS 'aws_iam_role=arn:aws:iam::1:role/r' MANIFEST JSON 'auto' GZIP;",
      user: 'awsuser',
      rejectBadRecords: true,
      beforeCommit: async (rejected: readonly unknown[]) => {
        seenBeforeCommit = rejected;
      },
    };
    const first = await warehouse.loadBatch(load);
    assert.equal(first.alreadyLoaded, false);
    assert.equal(first.rowsLoaded, 2);
    assert.equal(first.rejected.length, 2);
    assert.equal(seenBeforeCommit.length, 2);
    assert.deepEqual(
      first.rejected.map((r) => [r.errCode, r.column, r.lineNumber, r.file]),
      [
        [1216, undefined, 2, 's3://deliveries/message/2024/01/01/00/stream-1-a.gz'],
        [1204, 'guid', 3, 's3://deliveries/message/2024/01/01/00/stream-1-a.gz'],
      ],
    );
    assert.equal(first.rejected[1]?.raw, `{"guid":"${guid40}","ts":2,"temp":2}`);
    assert.deepEqual(
      await rows(session, "SELECT guid FROM sensor.message WHERE guid LIKE 'ok-%' ORDER BY guid"),
      [['ok-1'], ['ok-2']],
    );
    const errs = await rows(
      session,
      `SELECT err_code, trim(colname), err_reason FROM stl_load_errors ORDER BY query, line_number OFFSET ${errorsBefore}`,
    );
    assert.deepEqual(
      errs.map((r) => r.slice(0, 2)),
      [
        [1216, ''],
        [1204, 'guid'],
      ],
    );
    assert.equal(errs[1]?.[2], 'String length exceeds DDL length');

    const again = await warehouse.loadBatch(load);
    assert.deepEqual(again, { alreadyLoaded: true, rowsLoaded: 0, rejected: [] });
    assert.deepEqual(await rows(session, "SELECT count(*) FROM sensor.message WHERE guid LIKE 'ok-%'"), [
      [2],
    ]);
    assert.deepEqual(await rows(session, 'SELECT count(*) FROM stl_load_errors'), [[errorsBefore + 2]]);
    assert.equal(await warehouse.loadedThrough('redshift-delivery-stream', 'destinationId-000000000001'), 3);
    assert.equal(await warehouse.loadedThrough('redshift-delivery-stream', 'destinationId-000000000002'), -1);
  });

  test('a delivery batch whose beforeCommit throws commits nothing, and can be loaded again', async () => {
    await store.put('s3://deliveries/retry/part.json', '{"guid":"retry-1","ts":1,"temp":1}');
    const load = {
      ledger: { stream: 'retry-stream', destinationId: 'd', firstOffset: 10, lastOffset: 10 },
      copy: "COPY sensor.message (guid, ts, temp) FROM 's3://deliveries/retry/' JSON 'auto'",
      user: 'awsuser',
      rejectBadRecords: true,
    };
    await assert.rejects(
      warehouse.loadBatch({
        ...load,
        beforeCommit: async () => {
          throw new Error('error output is unavailable');
        },
      }),
      /error output is unavailable/,
    );
    assert.equal(await warehouse.loadedThrough('retry-stream', 'd'), -1);
    assert.deepEqual(await rows(session, "SELECT count(*) FROM sensor.message WHERE guid = 'retry-1'"), [
      [0],
    ]);
    const ok = await warehouse.loadBatch(load);
    assert.equal(ok.rowsLoaded, 1);
    assert.equal(await warehouse.loadedThrough('retry-stream', 'd'), 10);
  });

  test('a user COPY with a bad row fails as a whole under MAXERROR 0 but records the error; MAXERROR 10 loads the good rows', async () => {
    await session.execute(
      'CREATE TABLE public.readings (id INTEGER NOT NULL, label VARCHAR(5), reading NUMERIC(4,1))',
    );
    await store.put(
      's3://user-bucket/readings/part-0.csv',
      'id,label,reading\n1,one,1.25\nnot-a-number,two,2\n3,three,3.99\n',
    );
    const before = Number((await rows(session, 'SELECT count(*) FROM stl_load_errors'))[0]?.[0]);
    await assert.rejects(
      session.execute("COPY public.readings FROM 's3://user-bucket/readings/' CSV IGNOREHEADER 1"),
      (e: unknown) => {
        assert.ok(e instanceof SqlError);
        assert.equal(e.sqlstate, 'XX000');
        assert.equal(
          e.message,
          "Load into table 'readings' failed. Check 'stl_load_errors' system table for details.",
        );
        return true;
      },
    );
    assert.deepEqual(await rows(session, 'SELECT count(*) FROM public.readings'), [[0]]);
    const recorded = await rows(
      session,
      `SELECT line_number, trim(colname), err_code, trim(raw_line), trim(raw_field_value) FROM stl_load_errors ORDER BY query, line_number OFFSET ${before}`,
    );
    assert.deepEqual(recorded, [[3, 'id', 1207, 'not-a-number,two,2', 'not-a-number']]);
    const [result] = await session.execute(
      "COPY public.readings FROM 's3://user-bucket/readings/' CSV IGNOREHEADER 1 MAXERROR 10",
    );
    assert.equal(result?.rowCount, 2);
    // COPY truncates extra decimal places (1.25 -> 1.2) unless ROUNDEC.
    assert.deepEqual(await rows(session, 'SELECT id, label, reading FROM public.readings ORDER BY id'), [
      [1, 'one', '1.2'],
      [3, 'three', '3.9'],
    ]);
    await session.execute('TRUNCATE public.readings');
    await session.execute(
      "COPY public.readings FROM 's3://user-bucket/readings/' CSV IGNOREHEADER 1 MAXERROR 10 ROUNDEC",
    );
    assert.deepEqual(await rows(session, 'SELECT reading FROM public.readings ORDER BY id'), [
      ['1.3'],
      ['4.0'],
    ]);
  });

  test('VARCHAR(n) counts bytes and rejects a longer value with error 1204; TRUNCATECOLUMNS cuts it', async () => {
    await store.put('s3://user-bucket/labels/a.csv', '1,abcde,1\n2,abcdef,2\n3,ééé,3\n');
    await assert.rejects(
      session.execute("COPY public.readings FROM 's3://user-bucket/labels/' CSV MAXERROR 2"),
      /Load into table 'readings' failed/,
    );
    const errs = await rows(
      session,
      "SELECT err_code, trim(err_reason) FROM stl_load_errors WHERE filename = 's3://user-bucket/labels/a.csv' ORDER BY line_number",
    );
    assert.deepEqual(errs, [
      [1204, 'String length exceeds DDL length'],
      [1204, 'String length exceeds DDL length'],
    ]);
    await session.execute('TRUNCATE public.readings');
    await session.execute("COPY public.readings FROM 's3://user-bucket/labels/' CSV TRUNCATECOLUMNS");
    assert.deepEqual(await rows(session, 'SELECT label FROM public.readings ORDER BY id'), [
      ['abcde'],
      ['abcde'],
      ['éé'],
    ]);
  });

  test("a prefix is a string prefix, not a folder: 's3://b/sensor' reads sensor/ and sensors/", async () => {
    await session.execute('CREATE TABLE public.words (w VARCHAR(20))');
    await store.put('s3://prefix-bucket/sensor/a.txt', 'from-sensor\n');
    await store.put('s3://prefix-bucket/sensors/b.txt', 'from-sensors\n');
    await store.put('s3://prefix-bucket/other/c.txt', 'from-other\n');
    const [result] = await session.execute("COPY public.words FROM 's3://prefix-bucket/sensor'");
    assert.equal(result?.rowCount, 2);
    assert.deepEqual(await rows(session, 'SELECT w FROM public.words ORDER BY w'), [
      ['from-sensor'],
      ['from-sensors'],
    ]);
    await assert.rejects(
      session.execute("COPY public.words FROM 's3://prefix-bucket/nothing-here'"),
      (e: unknown) => {
        assert.ok(e instanceof SqlError);
        assert.equal(e.sqlstate, 'XX000');
        assert.match(e.message, /The specified S3 prefix 'nothing-here' does not exist/);
        return true;
      },
    );
  });

  test('a manifest loads its entries; a missing mandatory file fails the COPY, a missing optional one is skipped', async () => {
    await store.put('s3://man-bucket/data/1.txt', 'one\n');
    await store.put(
      's3://man-bucket/m1',
      JSON.stringify({
        entries: [
          { url: 's3://man-bucket/data/1.txt', mandatory: true },
          { url: 's3://man-bucket/data/missing.txt' },
        ],
      }),
    );
    await store.put(
      's3://man-bucket/m2',
      JSON.stringify({ entries: [{ url: 's3://man-bucket/data/missing.txt', mandatory: true }] }),
    );
    const [result] = await session.execute("COPY public.words FROM 's3://man-bucket/m1' MANIFEST");
    assert.equal(result?.rowCount, 1);
    await assert.rejects(
      session.execute("COPY public.words FROM 's3://man-bucket/m2' MANIFEST"),
      /mandatory file 's3:\/\/man-bucket\/data\/missing.txt' does not exist/,
    );
    await assert.rejects(
      session.execute("COPY public.words FROM 's3://man-bucket/absent' MANIFEST"),
      /does not exist/,
    );
  });

  test('JSON fields missing from a record take the column default; NOT NULL without data is error 1213', async () => {
    await session.execute(
      "CREATE TABLE public.defaults (id BIGINT IDENTITY(1,1), name VARCHAR(10) NOT NULL, kind VARCHAR(10) DEFAULT 'plain', n INTEGER)",
    );
    await store.put(
      's3://json-bucket/defaults/1.json',
      '{"name":"a","kind":"fancy","n":1}\n{"name":"b"}\n{"kind":"x","n":3}\n{"name":"d","n":null}\n',
    );
    const [result] = await session.execute(
      "COPY public.defaults (name, kind, n) FROM 's3://json-bucket/defaults/' JSON 'auto' MAXERROR 5",
    );
    assert.equal(result?.rowCount, 3);
    assert.deepEqual(await rows(session, 'SELECT name, kind, n FROM public.defaults ORDER BY name'), [
      ['a', 'fancy', 1],
      ['b', 'plain', null],
      ['d', 'plain', null],
    ]);
    assert.deepEqual(
      await rows(
        session,
        "SELECT line_number, trim(colname), err_code FROM stl_load_errors WHERE filename = 's3://json-bucket/defaults/1.json'",
      ),
      [[3, 'name', 1213]],
    );
  });

  test("JSON 'auto' matches keys case-sensitively, 'auto ignorecase' does not", async () => {
    await session.execute('CREATE TABLE public.cased (name VARCHAR(10))');
    await store.put('s3://json-bucket/cased/1.json', '{"Name":"upper"}');
    await session.execute("COPY public.cased FROM 's3://json-bucket/cased/' JSON 'auto'");
    await session.execute("COPY public.cased FROM 's3://json-bucket/cased/' JSON 'auto ignorecase'");
    assert.deepEqual(await rows(session, 'SELECT name FROM public.cased ORDER BY name NULLS FIRST'), [
      [null],
      ['upper'],
    ]);
  });

  test('TIMEFORMAT epochsecs and auto, DATEFORMAT, booleans and floats convert', async () => {
    await session.execute(
      'CREATE TABLE public.mixed (t TIMESTAMP, d DATE, b BOOLEAN, f DOUBLE PRECISION, tz TIMESTAMPTZ)',
    );
    await store.put(
      's3://user-bucket/mixed/1.txt',
      '1700000000|2024-02-29|yes|1.5e3|1700000000.25\n0|2024-01-01|F|-2|0\n',
    );
    await session.execute(
      "COPY public.mixed FROM 's3://user-bucket/mixed/' TIMEFORMAT 'epochsecs' DATEFORMAT 'auto'",
    );
    await store.put(
      's3://user-bucket/mixed2/1.csv',
      '2024-03-01T10:11:12.123456Z,2024/03/02,1,NaN,2024-03-01 12:00:00+02:00\n',
    );
    await session.execute("COPY public.mixed FROM 's3://user-bucket/mixed2/' CSV TIMEFORMAT 'auto'");
    assert.deepEqual(await rows(session, 'SELECT t, d, b, f, tz FROM public.mixed ORDER BY t'), [
      ['1970-01-01 00:00:00', '2024-01-01', false, -2, '1970-01-01 00:00:00+00'],
      ['2023-11-14 22:13:20', '2024-02-29', true, 1500, '2023-11-14 22:13:20.25+00'],
      ['2024-03-01 10:11:12.123456', '2024-03-02', true, 'NaN', '2024-03-01 10:00:00+00'],
    ]);
  });

  test("JSON 's3://.../jsonpaths.json' maps nested fields to the columns in order", async () => {
    await session.execute(
      'CREATE TABLE public.paths (guid VARCHAR(36), ts BIGINT, temp NUMERIC(5,2), tag VARCHAR(10))',
    );
    await store.put(
      's3://user-bucket/paths/jsonpaths.json',
      JSON.stringify({ jsonpaths: ["$['device']['id']", '$.reading.ts', '$.reading["t"]', '$.tags[1]'] }),
    );
    await store.put(
      's3://user-bucket/paths-data/1.json',
      '{"device":{"id":"s1"},"reading":{"ts":1700000000,"t":71.5},"tags":["a","b"]}\n' +
        '{"device":{"id":"s2"},"reading":{"ts":1700000001,"t":null},"tags":[]}\n',
    );
    const [result] = await session.execute(
      "COPY public.paths FROM 's3://user-bucket/paths-data/' IAM_ROLE default FORMAT AS JSON 's3://user-bucket/paths/jsonpaths.json' REGION 'us-east-1'",
    );
    assert.equal(result?.rowCount, 2);
    assert.deepEqual(await rows(session, 'SELECT guid, ts, temp, tag FROM public.paths ORDER BY guid'), [
      ['s1', 1700000000, '71.50', 'b'],
      ['s2', 1700000001, null, null],
    ]);
    await store.put('s3://user-bucket/paths/short.json', JSON.stringify({ jsonpaths: ['$.a'] }));
    await assert.rejects(
      session.execute(
        "COPY public.paths FROM 's3://user-bucket/paths-data/' JSON 's3://user-bucket/paths/short.json'",
      ),
      (e: unknown) => e instanceof SqlError && /Number of jsonpaths/.test(e.message),
    );
  });

  test('TIMEFORMAT epochmillisecs and a template, NULL AS, EMPTYASNULL, BLANKSASNULL, ACCEPTINVCHARS, FORMAT AS CSV', async () => {
    await session.execute(
      'CREATE TABLE public.opts (t TIMESTAMP, a VARCHAR(10), b VARCHAR(10), c VARCHAR(10))',
    );
    await store.put('s3://user-bucket/opts/1.txt', '1700000000123|NA||  \n');
    await session.execute(
      "COPY public.opts FROM 's3://user-bucket/opts/' TIMEFORMAT 'epochmillisecs' NULL AS 'NA' EMPTYASNULL BLANKSASNULL",
    );
    // 0xff is not UTF-8: ACCEPTINVCHARS replaces it.
    await store.put(
      's3://user-bucket/opts2/1.csv',
      Buffer.concat([Buffer.from('2024-02-29 01:02:03,x'), Buffer.from([0xff]), Buffer.from('y,"",b\n')]),
    );
    await session.execute(
      "COPY public.opts FROM 's3://user-bucket/opts2/' FORMAT AS CSV TIMEFORMAT 'YYYY-MM-DD HH:MI:SS' ACCEPTINVCHARS AS '^'",
    );
    assert.deepEqual(await rows(session, 'SELECT t, a, b, c FROM public.opts ORDER BY t'), [
      ['2023-11-14 22:13:20.123', null, null, null],
      ['2024-02-29 01:02:03', 'x^y', '', 'b'],
    ]);
  });

  test('a COPY into a table that does not exist fails with 42P01', async () => {
    await assert.rejects(
      session.execute("COPY public.nosuch FROM 's3://user-bucket/readings/' CSV"),
      (e: unknown) => e instanceof SqlError && e.sqlstate === '42P01',
    );
  });
});
