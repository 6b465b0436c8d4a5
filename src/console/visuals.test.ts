/**
 * Field-role detection, time bucketing and downsampling, each checked against what the
 * warehouse itself computes over the same rows; and the live hub's shared cache, which a
 * commit (and only a commit) makes stale.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { openTestWarehouse } from '../warehouse/test-support.ts';
import type { Warehouse, WarehouseSession } from '../warehouse/index.ts';
import { silentLogger } from '../util/logger.ts';
import { computeVisual, LiveHub } from './live.ts';
import {
  chooseBucket,
  detectRoles,
  planVisual,
  preferredDimension,
  VisualError,
  type VisualData,
  type VisualSpec,
} from './visuals.ts';

const T0 = 1_700_000_000;
const ROWS_PER_SENSOR = 50_000;
const SPIKE_AT = T0 + 31_337;

describe('visuals against the warehouse', () => {
  let warehouse: Warehouse;
  let session: WarehouseSession;
  let cleanup: () => Promise<void>;

  const scalar = async (sql: string): Promise<number> =>
    Number((await session.execute(sql))[0]?.rows[0]?.[0]);

  before(async () => {
    ({ warehouse, cleanup } = await openTestWarehouse());
    session = await warehouse.openSession('awsuser');
    await session.execute(`
      CREATE SCHEMA iot;
      CREATE TABLE iot.reading (id BIGINT IDENTITY(1,1), guid VARCHAR(36), ts BIGINT, temp NUMERIC(5,2),
        created TIMESTAMP, lat NUMERIC(10,7), long NUMERIC(10,7), sensor_id INTEGER, site VARCHAR(20));
      INSERT INTO iot.reading (guid, ts, temp, created, lat, long, sensor_id, site)
        SELECT 'sensor-' || (i % 3), ${T0} + (i / 3), round(90 + 20 * sin(i / 3000.0), 2),
               TIMESTAMP '2023-11-14 22:13:20' + (i / 3) * INTERVAL '1 second',
               37.70 + (i % 3) / 1000.0, -122.41 - (i % 3) / 1000.0, i % 3, 'site ' || (i % 3)
        FROM generate_series(0, ${ROWS_PER_SENSOR * 3 - 1}) AS g(i);
      UPDATE iot.reading SET temp = 999.99 WHERE ts = ${SPIKE_AT} AND guid = 'sensor-1';
    `);
  });

  after(async () => {
    await session.close();
    await cleanup();
  });

  const line = (extra: Partial<VisualSpec> = {}): VisualSpec => ({
    id: 'v',
    title: 'Temperature',
    kind: 'line',
    source: { table: 'iot.reading' },
    time: 'ts',
    timeEpoch: 'seconds',
    dimension: 'guid',
    measure: 'temp',
    aggregation: 'avg',
    maxPoints: 600,
    ...extra,
  });

  test('field roles: epoch seconds and timestamps are time, lat/long are coordinates, text and ids are dimensions', async () => {
    const [sample] = await session.execute('SELECT * FROM iot.reading LIMIT 200');
    const fields = detectRoles(sample!.columns, sample!.rows);
    const roles = Object.fromEntries(fields.map((f) => [f.name, f.epoch ? `${f.role}:${f.epoch}` : f.role]));
    // The split field offered first: text, few values, not a key.
    assert.equal(preferredDimension(fields), 'site');
    assert.deepEqual(roles, {
      id: 'dimension',
      guid: 'dimension',
      ts: 'time:seconds',
      temp: 'measure',
      created: 'time',
      lat: 'latitude',
      long: 'longitude',
      sensor_id: 'dimension',
      site: 'dimension',
    });
  });

  test('a line over 150,000 readings sends at most its point budget, with each bucket equal to the warehouse aggregate', async () => {
    const data = (await computeVisual(session, line(), {})) as Extract<VisualData, { kind: 'line' }>;
    const points = data.series.reduce((n, s) => n + s.points.length, 0);
    assert.equal(data.series.length, 3);
    assert.ok(points <= 600, `${points} points`);
    assert.ok(points >= 300, `the budget is used, not wasted: ${points} points`);
    const width = data.bucketSeconds;
    const series = data.series.find((s) => s.name === 'sensor-2')!;
    for (const [ms, avg, min, max] of [series.points[0]!, series.points[57]!, series.points.at(-1)!]) {
      const from = ms / 1000;
      const [direct] = await session.execute(
        `SELECT avg(temp), min(temp), max(temp) FROM iot.reading WHERE guid = 'sensor-2' AND ts >= ${from} AND ts < ${from + width}`,
      );
      const [dAvg, dMin, dMax] = direct!.rows[0]!.map(Number);
      assert.ok(Math.abs(avg! - dAvg!) < 1e-9, `avg ${avg} vs ${dAvg}`);
      assert.equal(min, dMin);
      assert.equal(max, dMax);
    }
  });

  test('downsampling keeps peaks: the one-reading spike survives as its bucket maximum', async () => {
    const data = (await computeVisual(session, line({ maxPoints: 100 }), {})) as Extract<
      VisualData,
      { kind: 'line' }
    >;
    const peak = Math.max(
      ...data.series.find((s) => s.name === 'sensor-1')!.points.map((p) => p[3] ?? -Infinity),
    );
    assert.equal(peak, await scalar(`SELECT max(temp) FROM iot.reading WHERE guid = 'sensor-1'`));
    assert.equal(peak, 999.99);
    const others = data.series
      .filter((s) => s.name !== 'sensor-1')
      .flatMap((s) => s.points.map((p) => p[3]!));
    assert.ok(Math.max(...others) < 200);
  });

  test('count per bucket adds up to the rows in the warehouse; a fixed bucket too fine for the budget is widened and says so', async () => {
    const data = (await computeVisual(
      session,
      line({ aggregation: 'count', measure: undefined, bucket: '1m', maxPoints: 300 }),
      {},
    )) as Extract<VisualData, { kind: 'line' }>;
    assert.ok(data.bucketSeconds > 60);
    assert.match(data.note ?? '', /widened/);
    for (const s of data.series) {
      const sum = s.points.reduce((n, p) => n + (p[1] ?? 0), 0);
      assert.equal(sum, await scalar(`SELECT count(*) FROM iot.reading WHERE guid = '${s.name}'`));
    }
    const fine = (await computeVisual(session, line({ bucket: '1h', maxPoints: 300 }), {})) as Extract<
      VisualData,
      { kind: 'line' }
    >;
    assert.equal(fine.bucketSeconds, 3600);
    assert.equal(fine.note, undefined);
  });

  test('bucketing of a TIMESTAMP time field matches the epoch-seconds field', async () => {
    const byTs = (await computeVisual(session, line({ maxPoints: 200 }), {})) as Extract<
      VisualData,
      { kind: 'line' }
    >;
    const byCreated = (await computeVisual(
      session,
      line({ time: 'created', timeEpoch: undefined, maxPoints: 200 }),
      {},
    )) as Extract<VisualData, { kind: 'line' }>;
    assert.deepEqual(byCreated, byTs);
  });

  test('histogram bins add up to the count, and min / max / avg equal the warehouse figures', async () => {
    const data = (await computeVisual(
      session,
      { id: 'h', title: 'h', kind: 'histogram', source: { table: 'iot.reading' }, measure: 'temp', bins: 25 },
      {},
    )) as Extract<VisualData, { kind: 'histogram' }>;
    assert.equal(data.bins.length, 25);
    assert.equal(
      data.bins.reduce((n, b) => n + b.count, 0),
      ROWS_PER_SENSOR * 3,
    );
    const [direct] = await session.execute(
      'SELECT min(temp), max(temp), avg(temp::double precision) FROM iot.reading',
    );
    const [min, max, avg] = direct!.rows[0]!.map(Number);
    assert.equal(data.stats.min, min);
    assert.equal(data.stats.max, max);
    assert.ok(Math.abs(data.stats.avg! - avg!) < 1e-9);
    assert.equal(data.bins.at(-1)!.count, 1, 'the spike alone in the top bin');
  });

  test('filters: a time window and dimension values restrict every kind the same way the warehouse does', async () => {
    const now = T0 + 40_000;
    const kpi = await computeVisual(
      session,
      {
        id: 'k',
        title: 'k',
        kind: 'kpi',
        source: { table: 'iot.reading' },
        time: 'ts',
        timeEpoch: 'seconds',
      },
      { range: '30m', values: { guid: ['sensor-0', 'sensor-2'] } },
      now,
    );
    assert.deepEqual(kpi, {
      kind: 'kpi',
      value: await scalar(
        `SELECT count(*) FROM iot.reading WHERE ts >= ${now - 1800} AND guid IN ('sensor-0', 'sensor-2')`,
      ),
      label: 'count',
    });
    const bars = await computeVisual(
      session,
      {
        id: 'b',
        title: 'b',
        kind: 'bar',
        source: { table: 'iot.reading' },
        dimension: 'site',
        measure: 'temp',
        aggregation: 'p95',
      },
      {},
    );
    assert.equal(bars.kind, 'bar');
    const direct = await session.execute(
      `SELECT site, percentile_cont(0.95) WITHIN GROUP (ORDER BY temp) FROM iot.reading GROUP BY 1 ORDER BY 1`,
    );
    assert.deepEqual(
      bars.bars,
      direct[0]!.rows.map((r) => ({ name: r[0], value: Number(r[1]) })),
    );
  });

  test('a map has one point per location with its aggregate', async () => {
    const map = await computeVisual(
      session,
      {
        id: 'm',
        title: 'm',
        kind: 'map',
        source: { table: 'iot.reading' },
        latitude: 'lat',
        longitude: 'long',
        dimension: 'site',
        measure: 'temp',
        aggregation: 'max',
      },
      {},
    );
    assert.equal(map.kind, 'map');
    assert.equal(map.points.length, 3);
    assert.equal(map.points.find((p) => p.label === 'site 1')!.value, 999.99);
  });

  test('field names that are not plain identifiers are refused before any SQL runs', () => {
    assert.throws(() => planVisual(line({ measure: 'temp) FROM x; DROP TABLE y; --' }), {}, 0), VisualError);
    assert.throws(() => planVisual(line({ source: { table: 'iot.reading; DROP' } }), {}, 0), VisualError);
    assert.throws(() => planVisual(line({ source: { sql: 'SELECT 1; SELECT 2' } }), {}, 0), VisualError);
  });

  test('the shared cache computes a visual once for many viewers until a commit', async () => {
    const hub = new LiveHub({ warehouse, logger: silentLogger });
    try {
      const kpi: VisualSpec = { id: 'k', title: 'k', kind: 'kpi', source: { table: 'iot.reading' } };
      const answers = await Promise.all(Array.from({ length: 10 }, () => hub.answer(kpi, {}, 'awsuser')));
      assert.equal(hub.computations, 1);
      assert.ok(
        answers.every((a) => 'data' in a && a.data.kind === 'kpi' && a.data.value === ROWS_PER_SENSOR * 3),
      );
      await hub.answer(kpi, {}, 'awsuser');
      assert.equal(hub.computations, 1);
      await session.execute(`INSERT INTO iot.reading (guid, ts, temp) VALUES ('sensor-9', ${T0}, 70)`);
      const after = await hub.answer(kpi, {}, 'awsuser');
      assert.equal(hub.computations, 2);
      assert.ok('data' in after && after.data.kind === 'kpi' && after.data.value === ROWS_PER_SENSOR * 3 + 1);
      await session.execute(`DELETE FROM iot.reading WHERE guid = 'sensor-9'`);
    } finally {
      await hub.close();
    }
  });
});

test('chooseBucket keeps series × buckets within the budget and never goes finer than asked', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 400_000_000 }),
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 100, max: 20_000 }),
      fc.option(fc.constantFrom(1, 10, 60, 300, 3600), { nil: undefined }),
      fc.integer({ min: 0, max: 2_000_000_000 }),
      (span, series, maxPoints, asked, lo) => {
        const width = chooseBucket(span, series, maxPoints, asked);
        // The buckets a span from `lo` touches, aligned as the SQL aligns them.
        const buckets = Math.floor((lo + span) / width) - Math.floor(lo / width) + 1;
        return buckets * series <= maxPoints && width >= (asked ?? 1);
      },
    ),
  );
});
