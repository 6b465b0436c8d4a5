import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createLocalObjectStore, listAllObjects, parseS3Url, type ObjectStore } from '../lake/index.ts';
import { SqlError, type BatchLoad, type BatchLoadResult, type Warehouse } from '../warehouse/index.ts';
import { silentLogger } from '../util/logger.ts';
import { createDeliveryStreams, FirehoseMetrics, type DeliveryStreamService } from './index.ts';
import { objectKey, parsePrefix } from './keys.ts';

/** A warehouse that keeps the load ledger and a row count in memory, reading what COPY names from the lake. */
class LedgerWarehouse implements Partial<Warehouse> {
  readonly ledger = new Set<string>();
  rows = 0;
  failWith: Error | undefined;

  constructor(private readonly store: ObjectStore) {}

  async authenticate(): Promise<boolean> {
    return true;
  }

  async loadBatch(load: BatchLoad): Promise<BatchLoadResult> {
    if (this.failWith) throw this.failWith;
    const key = `${load.ledger.stream}/${load.ledger.destinationId}/${load.ledger.firstOffset}`;
    if (this.ledger.has(key)) return { alreadyLoaded: true, rowsLoaded: 0, rejected: [] };
    const manifestUrl = /FROM '([^']+)'/.exec(load.copy)![1]!;
    const manifest = parseS3Url(manifestUrl);
    const entries = (
      JSON.parse((await this.store.getObject(manifest.bucket, manifest.key)).toString()) as {
        entries: { url: string }[];
      }
    ).entries;
    let rows = 0;
    for (const entry of entries) {
      const location = parseS3Url(entry.url);
      const text = gunzipSync(await this.store.getObject(location.bucket, location.key)).toString();
      rows += text.split('}{').length;
    }
    await load.beforeCommit?.([]);
    this.ledger.add(key);
    this.rows += rows;
    return { alreadyLoaded: false, rowsLoaded: rows, rejected: [] };
  }
}

const STREAM = 'events';

/** A Redshift stream into the fake warehouse. */
function streamConfig(intervalSeconds: number, retrySeconds = 3600) {
  return {
    DeliveryStreamName: STREAM,
    RedshiftDestinationConfiguration: {
      RoleARN: 'arn:aws:iam::000000000000:role/r',
      ClusterJDBCURL: 'jdbc:redshift://127.0.0.1:5439/dev',
      CopyCommand: { DataTableName: 'e', DataTableColumns: 'n', CopyOptions: "JSON 'auto' GZIP" },
      Username: 'awsuser',
      Password: 'password',
      RetryOptions: { DurationInSeconds: retrySeconds },
      S3Configuration: {
        BucketARN: 'arn:aws:s3:::lake',
        Prefix: 'events/',
        BufferingHints: { SizeInMBs: 1, IntervalInSeconds: intervalSeconds },
        CompressionFormat: 'GZIP' as const,
      },
    },
  };
}

const records = (from: number, n: number): Buffer[] =>
  Array.from({ length: n }, (_, i) => Buffer.from(JSON.stringify({ n: from + i })));

describe('delivery streams', () => {
  let dir: string;
  let store: ObjectStore;
  let warehouse: LedgerWarehouse;
  let service: DeliveryStreamService | undefined;

  const open = async (): Promise<DeliveryStreamService> =>
    (service = await createDeliveryStreams({
      dir: join(dir, 'streams'),
      objectStore: store,
      warehouse: warehouse as unknown as Warehouse,
      metrics: new FirehoseMetrics(),
      logger: silentLogger,
      isEmbedded: () => true,
    }));

  const dataKeys = async (): Promise<string[]> => {
    const keys: string[] = [];
    for await (const o of listAllObjects(store, 'lake', 'events/')) {
      if (!o.key.startsWith('events/manifests/') && !o.key.startsWith('events/errors/')) keys.push(o.key);
    }
    return keys;
  };

  const until = async (check: () => boolean | Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-delivery-'));
    store = createLocalObjectStore({ root: join(dir, 'lake'), fsync: false });
    await store.createBucket('lake');
    warehouse = new LedgerWarehouse(store);
  });

  afterEach(async () => {
    await service?.close({ flush: false });
    service = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  test('records flow to one lake object per batch and into the table', async () => {
    const s = await open();
    await s.create(streamConfig(0));
    const put = await s.put(STREAM, records(0, 100));
    assert.equal(put.firstOffset, 0);
    await until(() => warehouse.rows === 100);
    assert.ok((await dataKeys()).every((k) => /^events\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/events-1-/.test(k)));
  });

  test('a batch left pending by a crash after its COPY committed is rewritten under the same key and not loaded again', async () => {
    let s = await open();
    await s.create(streamConfig(900));
    await s.put(STREAM, records(0, 10));
    const arrival = s.status(STREAM).oldestUndeliveredMs ?? Date.now();
    await s.close({ flush: false });
    service = undefined;

    // What a kill between the COPY commit and the state write leaves behind: the state file
    // naming the batch, its object in the lake, and its ledger row in the warehouse.
    const statePath = join(dir, 'streams', STREAM, 'destination-000000000001.json');
    const pending = { first: 0, last: 9, oldestArrivalMs: arrival, version: 1, firstAttemptMs: Date.now() };
    await writeFile(statePath, JSON.stringify({ format: 1, next: 0, pending }));
    const key = objectKey(
      parsePrefix('events/', false),
      { stream: STREAM, version: 1, firstOffset: 0, lastOffset: 9, oldestArrivalMs: arrival },
      true,
    );
    await store.putObject('lake', key, Buffer.from('stale bytes of the same batch'));
    warehouse.ledger.add(`${STREAM}/destinationId-000000000001/0`);
    warehouse.rows = 10;

    s = await open();
    await until(async () => JSON.parse(await readFile(statePath, 'utf8')).next === 10);
    assert.deepEqual(await dataKeys(), [key], 'one object, under the key derived from the batch');
    assert.equal(warehouse.rows, 10, 'the ledger kept the batch from loading twice');
    const body = gunzipSync(await store.getObject('lake', key)).toString();
    assert.equal(body, records(0, 10).map(String).join(''), 'the object holds the batch again, whole');
  });

  test('a COPY that keeps failing ends in errors/manifests, later batches go on, and redelivery loads it once', async () => {
    const s = await open();
    await s.create(streamConfig(0, 0));
    warehouse.failWith = new SqlError('relation "e" does not exist', '42P01');
    await s.put(STREAM, records(0, 5));
    await until(() => s.errors(STREAM).some((e) => e.message.startsWith('Retries exhausted')));
    assert.equal(s.errors(STREAM)[0]!.code, 'Redshift.TableNotFound');

    warehouse.failWith = undefined;
    await s.put(STREAM, records(5, 3));
    await until(() => warehouse.rows === 3);

    const first = await s.redeliver(STREAM);
    assert.deepEqual(
      first.map((r) => [r.outcome, r.rows]),
      [['loaded', 5]],
    );
    assert.equal(warehouse.rows, 8);
    assert.deepEqual(await s.redeliver(STREAM), [], 'a redelivered manifest leaves errors/manifests/');
  });

  test('a deleted stream refuses records at once and is removed after delivering what it acknowledged', async () => {
    const s = await open();
    await s.create(streamConfig(900));
    await s.put(STREAM, records(0, 20));
    await s.delete(STREAM);
    await assert.rejects(() => s.put(STREAM, records(20, 1)), { kind: 'ResourceNotFound' });
    await until(() => !s.names().includes(STREAM));
    assert.equal(warehouse.rows, 20);
  });
});
