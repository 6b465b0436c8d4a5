/**
 * The Firehose API of a real `sluice up`, driven by @aws-sdk/client-firehose over HTTP:
 * stream lifecycle, puts that become table rows, S3-only streams and their object keys,
 * restart and shutdown behaviour, and SigV4 with configured access keys.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateDeliveryStreamCommand,
  DeleteDeliveryStreamCommand,
  DescribeDeliveryStreamCommand,
  ListDeliveryStreamsCommand,
  ListTagsForDeliveryStreamCommand,
  PutRecordBatchCommand,
  PutRecordCommand,
  TagDeliveryStreamCommand,
  UntagDeliveryStreamCommand,
  UpdateDestinationCommand,
  type FirehoseClient,
} from '@aws-sdk/client-firehose';
import {
  countRows,
  createBucket,
  firehoseClient,
  lakeOf,
  listKeys,
  messageTableSql,
  readObject,
  readings,
  recordOf,
  redshiftStream,
  ROLE_ARN,
} from '../support/firehose.ts';
import { eventually, removeDataDir, startSluice, type SluiceProcess } from '../support/sluice-process.ts';

const BUCKET = 'sdk-bucket';
const TABLE = 'sdk.message';
const KEY_ID = 'AKIASLUICETEST000001';
const SECRET = 'sluice-test-secret-key-1';

/** The error name and HTTP status an SDK call rejects with. */
async function sdkError(
  promise: Promise<unknown>,
): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  assert.fail('expected the call to fail');
}

/** The UUID-shaped id Sluice gives a batch. */
const ID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** A regex for a Firehose data object key: `<prefix>YYYY/MM/dd/HH/<stream>-<v>-YYYY-MM-dd-HH-mm-ss-<id>`. */
function firehoseKeyPattern(prefix: string, stream: string, version: number, suffix = ''): RegExp {
  return new RegExp(
    `^${prefix}(\\d{4})/(\\d{2})/(\\d{2})/(\\d{2})/${stream}-${version}-(\\d{4})-(\\d{2})-(\\d{2})-(\\d{2})-\\d{2}-\\d{2}-${ID}${suffix.replace('.', '\\.')}$`,
  );
}

describe('Firehose API through the AWS SDK', () => {
  let s: SluiceProcess;
  let keyed: SluiceProcess;
  let client: FirehoseClient;

  before(async () => {
    [s, keyed] = await Promise.all([
      startSluice(),
      startSluice({ env: { SLUICE_ACCESS_KEY_ID: KEY_ID, SLUICE_SECRET_ACCESS_KEY: SECRET } }),
    ]);
    client = firehoseClient(s);
    await createBucket(s.dataDir, BUCKET);
    await s.sql(messageTableSql(TABLE));
  });

  after(async () => {
    client?.destroy();
    for (const p of [s, keyed]) {
      if (!p) continue;
      await p.stop();
      await removeDataDir(p.dataDir);
    }
  });

  test('PutRecord and PutRecordBatch records become rows within seconds', async () => {
    const created = await client.send(
      new CreateDeliveryStreamCommand(redshiftStream(s, { name: 'sdk-main', bucket: BUCKET, table: TABLE })),
    );
    assert.equal(
      created.DeliveryStreamARN,
      'arn:aws:firehose:us-east-1:000000000000:deliverystream/sdk-main',
    );

    const one = await client.send(
      new PutRecordCommand({
        DeliveryStreamName: 'sdk-main',
        Record: { Data: recordOf(readings('one', 1)[0]) },
      }),
    );
    assert.equal(typeof one.RecordId, 'string');
    assert.ok(one.RecordId!.length > 0);

    const batch = await client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: 'sdk-main',
        Records: readings('batch', 100).map((r) => ({ Data: recordOf(r) })),
      }),
    );
    assert.equal(batch.FailedPutCount, 0);
    assert.equal(batch.RequestResponses!.length, 100);
    const ids = new Set(batch.RequestResponses!.map((r) => r.RecordId));
    assert.equal(ids.size, 100, 'every record gets its own RecordId');
    assert.ok(!ids.has(one.RecordId));

    const started = Date.now();
    await eventually(async () => (await countRows(s, TABLE)) === 101, 10_000);
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 5000, `rows took ${elapsed} ms to arrive`);
    const [rows] = await s.sql(`SELECT guid, ts, temp FROM ${TABLE} WHERE guid = 'batch-000042'`);
    assert.deepEqual(
      rows!.rows.map((r) => r.map(String)),
      [['batch-000042', String(1_700_000_042), '4.85']],
    );
  });

  test('DescribeDeliveryStream answers the AWS shape and never the password', async () => {
    const { DeliveryStreamDescription: d } = await client.send(
      new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'sdk-main' }),
    );
    assert.ok(d);
    assert.equal(d.DeliveryStreamName, 'sdk-main');
    assert.equal(d.DeliveryStreamStatus, 'ACTIVE');
    assert.equal(d.DeliveryStreamType, 'DirectPut');
    assert.equal(d.VersionId, '1');
    assert.ok(
      d.CreateTimestamp instanceof Date && Math.abs(d.CreateTimestamp.getTime() - Date.now()) < 120_000,
    );
    assert.equal(d.HasMoreDestinations, false);
    assert.equal(d.Destinations?.length, 1);
    const dest = d.Destinations![0]!;
    assert.equal(typeof dest.DestinationId, 'string');
    const r = dest.RedshiftDestinationDescription;
    assert.ok(r, 'RedshiftDestinationDescription');
    assert.equal(r.ClusterJDBCURL, `jdbc:redshift://127.0.0.1:${s.sqlPort}/dev`);
    assert.equal(r.Username, 'awsuser');
    assert.equal(r.CopyCommand?.DataTableName, TABLE);
    assert.equal(r.CopyCommand?.DataTableColumns, 'guid, ts, temp');
    assert.equal(r.S3DestinationDescription?.BucketARN, `arn:aws:s3:::${BUCKET}`);
    assert.equal(r.S3DestinationDescription?.Prefix, 'sdk-main/');
    assert.equal(r.S3DestinationDescription?.CompressionFormat, 'GZIP');
    assert.deepEqual(r.S3DestinationDescription?.BufferingHints, { SizeInMBs: 1, IntervalInSeconds: 0 });
    const text = JSON.stringify(d);
    assert.ok(!/password/i.test(text), 'no Password member');
    assert.ok(!text.includes(s.password), 'the password value is not echoed');
  });

  test('ListDeliveryStreams lists the stream', async () => {
    const list = await client.send(new ListDeliveryStreamsCommand({}));
    assert.ok(list.DeliveryStreamNames?.includes('sdk-main'));
    assert.equal(list.HasMoreDeliveryStreams, false);
  });

  test('a duplicate CreateDeliveryStream is ResourceInUseException', async () => {
    const e = await sdkError(
      client.send(
        new CreateDeliveryStreamCommand(
          redshiftStream(s, { name: 'sdk-main', bucket: BUCKET, table: TABLE }),
        ),
      ),
    );
    assert.equal(e.name, 'ResourceInUseException');
    assert.equal(e.status, 400);
  });

  test('UpdateDestination bumps VersionId; a stale version is ConcurrentModificationException', async () => {
    const before = await client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'sdk-main' }));
    const destinationId = before.DeliveryStreamDescription!.Destinations![0]!.DestinationId!;
    await client.send(
      new UpdateDestinationCommand({
        DeliveryStreamName: 'sdk-main',
        CurrentDeliveryStreamVersionId: '1',
        DestinationId: destinationId,
        RedshiftDestinationUpdate: { RetryOptions: { DurationInSeconds: 120 } },
      }),
    );
    const afterUpdate = await client.send(
      new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'sdk-main' }),
    );
    const d = afterUpdate.DeliveryStreamDescription!;
    assert.equal(d.VersionId, '2');
    assert.ok(d.LastUpdateTimestamp instanceof Date);
    assert.equal(d.Destinations![0]!.RedshiftDestinationDescription?.RetryOptions?.DurationInSeconds, 120);
    assert.equal(
      d.Destinations![0]!.RedshiftDestinationDescription?.CopyCommand?.DataTableName,
      TABLE,
      'untouched members are kept',
    );

    const stale = await sdkError(
      client.send(
        new UpdateDestinationCommand({
          DeliveryStreamName: 'sdk-main',
          CurrentDeliveryStreamVersionId: '1',
          DestinationId: destinationId,
          RedshiftDestinationUpdate: { RetryOptions: { DurationInSeconds: 60 } },
        }),
      ),
    );
    assert.equal(stale.name, 'ConcurrentModificationException');
    assert.equal(stale.status, 400);

    // Records keep flowing after the update, into objects named with the new version.
    await client.send(
      new PutRecordCommand({
        DeliveryStreamName: 'sdk-main',
        Record: { Data: recordOf(readings('v2', 1)[0]) },
      }),
    );
    await eventually(async () => (await countRows(s, TABLE, "guid = 'v2-000000'")) === 1, 10_000);
    const keys = await listKeys(s.dataDir, BUCKET, 'sdk-main/');
    assert.ok(
      keys.some((k) => firehoseKeyPattern('sdk-main/', 'sdk-main', 2, '.gz').test(k)),
      `a version-2 object among ${keys.join(', ')}`,
    );
  });

  test('TagDeliveryStream, UntagDeliveryStream and ListTagsForDeliveryStream', async () => {
    await client.send(
      new TagDeliveryStreamCommand({
        DeliveryStreamName: 'sdk-main',
        Tags: [
          { Key: 'team', Value: 'data' },
          { Key: 'env', Value: 'test' },
          { Key: 'cost', Value: '42' },
        ],
      }),
    );
    let tags = await client.send(new ListTagsForDeliveryStreamCommand({ DeliveryStreamName: 'sdk-main' }));
    assert.deepEqual(tags.Tags, [
      { Key: 'cost', Value: '42' },
      { Key: 'env', Value: 'test' },
      { Key: 'team', Value: 'data' },
    ]);
    assert.equal(tags.HasMoreTags, false);
    await client.send(new UntagDeliveryStreamCommand({ DeliveryStreamName: 'sdk-main', TagKeys: ['env'] }));
    tags = await client.send(
      new ListTagsForDeliveryStreamCommand({ DeliveryStreamName: 'sdk-main', Limit: 1 }),
    );
    assert.deepEqual(tags.Tags, [{ Key: 'cost', Value: '42' }]);
    assert.equal(tags.HasMoreTags, true);
    tags = await client.send(
      new ListTagsForDeliveryStreamCommand({ DeliveryStreamName: 'sdk-main', ExclusiveStartTagKey: 'cost' }),
    );
    assert.deepEqual(tags.Tags, [{ Key: 'team', Value: 'data' }]);
  });

  test('DeleteDeliveryStream refuses puts at once and delivers every record acknowledged before it', async () => {
    const table = 'sdk.deleted';
    await s.sql(messageTableSql(table));
    // A long buffer interval, so the records are still buffered when the delete arrives.
    await client.send(
      new CreateDeliveryStreamCommand(
        redshiftStream(s, { name: 'sdk-delete', bucket: BUCKET, table, intervalSeconds: 600, sizeInMBs: 64 }),
      ),
    );
    const puts = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        client.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: 'sdk-delete',
            Records: readings(`del${i}`, 250).map((r) => ({ Data: recordOf(r) })),
          }),
        ),
      ),
    );
    assert.ok(puts.every((p) => p.FailedPutCount === 0));
    assert.equal(await countRows(s, table), 0, 'nothing delivered before the interval or the delete');

    await client.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: 'sdk-delete' }));
    const refused = await sdkError(
      client.send(
        new PutRecordCommand({
          DeliveryStreamName: 'sdk-delete',
          Record: { Data: recordOf({ guid: 'late' }) },
        }),
      ),
    );
    assert.equal(refused.name, 'ResourceNotFoundException');
    assert.equal(refused.status, 400);

    await eventually(async () => (await countRows(s, table)) === 1000, 15_000);
    const [distinct] = await s.sql(`SELECT count(DISTINCT guid) FROM ${table}`);
    assert.equal(Number(distinct!.rows[0]![0]), 1000);
    await eventually(async () => {
      const list = await client.send(new ListDeliveryStreamsCommand({}));
      return !list.DeliveryStreamNames!.includes('sdk-delete');
    }, 10_000);
    const gone = await sdkError(
      client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'sdk-delete' })),
    );
    assert.equal(gone.name, 'ResourceNotFoundException');
  });

  test('an S3-only stream with AppendDelimiterToRecord writes newline-delimited objects under Firehose keys', async () => {
    const bucket = 'sdk-plain';
    await createBucket(s.dataDir, bucket);
    await client.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'sdk-s3',
        ExtendedS3DestinationConfiguration: {
          RoleARN: ROLE_ARN,
          BucketARN: `arn:aws:s3:::${bucket}`,
          Prefix: 'raw/',
          BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
          CompressionFormat: 'UNCOMPRESSED',
          ProcessingConfiguration: {
            Enabled: true,
            Processors: [
              {
                Type: 'AppendDelimiterToRecord',
                Parameters: [{ ParameterName: 'Delimiter', ParameterValue: '\\n' }],
              },
            ],
          },
        },
      }),
    );
    const sent = readings('plain', 20);
    await client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: 'sdk-s3',
        Records: sent.map((r) => ({ Data: recordOf(r) })),
      }),
    );
    const keys = await eventually(async () => {
      const k = await listKeys(s.dataDir, bucket, 'raw/');
      return k.length > 0 && k;
    }, 10_000);
    const pattern = firehoseKeyPattern('raw/', 'sdk-s3', 1);
    let lines: string[] = [];
    for (const key of keys) {
      const m = pattern.exec(key);
      assert.ok(m, `key ${key} has the Firehose form`);
      assert.equal(
        `${m[1]}${m[2]}${m[3]}${m[4]}`,
        `${m[5]}${m[6]}${m[7]}${m[8]}`,
        'the folder names the hour of the stamp',
      );
      const text = (await readObject(s.dataDir, bucket, key)).toString('utf8');
      assert.ok(text.endsWith('\n'));
      lines = lines.concat(text.slice(0, -1).split('\n'));
    }
    assert.deepEqual(
      lines.map((l) => JSON.parse(l) as unknown),
      sent,
    );
  });

  test('a GZIP S3-only stream writes objects that gunzip to the records', async () => {
    const bucket = 'sdk-gzip';
    await createBucket(s.dataDir, bucket);
    await client.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'sdk-gz',
        ExtendedS3DestinationConfiguration: {
          RoleARN: ROLE_ARN,
          BucketARN: `arn:aws:s3:::${bucket}`,
          Prefix: 'gz/',
          BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
          CompressionFormat: 'GZIP',
        },
      }),
    );
    const sent = ['alpha', 'beta', 'gamma'].map((w) => Buffer.from(`${w};`));
    for (const data of sent)
      await client.send(new PutRecordCommand({ DeliveryStreamName: 'sdk-gz', Record: { Data: data } }));
    const pattern = firehoseKeyPattern('gz/', 'sdk-gz', 1, '.gz');
    const text = await eventually(async () => {
      const keys = await listKeys(s.dataDir, bucket, 'gz/');
      let all = '';
      for (const key of keys) {
        assert.match(key, pattern);
        const raw = await lakeOf(s.dataDir).getObject(bucket, key);
        assert.deepEqual([raw[0], raw[1]], [0x1f, 0x8b], 'a gzip member');
        all += (await readObject(s.dataDir, bucket, key)).toString('utf8');
      }
      return all.length === 'alpha;beta;gamma;'.length && all;
    }, 10_000);
    assert.equal(text, 'alpha;beta;gamma;');
  });

  test('SIGTERM delivers buffered records before exiting with code 0', async () => {
    const table = 'sdk.buffered';
    await s.sql(messageTableSql(table));
    await client.send(
      new CreateDeliveryStreamCommand(
        redshiftStream(s, {
          name: 'sdk-buffered',
          bucket: BUCKET,
          table,
          intervalSeconds: 900,
          sizeInMBs: 128,
        }),
      ),
    );
    const result = await client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: 'sdk-buffered',
        Records: readings('buf', 300).map((r) => ({ Data: recordOf(r) })),
      }),
    );
    assert.equal(result.FailedPutCount, 0);
    assert.equal(await countRows(s, table), 0, 'still buffered');

    client.destroy();
    const code = await s.stop();
    assert.equal(code, 0, `exit code; stderr:\n${s.stderr()}`);
    assert.match(s.stdout(), /Sluice stopped/);

    s = await startSluice({
      dataDir: s.dataDir,
      ports: { aws: s.awsPort, sql: s.sqlPort, console: s.consolePort },
    });
    client = firehoseClient(s);
    assert.equal(await countRows(s, table), 300, 'delivered before the exit');
  });

  test('streams created by the API survive a restart and keep delivering', async () => {
    const { DeliveryStreamDescription: d } = await client.send(
      new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'sdk-main' }),
    );
    assert.equal(d?.DeliveryStreamStatus, 'ACTIVE');
    assert.equal(d?.VersionId, '2');
    const tags = await client.send(new ListTagsForDeliveryStreamCommand({ DeliveryStreamName: 'sdk-main' }));
    assert.deepEqual(
      tags.Tags?.map((t) => t.Key),
      ['cost', 'team'],
    );
    const list = await client.send(new ListDeliveryStreamsCommand({}));
    assert.deepEqual(list.DeliveryStreamNames, ['sdk-buffered', 'sdk-gz', 'sdk-main', 'sdk-s3']);

    const rowsBefore = await countRows(s, TABLE);
    await client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: 'sdk-main',
        Records: readings('after-restart', 10).map((r) => ({ Data: recordOf(r) })),
      }),
    );
    await eventually(async () => (await countRows(s, TABLE)) === rowsBefore + 10, 10_000);
    assert.equal(await countRows(s, TABLE, "guid LIKE 'after-restart-%'"), 10);
  });

  test('with access keys configured, a wrong secret is InvalidSignatureException and the right one works', async () => {
    await createBucket(keyed.dataDir, BUCKET);
    const wrong = firehoseClient(keyed, { accessKeyId: KEY_ID, secretAccessKey: 'not-the-secret' });
    const unknown = firehoseClient(keyed, { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: SECRET });
    const right = firehoseClient(keyed, { accessKeyId: KEY_ID, secretAccessKey: SECRET });
    try {
      const e = await sdkError(wrong.send(new ListDeliveryStreamsCommand({})));
      assert.equal(e.name, 'InvalidSignatureException');
      assert.equal(e.status, 400);
      const u = await sdkError(unknown.send(new ListDeliveryStreamsCommand({})));
      assert.equal(u.name, 'UnrecognizedClientException');

      await keyed.sql(messageTableSql(TABLE));
      await right.send(
        new CreateDeliveryStreamCommand(
          redshiftStream(keyed, { name: 'keyed', bucket: BUCKET, table: TABLE }),
        ),
      );
      const put = await sdkError(
        wrong.send(
          new PutRecordCommand({
            DeliveryStreamName: 'keyed',
            Record: { Data: recordOf(readings('x', 1)[0]) },
          }),
        ),
      );
      assert.equal(put.name, 'InvalidSignatureException');
      await right.send(
        new PutRecordCommand({
          DeliveryStreamName: 'keyed',
          Record: { Data: recordOf(readings('ok', 1)[0]) },
        }),
      );
      await eventually(async () => (await countRows(keyed, TABLE)) === 1, 10_000);
      assert.equal(await countRows(keyed, TABLE, "guid = 'ok-000000'"), 1);
    } finally {
      wrong.destroy();
      unknown.destroy();
      right.destroy();
    }
  });
});
