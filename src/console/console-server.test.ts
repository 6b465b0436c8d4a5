/**
 * The console app in-process: sign-in and CSRF, the editor's paged runs and CSV export, live
 * dashboards pushed on commit, the lake browser and stream management.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { createDeliveryStreams, FirehoseMetrics, type DeliveryStreamService } from '../delivery/index.ts';
import { createLocalObjectStore, type ObjectStore } from '../lake/index.ts';
import { openTestWarehouse, type MemoryObjectStore } from '../warehouse/test-support.ts';
import type { Warehouse, WarehouseSession } from '../warehouse/index.ts';
import { silentLogger } from '../util/logger.ts';
import { createConsoleServer } from './console-server.ts';
import type { DashboardSpec } from './visuals.ts';

const BASIC = `Basic ${Buffer.from('awsuser:secret').toString('base64')}`;

describe('console server', () => {
  let app: FastifyInstance;
  let warehouse: Warehouse;
  let store: MemoryObjectStore;
  let streams: DeliveryStreamService;
  let cleanup: () => Promise<void>;
  let streamsDir: string;
  let lake: ObjectStore;
  let base: string;
  let cookie: string;
  let csrf: string;
  /** Statements each warehouse user ran through the console. */
  const executed: { user: string; sql: string }[] = [];

  before(async () => {
    ({ warehouse, store, cleanup } = await openTestWarehouse());
    streamsDir = await mkdtemp(join(tmpdir(), 'sluice-console-'));
    // The lake browser needs prefixes rolled up, as the real stores do.
    lake = createLocalObjectStore({ root: join(streamsDir, 'lake'), fsync: false });
    streams = await createDeliveryStreams({
      dir: streamsDir,
      objectStore: store,
      warehouse,
      metrics: new FirehoseMetrics(),
      logger: silentLogger,
      isEmbedded: () => true,
    });
    app = createConsoleServer({
      warehouse: countingStatements(warehouse, executed),
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
    const session = await warehouse.openSession('awsuser');
    await session.execute(
      'CREATE SCHEMA iot; CREATE TABLE iot.reading (ts BIGINT, temp NUMERIC(5,2), site VARCHAR(10))',
    );
    await session.execute(`INSERT INTO iot.reading VALUES (1700000000, 70.5, 'a'), (1700000060, 71.5, 'b')`);
    await session.close();
  });

  after(async () => {
    await app.close();
    await streams.close();
    await cleanup();
    await rm(streamsDir, { recursive: true, force: true });
  });

  /** A request as the signed-in browser sends it (cookie, and the CSRF token on writes). */
  async function call(method: string, path: string, body?: unknown, token = csrf): Promise<Response> {
    return fetch(`${base}${path}`, {
      method,
      headers: {
        cookie,
        ...(method !== 'GET' ? { 'x-csrf-token': token } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }

  test('nothing but /health and the sign-in page answers without signing in', async () => {
    assert.equal((await fetch(`${base}/health`)).status, 200);
    assert.equal((await fetch(`${base}/api/streams`)).status, 401);
    assert.equal((await fetch(`${base}/api/dashboards`)).status, 401);
    const page = await fetch(`${base}/`, { redirect: 'manual' });
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), '/login');
    const assets = await fetch(`${base}/assets/anything.js`, { redirect: 'manual' });
    assert.equal(assets.status, 303);
    assert.equal((await fetch(`${base}/login`)).status, 200);
  });

  test('sign-in sets an HttpOnly SameSite=Strict session cookie; a wrong password or another site is refused', async () => {
    const form = (password: string, origin?: string, next = '/#/query'): Promise<Response> =>
      fetch(`${base}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(origin ? { origin } : {}) },
        body: new URLSearchParams({ user: 'awsuser', password, next }).toString(),
      });
    // After signing in, only pages of this site are followed.
    for (const next of ['//evil.example/', '/\\evil.example/', 'https://evil.example/'])
      assert.equal((await form('secret', base, next)).headers.get('location'), '/');
    const wrong = await form('nope');
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /Wrong user name or password/);
    assert.equal((await form('secret', 'http://evil.example')).status, 403);
    const ok = await form('secret', base);
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/#/query');
    const setCookie = ok.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^sluice_session=[\w-]{40,};/);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    cookie = setCookie.split(';')[0]!;
    const session = (await (await call('GET', '/api/session')).json()) as { user: string; csrf: string };
    assert.equal(session.user, 'awsuser');
    csrf = session.csrf;
  });

  test('writes need the CSRF token with a cookie, and none with per-request authentication', async () => {
    const body = { name: 'Two rows', sql: 'SELECT * FROM iot.reading' };
    assert.equal((await call('PUT', '/api/saved-queries/two', body, 'wrong')).status, 403);
    assert.equal((await call('PUT', '/api/saved-queries/two', body)).status, 200);
    const basic = await fetch(`${base}/api/saved-queries/three`, {
      method: 'PUT',
      headers: { authorization: BASIC, 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, name: 'Three' }),
    });
    assert.equal(basic.status, 200);
    const list = (await (await call('GET', '/api/saved-queries')).json()) as { queries: { id: string }[] };
    assert.deepEqual(list.queries.map((q) => q.id).sort(), ['three', 'two']);
  });

  test('a saved query is a data set: its fields get roles and a visual draws from it', async () => {
    const catalog = (await (await call('GET', '/api/catalog')).json()) as {
      tables: { schema: string; name: string; columns: { name: string }[] }[];
    };
    const reading = catalog.tables.find((t) => t.schema === 'iot' && t.name === 'reading');
    assert.deepEqual(
      reading?.columns.map((c) => c.name),
      ['ts', 'temp', 'site'],
    );
    assert.ok(!catalog.tables.some((t) => t.schema === '_sluice'), 'metadata stays hidden');
    const source = { sql: 'SELECT ts AS at, temp * 2 AS double_temp, site FROM iot.reading' };
    const fields = (await (await call('POST', '/api/datasets/fields', { source })).json()) as {
      fields: { name: string; role: string; epoch?: string }[];
    };
    assert.deepEqual(
      fields.fields.map((f) => [f.name, f.role, f.epoch ?? '']),
      [
        ['at', 'time', 'seconds'],
        ['double_temp', 'measure', ''],
        ['site', 'dimension', ''],
      ],
    );
    const visual = (await (
      await call('POST', '/api/visual', {
        spec: {
          id: 'x',
          title: 'x',
          kind: 'bar',
          source,
          dimension: 'site',
          measure: 'double_temp',
          aggregation: 'max',
        },
      })
    ).json()) as { data: unknown };
    assert.deepEqual(visual.data, {
      kind: 'bar',
      bars: [
        { name: 'a', value: 141 },
        { name: 'b', value: 143 },
      ],
    });
  });

  test('a script answers per statement; large results come a page at a time through a cursor; CSV has every row', async () => {
    const sql =
      'SELECT 1 AS one;\nSELECT g AS n FROM generate_series(0, 24999) AS t(g) ORDER BY 1 -- all of them\n;\nSELECT nope FROM iot.reading';
    const run = (await (await call('POST', '/api/queries', { sql, id: 'run-1' })).json()) as {
      statements: { rows: unknown[][]; rowCount: number; offset: number }[];
      error: { statementIndex: number; position: number; offset: number };
    };
    assert.equal(run.statements.length, 2);
    assert.deepEqual(run.statements[0]!.rows, [[1]]);
    assert.equal(run.statements[1]!.rowCount, 25_000);
    assert.equal(run.statements[1]!.rows.length, 200);
    assert.equal(run.error.statementIndex, 2);
    assert.equal(sql.slice(run.error.position - 1, run.error.position + 3), 'nope');
    const held = (await (await call('GET', '/api/queries/run-1/1?offset=900')).json()) as {
      rows: unknown[][];
    };
    assert.equal(held.rows.length, 200);
    assert.deepEqual(held.rows[0], [900]);
    // Past the rows held on the server, the page is read again from the warehouse.
    const far = (await (await call('GET', '/api/queries/run-1/1?offset=24900')).json()) as {
      rows: unknown[][];
    };
    assert.equal(far.rows.length, 100);
    assert.deepEqual(far.rows[0], [24900]);
    const csv = await (await call('GET', '/api/queries/run-1/1/csv')).text();
    const lines = csv.trimEnd().split('\r\n');
    assert.equal(lines.length, 25_001);
    assert.equal(lines[0], 'n');
    assert.equal(lines[25_000], '24999');
  });

  test('a running script is cancelled on request', { timeout: 30_000 }, async () => {
    const running = call('POST', '/api/queries', {
      sql: 'SELECT count(*) FROM generate_series(1, 10000000000) AS a(x), generate_series(1, 10) AS b(y)',
      id: 'slow',
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const cancel = (await (await call('POST', '/api/queries/slow/cancel', {})).json()) as {
      cancelled: boolean;
    };
    assert.equal(cancel.cancelled, true);
    const answer = (await (await running).json()) as { error?: { sqlstate: string } };
    assert.equal(answer.error?.sqlstate, '57014');
  });

  test(
    'a live dashboard is pushed again when data commits; a failing visual shows its error alone',
    { timeout: 20_000 },
    async () => {
      const dashboard: DashboardSpec = {
        id: 'live',
        name: 'Live',
        visuals: [
          { id: 'count', title: 'Rows', kind: 'kpi', source: { table: 'iot.reading' } },
          { id: 'broken', title: 'Broken', kind: 'kpi', source: { table: 'iot.missing' } },
        ],
      };
      assert.equal((await call('PUT', '/api/dashboards/live', dashboard)).status, 200);
      const controller = new AbortController();
      const response = await fetch(`${base}/api/live?dashboard=live`, {
        headers: { cookie },
        signal: controller.signal,
      });
      assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      // Answers arrive in any order (visuals are computed side by side): queue them per visual.
      const queued = new Map<string, Record<string, unknown>[]>();
      const next = async (id: string): Promise<Record<string, unknown>> => {
        for (;;) {
          const waiting = queued.get(id);
          if (waiting && waiting.length > 0) return waiting.shift()!;
          const match = /event: visual\ndata: (.*)\n\n/.exec(buffer);
          if (match) {
            buffer = buffer.slice(match.index + match[0].length);
            const answer = JSON.parse(match[1]!) as Record<string, unknown>;
            const list = queued.get(String(answer.id)) ?? [];
            list.push(answer);
            queued.set(String(answer.id), list);
            continue;
          }
          const { value, done } = await reader.read();
          if (done) throw new Error('stream ended');
          buffer += decoder.decode(value, { stream: true });
        }
      };
      try {
        assert.deepEqual((await next('count')).data, { kind: 'kpi', value: 2, label: 'count' });
        assert.match(String((await next('broken')).error), /iot\.missing|does not exist/);
        const started = Date.now();
        const insert = await fetch(`${base}/api/sql`, {
          method: 'POST',
          headers: { authorization: BASIC, 'content-type': 'application/json' },
          body: JSON.stringify({ sql: `INSERT INTO iot.reading VALUES (1700000120, 72.5, 'c')` }),
        });
        assert.equal(insert.status, 200);
        assert.deepEqual((await next('count')).data, { kind: 'kpi', value: 3, label: 'count' });
        assert.ok(Date.now() - started < 2000, `pushed in ${Date.now() - started} ms`);
      } finally {
        controller.abort();
      }
    },
  );

  test(
    'viewers signed in as different users share one computation per commit; a viewer without SELECT sees only the error',
    { timeout: 30_000 },
    async () => {
      const admin = await warehouse.openSession('awsuser');
      await admin.execute(`
        CREATE TABLE iot.shared (ts BIGINT, temp NUMERIC(5,2));
        INSERT INTO iot.shared VALUES (1700000000, 60.5);
        CREATE USER ann PASSWORD 'Viewer1pass';
        CREATE USER bob PASSWORD 'Viewer2pass';
        CREATE USER eve PASSWORD 'Viewer3pass';
        GRANT USAGE ON SCHEMA iot TO ann, bob, eve;
        GRANT SELECT ON iot.shared TO ann, bob;
      `);
      const dashboard: DashboardSpec = {
        id: 'shared',
        name: 'Shared',
        visuals: [{ id: 'n', title: 'Rows', kind: 'kpi', source: { table: 'iot.shared' } }],
      };
      assert.equal((await call('PUT', '/api/dashboards/shared', dashboard)).status, 200);
      const watch = (user: string, password: string) =>
        openLive(`${base}/api/live?dashboard=shared`, {
          authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
        });
      const ann = await watch('ann', 'Viewer1pass');
      const bob = await watch('bob', 'Viewer2pass');
      const eve = await watch('eve', 'Viewer3pass');
      const isCheck = (e: { sql: string }) => / LIMIT 0$/.test(e.sql);
      const computed = () => executed.filter((e) => e.sql.includes('"iot"."shared"') && !isCheck(e));
      try {
        assert.equal((await ann.next('n')).data?.value, 1);
        assert.equal((await bob.next('n')).data?.value, 1);
        const denied = await eve.next('n');
        assert.equal(denied.data, undefined);
        assert.match(String(denied.error), /permission denied for relation shared \(SQLSTATE 42501\)/);
        assert.equal(computed().length, 1, 'the first answer is computed once for both viewers');

        executed.length = 0;
        await admin.execute('INSERT INTO iot.shared VALUES (1700000060, 61.5)');
        assert.equal((await ann.next('n')).data?.value, 2);
        assert.equal((await bob.next('n')).data?.value, 2);
        assert.deepEqual(
          computed().map((e) => e.user),
          ['awsuser'],
          'one warehouse computation per commit, shared by both viewers',
        );
        assert.deepEqual(
          executed.filter(isCheck),
          [],
          'an INSERT does not make viewers check their grants again',
        );

        // A REVOKE commits and is seen by the next refresh: bob gets the error, ann the data.
        await admin.execute('REVOKE SELECT ON iot.shared FROM bob');
        await admin.execute('INSERT INTO iot.shared VALUES (1700000120, 62.5)');
        assert.equal((await ann.next('n')).data?.value, 3);
        const revoked = await bob.next('n');
        assert.equal(revoked.data, undefined);
        assert.match(String(revoked.error), /permission denied for relation shared/);
        assert.equal(eve.pending(), 0, 'an unchanged error is not sent again');
      } finally {
        ann.close();
        bob.close();
        eve.close();
        await admin.close();
      }
    },
  );

  test('the lake browser lists prefixes, previews GZIP records, and uploads and downloads files', async () => {
    await lake.createBucket('lake');
    const body = gzipSync('{"guid":"a","temp":70}{"guid":"b","temp":71}');
    const put = await fetch(`${base}/api/lake/object?bucket=lake&key=message/2024/01/01/00/part.gz`, {
      method: 'PUT',
      headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/octet-stream' },
      body,
    });
    assert.equal(put.status, 200);
    const top = (await (await call('GET', '/api/lake/list?bucket=lake&prefix=message/')).json()) as {
      prefixes: string[];
    };
    assert.deepEqual(top.prefixes, ['message/2024/']);
    const preview = (await (
      await call('GET', '/api/lake/preview?bucket=lake&key=message/2024/01/01/00/part.gz')
    ).json()) as {
      gzip: boolean;
      records: string[];
    };
    assert.equal(preview.gzip, true);
    assert.deepEqual(preview.records, ['{"guid":"a","temp":70}', '{"guid":"b","temp":71}']);
    const download = await call('GET', '/api/lake/object?bucket=lake&key=message/2024/01/01/00/part.gz');
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), body);
    assert.match(download.headers.get('content-disposition') ?? '', /attachment; filename="part.gz"/);
  });

  test('repeated failed sign-ins from one address are answered ever more slowly; a good one resets', async () => {
    const attempt = async (password: string): Promise<[number, number]> => {
      const started = Date.now();
      const response = await fetch(`${base}/api/session`, {
        headers: { authorization: `Basic ${Buffer.from(`awsuser:${password}`).toString('base64')}` },
      });
      await response.arrayBuffer();
      return [response.status, Date.now() - started];
    };
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [status, ms] = await attempt(`guess-${i}`);
      assert.equal(status, 401);
      times.push(ms);
    }
    assert.ok(
      times.slice(0, 3).every((ms) => ms < 250),
      `first three answered at once: ${times.join(', ')} ms`,
    );
    assert.ok(times[3]! >= 240 && times[4]! >= 490, `then slowed down: ${times.join(', ')} ms`);
    const form = await fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
      body: new URLSearchParams({ user: 'awsuser', password: 'secret' }).toString(),
    });
    assert.equal(form.status, 303);
    const [status, ms] = await attempt('one-more-typo');
    assert.equal(status, 401);
    assert.ok(ms < 250, `a mistype after signing in is answered at once: ${ms} ms`);
  });

  test('streams are created, updated (UpdateDestination) and deleted through the API', async () => {
    await store.createBucket('out');
    const created = await call('POST', '/api/streams', {
      DeliveryStreamName: 'console-made',
      ExtendedS3DestinationConfiguration: {
        BucketARN: 'arn:aws:s3:::out',
        Prefix: 'x/',
        BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 60 },
      },
    });
    assert.equal(created.status, 200);
    const updated = await call('PUT', '/api/streams/console-made', {
      ExtendedS3DestinationUpdate: { BufferingHints: { SizeInMBs: 2, IntervalInSeconds: 5 } },
    });
    assert.equal(updated.status, 200);
    const detail = (await (await call('GET', '/api/streams/console-made')).json()) as {
      description: { Destinations: { ExtendedS3DestinationDescription: { BufferingHints: unknown } }[] };
    };
    assert.deepEqual(detail.description.Destinations[0]!.ExtendedS3DestinationDescription.BufferingHints, {
      SizeInMBs: 2,
      IntervalInSeconds: 5,
    });
    assert.equal((await call('DELETE', '/api/streams/console-made')).status, 200);
    assert.equal((await call('DELETE', '/api/streams/console-made', undefined, 'wrong')).status, 403);
  });
});

/** One answer on a live dashboard's event stream. */
interface LiveAnswer {
  readonly id: string;
  readonly data?: { readonly value?: unknown };
  readonly error?: string;
}

/** Opens a live dashboard's event stream; `next(id)` waits for that visual's next answer. */
async function openLive(url: string, headers: Record<string, string>) {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const queued = new Map<string, LiveAnswer[]>();
  const take = (): void => {
    for (let match; (match = /event: visual\ndata: (.*)\n\n/.exec(buffer));) {
      buffer = buffer.slice(match.index + match[0].length);
      const answer = JSON.parse(match[1]!) as LiveAnswer;
      queued.set(answer.id, [...(queued.get(answer.id) ?? []), answer]);
    }
  };
  return {
    async next(id: string): Promise<LiveAnswer> {
      for (;;) {
        take();
        const waiting = queued.get(id);
        if (waiting && waiting.length > 0) return waiting.shift()!;
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += decoder.decode(value, { stream: true });
      }
    },
    /** Answers received and not yet taken. */
    pending(): number {
      take();
      return [...queued.values()].reduce((n, list) => n + list.length, 0);
    },
    close: () => controller.abort(),
  };
}

/** The warehouse, recording each statement its sessions run. */
function countingStatements(warehouse: Warehouse, log: { user: string; sql: string }[]): Warehouse {
  const bind = <T extends object>(target: T, key: string | symbol): unknown => {
    const value: unknown = Reflect.get(target, key, target);
    return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
  };
  return new Proxy(warehouse, {
    get(target, key) {
      if (key !== 'openSession') return bind(target, key);
      return async (user: string): Promise<WarehouseSession> => {
        const session = await target.openSession(user);
        return new Proxy(session, {
          get(inner, innerKey) {
            if (innerKey !== 'execute') return bind(inner, innerKey);
            return (sql: string, options?: { readonly signal?: AbortSignal }) => {
              log.push({ user: inner.user, sql });
              return inner.execute(sql, options);
            };
          },
        });
      };
    },
  });
}
