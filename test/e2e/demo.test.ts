/**
 * The README's first command, as a newcomer runs it: `sluice demo` starts Sluice with the
 * reference scenario, and readings from all six sensors reach the warehouse within seconds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  eventually,
  removeDataDir,
  SLUICE_BIN,
  startSluice,
  type SluiceProcess,
} from '../support/sluice-process.ts';

const run = promisify(execFile);

describe('sluice demo', () => {
  let demo: SluiceProcess;

  before(async () => {
    demo = await startSluice({ args: ['demo', '--interval', '200ms'] });
  });

  after(async () => {
    await demo.stop();
    await removeDataDir(demo.dataDir);
  });

  test('loads the star schema dimensions from the seed files, duplicates and all', async () => {
    const [counts] = await demo.sql(
      `SELECT (SELECT count(*) FROM sensor.location), (SELECT count(*) FROM sensor.history),
              (SELECT count(*) FROM sensor.sensor), (SELECT count(*) FROM sensor.manufacturer),
              (SELECT count(*) FROM sensor.sensors), (SELECT count(*) FROM sensor.sensor WHERE active)`,
    );
    assert.deepEqual(counts!.rows[0], [6, 30, 6, 1, 30, 6]);
  });

  test('readings of all six sensors and the test message reach sensor.message within seconds', async () => {
    const rows = await eventually(async () => {
      const [r] = await demo.sql(
        `SELECT count(DISTINCT m.guid) FROM sensor.message m JOIN sensor.sensor s ON s.guid = m.guid`,
      );
      return Number(r!.rows[0]![0]) === 6 ? r : undefined;
    }, 20_000);
    assert.ok(rows);
    const [test] = await demo.sql(
      `SELECT temp FROM sensor.message WHERE guid = 'test-guid-test-guid-test-guid'`,
    );
    assert.deepEqual(test!.rows, [['999.99']]);
    const [shape] = await demo.sql(
      `SELECT min(id) >= 1, count(*) = count(DISTINCT id), bool_and(created IS NOT NULL), bool_and(temp BETWEEN 65 AND 125)
       FROM sensor.message WHERE guid <> 'test-guid-test-guid-test-guid'`,
    );
    assert.deepEqual(shape!.rows[0], [true, true, true, true]);
  });

  test('the analyst views answer: six sensors counted, averaged and located, latency in seconds', async () => {
    const [counts, avg, latency] = await demo.sql(
      `SELECT count(*), bool_and(msg_count > 0) FROM sensor.sensor_msg_count;
       SELECT count(*), bool_and(lat IS NOT NULL AND avg_temp BETWEEN 65 AND 125) FROM sensor.sensor_avg_temp_current;
       SELECT bool_and(latency >= 0 AND latency < 60) FROM sensor.message_latency`,
    );
    assert.deepEqual(counts!.rows, [[6, true]]);
    assert.deepEqual(avg!.rows, [[6, true]]);
    assert.deepEqual(latency!.rows, [[true]]);
  });

  test('the lake holds GZIP objects and manifests under message/, and sluice sql and sluice lake work', async () => {
    const env = { ...process.env, SLUICE_PASSWORD: demo.password, SLUICE_DATA_DIR: demo.dataDir };
    const ls = await run(
      process.execPath,
      [SLUICE_BIN, 'lake', 'ls', '--recursive', 's3://redshift-stack-databucket/message/'],
      { env },
    );
    assert.match(
      ls.stdout,
      /message\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/redshift-delivery-stream-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}\.gz/,
    );
    assert.match(
      ls.stdout,
      /message\/manifests\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/redshift-delivery-stream-\d{4}-/,
    );
    const sql = await run(
      process.execPath,
      [SLUICE_BIN, 'sql', '--url', demo.consoleUrl, 'SELECT count(*) > 0 AS flowing FROM sensor.message'],
      { env },
    );
    assert.match(sql.stdout, /flowing\n-+\n t *\n\(1 row\)/);
  });

  test('psql reads the readings over the PostgreSQL wire protocol on the SQL port', async () => {
    const { stdout } = await run(
      '/usr/bin/psql',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(demo.sqlPort),
        '-U',
        'awsuser',
        '-d',
        'dev',
        '-At',
        '-c',
        "SELECT count(DISTINCT guid) >= 6 FROM sensor.message WHERE guid <> 'test-guid-test-guid-test-guid'",
      ],
      { env: { ...process.env, PGPASSWORD: demo.password, PGCONNECT_TIMEOUT: '10' } },
    );
    assert.equal(stdout.trim(), 't');
  });
});
