import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { openTestWarehouse } from '../warehouse/test-support.ts';
import { ANALYST_VIEWS_SQL } from './demo-views.ts';
import { SCHEMA_SQL, SEED_DIR } from './demo.ts';

const COLUMNS: Readonly<Record<string, string>> = {
  location: 'id, long, lat, description',
  history: 'id, serviced, action, technician_id, notes',
  sensor: 'id, guid, mac, sku, upc, active, notes',
  manufacturer: 'id, name, website, notes',
  sensors: 'sensor_id, manufacturer_id, location_id, history_id, message_guid',
};

test('the analyst views join each reading once to its installed sensor and compute latency', async () => {
  const { warehouse, store, cleanup } = await openTestWarehouse();
  try {
    await store.createBucket('data');
    for (const file of (await readdir(SEED_DIR)).filter((f) => f.endsWith('.csv'))) {
      const table = basename(file, '.csv');
      await store.putObject('data', `${table}/${file}`, await readFile(join(SEED_DIR, file)));
    }
    const session = await warehouse.openSession('awsuser');
    await session.execute(SCHEMA_SQL);
    for (const [table, columns] of Object.entries(COLUMNS)) {
      await session.execute(
        `COPY sensor.${table} (${columns}) FROM 's3://data/${table}/' CREDENTIALS 'aws_iam_role=x' CSV IGNOREHEADER 1`,
      );
    }
    await session.execute(ANALYST_VIEWS_SQL);
    const guids = await session.execute('SELECT guid FROM sensor.sensor WHERE active ORDER BY id');
    const active = guids[0]!.rows.map((r) => r[0] as string);
    assert.equal(active.length, 6, 'six active sensors in the seed data');
    // Two readings for each active sensor: one just now, one two hours ago; created 3 s after ts.
    const now = Math.floor(Date.now() / 1000);
    const values = active.flatMap((guid, i) => [
      `('${guid}', ${now - 10}, ${70 + i}, timezone('UTC', to_timestamp(${now - 7}))::timestamp)`,
      `('${guid}', ${now - 7200}, ${80 + i}, timezone('UTC', to_timestamp(${now - 7197}))::timestamp)`,
    ]);
    await session.execute(
      `INSERT INTO sensor.message (guid, ts, temp, created) VALUES ${values.join(', ')}, ` +
        `('test-guid-test-guid-test-guid', ${now}, 999.99, timezone('UTC', to_timestamp(${now + 1}))::timestamp)`,
    );

    const [detail] = await session.execute(
      'SELECT count(*), count(DISTINCT sensor_id), min(location) IS NOT NULL FROM sensor.sensor_msg_detail',
    );
    assert.deepEqual(detail!.rows, [[12, 6, true]], 'each reading once, the test message left out');

    const [counts] = await session.execute('SELECT sensor_id, msg_count FROM sensor.sensor_msg_count');
    assert.equal(counts!.rows.length, 6);
    for (const row of counts!.rows) assert.equal(row[1], 2);

    const [avg] = await session.execute(
      'SELECT avg_temp = 75, msg_count FROM sensor.sensor_avg_temp ORDER BY sensor_id LIMIT 1',
    );
    assert.deepEqual(avg!.rows, [[true, 2]], 'average of 70 and 80 for the first sensor');

    const [current] = await session.execute(
      'SELECT count(*), sum(msg_count), min(avg_temp) FROM sensor.sensor_avg_temp_current',
    );
    assert.equal(current!.rows[0]![0], 6);
    assert.equal(current!.rows[0]![1], 6, 'only the readings of the last 30 minutes');

    const [latency] = await session.execute(
      'SELECT min(latency), max(latency), count(*) FROM sensor.message_latency',
    );
    assert.deepEqual(latency!.rows, [[1, 3, 13]], 'seconds from ts to created, every message');
    await session.close();
  } finally {
    await cleanup();
  }
});
