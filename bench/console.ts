/**
 * Console benchmark: the demo dashboard over 10,000,000 readings (BENCH_CONSOLE_ROWS), in
 * headless Chromium against the console app served in this process.
 *
 *  - open:     from navigating to the dashboard to all five visuals drawn (target ≤ 1.5 s);
 *  - refresh:  from committing a new batch of readings to the message count on the page
 *              showing it (target ≤ 2 s), median of 5;
 *  - bytes:    bytes of server-sent events per refresh of the whole dashboard.
 *
 * Run alone with `node --import tsx bench/console.ts`; `measureConsole()` returns the figures.
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
import { silentLogger } from '../src/util/logger.ts';

const SEED = fileURLToPath(new URL('../seed-data/', import.meta.url));
const DIMENSIONS: readonly [string, string][] = [
  ['location', 'id, long, lat, description'],
  ['history', 'id, serviced, action, technician_id, notes'],
  ['sensor', 'id, guid, mac, sku, upc, active, notes'],
  ['manufacturer', 'id, name, website, notes'],
  ['sensors', 'sensor_id, manufacturer_id, location_id, history_id, message_guid'],
];

/** The figures of one run. */
export interface ConsoleFigures {
  readonly rows: number;
  readonly openMs: number;
  readonly refreshMsMedian: number;
  readonly bytesPerRefresh: number;
  readonly loadSeconds: number;
}

/** Loads the readings, serves the console, and measures it in Chromium. */
export async function measureConsole(
  rows = Number(process.env.BENCH_CONSOLE_ROWS ?? 10_000_000),
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
  const app = createConsoleServer({
    warehouse,
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
    await page.goto(`${base}/login`);
    await page.fill('#password', 'secret');
    await page.click('button[type=submit]');
    await page.waitForSelector('header .user');
    await page.goto(`${base}/#/query`);
    const drawn = '[data-visual=temperature] canvas, [data-visual=map] canvas';
    const opened = Date.now();
    await page.goto(`${base}/#/dashboards/demo`);
    await page.waitForSelector('[data-visual=messages] .kpi', { timeout: 60_000 });
    await page.waitForSelector('[data-visual=latency] .stats', { timeout: 60_000 });
    await page.waitForSelector('[data-visual=per-sensor] canvas', { timeout: 60_000 });
    await page.waitForFunction(
      (selector) =>
        (
          globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }
        ).document.querySelectorAll(selector).length >= 2,
      drawn,
      { timeout: 60_000 },
    );
    const openMs = Date.now() - opened;

    const refreshes: number[] = [];
    let bytesPerRefresh = 0;
    for (let i = 0; i < 5; i++) {
      const before = Number(await page.getAttribute('[data-visual=messages] .kpi', 'data-value'));
      const bytesBefore = sseBytes;
      const committed = Date.now();
      const now = Math.floor(Date.now() / 1000);
      await session.execute(
        `INSERT INTO sensor.message (guid, ts, temp) SELECT guid, ${now}, 70 FROM sensor.sensor`,
      );
      await page.waitForFunction(
        (n) =>
          Number(
            (
              globalThis as unknown as {
                document: { querySelector(s: string): { getAttribute(a: string): string | null } | null };
              }
            ).document
              .querySelector('[data-visual=messages] .kpi')
              ?.getAttribute('data-value'),
          ) > n,
        before,
        { timeout: 30_000 },
      );
      refreshes.push(Date.now() - committed);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      bytesPerRefresh = sseBytes - bytesBefore;
    }
    refreshes.sort((a, b) => a - b);
    return { rows, openMs, refreshMsMedian: refreshes[2]!, bytesPerRefresh, loadSeconds };
  } finally {
    await browser.close();
    await app.close();
    await streams.close();
    await session.close();
    await cleanup();
    await rm(streamsDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const figures = await measureConsole();
  process.stdout.write(
    [
      `readings                                       ${figures.rows.toLocaleString('en-US')} (loaded in ${figures.loadSeconds.toFixed(1)} s)`,
      `open the demo dashboard → all visuals drawn    ${figures.openMs} ms   (target ≤ 1,500 ms)`,
      `commit → message count on the page (median)    ${figures.refreshMsMedian} ms   (target ≤ 2,000 ms)`,
      `bytes of events per dashboard refresh          ${figures.bytesPerRefresh.toLocaleString('en-US')}`,
    ].join('\n') + '\n',
  );
}
