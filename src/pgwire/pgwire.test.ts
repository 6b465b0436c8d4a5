import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTestWarehouse } from '../warehouse/test-support.ts';
import { createPgServer, type PgServer } from './index.ts';
import { dataRow, errorFields, rowDescription, TestPgClient, type RawMessage } from './test-client.ts';

const PSQL = '/usr/bin/psql';

let server: PgServer;
let port: number;
let cleanup: () => Promise<void>;
let scratch: string;

before(async () => {
  const wh = await openTestWarehouse();
  cleanup = wh.cleanup;
  await wh.warehouse.ensureUser('analyst', "pa ss'word");
  server = createPgServer({ warehouse: wh.warehouse });
  port = await server.listen(0, '127.0.0.1');
  scratch = await mkdtemp(join(tmpdir(), 'sluice-pgwire-'));
});

after(async () => {
  await server.close();
  await cleanup();
  await rm(scratch, { recursive: true, force: true });
});

function psql(
  args: readonly string[],
  password = 'secret',
  user = 'awsuser',
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      PSQL,
      ['-h', '127.0.0.1', '-p', String(port), '-U', user, '-X', ...args],
      {
        env: { PATH: process.env.PATH ?? '/usr/bin', PGPASSWORD: password, PGCONNECT_TIMEOUT: '5' },
        timeout: 20_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const types = (ms: readonly RawMessage[]): string => ms.map((m) => m.type).join('');
const text = (b: Buffer | null | undefined): string | null => (b ? b.toString('utf8') : null);
const tag = (m: RawMessage | undefined): string => (m ? m.body.toString('utf8').replace(/\0$/, '') : '');

describe('psql', () => {
  test('a query with -c prints its rows', async () => {
    const r = await psql(['-d', 'dev', '-c', "SELECT 1 AS x, 'a'::varchar AS y"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /x \| y/);
    assert.match(r.stdout, /1 \| a/);
    assert.match(r.stdout, /\(1 row\)/);
  });

  test('an error in the middle of a script prints the rows before it and the SQLSTATE', async () => {
    const r = await psql([
      '-d',
      'dev',
      '-v',
      'VERBOSITY=verbose',
      '-c',
      'SELECT 41 AS first; SELECT nosuch; SELECT 43',
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /41/);
    assert.doesNotMatch(r.stdout, /43/);
    assert.match(r.stderr, /ERROR: {2}42703: column "nosuch" does not exist/);
    // The caret is placed from the error position, which is relative to the whole string.
    assert.match(r.stderr, /LINE 1: SELECT 41 AS first; SELECT nosuch; SELECT 43\n {35}\^/);
  });

  test('a wrong password fails sign-in with exit code 2', async () => {
    const r = await psql(['-d', 'dev', '-c', 'SELECT 1'], 'wrong');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /password authentication failed for user "awsuser"/);
  });

  test('an unknown user fails exactly like a wrong password', async () => {
    const r = await psql(['-d', 'dev', '-c', 'SELECT 1'], 'secret', 'nobody');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /password authentication failed for user "nobody"/);
  });

  test('a database other than dev is refused', async () => {
    const r = await psql(['-d', 'prod', '-c', 'SELECT 1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /database "prod" does not exist/);
  });

  test('a non-superuser with quotes and spaces in the password signs in', async () => {
    const r = await psql(['-d', 'dev', '-At', '-c', 'SELECT 6 * 7'], "pa ss'word", 'analyst');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '42');
  });

  test('a script with Redshift DDL creates a table, loads rows and rolls back a transaction', async () => {
    const file = join(scratch, 'script.sql');
    await writeFile(
      file,
      [
        'CREATE SCHEMA sensor;',
        'CREATE TABLE sensor.message (',
        '  guid varchar(36) NOT NULL ENCODE zstd,',
        '  ts timestamp SORTKEY,',
        '  temp numeric(5,2),',
        '  ok boolean',
        ') DISTSTYLE KEY DISTKEY (guid);',
        "INSERT INTO sensor.message VALUES ('a', '2024-01-01 00:00:00', 21.5, true), ('b', NULL, NULL, false);",
        'SELECT guid, ts, temp, ok FROM sensor.message ORDER BY guid;',
        'BEGIN;',
        'DELETE FROM sensor.message;',
        'ROLLBACK;',
        'SELECT count(*) AS n FROM sensor.message;',
        '',
      ].join('\n'),
    );
    const r = await psql(['-d', 'dev', '-v', 'ON_ERROR_STOP=1', '-f', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /CREATE SCHEMA\nCREATE TABLE\nINSERT 0 2\n/);
    assert.match(r.stdout, / a {4}\| 2024-01-01 00:00:00 \| 21\.50 \| t/);
    assert.match(r.stdout, / b {4}\| {21}\| {7}\| f/);
    assert.match(r.stdout, /BEGIN\nDELETE 2\nROLLBACK\n/);
    assert.match(r.stdout, / n \n---\n 2\n/);
  });
});

describe('wire protocol', () => {
  test('SSLRequest is answered N and the client goes on in clear', async () => {
    const c = await TestPgClient.open(port);
    const req = Buffer.alloc(8);
    req.writeInt32BE(8, 0);
    req.writeInt32BE(80877103, 4);
    c.raw(req);
    assert.equal(await c.readByte(), 'N');
    c.startup({ user: 'awsuser', database: 'dev' });
    const auth = await c.read();
    assert.equal(auth.type, 'R');
    assert.equal(auth.body.readInt32BE(0), 10);
    assert.match(auth.body.subarray(4).toString(), /^SCRAM-SHA-256\0/);
    c.close();
  });

  test('sign-in reports the parameters and the transaction status follows the session', async () => {
    const c = await TestPgClient.connect(port, 'awsuser', 'secret');
    assert.equal(c.parameters.get('server_version'), '15.0');
    assert.equal(c.parameters.get('standard_conforming_strings'), 'on');
    assert.equal(c.parameters.get('TimeZone'), 'UTC');
    assert.ok(c.pid > 0);
    const begin = await c.query('BEGIN');
    assert.equal(tag(begin.at(-1)), 'T');
    const failed = await c.query('SELECT nosuch');
    assert.equal(types(failed), 'EZ');
    assert.equal(errorFields(failed[0] as RawMessage).get('C'), '42703');
    assert.equal(tag(failed.at(-1)), 'E');
    const rollback = await c.query('ROLLBACK');
    assert.equal(tag(rollback[0]), 'ROLLBACK');
    assert.equal(tag(rollback.at(-1)), 'I');
    assert.equal(types(await c.query('  -- nothing\n')), 'IZ');
    c.close();
  });

  test('simple query sends each result with type OIDs and typmods, nulls and booleans as text', async () => {
    const c = await TestPgClient.connect(port, 'awsuser', 'secret');
    const ms = await c.query(
      "CREATE TABLE wire_types (id bigint, v varchar(12), n numeric(7,3), b boolean, t timestamp, d date); INSERT INTO wire_types VALUES (1, 'x', 1.5, true, '2024-02-03 04:05:06', '2024-02-03'), (2, NULL, NULL, false, NULL, NULL); SELECT * FROM wire_types ORDER BY id",
    );
    assert.equal(types(ms), 'CCTDDCZ');
    assert.equal(tag(ms[0]), 'CREATE TABLE');
    assert.equal(tag(ms[1]), 'INSERT 0 2');
    assert.deepEqual(
      rowDescription(ms[2] as RawMessage).map((f) => [f.name, f.oid, f.typmod]),
      [
        ['id', 20, -1],
        ['v', 1043, 16],
        ['n', 1700, ((7 << 16) | 3) + 4],
        ['b', 16, -1],
        ['t', 1114, -1],
        ['d', 1082, -1],
      ],
    );
    assert.deepEqual(dataRow(ms[3] as RawMessage).map(text), [
      '1',
      'x',
      '1.500',
      't',
      '2024-02-03 04:05:06',
      '2024-02-03',
    ]);
    assert.deepEqual(dataRow(ms[4] as RawMessage).map(text), ['2', null, null, 'f', null, null]);
    assert.equal(tag(ms[5]), 'SELECT 2');
    c.close();
  });

  test('extended query binds a parameter and resumes a portal suspended by max rows', async () => {
    const c = await TestPgClient.connect(port, 'awsuser', 'secret');
    await c.query(
      "CREATE TABLE ext_rows (id int, name varchar(10)); INSERT INTO ext_rows VALUES (1, 'a'), (2, 'b'), (3, 'c')",
    );
    c.parse('', 'SELECT id, name FROM ext_rows WHERE id >= $1 ORDER BY id');
    c.bind('', '', ['2']);
    c.describe('P', '');
    c.execute('', 1);
    c.execute('', 1);
    c.sync();
    const ms = await c.untilReady();
    assert.equal(types(ms), '12TDsDCZ');
    assert.deepEqual(dataRow(ms[3] as RawMessage).map(text), ['2', 'b']);
    assert.deepEqual(dataRow(ms[5] as RawMessage).map(text), ['3', 'c']);
    assert.equal(tag(ms[6]), 'SELECT 1');
    c.close();
  });

  test('a parameter value that looks like SQL is only ever a string', async () => {
    const c = await TestPgClient.connect(port, 'awsuser', 'secret');
    await c.query("CREATE TABLE ext_inject (name varchar(40)); INSERT INTO ext_inject VALUES ('o''brien')");
    c.parse('q', 'SELECT count(*) AS n FROM ext_inject WHERE name = $1 OR name = $2');
    c.sync();
    assert.equal(types(await c.untilReady()), '1Z');
    for (const value of ["x' OR '1'='1", "'); DROP TABLE ext_inject; --"]) {
      c.bind('', 'q', [value, null]);
      c.execute('');
      c.sync();
      const ms = await c.untilReady();
      assert.equal(types(ms), '2DCZ');
      assert.deepEqual(dataRow(ms[1] as RawMessage).map(text), ['0']);
    }
    c.bind('', 'q', ["o'brien", null]);
    c.execute('');
    c.sync();
    const ms = await c.untilReady();
    assert.deepEqual(dataRow(ms[1] as RawMessage).map(text), ['1']);
    c.close();
  });

  test('describing a statement gives parameter types and columns without running it', async () => {
    const c = await TestPgClient.connect(port, 'awsuser', 'secret');
    await c.query('CREATE TABLE ext_desc (id int, amount numeric(10,2))');
    c.parse('d', 'SELECT id, amount FROM ext_desc WHERE id = $1', [23]);
    c.describe('S', 'd');
    c.parse('i', 'INSERT INTO ext_desc VALUES ($1, $2)', [23, 1700]);
    c.describe('S', 'i');
    c.sync();
    const ms = await c.untilReady();
    assert.equal(types(ms), '1tT1tnZ');
    assert.deepEqual(
      rowDescription(ms[2] as RawMessage).map((f) => [f.name, f.oid, f.typmod]),
      [
        ['id', 23, -1],
        ['amount', 1700, ((10 << 16) | 2) + 4],
      ],
    );
    c.bind('', 'i', ['7', '-12.50']);
    c.execute('');
    c.sync();
    assert.equal(tag((await c.untilReady())[1]), 'INSERT 0 1');
    const rows = await c.query('SELECT amount FROM ext_desc');
    assert.equal(text(dataRow(rows[1] as RawMessage)[0]), '-12.50');
    c.close();
  });

  test('after an error the extended protocol skips to Sync and reports one error', async () => {
    const c = await TestPgClient.connect(port, 'awsuser', 'secret');
    c.parse('', 'SELECT * FROM no_such_table WHERE x = $1');
    c.bind('', '', ['1']);
    c.execute('');
    c.bind('', '', ['2']);
    c.execute('');
    c.sync();
    const ms = await c.untilReady();
    // Parse does not check the statement; the error comes at Execute, and Sync ends the skipping.
    assert.equal(types(ms), '12EZ');
    const err = errorFields(ms[2] as RawMessage);
    assert.equal(err.get('C'), '42P01');
    assert.equal(err.get('S'), 'ERROR');
    // The position points into the statement as the client wrote it.
    assert.equal(err.get('P'), '15');
    c.close();
  });

  test('binary results for integers, floats, booleans and numeric', async () => {
    const c = await TestPgClient.connect(port, 'awsuser', 'secret');
    c.parse(
      '',
      "SELECT 7::int AS i, 9000000000::bigint AS b, 2.5::float8 AS f, true AS t, 'x'::varchar AS s, 1.5::numeric(3,1) AS n",
    );
    c.bind('', '', [], [1]);
    c.describe('P', '');
    c.execute('');
    c.sync();
    const ms = await c.untilReady();
    assert.equal(types(ms), '12TDCZ');
    assert.deepEqual(
      rowDescription(ms[2] as RawMessage).map((f) => f.format),
      [1, 1, 1, 1, 1, 1],
    );
    const row = dataRow(ms[3] as RawMessage);
    assert.equal(row[0]?.readInt32BE(0), 7);
    assert.equal(row[1]?.readBigInt64BE(0), 9000000000n);
    assert.equal(row[2]?.readDoubleBE(0), 2.5);
    assert.deepEqual(row[3], Buffer.from([1]));
    assert.equal(text(row[4]), 'x');
    // numeric: ndigits 2, weight 0, sign +, dscale 1, digits 1 and 5000.
    assert.equal(row[5]?.toString('hex'), '000200000000000100011388');
    c.close();
  });

  test('a CancelRequest with the connection key stops the running statement', async () => {
    const c = await TestPgClient.connect(port, 'awsuser', 'secret');
    c.send(
      'Q',
      Buffer.from(
        'SELECT sum(a.i * b.i) AS s FROM generate_series(1, 1000000) a(i) CROSS JOIN generate_series(1, 1000000) b(i)\0',
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const wrong = await TestPgClient.open(port);
    const req = Buffer.alloc(16);
    req.writeInt32BE(16, 0);
    req.writeInt32BE(80877102, 4);
    req.writeInt32BE(c.pid, 8);
    req.writeInt32BE(c.secret ^ 1, 12);
    wrong.raw(req);
    assert.ok(await wrong.closedByServer());
    const canceller = await TestPgClient.open(port);
    req.writeInt32BE(c.secret, 12);
    canceller.raw(req);
    assert.ok(await canceller.closedByServer());
    const ms = await c.untilReady();
    assert.equal(types(ms), 'EZ');
    assert.equal(errorFields(ms[0] as RawMessage).get('C'), '57014');
    assert.equal(tag((await c.query('SELECT 1'))[2]), 'SELECT 1');
    c.close();
  });
});
