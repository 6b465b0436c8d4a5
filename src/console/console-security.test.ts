/**
 * The console under hostile or careless input: SQL injection through visual specs and
 * filters, privilege checks on shared visuals, completion metadata, the lake and stream
 * management, CSRF and cross-site writes, open redirects, session fixation, download names,
 * upload sizes, malformed bodies and event streams that are never read.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { createDeliveryStreams, FirehoseMetrics, type DeliveryStreamService } from '../delivery/index.ts';
import { createLocalObjectStore, type ObjectStore } from '../lake/index.ts';
import { openTestWarehouse } from '../warehouse/test-support.ts';
import type { Warehouse } from '../warehouse/index.ts';
import { silentLogger } from '../util/logger.ts';
import { createConsoleServer } from './console-server.ts';
import { LiveHub, MAX_VIEWERS_PER_USER } from './live.ts';
import { attachment } from './routes.ts';
import { MAX_SESSIONS_PER_USER, SESSION_IDLE_MS, SESSION_MAX_MS, SessionStore } from './sessions.ts';
import type { DashboardSpec, VisualSpec } from './visuals.ts';

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const ADMIN = basic('awsuser', 'secret');
const EVE = basic('eve', 'Viewer3pass');
/** A self-signed certificate for 127.0.0.1 (test only). */
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBnDCCAUGgAwIBAgIUeVcwJRaEyvdrl9PuRQKNKhpYfzEwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNjAxMzI0M1oYDzIxMjYxMTAy
MDEzMjQzWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATEWrJjGrFPSA0axHJif9dseNtIpu/yexpvg48ilW3VfsBmOUXLI63l
3IQu1B+aeEHYH+uN+JmlqgKN0A2DmIUZo28wbTAdBgNVHQ4EFgQU+4xFNCZWd8eW
8UJJt6nwDf5jSVIwHwYDVR0jBBgwFoAU+4xFNCZWd8eW8UJJt6nwDf5jSVIwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZI
zj0EAwIDSQAwRgIhAP7LMBZwRA949Ial+rH6iX0mNVit9JrWtfeHFHqOeS2KAiEA
vrW6Mq50mXgwpAnyi2FofPLAWk+eflX3Gyh1juMSqDM=
-----END CERTIFICATE-----`;
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgbajtnCzUPzrw7k+L
iMpNNo0iewN9pvTngz3Be5/bNJ6hRANCAATEWrJjGrFPSA0axHJif9dseNtIpu/y
expvg48ilW3VfsBmOUXLI63l3IQu1B+aeEHYH+uN+JmlqgKN0A2DmIUZ
-----END PRIVATE KEY-----`;

describe('console security', () => {
  let app: FastifyInstance;
  let warehouse: Warehouse;
  let streams: DeliveryStreamService;
  let lake: ObjectStore;
  let cleanup: () => Promise<void>;
  let dir: string;
  let base: string;

  before(async () => {
    ({ warehouse, cleanup } = await openTestWarehouse());
    dir = await mkdtemp(join(tmpdir(), 'sluice-console-sec-'));
    lake = createLocalObjectStore({ root: join(dir, 'lake'), fsync: false });
    await lake.createBucket('lake');
    streams = await createDeliveryStreams({
      dir,
      objectStore: lake,
      warehouse,
      metrics: new FirehoseMetrics(),
      logger: silentLogger,
      isEmbedded: () => true,
    });
    app = createConsoleServer({
      warehouse,
      serviceUser: 'awsuser',
      streams,
      metrics: new FirehoseMetrics(),
      objectStore: lake,
      logger: silentLogger,
      ready: () => true,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const admin = await warehouse.openSession('awsuser');
    await admin.execute(`
      CREATE SCHEMA iot;
      CREATE TABLE iot.reading (ts BIGINT, temp NUMERIC(5,2), site VARCHAR(20));
      INSERT INTO iot.reading VALUES (1700000000, 70.5, 'a'), (1700000060, 71.5, 'b\\'), (1700000120, 72.5, 'é'),
        (1700000180, 73.5, 'it''s');
      CREATE SCHEMA vault;
      CREATE TABLE vault.codes (code VARCHAR(20), n INTEGER);
      INSERT INTO vault.codes VALUES ('s3cr3t', 42);
      CREATE USER eve PASSWORD 'Viewer3pass';
      GRANT USAGE ON SCHEMA iot TO eve;
      GRANT SELECT ON iot.reading TO eve;
    `);
    await admin.close();
  });

  after(async () => {
    await app.close();
    await streams.close();
    await cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  /** A program's request (per-request authentication). */
  async function api(
    method: string,
    path: string,
    body?: unknown,
    auth = ADMIN,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: auth,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = { text };
    }
    return { status: response.status, json, headers: response.headers };
  }

  const visual = (spec: Partial<VisualSpec> & Record<string, unknown>, filters?: unknown, auth = ADMIN) =>
    api(
      'POST',
      '/api/visual',
      {
        spec: { id: 'v', title: 'v', kind: 'kpi', source: { table: 'iot.reading' }, ...spec },
        ...(filters !== undefined ? { filters } : {}),
      },
      auth,
    );

  async function tableCount(): Promise<number> {
    const { json } = await api('POST', '/api/sql', { sql: 'SELECT count(*) FROM iot.reading' });
    return Number((json.results as { rows: unknown[][] }[])[0]!.rows[0]![0]);
  }

  test('an aggregation, field name or kind that is not a known one is refused, never run as SQL', async () => {
    const injected = await visual({
      measure: 'temp',
      aggregation: '(SELECT max(n) FROM vault.codes) + sum' as never,
    });
    assert.equal(injected.status, 200);
    assert.match(String(injected.json.error), /aggregation must be one of count, sum, avg/);
    assert.equal(injected.json.data, undefined);
    const field = await visual({ kind: 'bar', dimension: 'site" FROM vault.codes --' });
    assert.match(String(field.json.error), /dimension "site" FROM vault\.codes --" is not a field name/);
    const kind = await visual({ kind: 'pie' as never });
    assert.match(String(kind.json.error), /kind must be one of line, map, bar/);
    const table = await visual({ source: { table: 'iot.reading; DROP TABLE iot.reading' } });
    assert.match(String(table.json.error), /is not a table name/);
    const title = await visual({
      kind: 'line',
      time: 'ts',
      timeEpoch: 'seconds',
      title: "x' || (SELECT 1) || '",
    });
    assert.ok(title.json.data, `a quote in a title is only text: ${JSON.stringify(title.json)}`);
    assert.equal(await tableCount(), 4);
  });

  test('a saved dashboard is checked when saved; one saved before the check fails visual by visual, as its viewer', async () => {
    const bad = await api(
      'PUT',
      '/api/dashboards/evil',
      {
        name: 'Evil',
        visuals: [
          {
            id: 'x',
            title: 'x',
            kind: 'kpi',
            source: { table: 'iot.reading' },
            measure: 'temp',
            aggregation: '(SELECT max(n) FROM vault.codes) + sum',
          },
        ],
      },
      EVE,
    );
    assert.equal(bad.status, 400);
    assert.match(String((bad.json.error as { message: string }).message), /aggregation must be one of/);
    const tooMany = await api('PUT', '/api/dashboards/big', {
      name: 'Big',
      visuals: Array.from({ length: 65 }, (_, i) => ({
        id: `v${i}`,
        title: '',
        kind: 'kpi',
        source: { table: 'iot.reading' },
      })),
    });
    assert.equal(tooMany.status, 400);
    assert.match(String((tooMany.json.error as { message: string }).message), /at most 64 visuals/);
    // Written straight into the metadata, as an older version might have: the service user
    // computes shared visuals, so the spec must be checked before its SQL is built.
    const evil: DashboardSpec = {
      id: 'old-evil',
      name: 'Old',
      visuals: [
        {
          id: 'x',
          title: 'x',
          kind: 'kpi',
          source: { table: 'iot.reading' },
          measure: 'temp',
          aggregation: '(SELECT max(n) FROM vault.codes) + sum' as never,
        },
        null as never,
        { id: 'ok', title: 'ok', kind: 'kpi', source: { table: 'iot.reading' } },
      ],
    };
    await warehouse.saveDocument({
      kind: 'dashboard',
      id: evil.id,
      name: evil.name,
      body: JSON.stringify(evil),
    });
    const controller = new AbortController();
    const response = await fetch(`${base}/api/live?dashboard=old-evil`, {
      headers: { authorization: EVE },
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    let text = '';
    try {
      while ((text.match(/event: visual/g) ?? []).length < 3) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    } finally {
      controller.abort();
    }
    const answers = [...text.matchAll(/data: (.*)\n/g)].map(
      (m) => JSON.parse(m[1]!) as Record<string, unknown>,
    );
    const byId = new Map(answers.map((a) => [a.id, a]));
    assert.match(String(byId.get('x')?.error), /aggregation must be one of/);
    assert.match(String(byId.get('')?.error), /must be an object/);
    assert.deepEqual(byId.get('ok')?.data, { kind: 'kpi', value: 4, label: 'count' });
    assert.equal(byId.get('x')?.data, undefined, 'nothing computed from the injected aggregation');
  });

  test('filter values with quotes, backslashes and unicode match as text; NUL, bad ranges and buckets get a precise error', async () => {
    const count = async (values: string[]): Promise<unknown> =>
      (await visual({}, { values: { site: values } })).json.data;
    assert.deepEqual(await count(["it's"]), { kind: 'kpi', value: 1, label: 'count' });
    assert.deepEqual(await count(['b\\']), { kind: 'kpi', value: 1, label: 'count' });
    assert.deepEqual(await count(['é', 'a']), { kind: 'kpi', value: 2, label: 'count' });
    assert.deepEqual(await count(["a') OR ('1'='1"]), { kind: 'kpi', value: 0, label: 'count' });
    assert.deepEqual(await count(["'); DROP TABLE iot.reading; --"]), {
      kind: 'kpi',
      value: 0,
      label: 'count',
    });
    assert.equal(await tableCount(), 4);
    assert.match(String((await visual({}, { values: { site: ['a\u0000'] } })).json.error), /NUL/);
    assert.match(String((await visual({}, { values: { site: 'a' } })).json.error), /must be a list/);
    assert.match(String((await visual({}, { values: { 'site"': ['a'] } })).json.error), /not a field name/);
    const window = { time: 'ts', timeEpoch: 'seconds' as const };
    assert.match(
      String((await visual(window, { range: { from: '1 OR 1=1', to: 2 } })).json.error),
      /range\.from must be a finite number/,
    );
    assert.match(
      String((await visual(window, { range: 'constructor' })).json.error),
      /Unknown time range constructor/,
    );
    assert.match(
      String((await visual({ ...window, kind: 'line', bucket: 'toString' })).json.error),
      /unknown time bucket toString/,
    );
    assert.match(
      String((await visual({ maxPoints: '5; DROP' as never })).json.error),
      /maxPoints must be a finite number/,
    );
    const live = await fetch(`${base}/api/live?filters=${encodeURIComponent('{"range":"nope"}')}`, {
      headers: { authorization: ADMIN },
    });
    assert.equal(live.status, 400);
    assert.match(await live.text(), /Unknown time range nope/);
  });

  test('a data set query ending in a comment still reads; a second statement is refused', async () => {
    const ok = await visual({ source: { sql: 'SELECT * FROM iot.reading -- all rows' } });
    assert.deepEqual(ok.json.data, { kind: 'kpi', value: 4, label: 'count' });
    const two = await visual({ source: { sql: 'SELECT 1; DROP TABLE iot.reading' } });
    assert.match(String(two.json.error), /single statement/);
    const fields = await api('POST', '/api/datasets/fields', { source: { sql: 42 } });
    assert.equal(fields.status, 400);
    assert.match(String((fields.json.error as { message: string }).message), /source\.sql must be a string/);
  });

  test('a user without SELECT sees neither a visual of the table nor its name in completion', async () => {
    const denied = await visual({ source: { table: 'vault.codes' } }, undefined, EVE);
    assert.match(String(denied.json.error), /permission denied/);
    assert.equal(denied.json.data, undefined);
    const catalog = async (auth: string): Promise<string[]> =>
      (
        (await api('GET', '/api/catalog', undefined, auth)).json.tables as { schema: string; name: string }[]
      ).map((t) => `${t.schema}.${t.name}`);
    assert.deepEqual(await catalog(EVE), ['iot.reading']);
    assert.ok((await catalog(ADMIN)).includes('vault.codes'));
  });

  test('the query editor keeps each user to their own runs; cancelling a finished run is a plain no', async () => {
    const run = await api('POST', '/api/queries', { sql: 'SELECT * FROM iot.reading', id: 'mine' });
    assert.equal(run.status, 200);
    assert.equal((await api('GET', '/api/queries/mine/0', undefined, EVE)).status, 404);
    assert.equal((await api('GET', '/api/queries/mine/0/csv', undefined, EVE)).status, 404);
    assert.deepEqual((await api('POST', '/api/queries/mine/cancel', {}, EVE)).json, { cancelled: false });
    assert.deepEqual((await api('POST', '/api/queries/mine/cancel', {})).json, { cancelled: false });
    const page = await api('GET', '/api/queries/mine/0?offset=abc&limit=-5');
    assert.equal(page.status, 200);
    assert.equal((page.json.rows as unknown[]).length, 1, 'a nonsense limit reads as one row from the start');
  });

  test('a script of several large results pages through each of them correctly, however far', async () => {
    const one = 'SELECT g FROM generate_series(0, 7999) AS t(g) ORDER BY 1';
    const run = await api('POST', '/api/queries', { sql: `${one};\n${one};\n${one}`, id: 'three-large' });
    const statements = run.json.statements as { rowCount: number; rows: unknown[][] }[];
    assert.deepEqual(
      statements.map((st) => [st.rowCount, st.rows.length]),
      [
        [8000, 200],
        [8000, 200],
        [8000, 200],
      ],
    );
    for (const index of [0, 1, 2]) {
      const page = await api('GET', `/api/queries/three-large/${index}?offset=7990`);
      assert.deepEqual(page.json.rows, [
        [7990],
        [7991],
        [7992],
        [7993],
        [7994],
        [7995],
        [7996],
        [7997],
        [7998],
        [7999],
      ]);
    }
    const beyond = await api('GET', '/api/queries/three-large/2?offset=1e300');
    assert.equal(beyond.status, 200);
    assert.deepEqual(beyond.json.rows, []);
  });

  test('dashboards and saved queries are changed only by their owner or a superuser', async () => {
    const board = (name: string) => ({
      name,
      visuals: [{ id: 'n', title: 'n', kind: 'kpi', source: { table: 'iot.reading' } }],
    });
    const message = (answer: { json: Record<string, unknown> }): string =>
      String((answer.json.error as { message?: string } | undefined)?.message);
    assert.equal((await api('PUT', '/api/dashboards/admins', board('Admin’s'))).status, 200);
    const overwrite = await api('PUT', '/api/dashboards/admins', board('Eve was here'), EVE);
    assert.equal(overwrite.status, 403);
    assert.match(message(overwrite), /Only its owner awsuser or a superuser may change dashboard admins/);
    assert.equal((await api('DELETE', '/api/dashboards/admins', undefined, EVE)).status, 403);
    assert.equal(
      ((await api('GET', '/api/dashboards/admins', undefined, EVE)).json as { name: string }).name,
      'Admin’s',
    );
    // The demo dashboard has no owner: a superuser's.
    assert.equal((await api('PUT', '/api/dashboards/demo', board('Defaced'), EVE)).status, 403);
    const own = await api('PUT', '/api/dashboards/eves', { ...board('Eve’s'), owner: 'awsuser' }, EVE);
    assert.equal(
      (own.json as { owner: string }).owner,
      'eve',
      'the owner is who saved it first, not what the body says',
    );
    assert.equal((await api('PUT', '/api/dashboards/eves', board('Eve’s, renamed'), EVE)).status, 200);
    const edited = await api('PUT', '/api/dashboards/eves', board('Tidied by the admin'));
    assert.equal((edited.json as { owner: string }).owner, 'eve');
    assert.equal((await api('DELETE', '/api/dashboards/eves', undefined, EVE)).status, 200);

    assert.equal((await api('PUT', '/api/saved-queries/q1', { name: 'Q', sql: 'SELECT 1' })).status, 200);
    const change = await api('PUT', '/api/saved-queries/q1', { name: 'Q', sql: 'SELECT 2' }, EVE);
    assert.equal(change.status, 403);
    assert.equal((await api('DELETE', '/api/saved-queries/q1', undefined, EVE)).status, 403);
    // A query saved before owners were kept (bare SQL) still reads, and is a superuser's.
    await warehouse.saveDocument({ kind: 'query', id: 'legacy', name: 'Old', body: 'SELECT 3' });
    const list = (await api('GET', '/api/saved-queries', undefined, EVE)).json.queries as {
      id: string;
      sql: string;
    }[];
    assert.deepEqual(
      list
        .filter((q) => ['q1', 'legacy'].includes(q.id))
        .map((q) => [q.id, q.sql])
        .sort(),
      [
        ['legacy', 'SELECT 3'],
        ['q1', 'SELECT 1'],
      ],
    );
    assert.equal((await api('DELETE', '/api/saved-queries/legacy', undefined, EVE)).status, 403);
  });

  test('the lake and stream changes are a superuser’s; a user may still watch streams', async () => {
    for (const path of [
      '/api/lake/buckets',
      '/api/lake/list?bucket=lake',
      '/api/lake/preview?bucket=lake&key=a',
    ]) {
      const answer = await api('GET', path, undefined, EVE);
      assert.equal(answer.status, 403, path);
      assert.match(
        String((answer.json.error as { message: string }).message),
        /Only a superuser may browse or change the lake/,
      );
    }
    const upload = await fetch(`${base}/api/lake/object?bucket=lake&key=x.txt`, {
      method: 'PUT',
      headers: { authorization: EVE, 'content-type': 'application/octet-stream' },
      body: 'x',
    });
    assert.equal(upload.status, 403);
    assert.equal(await lake.headObject('lake', 'x.txt'), undefined);
    const create = await api(
      'POST',
      '/api/streams',
      {
        DeliveryStreamName: 'eves',
        ExtendedS3DestinationConfiguration: { BucketARN: 'arn:aws:s3:::lake' },
      },
      EVE,
    );
    assert.equal(create.status, 403);
    assert.equal((await api('POST', '/api/streams/any/redeliver', {}, EVE)).status, 403);
    assert.equal((await api('DELETE', '/api/streams/any', undefined, EVE)).status, 403);
    assert.equal((await api('GET', '/api/streams', undefined, EVE)).status, 200);
    assert.equal((await api('GET', '/api/lake/list', undefined, ADMIN)).status, 400, 'no bucket named');
  });

  test('downloads name the file safely; an upload over the limit gets a 413 with a message', async () => {
    for (const key of ['dir/température "x".csv', 'dir/a\\b\r\nSet-Cookie: x=1', 'dir/温度.json']) {
      await lake.putObject('lake', key, Buffer.from('1'));
      const response = await fetch(`${base}/api/lake/object?bucket=lake&key=${encodeURIComponent(key)}`, {
        headers: { authorization: ADMIN },
      });
      assert.equal(response.status, 200, key);
      assert.equal(response.headers.get('set-cookie'), null);
      const header = response.headers.get('content-disposition') ?? '';
      const exact = /filename\*=UTF-8''(.*)$/.exec(header)?.[1] ?? '';
      assert.equal(decodeURIComponent(exact), key.split('/').pop());
      assert.match(header, /^attachment; filename="[\x20-\x7e]*";/);
    }
    assert.equal(attachment('a"b'), `attachment; filename="a_b"; filename*=UTF-8''a%22b`);
    const big = await fetch(`${base}/api/lake/object?bucket=lake&key=big.bin`, {
      method: 'PUT',
      headers: { authorization: ADMIN, 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(64 * 1024 * 1024 + 1),
    });
    assert.equal(big.status, 413);
    assert.match(await big.text(), /too large/i);
    assert.equal(await lake.headObject('lake', 'big.bin'), undefined);
  });

  test('a preview reads only the head of an object: a GZIP bomb or a damaged GZIP object shows its first records', async () => {
    const record = '{"guid":"a","temp":70}';
    // 80 MB once decompressed (more than the server would ever hold for a preview), 80 kB stored.
    const bomb = gzipSync(
      Buffer.concat([Buffer.from(`${record}\n`.repeat(10)), Buffer.alloc(80 * 1024 * 1024, 0x20)]),
    );
    await lake.putObject('lake', 'bomb.gz', bomb);
    const started = Date.now();
    const preview = await api('GET', '/api/lake/preview?bucket=lake&key=bomb.gz');
    assert.equal(preview.status, 200);
    assert.equal(preview.json.truncated, true);
    assert.equal((preview.json.records as string[])[0], record);
    assert.ok(Date.now() - started < 5000, `answered in ${Date.now() - started} ms`);
    const whole = gzipSync(Buffer.from(`${record}\n`.repeat(1000)));
    await lake.putObject('lake', 'cut.gz', whole.subarray(0, Math.floor(whole.length / 2)));
    const cut = await api('GET', '/api/lake/preview?bucket=lake&key=cut.gz');
    assert.equal(cut.status, 200);
    assert.equal(cut.json.truncated, true);
    assert.equal((cut.json.records as string[])[0], record);
    const missing = await api('GET', '/api/lake/preview?bucket=lake&key=nothing-here');
    assert.equal(missing.status, 404);
  });

  test('malformed bodies get a 400 with a message', async () => {
    const broken = await api('POST', '/api/queries', '{"sql": ');
    assert.equal(broken.status, 400);
    assert.match(String((broken.json.error as { message: string }).message), /JSON/);
    const shape = await api('PUT', '/api/dashboards/x', { name: 'x', visuals: 'none' });
    assert.equal(shape.status, 400);
    assert.match(String((shape.json.error as { message: string }).message), /Send a dashboard/);
  });

  test('writes from another site’s page are refused even with HTTP Basic; programs without Origin pass', async () => {
    const form = (headers: Record<string, string>) =>
      fetch(`${base}/api/sql`, {
        method: 'POST',
        headers: { authorization: ADMIN, 'content-type': 'text/plain', ...headers },
        body: 'DROP TABLE iot.reading; --=',
      });
    assert.equal((await form({ origin: 'http://evil.example' })).status, 403);
    assert.equal((await form({ 'sec-fetch-site': 'cross-site' })).status, 403);
    assert.equal((await form({ origin: 'null' })).status, 403);
    assert.equal(await tableCount(), 4);
    const program = await api('POST', '/api/sql', { sql: 'SELECT 1' });
    assert.equal(program.status, 200);
  });

  test('sign-in: no open redirect through a tab, a new session id each time, sign-out needs the token and ends the session', async () => {
    const signIn = (next: string, cookie?: string) =>
      fetch(`${base}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: base,
          ...(cookie ? { cookie } : {}),
        },
        body: new URLSearchParams({ user: 'eve', password: 'Viewer3pass', next }).toString(),
      });
    for (const next of ['/\t/evil.example/', '/\n/evil.example', '/%09/evil.example'.replace('%09', '\t')])
      assert.equal((await signIn(next)).headers.get('location'), '/');
    const first = (await signIn('/')).headers.get('set-cookie')!.split(';')[0]!;
    const second = (await signIn('/', first)).headers.get('set-cookie')!.split(';')[0]!;
    assert.notEqual(first, second);
    const as = (cookie: string) => fetch(`${base}/api/session`, { headers: { cookie } });
    assert.equal((await as(first)).status, 401, 'the session held before signing in again is gone');
    const { csrf } = (await (await as(second)).json()) as { csrf: string };
    const logout = (headers: Record<string, string>) =>
      fetch(`${base}/logout`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: second, ...headers },
      });
    assert.equal((await logout({})).status, 403, 'a sign-out without the token (another site) is refused');
    assert.equal((await as(second)).status, 200);
    assert.equal((await api('PUT', '/api/dashboards/nothing', { name: 'Nothing', visuals: [] })).status, 200);
    const stream = await fetch(`${base}/api/live?dashboard=nothing`, { headers: { cookie: second } });
    assert.equal(stream.status, 200);
    const reader = stream.body!.getReader();
    const out = await logout({ 'x-csrf-token': csrf, origin: base });
    assert.equal(out.status, 303);
    assert.match(out.headers.get('set-cookie') ?? '', /sluice_session=;.*HttpOnly/);
    assert.equal((await as(second)).status, 401);
    // The live dashboard open in the signed-out browser ends with the session.
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
  });

  test('with a certificate the console speaks HTTPS and its session cookie is Secure', async () => {
    const secure = createConsoleServer({
      warehouse,
      streams,
      metrics: new FirehoseMetrics(),
      logger: silentLogger,
      ready: () => true,
      tls: { cert: Buffer.from(TEST_CERT), key: Buffer.from(TEST_KEY) },
    });
    try {
      await secure.listen({ port: 0, host: '127.0.0.1' });
      const address = secure.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const answer = await new Promise<{ status: number; cookie: string }>((resolve, reject) => {
        const body = new URLSearchParams({ user: 'eve', password: 'Viewer3pass' }).toString();
        const request = httpsRequest(
          {
            host: '127.0.0.1',
            port,
            path: '/login',
            method: 'POST',
            ca: TEST_CERT,
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length },
          },
          (response) => {
            response.resume();
            resolve({
              status: response.statusCode ?? 0,
              cookie: String(response.headers['set-cookie'] ?? ''),
            });
          },
        );
        request.on('error', reject);
        request.end(body);
      });
      assert.equal(answer.status, 303);
      assert.match(answer.cookie, /; Secure/);
      assert.match(answer.cookie, /HttpOnly/);
    } finally {
      await secure.close();
    }
  });

  test('one user may hold only so many event streams open', { timeout: 30_000 }, async () => {
    assert.equal((await api('PUT', '/api/dashboards/empty', { name: 'Empty', visuals: [] })).status, 200);
    const controllers: AbortController[] = [];
    try {
      for (let i = 0; i < MAX_VIEWERS_PER_USER; i++) {
        const controller = new AbortController();
        controllers.push(controller);
        const response = await fetch(`${base}/api/live?dashboard=empty`, {
          headers: { authorization: EVE },
          signal: controller.signal,
        });
        assert.equal(response.status, 200);
      }
      const refused = await api('GET', '/api/live?dashboard=empty', undefined, EVE);
      assert.equal(refused.status, 429);
      assert.match(
        String((refused.json.error as { message: string }).message),
        /Too many open live dashboards/,
      );
    } finally {
      for (const controller of controllers) controller.abort();
    }
  });
});

describe('sign-in sessions', () => {
  test('a session ends after its idle time, and after a week however busy', (context) => {
    context.mock.timers.enable({ apis: ['Date'], now: 0 });
    const store = new SessionStore();
    const idle = store.create('eve');
    context.mock.timers.tick(SESSION_IDLE_MS + 1);
    assert.equal(store.get(idle.id), undefined);
    const busy = store.create('eve');
    for (let elapsed = 0; elapsed < SESSION_MAX_MS - 3_600_000; elapsed += 3_600_000) {
      assert.equal(store.get(busy.id)?.user, 'eve');
      context.mock.timers.tick(3_600_000);
    }
    context.mock.timers.tick(3_600_000 + 1);
    assert.equal(store.get(busy.id), undefined, 'used every hour, it still ends after a week');
  });
});

describe('sign-in sessions, many', () => {
  test('one user holds at most so many sessions; signing in again ends the oldest', () => {
    const store = new SessionStore();
    const first = store.create('eve');
    const other = store.create('ann');
    for (let i = 1; i < MAX_SESSIONS_PER_USER; i++) store.create('eve');
    assert.equal(store.get(first.id)?.user, 'eve');
    const newest = store.create('eve');
    assert.equal(store.get(first.id), undefined);
    assert.equal(store.get(newest.id)?.user, 'eve');
    assert.equal(store.get(other.id)?.user, 'ann', 'another user keeps theirs');
  });
});

describe('live hub', () => {
  test(
    'a visual that runs too long is cancelled and shows why; the others arrive',
    { timeout: 30_000 },
    async () => {
      const { warehouse, cleanup } = await openTestWarehouse();
      const hub = new LiveHub({ warehouse, logger: silentLogger, visualTimeoutMs: 500 });
      try {
        const slow: VisualSpec = {
          id: 'slow',
          title: 'slow',
          kind: 'kpi',
          source: {
            sql: 'SELECT a.x FROM generate_series(1, 10000000000) AS a(x), generate_series(1, 10) AS b(y)',
          },
        };
        const fast: VisualSpec = {
          id: 'fast',
          title: 'fast',
          kind: 'kpi',
          source: { sql: 'SELECT 1 AS one' },
        };
        const started = Date.now();
        const [slowAnswer, fastAnswer] = await Promise.all([
          hub.answer(slow, {}, 'awsuser'),
          hub.answer(fast, {}, 'awsuser'),
        ]);
        assert.deepEqual('data' in fastAnswer ? fastAnswer.data : fastAnswer, {
          kind: 'kpi',
          value: 1,
          label: 'count',
        });
        assert.match(
          'error' in slowAnswer ? slowAnswer.error : '',
          /ran longer than 0\.5 s and was cancelled/,
        );
        assert.ok(Date.now() - started < 10_000, `cancelled in ${Date.now() - started} ms`);
      } finally {
        await hub.close();
        await cleanup();
      }
    },
  );

  test(
    'a viewer that never reads is cut off instead of buffered without end',
    { timeout: 30_000 },
    async () => {
      const { warehouse, cleanup } = await openTestWarehouse();
      const hub = new LiveHub({ warehouse, logger: silentLogger });
      const admin = await warehouse.openSession('awsuser');
      try {
        await admin.execute('CREATE TABLE grow (x INTEGER)');
        let destroyed = false;
        let queued = 0;
        // A peer that reads nothing: everything written stays queued.
        const res = {
          writableEnded: false,
          get destroyed() {
            return destroyed;
          },
          get writableLength() {
            return queued;
          },
          writeHead() {
            return this;
          },
          write(text: string) {
            queued += text.length;
            return false;
          },
          on() {
            return this;
          },
          destroy() {
            destroyed = true;
          },
        };
        const spec: VisualSpec = {
          id: 't',
          title: 't',
          kind: 'table',
          // About 5 MB per answer, changed by every insert into grow.
          source: {
            sql: "SELECT repeat('x', 5000) AS pad, (SELECT count(*) FROM grow) AS n FROM generate_series(1, 1000) AS t(g)",
          },
          maxPoints: 1000,
        };
        hub.watch(res as unknown as ServerResponse, 'awsuser', { id: 'd', name: 'd', visuals: [spec] }, {});
        const deadline = Date.now() + 20_000;
        while (queued < 5_000_000 && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(hub.viewerCount, 1, 'one large answer goes through');
        for (let i = 0; i < 20 && !destroyed; i++) {
          await admin.execute(`INSERT INTO grow VALUES (${i})`);
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        assert.equal(destroyed, true, 'the stream is closed');
        assert.equal(hub.viewerCount, 0);
        assert.ok(queued < 6_000_000, `no second answer was queued: ${queued} bytes`);
      } finally {
        await admin.close();
        await hub.close();
        await cleanup();
      }
    },
  );
});
