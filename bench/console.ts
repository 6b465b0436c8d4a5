/**
 * Console benchmark: the demo dashboard over 10,000,000 readings (BENCH_CONSOLE_ROWS), in
 * headless Chromium against the console app served in this process.
 *
 *  - open:     from navigating to the dashboard to every visual drawn (target ≤ 1.5 s),
 *              median of 3, each after a commit so the visuals are computed, not cached;
 *  - refresh:  from committing a new batch of readings to the message count on the page
 *              showing it (target ≤ 2 s), median of 5;
 *  - bytes:    bytes of server-sent events per refresh of the whole dashboard;
 *  - viewers:  the warehouse work of one refresh (statements run and their time, permission
 *              checks included) with BENCH_CONSOLE_VIEWERS viewers (10), each signed in as a
 *              different user, against one viewer (target: about 1×, not N×).
 *
 * Run alone with `node --import tsx bench/console.ts`, or as the `console` phase of
 * `npm run bench`; `measureConsole()` returns the figures.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createDeliveryStreams, FirehoseMetrics } from '../src/delivery/index.ts';
import { createConsoleServer, DEMO_DASHBOARD, DEMO_VIEW_SQL } from '../src/console/index.ts';
import { SCHEMA_SQL } from '../src/cli/demo.ts';
import { openTestWarehouse } from '../src/warehouse/test-support.ts';
import type { Warehouse, WarehouseSession } from '../src/warehouse/index.ts';
import { silentLogger } from '../src/util/logger.ts';

const SEED = fileURLToPath(new URL('../seed-data/', import.meta.url));
const DIMENSIONS: readonly [string, string][] = [
  ['location', 'id, long, lat, description'],
  ['history', 'id, serviced, action, technician_id, notes'],
  ['sensor', 'id, guid, mac, sku, upc, active, notes'],
  ['manufacturer', 'id, name, website, notes'],
  ['sensors', 'sensor_id, manufacturer_id, location_id, history_id, message_guid'],
];

/** Warehouse work of one dashboard refresh. */
export interface RefreshWork {
  /** Statements the console ran. */
  readonly statements: number;
  /** Their summed time from call to answer in ms (waiting for a busy session included). */
  readonly ms: number;
}

/** The figures of one run. */
export interface ConsoleFigures {
  readonly rows: number;
  /** Median of the opens. */
  readonly openMs: number;
  readonly openRuns: readonly number[];
  readonly refreshMsMedian: number;
  readonly refreshRuns: readonly number[];
  readonly bytesPerRefresh: number;
  readonly loadSeconds: number;
  /** Viewers watching in the shared-work measurement. */
  readonly viewers: number;
  /** Warehouse work of one refresh with one viewer, and with `viewers` viewers. */
  readonly workOneViewer: RefreshWork;
  readonly workManyViewers: RefreshWork;
}

/** Counts the statements the console's sessions run, and their time. */
class WorkMeter {
  statements = 0;
  ms = 0;
  /** Statements running now, and when the last one ended. */
  private running = 0;
  private lastEnd = 0;

  /** The warehouse, measured. */
  wrap(warehouse: Warehouse): Warehouse {
    const begin = (): void => {
      this.running++;
    };
    const count = (ms: number): void => {
      this.statements++;
      this.ms += ms;
      this.running--;
      this.lastEnd = Date.now();
    };
    const bind = <T extends object>(target: T, key: string | symbol): unknown => {
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    };
    return new Proxy(warehouse, {
      get(target, key) {
        if (key !== 'openSession') return bind(target, key);
        return async (user: string): Promise<WarehouseSession> =>
          new Proxy(await target.openSession(user), {
            get(session, sessionKey) {
              if (sessionKey !== 'execute') return bind(session, sessionKey);
              return async (sql: string, options?: { readonly signal?: AbortSignal }) => {
                const started = performance.now();
                begin();
                try {
                  return await session.execute(sql, options);
                } finally {
                  count(performance.now() - started);
                }
              };
            },
          });
      },
    });
  }

  /** The work done while `job` ran and until the console's sessions were idle for `quietMs`. */
  async during(job: () => Promise<void>, quietMs = 700): Promise<RefreshWork> {
    const statements = this.statements;
    const ms = this.ms;
    await job();
    while (this.running > 0 || Date.now() - this.lastEnd < quietMs)
      await new Promise((resolve) => setTimeout(resolve, 50));
    return { statements: this.statements - statements, ms: Math.round(this.ms - ms) };
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

/** Loads the readings, serves the console, and measures it in Chromium. */
export async function measureConsole(
  rows = Number(process.env.BENCH_CONSOLE_ROWS ?? 10_000_000),
  viewers = Number(process.env.BENCH_CONSOLE_VIEWERS ?? 10),
): Promise<ConsoleFigures> {
  // The server's own defaults: cores - 1 threads, 2 GB.
  const { warehouse, store, cleanup } = await openTestWarehouse({
    threads: Math.max(1, availableParallelism() - 1),
    memoryLimit: '2GB',
  });
  const streamsDir = await mkdtemp(join(tmpdir(), 'sluice-bench-console-'));
  const loadStarted = Date.now();
  const session = await warehouse.openSession('awsuser');
  await session.execute(SCHEMA_SQL);
  for (const [table, columns] of DIMENSIONS) {
    await store.put(`s3://seed/${table}/${table}.csv`, await readFile(join(SEED, `${table}.csv`)));
    await session.execute(`COPY sensor.${table} (${columns}) FROM 's3://seed/${table}/' CSV IGNOREHEADER 1`);
  }
  // Six sensors, one reading each per second, ending now; created a second after ts.
  const start = Math.floor(Date.now() / 1000) - Math.ceil(rows / 6);
  await session.execute(`
    INSERT INTO sensor.message (guid, ts, temp, created)
    SELECT s.guid, ${start} + g.i / 6, round((sin(g.i / 60.0) + 1) * 10 + 65, 2),
           TIMESTAMP 'epoch' + (${start} + g.i / 6 + 1) * INTERVAL '1 second'
    FROM generate_series(0, ${rows - 1}) AS g(i)
    JOIN sensor.sensor s ON s.id = 1 + g.i % 6`);
  await session.execute(DEMO_VIEW_SQL);
  // Viewers other than the page's, each its own user with SELECT on the demo's tables.
  const others = Array.from({ length: Math.max(0, viewers - 1) }, (_, i) => `viewer${i + 1}`);
  for (const user of others)
    await session.execute(
      `CREATE USER ${user} PASSWORD 'Viewer1pass'; GRANT USAGE ON SCHEMA sensor TO ${user}; ` +
        `GRANT SELECT ON ALL TABLES IN SCHEMA sensor TO ${user}`,
    );
  await warehouse.saveDocument({
    kind: 'dashboard',
    id: DEMO_DASHBOARD.id,
    name: DEMO_DASHBOARD.name,
    body: JSON.stringify(DEMO_DASHBOARD),
  });
  const loadSeconds = (Date.now() - loadStarted) / 1000;

  const streams = await createDeliveryStreams({
    dir: streamsDir,
    objectStore: store,
    warehouse,
    metrics: new FirehoseMetrics(),
    logger: silentLogger,
    isEmbedded: () => true,
  });
  const meter = new WorkMeter();
  const app = createConsoleServer({
    warehouse: meter.wrap(warehouse),
    serviceUser: 'awsuser',
    streams,
    metrics: new FirehoseMetrics(),
    objectStore: store,
    logger: silentLogger,
    ready: () => true,
  });
  // Count the bytes of every event stream the server writes.
  let sseBytes = 0;
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/api/live')) return;
    const raw = request.raw.socket;
    const write = raw.write.bind(raw) as (chunk: unknown, ...rest: unknown[]) => boolean;
    raw.write = ((chunk: unknown, ...rest: unknown[]) => {
      sseBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Buffer).length;
      return write(chunk, ...rest);
    }) as typeof raw.write;
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
    let liveUrl = '';
    page.on('request', (request) => {
      if (request.url().includes('/api/live')) liveUrl = request.url();
    });
    await page.goto(`${base}/login`);
    await page.fill('#password', 'secret');
    await page.click('button[type=submit]');
    await page.waitForSelector('header .user');
    // Signing in lands on the demo dashboard: let its first computation finish before timing.
    await page.waitForSelector('[data-visual=latency] .stats', { timeout: 120_000 });
    let readingAt = Math.floor(Date.now() / 1000);
    const commit = () =>
      session.execute(
        `INSERT INTO sensor.message (guid, ts, temp) SELECT guid, ${++readingAt}, 70 FROM sensor.sensor`,
      );
    const kpi = '[data-visual=messages] .kpi';
    type Doc = {
      document: {
        querySelector(s: string): { getAttribute(a: string): string | null } | null;
        querySelectorAll(s: string): { length: number };
      };
    };
    const countOnPage = async () => Number(await page.getAttribute(kpi, 'data-value'));
    const countAbove = (n: number) =>
      page.waitForFunction(
        ([selector, above]) =>
          Number(
            (globalThis as unknown as Doc).document.querySelector(selector)?.getAttribute('data-value'),
          ) > above,
        [kpi, n] as const,
        { timeout: 30_000 },
      );

    const openRuns: number[] = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(`${base}/#/query`);
      await page.waitForSelector('.cm-editor');
      // New data since the last view: the dashboard is computed, not served from the cache.
      await commit();
      const opened = Date.now();
      await page.goto(`${base}/#/dashboards/demo`);
      await page.waitForSelector(kpi, { timeout: 60_000 });
      await page.waitForSelector('[data-visual=latency] .stats', { timeout: 60_000 });
      await page.waitForSelector('[data-visual=per-sensor] canvas', { timeout: 60_000 });
      await page.waitForFunction(
        (selector) => (globalThis as unknown as Doc).document.querySelectorAll(selector).length >= 2,
        '[data-visual=temperature] canvas, [data-visual=map] canvas',
        { timeout: 60_000 },
      );
      openRuns.push(Date.now() - opened);
    }

    const refreshRuns: number[] = [];
    let bytesPerRefresh = 0;
    let workOneViewer: RefreshWork = { statements: 0, ms: 0 };
    for (let i = 0; i < 5; i++) {
      const before = await countOnPage();
      const bytesBefore = sseBytes;
      const work = await meter.during(async () => {
        const committed = Date.now();
        await commit();
        await countAbove(before);
        refreshRuns.push(Date.now() - committed);
        // The rest of the dashboard's answers follow the count: the meter waits for them.
      });
      if (i === 4) workOneViewer = work;
      bytesPerRefresh = sseBytes - bytesBefore;
    }

    // The same dashboard and filters watched by more users at once.
    const streamsOpen = others.map((user) => watchLive(liveUrl, user, 'Viewer1pass'));
    await Promise.all(streamsOpen.map((s) => s.answers(DEMO_DASHBOARD.visuals.length)));
    const before = await countOnPage();
    const workManyViewers = await meter.during(async () => {
      await commit();
      await countAbove(before);
      await Promise.all(streamsOpen.map((s) => s.answers(1)));
    });
    for (const s of streamsOpen) s.close();
    return {
      rows,
      openMs: median(openRuns),
      openRuns,
      refreshMsMedian: median(refreshRuns),
      refreshRuns,
      bytesPerRefresh,
      loadSeconds,
      viewers: others.length + 1,
      workOneViewer,
      workManyViewers,
    };
  } finally {
    await browser.close();
    await app.close();
    await streams.close();
    await session.close();
    await cleanup();
    await rm(streamsDir, { recursive: true, force: true });
  }
}

/** A live event stream read as a program does (HTTP Basic): `answers(n)` waits for n more visual answers. */
function watchLive(url: string, user: string, password: string) {
  const controller = new AbortController();
  let received = 0;
  const waiting: { count: number; resolve: () => void }[] = [];
  void (async () => {
    const response = await fetch(url, {
      headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
      signal: controller.signal,
    });
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of response.body!) {
      text += decoder.decode(chunk as Uint8Array, { stream: true });
      const events = text.split('\n\n');
      text = events.pop() ?? '';
      received += events.filter((e) => e.startsWith('event: visual')).length;
      for (const w of [...waiting])
        if (received >= w.count) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve();
        }
    }
  })().catch(() => undefined);
  return {
    answers(n: number): Promise<void> {
      const count = received + n;
      return new Promise<void>((resolve, reject) => {
        if (received >= count) return resolve();
        waiting.push({ count, resolve });
        setTimeout(() => reject(new Error(`${user}: no answer in 60 s`)), 60_000).unref();
      });
    },
    close: () => controller.abort(),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const figures = await measureConsole();
  process.stdout.write(
    [
      `readings                                       ${figures.rows.toLocaleString('en-US')} (loaded in ${figures.loadSeconds.toFixed(1)} s)`,
      `open the demo dashboard → all visuals drawn    ${figures.openMs} ms median of ${figures.openRuns.join(', ')}   (target ≤ 1,500 ms)`,
      `commit → message count on the page             ${figures.refreshMsMedian} ms median of ${figures.refreshRuns.join(', ')}   (target ≤ 2,000 ms)`,
      `bytes of events per dashboard refresh          ${figures.bytesPerRefresh.toLocaleString('en-US')}`,
      `warehouse work per refresh, 1 viewer           ${figures.workOneViewer.statements} statements, ${figures.workOneViewer.ms} ms`,
      `warehouse work per refresh, ${figures.viewers} viewers          ${figures.workManyViewers.statements} statements, ${figures.workManyViewers.ms} ms`,
    ].join('\n') + '\n',
  );
}
