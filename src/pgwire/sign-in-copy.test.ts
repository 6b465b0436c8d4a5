/**
 * The SQL port as node-postgres sees it (its codec, pg-protocol, is the oracle): TLS,
 * md5 and cleartext sign-in, ParameterStatus, notices, multi-statement strings, and COPY
 * FROM STDIN / TO STDOUT through pg-copy-streams.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import pgTypes from 'pg-types';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { Warehouse } from '../warehouse/index.ts';
import { openTestWarehouse } from '../warehouse/test-support.ts';
import { createPgServer, type AuthMethod, type PgServer } from './index.ts';
import { SignInFailures } from './server.ts';
import { dataRow, errorFields, rowDescription, TestPgClient } from './test-client.ts';

const PASSWORD = 'secret';

let warehouse: Warehouse;
let cleanup: () => Promise<void>;
let scratch: string;
let cert: { cert: Buffer; key: Buffer };
const servers: PgServer[] = [];

async function serve(
  options: { auth?: AuthMethod; tls?: boolean; requireTls?: boolean } = {},
): Promise<number> {
  const server = createPgServer({
    warehouse,
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.tls ? { tls: cert } : {}),
    ...(options.requireTls ? { requireTls: true } : {}),
  });
  servers.push(server);
  return server.listen(0, '127.0.0.1');
}

function client(port: number, extra: Partial<pg.ClientConfig> = {}): pg.Client {
  return new pg.Client({
    host: '127.0.0.1',
    port,
    user: 'awsuser',
    password: PASSWORD,
    database: 'dev',
    ...extra,
  });
}

before(async () => {
  const wh = await openTestWarehouse();
  warehouse = wh.warehouse;
  cleanup = wh.cleanup;
  scratch = await mkdtemp(join(tmpdir(), 'sluice-pgwire-tls-'));
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-keyout',
    join(scratch, 'key.pem'),
    '-out',
    join(scratch, 'cert.pem'),
  ]);
  cert = { cert: await readFile(join(scratch, 'cert.pem')), key: await readFile(join(scratch, 'key.pem')) };
  const s = await warehouse.openSession('awsuser');
  await s.execute(`
    CREATE TABLE readings (id INTEGER, guid VARCHAR(36), temp NUMERIC(5,2), ok BOOLEAN, seen TIMESTAMP);
    CREATE USER analyst PASSWORD 'Analyst1pass';
    GRANT SELECT ON readings TO analyst;
  `);
  await s.close();
});

after(async () => {
  for (const s of servers) await s.close();
  await cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe('sign-in', () => {
  test('sslmode=require gets TLS when a certificate is configured', async () => {
    const port = await serve({ tls: true, requireTls: true });
    const c = client(port, { ssl: { rejectUnauthorized: false } });
    await c.connect();
    try {
      const r = await c.query('SELECT current_user AS u');
      assert.deepEqual(r.rows, [{ u: 'awsuser' }]);
      // The connection really is encrypted.
      const stream = (c as unknown as { connection: { stream: { encrypted?: boolean } } }).connection.stream;
      assert.equal(stream.encrypted, true);
    } finally {
      await c.end();
    }
  });

  test('requiring TLS refuses a sign-in in clear with 28000', async () => {
    const port = await serve({ tls: true, requireTls: true });
    const c = client(port, { ssl: false });
    await assert.rejects(c.connect(), (e: { code?: string; message: string }) => {
      assert.equal(e.code, '28000');
      assert.match(e.message, /no encryption/);
      return true;
    });
  });

  test('without a certificate SSLRequest is refused and sslmode=require fails', async () => {
    const port = await serve();
    const c = client(port, { ssl: { rejectUnauthorized: false } });
    await assert.rejects(c.connect(), /does not support SSL/);
  });

  test('md5 signs in users whose md5 hash is stored and refuses a wrong password', async () => {
    const port = await serve({ auth: 'md5' });
    const c = client(port, { user: 'analyst', password: 'Analyst1pass' });
    await c.connect();
    const r = await c.query('SELECT session_user AS s, current_user AS c');
    assert.deepEqual(r.rows, [{ s: 'analyst', c: 'analyst' }]);
    await c.end();
    const bad = client(port, { user: 'analyst', password: 'nope' });
    await assert.rejects(bad.connect(), (e: { code?: string }) => e.code === '28P01');
  });

  test('cleartext sign-in works when configured', async () => {
    const port = await serve({ auth: 'password' });
    const c = client(port);
    await c.connect();
    assert.deepEqual((await c.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
    await c.end();
  });

  test('ParameterStatus reports the server and session settings', async () => {
    const port = await serve();
    const c = client(port, { application_name: 'sign-in-test' });
    const params = new Map<string, string>();
    const connection = (c as unknown as { connection: NodeJS.EventEmitter }).connection;
    connection.on('parameterStatus', (m: { parameterName: string; parameterValue: string }) =>
      params.set(m.parameterName, m.parameterValue),
    );
    await c.connect();
    await c.end();
    assert.match(params.get('server_version') ?? '', /^1[5-9]\./);
    assert.equal(params.get('server_encoding'), 'UTF8');
    assert.equal(params.get('client_encoding'), 'UTF8');
    assert.equal(params.get('DateStyle'), 'ISO, MDY');
    assert.equal(params.get('TimeZone'), 'UTC');
    assert.equal(params.get('integer_datetimes'), 'on');
    assert.equal(params.get('standard_conforming_strings'), 'on');
    assert.equal(params.get('application_name'), 'sign-in-test');
    assert.equal(params.get('is_superuser'), 'on');
    assert.equal(params.get('session_authorization'), 'awsuser');
  });
});

describe('queries', () => {
  let port: number;
  before(async () => {
    port = await serve();
  });

  test('DROP TABLE / VIEW / SCHEMA IF EXISTS on a missing object sends a NOTICE', async () => {
    const c = client(port);
    const notices: string[] = [];
    c.on('notice', (n) => notices.push(n.message ?? ''));
    await c.connect();
    await c.query('DROP TABLE IF EXISTS no_such_table');
    await c.query('DROP VIEW IF EXISTS no_such_view');
    await c.query('DROP SCHEMA IF EXISTS no_such_schema');
    await c.query('CREATE VIEW v_exists AS SELECT 1 AS one');
    await c.query('DROP VIEW IF EXISTS v_exists');
    await c.end();
    assert.deepEqual(notices, [
      'table "no_such_table" does not exist, skipping',
      'view "no_such_view" does not exist, skipping',
      'schema "no_such_schema" does not exist, skipping',
    ]);
  });

  test('a read-only user gets 42501 on writes over the wire', async () => {
    const c = client(port, { user: 'analyst', password: 'Analyst1pass' });
    await c.connect();
    try {
      await c.query('SELECT count(*) FROM readings');
      await assert.rejects(
        c.query('INSERT INTO readings (id) VALUES (1)'),
        (e: { code?: string; message: string }) => {
          assert.equal(e.code, '42501');
          assert.equal(e.message, 'permission denied for relation readings');
          return true;
        },
      );
      await assert.rejects(
        pipeline(Readable.from(['1\n']), c.query(copyFrom('COPY readings (id) FROM STDIN'))),
        (e: { code?: string }) => e.code === '42501',
      );
    } finally {
      await c.end();
    }
  });
});

describe('COPY', () => {
  let port: number;
  let c: pg.Client;
  before(async () => {
    port = await serve();
    c = client(port);
    await c.connect();
  });
  after(async () => c.end());

  test('FROM STDIN in CSV with a header loads every row, in order, with NULLs and quotes', async () => {
    await c.query('TRUNCATE readings');
    const data =
      'id,guid,temp,ok,seen\r\n1,"a,b",70.25,t,2024-01-02 03:04:05\r\n2,,71.5,false,\r\n3,"say ""hi""",72,1,2024-01-02\r\n';
    const stream = c.query(copyFrom('COPY readings FROM STDIN WITH (FORMAT csv, HEADER)'));
    await pipeline(Readable.from([data.slice(0, 17), data.slice(17)]), stream);
    assert.equal(stream.rowCount, 3);
    const r = await c.query(
      'SELECT id, guid, temp::varchar AS temp, ok, seen::varchar AS seen FROM readings ORDER BY id',
    );
    assert.deepEqual(r.rows, [
      { id: 1, guid: 'a,b', temp: '70.25', ok: true, seen: '2024-01-02 03:04:05' },
      { id: 2, guid: null, temp: '71.50', ok: false, seen: null },
      { id: 3, guid: 'say "hi"', temp: '72.00', ok: true, seen: '2024-01-02 00:00:00' },
    ]);
  });

  test('FROM STDIN in text format with Redshift options and a column list', async () => {
    await c.query('TRUNCATE readings');
    const stream = c.query(copyFrom("COPY readings (id, guid) FROM STDIN DELIMITER '|' IGNOREHEADER 1"));
    await pipeline(Readable.from(['id|guid\n', '7|tab\\there\n8|\\N\n']), stream);
    const r = await c.query('SELECT id, guid FROM readings ORDER BY id');
    assert.deepEqual(r.rows, [
      { id: 7, guid: 'tab\there' },
      { id: 8, guid: null },
    ]);
  });

  test('a bad row fails the whole COPY with 22P02 and its line; nothing is loaded', async () => {
    await c.query('TRUNCATE readings');
    const stream = c.query(copyFrom('COPY readings (id, temp) FROM STDIN CSV'));
    await assert.rejects(pipeline(Readable.from(['1,70\n2,71\n3,hot\n']), stream), (e: pg.DatabaseError) => {
      assert.equal(e.code, '22P02');
      assert.equal(e.message, 'invalid input syntax for type numeric: "hot"');
      assert.equal(e.where, 'COPY readings, line 3, column temp: "hot"');
      return true;
    });
    assert.deepEqual((await c.query('SELECT count(*)::int AS n FROM readings')).rows, [{ n: 0 }]);
  });

  test('a large COPY is staged in batches; a bad row near the end still loads nothing', async () => {
    await c.query('TRUNCATE readings');
    const rows = 300_000;
    function* lines(bad: number | undefined): Generator<string> {
      let chunk = '';
      for (let i = 1; i <= rows; i++) {
        chunk += `${i},guid-${i.toString().padStart(12, '0')},${i === bad ? 'warm' : (i % 100) + 0.5}\n`;
        if (chunk.length > 60_000) {
          yield chunk;
          chunk = '';
        }
      }
      yield chunk;
    }
    const failing = c.query(copyFrom('COPY readings (id, guid, temp) FROM STDIN CSV'));
    await assert.rejects(pipeline(Readable.from(lines(rows - 5)), failing), (e: pg.DatabaseError) => {
      assert.equal(e.code, '22P02');
      assert.equal(e.where, `COPY readings, line ${rows - 5}, column temp: "warm"`);
      return true;
    });
    assert.deepEqual((await c.query('SELECT count(*)::int AS n FROM readings')).rows, [{ n: 0 }]);
    const loading = c.query(copyFrom('COPY readings (id, guid, temp) FROM STDIN CSV'));
    await pipeline(Readable.from(lines(undefined)), loading);
    assert.equal(loading.rowCount, rows);
    const r = await c.query(
      'SELECT count(*)::int AS n, max(id) AS top, sum(temp)::varchar AS total FROM readings',
    );
    assert.deepEqual(r.rows, [{ n: rows, top: rows, total: `${rows * 50}.00` }]);
  });

  test('a row with too many fields fails with 22P04', async () => {
    const stream = c.query(copyFrom('COPY readings (id) FROM STDIN'));
    await assert.rejects(pipeline(Readable.from(['1\n2\t3\n']), stream), (e: pg.DatabaseError) => {
      assert.equal(e.code, '22P04');
      assert.match(e.where ?? '', /line 2/);
      return true;
    });
  });

  test('inside a transaction a failed COPY fails the transaction; ROLLBACK recovers', async () => {
    await c.query('BEGIN');
    await assert.rejects(
      pipeline(Readable.from(['x\n']), c.query(copyFrom('COPY readings (id) FROM STDIN'))),
      (e: pg.DatabaseError) => e.code === '22P02',
    );
    await assert.rejects(c.query('SELECT 1'), (e: pg.DatabaseError) => e.code === '25P02');
    await c.query('ROLLBACK');
    assert.deepEqual((await c.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
  });

  test('TO STDOUT writes CSV with a header, and a query in text format', async () => {
    await c.query('TRUNCATE readings');
    await c.query(
      "INSERT INTO readings (id, guid, temp, ok) VALUES (1, 'x,y', 70.5, true), (2, NULL, NULL, false)",
    );
    const chunks: Buffer[] = [];
    const out = c.query(copyTo('COPY readings (id, guid, temp, ok) TO STDOUT WITH (FORMAT csv, HEADER)'));
    for await (const chunk of out) chunks.push(chunk as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'id,guid,temp,ok\n1,"x,y",70.50,t\n2,,,f\n');
    const text: Buffer[] = [];
    const out2 = c.query(copyTo('COPY (SELECT id, guid FROM readings ORDER BY id) TO STDOUT'));
    for await (const chunk of out2) text.push(chunk as Buffer);
    assert.equal(Buffer.concat(text).toString(), '1\tx,y\n2\t\\N\n');
  });
});

describe('binary results', () => {
  // node-postgres reads binary fields through a UTF-8 string, which mangles bytes over 0x7f,
  // so the raw DataRow is decoded here with node-postgres's own binary parsers (pg-types).
  test('numeric, timestamp, timestamptz, date and int8 in binary decode to the same values', async () => {
    const port = await serve();
    const c = await TestPgClient.connect(port, 'awsuser', PASSWORD);
    try {
      c.parse(
        '',
        `SELECT 70.25::numeric(5,2) AS a, -12345678.9012::numeric(14,4) AS b, 0::numeric(5,2) AS z,
        0.0001::numeric(6,4) AS small, TIMESTAMPTZ '2024-03-04 05:06:07.123456+00' AS tz, DATE '2024-03-04' AS d,
        9007199254740993::bigint AS big, TIMESTAMP '1999-12-31 23:59:59' AS before2000`,
      );
      c.bind('', '', [], [1]);
      c.describe('P', '');
      c.execute('');
      c.sync();
      const messages = await c.untilReady();
      const desc = messages.find((m) => m.type === 'T');
      const row = messages.find((m) => m.type === 'D');
      assert.ok(desc && row, messages.map((m) => m.type).join(''));
      assert.deepEqual(
        rowDescription(desc).map((f) => f.format),
        [1, 1, 1, 1, 1, 1, 1, 1],
      );
      const values = dataRow(row) as Buffer[];
      const numeric = pgTypes.getTypeParser(1700, 'binary') as (b: Buffer) => number;
      const tz = pgTypes.getTypeParser(1184, 'binary') as (
        b: Buffer,
      ) => Date & { getUTCMicroSeconds(): number };
      const int8 = pgTypes.getTypeParser(20, 'binary') as (b: Buffer) => string;
      assert.equal(numeric(values[0] as Buffer), 70.25);
      assert.equal(numeric(values[1] as Buffer), -12345678.9012);
      assert.equal(numeric(values[2] as Buffer), 0);
      // A negative weight (pg-types reads it unsigned): ndigits 1, weight -1, sign +, dscale 4, digit 1.
      assert.equal((values[3] as Buffer).toString('hex'), '0001ffff000000040001');
      const t = tz(values[4] as Buffer);
      assert.equal(t.toISOString(), '2024-03-04T05:06:07.123Z');
      assert.equal(t.getUTCMicroSeconds(), 456);
      assert.equal(
        (values[5] as Buffer).readInt32BE(0),
        (Date.UTC(2024, 2, 4) - Date.UTC(2000, 0, 1)) / 86_400_000,
      );
      assert.equal(String(int8(values[6] as Buffer)), '9007199254740993');
      assert.equal((values[7] as Buffer).readBigInt64BE(0), -1_000_000n);
    } finally {
      c.close();
    }
  });
});

describe('failed sign-ins', () => {
  test('are answered ever more slowly from one address, and forgotten after a good one', () => {
    const f = new SignInFailures();
    const t0 = 1_000_000;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((i) => f.failed('10.0.0.1', t0 + i)),
      [0, 0, 0, 250, 500, 1000],
    );
    assert.equal(f.failed('10.0.0.2', t0), 0, 'other addresses are not slowed');
    assert.equal(f.failed('10.0.0.1', t0 + 100 + SignInFailures.WINDOW_MS), 0, 'the count expires');
    for (let i = 0; i < 20; i++) f.failed('10.0.0.3', t0 + i);
    assert.equal(f.failed('10.0.0.3', t0 + 21), SignInFailures.MAX_DELAY_MS);
    f.succeeded('10.0.0.3');
    assert.equal(f.failed('10.0.0.3', t0 + 22), 0);
  });

  test('a wrong password over the wire is 28P01 and the server keeps serving', async () => {
    const port = await serve();
    for (let i = 0; i < 2; i++)
      await assert.rejects(
        client(port, { password: 'wrong' }).connect(),
        (e: { code?: string }) => e.code === '28P01',
      );
    const c = client(port);
    await c.connect();
    assert.deepEqual((await c.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
    await c.end();
  });
});

describe('COPY message flow', () => {
  const cstr = (s: string): Buffer => Buffer.from(`${s}\0`);
  const kinds = (ms: readonly { type: string }[]): string => ms.map((m) => m.type).join('');
  const code = (m: { body: Buffer }): string | undefined =>
    m.body
      .toString()
      .split('\0')
      .find((f) => f.startsWith('C'))
      ?.slice(1);

  test('CopyInResponse, then the rest of the query string runs after CopyDone', async () => {
    const port = await serve();
    const c = await TestPgClient.connect(port, 'awsuser', PASSWORD);
    try {
      await c.query('TRUNCATE readings');
      c.send('Q', cstr('COPY readings (id, guid) FROM STDIN; SELECT count(*) FROM readings'));
      const g = await c.read();
      assert.equal(g.type, 'G');
      // Text format, two columns, each text.
      assert.equal(g.body.toString('hex'), '00000200000000');
      c.send('d', Buffer.from('1\ta\n2\t'));
      c.send('d', Buffer.from('b\n'));
      c.send('c');
      const ms = await c.untilReady();
      assert.equal(kinds(ms), 'CTDCZ');
      assert.equal(ms[0]?.body.toString(), 'COPY 2\0');
      assert.equal(dataRow(ms[2] as never)[0]?.toString(), '2');
    } finally {
      c.close();
    }
  });

  test('CopyFail ends the COPY with 57014 and loads nothing; a stray message ends it with 08P01', async () => {
    const port = await serve();
    const c = await TestPgClient.connect(port, 'awsuser', PASSWORD);
    try {
      await c.query('TRUNCATE readings');
      c.send('Q', cstr('COPY readings (id) FROM STDIN'));
      assert.equal((await c.read()).type, 'G');
      c.send('d', Buffer.from('1\n'));
      c.send('f', cstr('client gave up'));
      let ms = await c.untilReady();
      assert.equal(kinds(ms), 'EZ');
      assert.equal(code(ms[0] as never), '57014');
      assert.match(ms[0]?.body.toString() ?? '', /COPY from stdin failed: client gave up/);
      c.send('Q', cstr('COPY readings (id) FROM STDIN'));
      assert.equal((await c.read()).type, 'G');
      c.send('Q', cstr('SELECT 1'));
      ms = await c.untilReady();
      assert.equal(kinds(ms), 'EZ');
      assert.equal(code(ms[0] as never), '08P01');
      ms = await c.query('SELECT count(*) FROM readings');
      assert.equal(kinds(ms), 'TDCZ');
      assert.equal(dataRow(ms[1] as never)[0]?.toString(), '0');
    } finally {
      c.close();
    }
  });

  test('an error in COPY (query) TO STDOUT points into the query', async () => {
    const port = await serve();
    const c = await TestPgClient.connect(port, 'awsuser', PASSWORD);
    try {
      const sql = 'SELECT 1; COPY ( SELECT nosuch FROM readings) TO STDOUT';
      const ms = await c.query(sql);
      assert.equal(kinds(ms), 'TDCEZ');
      const fields = errorFields(ms[3] as never);
      assert.equal(fields.get('C'), '42703');
      assert.equal(Number(fields.get('P')), sql.indexOf('nosuch') + 1);
    } finally {
      c.close();
    }
  });

  test('COPY TO STDOUT sends CopyOutResponse, one CopyData per row and CopyDone', async () => {
    const port = await serve();
    const c = await TestPgClient.connect(port, 'awsuser', PASSWORD);
    try {
      const ms = await c.query(
        "COPY (SELECT 1 AS a, 'x\ty' AS b UNION ALL SELECT 2, NULL ORDER BY a) TO STDOUT",
      );
      assert.equal(kinds(ms), 'HddcCZ');
      assert.equal(ms[0]?.body.toString('hex'), '00000200000000');
      assert.equal(ms[1]?.body.toString(), '1\tx\\ty\n');
      assert.equal(ms[2]?.body.toString(), '2\t\\N\n');
      assert.equal(ms[4]?.body.toString(), 'COPY 2\0');
    } finally {
      c.close();
    }
  });
});
