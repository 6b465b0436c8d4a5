/**
 * The console port of a real `sluice up`: /health, /metrics, the SQL API with its
 * authentication and multi-statement results, the `sluice sql` command, and the refusal to
 * bind beyond loopback without keys.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateDeliveryStreamCommand,
  PutRecordBatchCommand,
  PutRecordCommand,
} from '@aws-sdk/client-firehose';
import {
  countRows,
  createBucket,
  firehoseClient,
  messageTableSql,
  readings,
  recordOf,
  redshiftStream,
} from '../support/firehose.ts';
import {
  eventually,
  removeDataDir,
  SLUICE_BIN,
  startSluice,
  type SluiceProcess,
} from '../support/sluice-process.ts';

/** An answer of POST /api/sql. */
interface SqlAnswer {
  results?: { command: string; columns: { name: string }[]; rows: unknown[][]; rowCount: number }[];
  error?: { message: string; sqlstate: string; statementIndex?: number; position?: number };
}

describe('console API', () => {
  let s: SluiceProcess;
  let basic: string;

  /** POST /api/sql with an Authorization header (or none). */
  async function postSql(
    sql: string,
    authorization?: string,
  ): Promise<{ status: number; body: SqlAnswer; headers: Headers }> {
    const response = await fetch(`${s.consoleUrl}/api/sql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ sql }),
    });
    return { status: response.status, body: (await response.json()) as SqlAnswer, headers: response.headers };
  }

  /** Runs the `sluice sql` command against the child. */
  function sluiceSql(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [SLUICE_BIN, 'sql', '--url', s.consoleUrl, ...args],
        { env: { ...process.env, SLUICE_PASSWORD: s.password }, timeout: 60_000 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  before(async () => {
    s = await startSluice();
    basic = `Basic ${Buffer.from(`awsuser:${s.password}`).toString('base64')}`;
  });

  after(async () => {
    if (s) {
      await s.stop();
      await removeDataDir(s.dataDir);
    }
  });

  test('/health answers 200 without authentication', async () => {
    const response = await fetch(`${s.consoleUrl}/health`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok' });
  });

  test('/metrics counts incoming records per stream', async () => {
    const client = firehoseClient(s);
    try {
      await createBucket(s.dataDir, 'console-bucket');
      await s.sql(messageTableSql('console.message'));
      await client.send(
        new CreateDeliveryStreamCommand(
          redshiftStream(s, { name: 'metered', bucket: 'console-bucket', table: 'console.message' }),
        ),
      );
      await client.send(
        new PutRecordCommand({
          DeliveryStreamName: 'metered',
          Record: { Data: recordOf(readings('m', 1)[0]) },
        }),
      );
      await client.send(
        new PutRecordBatchCommand({
          DeliveryStreamName: 'metered',
          Records: readings('mb', 7).map((r) => ({ Data: recordOf(r) })),
        }),
      );
    } finally {
      client.destroy();
    }
    await eventually(async () => (await countRows(s, 'console.message')) === 8, 10_000);
    const response = await fetch(`${s.consoleUrl}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
    const text = await response.text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('sluice_firehose_incoming_records_total{') && l.includes('stream="metered"'));
    assert.ok(line, `an incoming-records line for the stream in:\n${text}`);
    assert.equal(Number(line.split(' ').pop()), 8);
  });

  test('/api/sql needs the warehouse password', async () => {
    const none = await postSql('SELECT 1');
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic/);
    assert.ok(none.body.results === undefined);

    const wrong = await postSql(
      'SELECT 1',
      `Basic ${Buffer.from('awsuser:wrong-password').toString('base64')}`,
    );
    assert.equal(wrong.status, 401);
    const unknownUser = await postSql(
      'SELECT 1',
      `Basic ${Buffer.from(`nobody:${s.password}`).toString('base64')}`,
    );
    assert.equal(unknownUser.status, 401);

    const ok = await postSql("SELECT 1 AS one, 'two' AS two", basic);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.results?.length, 1);
    assert.deepEqual(
      ok.body.results![0]!.columns.map((c) => c.name),
      ['one', 'two'],
    );
    assert.deepEqual(ok.body.results![0]!.rows, [[1, 'two']]);
  });

  test('a multi-statement script returns one result per statement; an error in the middle keeps the earlier results', async () => {
    const script = await postSql(
      'CREATE TABLE public.multi (a INTEGER, b VARCHAR(10)); ' +
        "INSERT INTO public.multi VALUES (1, 'x'), (2, 'y'); " +
        'SELECT a, b FROM public.multi ORDER BY a;',
      basic,
    );
    assert.equal(script.status, 200, JSON.stringify(script.body));
    assert.deepEqual(
      script.body.results!.map((r) => r.command),
      ['CREATE TABLE', 'INSERT', 'SELECT'],
    );
    assert.equal(script.body.results![1]!.rowCount, 2);
    assert.deepEqual(script.body.results![2]!.rows, [
      [1, 'x'],
      [2, 'y'],
    ]);

    const failing = await postSql(
      'SELECT count(*) FROM public.multi; SELECT * FROM public.no_such_table; SELECT 42;',
      basic,
    );
    assert.equal(failing.status, 400);
    assert.equal(failing.body.error?.sqlstate, '42P01');
    assert.match(failing.body.error!.message, /no_such_table/);
    assert.equal(failing.body.error?.statementIndex, 1);
    assert.deepEqual(
      failing.body.results!.map((r) => r.command),
      ['SELECT'],
      'the statement before the error, not after',
    );
    assert.deepEqual(failing.body.results![0]!.rows, [[2]]);

    const syntax = await postSql('SELEC 1', basic);
    assert.equal(syntax.status, 400);
    assert.equal(syntax.body.error?.sqlstate, '42601');
  });

  test('sluice sql prints a psql-like table and exits 1 with ERROR: on bad SQL', async () => {
    const good = await sluiceSql('SELECT a, b FROM public.multi ORDER BY a');
    assert.equal(good.code, 0, good.stderr);
    const lines = good.stdout.split('\n');
    assert.match(lines[0]!, /^\s*a\s*\|\s*b\s*$/);
    assert.match(lines[1]!, /^-+\+-+$/);
    assert.match(lines[2]!, /^\s*1\s*\|\s*x\s*$/);
    assert.match(lines[3]!, /^\s*2\s*\|\s*y\s*$/);
    assert.match(good.stdout, /\(2 rows\)/);

    const bad = await sluiceSql('SELECT * FROM public.no_such_table');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^ERROR: /m);
    assert.match(bad.stderr, /no_such_table/);
    assert.match(bad.stderr, /42P01/);
  });

  test('binding beyond loopback without access keys is refused at start', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sluice-it-host-'));
    try {
      await assert.rejects(
        startSluice({ dataDir, args: ['up', '--host', '0.0.0.0'], timeoutMs: 30_000 }),
        (error: Error) => {
          assert.match(error.message, /exited with [1-9]\d* before ready/);
          assert.match(error.message, /Refusing to listen on 0\.0\.0\.0 without AWS access keys/);
          return true;
        },
      );
      // Keys alone are not enough: beyond loopback needs TLS too.
      await assert.rejects(
        startSluice({
          dataDir,
          args: ['up', '--host', '0.0.0.0'],
          env: { SLUICE_ACCESS_KEY_ID: 'AKIAHOSTTEST00000001', SLUICE_SECRET_ACCESS_KEY: 'host-secret' },
          timeoutMs: 30_000,
        }),
        /Refusing to serve HTTP on 0\.0\.0\.0 without TLS/,
      );
    } finally {
      await removeDataDir(dataDir);
    }
  });
});
