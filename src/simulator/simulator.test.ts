import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  encodeReading,
  parseDuration,
  putTestMessage,
  readSensors,
  resolveCredentials,
  runSimulator,
  sensorReading,
  tempMaxFor,
  TEMP_MAX,
  testMessage,
} from './index.ts';

const SENSOR_A = { id: 1, guid: '03e39872-e105-4be4-83c0-9ade818465dc' };
const SENSOR_B = { id: 2, guid: 'fa565921-fddd-4bfb-a7fd-d617f816df4b' };

describe('sensor readings', () => {
  test('the first readings of sensor 1 climb the sine wave from 90', () => {
    const temps = [0, 1, 2].map((step) => sensorReading(SENSOR_A, step, 25, 1_700_000_000).temp);
    assert.deepEqual(temps, [90, 92.5, 94.97]);
    assert.deepEqual(sensorReading(SENSOR_A, 0, 25, 1_700_000_000), {
      guid: SENSOR_A.guid,
      ts: 1_700_000_000,
      temp: 90,
    });
  });

  test('sensor 4 with temp_max 30 gives the values Python computes', () => {
    assert.equal(tempMaxFor(3), 30);
    const steps = [0, 1, 2, 5, 15, 16, 100, 199];
    // round((math.sin(s * 0.1) + 1) * 30 + 65, 2) in Python 3.
    const python = [95.0, 98.0, 100.96, 109.38, 124.92, 124.99, 78.68, 121.03];
    assert.deepEqual(
      steps.map((s) => sensorReading({ guid: 'g' }, s, 30, 0).temp),
      python,
    );
  });

  test('a cycle is 200 steps (x from 0 to 19.9) and the second cycle repeats the first', () => {
    for (let step = 0; step < 200; step++) {
      assert.equal(sensorReading(SENSOR_A, step + 200, 7, 0).temp, sensorReading(SENSOR_A, step, 7, 0).temp);
    }
    // Python: round((math.sin(19.9) + 1) * 25 + 65, 2)
    assert.equal(sensorReading(SENSOR_A, 199, 25, 0).temp, 111.69);
    assert.notEqual(sensorReading(SENSOR_A, 199, 25, 0).temp, sensorReading(SENSOR_A, 0, 25, 0).temp);
  });

  test('the six reference sensors use temp_max 25, 10, 7, 30, 5, 12', () => {
    assert.deepEqual(TEMP_MAX, [25, 10, 7, 30, 5, 12]);
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map(tempMaxFor), [25, 10, 7, 30, 5, 12, 25]);
  });

  test('records are JSON with guid, ts and temp and no trailing newline', () => {
    const text = encodeReading({ guid: SENSOR_A.guid, ts: 1_764_108_000, temp: 99.99 });
    assert.equal(text, `{"guid": "${SENSOR_A.guid}", "ts": 1764108000, "temp": 99.99}`);
    assert.deepEqual(JSON.parse(text), { guid: SENSOR_A.guid, ts: 1_764_108_000, temp: 99.99 });
    assert.equal(testMessage(5), '{"guid":"test-guid-test-guid-test-guid","ts":5,"temp":999.99}');
  });

  test('durations read as 60s, 500ms, 2m or bare milliseconds', () => {
    assert.equal(parseDuration('60s'), 60_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1500'), 1500);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('30', 's'), 30_000);
    assert.throws(() => parseDuration('soon'), RangeError);
    assert.throws(() => parseDuration('-5s'), RangeError);
  });

  test('credentials default to sluice/sluice for an endpoint when the environment has none', () => {
    assert.deepEqual(resolveCredentials({ endpoint: 'http://127.0.0.1:4566' }, {}), {
      accessKeyId: 'sluice',
      secretAccessKey: 'sluice',
    });
    assert.equal(resolveCredentials({}, {}), undefined);
    assert.equal(
      resolveCredentials({ endpoint: 'http://x' }, { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' }),
      undefined,
    );
    assert.deepEqual(
      resolveCredentials(
        { endpoint: 'http://x' },
        { SLUICE_ACCESS_KEY_ID: 'k', SLUICE_SECRET_ACCESS_KEY: 's' },
      ),
      {
        accessKeyId: 'k',
        secretAccessKey: 's',
      },
    );
  });

  test('sensors are read from a CSV with a byte-order mark, CRLF lines and quotes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-sim-'));
    try {
      const csv = join(dir, 'sensor.csv');
      await writeFile(
        csv,
        `\uFEFFid,guid,mac,sku,upc,active,notes\r\n1,"${SENSOR_A.guid}","8e:fa","PR49-24A","689860072244",1,""\r\n2,"${SENSOR_B.guid}","f6:f0","PR49-24A","689860072244",1,""`,
      );
      assert.deepEqual(await readSensors(csv), [SENSOR_A, SENSOR_B]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** One record as the fake Firehose received it. */
interface Received {
  readonly target: string;
  readonly stream: string;
  readonly data: string;
  readonly at: number;
}

/**
 * A minimal Firehose endpoint speaking AWS JSON 1.1: PutRecord and PutRecordBatch, with
 * base64 Data. It can report records of the next batch as failed, as a throttled Firehose does.
 */
async function startFakeFirehose(): Promise<{
  url: string;
  received: Received[];
  headers: IncomingHttpHeaders[];
  failNextBatch(records: number): void;
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const headers: IncomingHttpHeaders[] = [];
  let failing = 0;
  let ids = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      headers.push(req.headers);
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as {
        DeliveryStreamName: string;
        Record?: { Data: string };
        Records?: { Data: string }[];
      };
      const at = performance.now();
      const keep = (data: string): string => {
        received.push({
          target,
          stream: body.DeliveryStreamName,
          data: Buffer.from(data, 'base64').toString(),
          at,
        });
        return `rid-${++ids}`;
      };
      let reply: unknown;
      if (target === 'Firehose_20150804.PutRecord' && body.Record) {
        reply = { RecordId: keep(body.Record.Data), Encrypted: false };
      } else if (target === 'Firehose_20150804.PutRecordBatch' && body.Records) {
        let failed = 0;
        const responses = body.Records.map((r) => {
          if (failing > 0) {
            failing -= 1;
            failed += 1;
            return { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' };
          }
          return { RecordId: keep(r.Data) };
        });
        reply = { FailedPutCount: failed, Encrypted: false, RequestResponses: responses };
      } else {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'InvalidArgumentException', message: `unexpected ${target}` }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `req-${ids}` });
      res.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    headers,
    failNextBatch(records) {
      failing = records;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('runSimulator against a Firehose endpoint', () => {
  let firehose: Awaited<ReturnType<typeof startFakeFirehose>>;
  before(async () => {
    firehose = await startFakeFirehose();
  });
  after(async () => {
    await firehose.close();
  });

  test('one sensor sends 400 readings by default: two cycles of the sine wave, one PutRecord each', async () => {
    firehose.received.length = 0;
    const progress: number[] = [];
    const result = await runSimulator({
      endpoint: firehose.url,
      sensors: [SENSOR_A],
      intervalMs: 1,
      onProgress: (sent, total) => {
        progress.push(sent);
        assert.equal(total, 400);
      },
    });
    assert.deepEqual([result.mode, result.sent, result.failed], ['scenario', 400, 0]);
    assert.equal(firehose.received.length, 400);
    assert.ok(
      firehose.received.every(
        (r) => r.target === 'Firehose_20150804.PutRecord' && r.stream === 'redshift-delivery-stream',
      ),
    );
    const readings = firehose.received.map(
      (r) => JSON.parse(r.data) as { guid: string; ts: number; temp: number },
    );
    assert.deepEqual(
      readings.map((r) => r.temp),
      Array.from({ length: 400 }, (_, step) => sensorReading(SENSOR_A, step, 25, 0).temp),
    );
    assert.ok(readings.every((r) => r.guid === SENSOR_A.guid && Math.abs(r.ts - Date.now() / 1000) < 60));
    assert.ok(firehose.received.every((r) => !r.data.endsWith('\n')));
    assert.equal(progress.at(-1), 400);
    assert.match(String(firehose.headers[0]?.authorization), /^AWS4-HMAC-SHA256 Credential=/);
  });

  test('each sensor starts after its stagger and keeps its own temp_max', async () => {
    firehose.received.length = 0;
    const result = await runSimulator({
      endpoint: firehose.url,
      streamName: 'other-stream',
      sensors: [SENSOR_A, SENSOR_B],
      intervalMs: 1,
      cycles: 1,
      staggerMs: 100,
    });
    assert.equal(result.sent, 400);
    const of = (guid: string): Received[] =>
      firehose.received.filter((r) => JSON.parse(r.data).guid === guid);
    const a = of(SENSOR_A.guid);
    const b = of(SENSOR_B.guid);
    assert.equal(a.length, 200);
    assert.equal(b.length, 200);
    assert.ok(
      (b[0] as Received).at - (a[0] as Received).at >= 90,
      'sensor 2 starts about 100 ms after sensor 1',
    );
    assert.equal(JSON.parse((b[1] as Received).data).temp, sensorReading(SENSOR_B, 1, 10, 0).temp);
    assert.ok(firehose.received.every((r) => r.stream === 'other-stream'));
  });

  test('load mode sends PutRecordBatch at the rate and sends again the records reported failed', async () => {
    firehose.received.length = 0;
    firehose.failNextBatch(1);
    const result = await runSimulator({
      endpoint: firehose.url,
      sensors: [SENSOR_A, SENSOR_B],
      rate: 5000,
      count: 1000,
    });
    assert.deepEqual([result.mode, result.sent, result.failed, result.retried], ['load', 1000, 0, 1]);
    assert.equal(firehose.received.length, 1000);
    assert.ok(firehose.received.every((r) => r.target === 'Firehose_20150804.PutRecordBatch'));
    const perSensor = new Map<string, number>();
    for (const r of firehose.received) {
      const guid = (JSON.parse(r.data) as { guid: string }).guid;
      perSensor.set(guid, (perSensor.get(guid) ?? 0) + 1);
    }
    assert.deepEqual([...perSensor.values()], [500, 500]);
  });

  test('load mode with a duration sends about rate × duration records', async () => {
    firehose.received.length = 0;
    const result = await runSimulator({
      endpoint: firehose.url,
      sensors: [SENSOR_A],
      rate: 1000,
      durationMs: 300,
    });
    assert.equal(result.failed, 0);
    assert.equal(result.sent, firehose.received.length);
    assert.ok(result.sent >= 250 && result.sent <= 300, `sent ${result.sent}`);
  });

  test('aborting stops the simulator early with what was sent so far', async () => {
    firehose.received.length = 0;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const started = performance.now();
    const result = await runSimulator({
      endpoint: firehose.url,
      sensors: [SENSOR_A],
      intervalMs: 50,
      signal: controller.signal,
    });
    assert.ok(performance.now() - started < 1000);
    assert.ok(result.sent >= 2 && result.sent <= 5, `sent ${result.sent}`);
    assert.equal(result.sent, firehose.received.length);
  });

  test('putTestMessage sends the single test reading', async () => {
    firehose.received.length = 0;
    const result = await putTestMessage({ endpoint: firehose.url });
    assert.equal(firehose.received.length, 1);
    const got = JSON.parse((firehose.received[0] as Received).data) as {
      guid: string;
      ts: number;
      temp: number;
    };
    assert.equal(got.guid, 'test-guid-test-guid-test-guid');
    assert.equal(got.temp, 999.99);
    assert.ok(Math.abs(got.ts - Date.now() / 1000) < 60);
    assert.match(result.recordId, /^rid-\d+$/);
  });
});
