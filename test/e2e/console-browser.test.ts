/**
 * The console in a real browser (Debian's headless Chromium through playwright-core) against
 * `sluice demo`: sign-in, the live demo dashboard, the query editor, building a visual into
 * a new dashboard, and that dashboard surviving a restart. Screenshots of the key pages go
 * to `artifacts/console/`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { removeDataDir, startSluice, type SluiceProcess } from '../support/sluice-process.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../artifacts/console/', import.meta.url));
/** A 1×1 grey PNG, served for every tile. */
const TILE_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGPo6AAAAYQBAWWKAaMAAAAASUVORK5CYII=',
  'base64',
);

/** A local slippy-map tile server that records the tiles asked for. */
async function startTileServer(): Promise<{ url: string; requests: string[]; close(): void }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'image/png' }).end(TILE_PNG);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    requests,
    close: () => server.close(),
  };
}

/** The part of an image element the page-side checks use. */
interface TileImage {
  readonly complete: boolean;
  readonly naturalWidth: number;
}

/** The part of a DOM element the page-side checks use. */
interface Element {
  getAttribute(name: string): string | null;
}

const BUILT = fileURLToPath(new URL('../../dist/console/index.html', import.meta.url));

/** Starts headless Chromium; a second try when the first start stalls (seen on a loaded machine). */
async function launch(): Promise<Browser> {
  const options = {
    executablePath: CHROMIUM,
    timeout: 30_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  };
  try {
    return await chromium.launch(options);
  } catch {
    return chromium.launch(options);
  }
}

describe('the console in a browser', () => {
  let sluice: SluiceProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let tiles: Awaited<ReturnType<typeof startTileServer>>;

  async function signIn(target: Page, password: string): Promise<void> {
    await target.goto(sluice.consoleUrl);
    await target.waitForURL(/\/login/);
    await target.fill('#user', 'awsuser');
    await target.fill('#password', password);
    await target.click('button[type=submit]');
    await target.waitForSelector('header .user');
  }

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
  }

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
    assert.ok(existsSync(BUILT), 'dist/console is missing: npm run build:console');
    await mkdir(ARTIFACTS, { recursive: true });
    tiles = await startTileServer();
    [sluice, browser] = await Promise.all([startSluice({ args: ['demo', '--interval', '250ms'] }), launch()]);
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
  });

  after(async () => {
    tiles?.close();
    await browser?.close();
    if (sluice) {
      await sluice.stop();
      await removeDataDir(sluice.dataDir);
    }
  });

  test('pages and their API need a signed-in session; signing in sets an HttpOnly SameSite cookie', async () => {
    const api = await fetch(`${sluice.consoleUrl}/api/streams`);
    assert.equal(api.status, 401);
    const home = await fetch(`${sluice.consoleUrl}/`, { redirect: 'manual' });
    assert.equal(home.status, 303);
    assert.match(home.headers.get('location') ?? '', /\/login/);

    await page.goto(sluice.consoleUrl);
    await page.fill('#user', 'awsuser');
    await page.fill('#password', 'wrong password');
    await page.click('button[type=submit]');
    assert.match((await page.textContent('.error')) ?? '', /Wrong user name or password/);

    await signIn(page, sluice.password);
    const [cookie] = (await context.cookies()).filter((c) => c.name === 'sluice_session');
    assert.ok(cookie, 'session cookie set');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    // A write without the CSRF token is refused even with the cookie.
    const refused = await page.evaluate(async () => {
      const r = await fetch('/api/saved-queries/x', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x', sql: 'SELECT 1' }),
      });
      return r.status;
    });
    assert.equal(refused, 403);
  });

  test('the demo dashboard shows six sensor series, six map points, and a message count that grows', async () => {
    await page.goto(`${sluice.consoleUrl}/#/`);
    await page.waitForSelector('[data-visual=temperature] [data-series-count="6"]', { timeout: 20_000 });
    await page.waitForSelector('[data-visual=map] [data-point-count="6"]');
    await page.waitForSelector('[data-visual=latency] .stats');
    assert.match((await page.textContent('[data-visual=latency] .stats')) ?? '', /min .* max .* avg/);
    const bars = await page.textContent('[data-visual=per-sensor]');
    assert.match(bars ?? '', /Messages per sensor/);

    const count = async (): Promise<number> =>
      Number(await page.getAttribute('[data-visual=messages] .kpi', 'data-value'));
    await page.waitForSelector('[data-visual=messages] .kpi');
    const first = await count();
    assert.ok(first > 0, `messages shown: ${first}`);
    // No reload: the server pushes the new count after the next batch commits.
    await page.waitForFunction(
      (before) => {
        // Runs in the page, where `document` exists (this file is type-checked without the DOM lib).
        const doc = (globalThis as unknown as { document: { querySelector(s: string): Element | null } })
          .document;
        return Number(doc.querySelector('[data-visual=messages] .kpi')?.getAttribute('data-value')) > before;
      },
      first,
      { timeout: 10_000 },
    );
    assert.ok((await count()) > first);
    await shot('dashboard');
  });

  test('the query editor runs a two-statement script and marks an error where it is', async () => {
    await page.goto(`${sluice.consoleUrl}/#/query`);
    await page.waitForSelector('.cm-content');
    const script = async (sql: string): Promise<void> => {
      await page.click('.cm-content');
      await page.keyboard.press('Control+A');
      await page.keyboard.press('Delete');
      await page.keyboard.insertText(sql);
      await page.click('button:has-text("Run")');
    };
    await script(
      'SELECT count(*) AS n FROM sensor.message;\nSELECT id, guid FROM sensor.sensor ORDER BY id;',
    );
    await page.waitForSelector('.result[data-statement="1"] table');
    assert.equal(await page.locator('.result[data-statement]').count(), 2);
    assert.equal(await page.locator('.result[data-statement="1"] tbody tr').count(), 6);
    assert.ok(Number(await page.textContent('.result[data-statement="0"] tbody td.num')) > 0);
    await shot('query-editor');

    // Completion knows the schema's tables and their columns.
    await page.click('.cm-content');
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type('SELECT * FROM sensor.mes');
    await page.waitForSelector('.cm-tooltip-autocomplete li:has-text("message")');
    await page.keyboard.press('Escape');

    await script('SELECT 1;\nSELECT nosuchcolumn FROM sensor.message;');
    await page.waitForSelector('.result.failed');
    assert.match((await page.textContent('.result.failed')) ?? '', /2\. ERROR: .*nosuchcolumn/);
    assert.equal(await page.textContent('.cm-error-mark'), 'nosuchcolumn');
    assert.equal(await page.locator('.result[data-statement]').count(), 1);
  });

  test('a delivery stream shows its configuration and metrics; the lake shows its objects and previews GZIP records', async () => {
    await page.goto(`${sluice.consoleUrl}/#/streams`);
    await page.click('a:has-text("redshift-delivery-stream")');
    await page.waitForSelector('dl.config');
    assert.match(
      (await page.textContent('dl.config')) ?? '',
      /COPY sensor\.message \(guid, ts, temp\) JSON 'auto' GZIP/,
    );
    await page.waitForSelector('.card:has-text("Incoming records") canvas');
    await shot('stream');

    await page.goto(`${sluice.consoleUrl}/#/lake/redshift-stack-databucket/message`);
    // Down the YYYY/MM/DD/HH/ folders to the first object.
    for (let depth = 0; depth < 4; depth++) {
      await page.locator('td a:text-matches("^\\\\d+/$")').first().click();
      await page.waitForSelector('table.grid tbody tr');
    }
    await page.locator('td button.link').first().click();
    await page.waitForSelector('[data-preview]');
    assert.match((await page.textContent('[data-preview]')) ?? '', /^\{"guid":/);
    assert.match((await page.textContent('.card .muted')) ?? '', /GZIP/);
    await shot('lake');
  });

  test('a line chart built from a view is saved to a new dashboard and survives a restart', async () => {
    await page.goto(`${sluice.consoleUrl}/#/analysis`);
    await page.waitForSelector('#dataset option[value="table:sensor.sensor_readings"]', {
      state: 'attached',
    });
    await page.selectOption('#dataset', 'table:sensor.sensor_readings');
    await page.waitForSelector('[data-field=ts][data-role=time]');
    assert.equal(await page.getAttribute('[data-field=lat]', 'data-role'), 'latitude');
    await page.selectOption('#kind', 'line');
    await page.fill('#title', 'Temperature by location');
    await page.selectOption('#time', 'ts');
    await page.selectOption('#dimension', 'location');
    await page.selectOption('#measure', 'temp');
    await page.selectOption('#aggregation', 'max');
    await page.click('button:has-text("Preview")');
    await page.waitForSelector('[data-preview-visual] [data-series-count="6"]');
    await page.selectOption('#dashboard', '');
    await page.fill('#newDashboard', 'Operations');
    await page.click('button:has-text("Add to dashboard")');
    await page.waitForURL(/#\/dashboards\/operations/);
    await page.waitForSelector('[data-kind=line] [data-series-count="6"]');
    await shot('new-dashboard');

    const dataDir = sluice.dataDir;
    const ports = { aws: sluice.awsPort, sql: sluice.sqlPort, console: sluice.consolePort };
    assert.equal(await sluice.stop(), 0);
    await page.waitForSelector('.banner:has-text("connection to the server was lost")');
    // The restarted server also has a base-map tile server configured.
    sluice = await startSluice({
      dataDir,
      ports,
      args: ['up'],
      env: { SLUICE_TILE_URL: `${tiles.url}/{z}/{x}/{y}.png` },
    });
    // Sessions live in memory: the restart signed everyone out, and the open page says so.
    await page.waitForURL(/\/login\?next=/, { timeout: 15_000 });
    await page.fill('#password', sluice.password);
    await page.click('button[type=submit]');
    await page.waitForURL(/#\/dashboards\/operations/);
    await page.waitForSelector('[data-kind=line] [data-series-count="6"]', { timeout: 20_000 });
    assert.match((await page.textContent('main h1')) ?? '', /Operations/);
    assert.match((await page.textContent('[data-kind=line] h2')) ?? '', /Temperature by location/);

    await page.goto(`${sluice.consoleUrl}/#/dashboards/demo`);
    await page.waitForSelector('[data-visual=map] [data-point-count="6"]');
    await page.waitForFunction(
      () => {
        const doc = (
          globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<TileImage> } }
        ).document;
        const images = Array.from(doc.querySelectorAll('[data-visual=map] .tiles img'));
        return images.length > 0 && images.every((img) => img.complete && img.naturalWidth > 0);
      },
      undefined,
      { timeout: 10_000 },
    );
    assert.ok(
      tiles.requests.some((path) => /^\/1[5-9]\/\d+\/\d+\.png$/.test(path)),
      tiles.requests.join(' '),
    );
    await shot('map-tiles');
  });
});
