/**
 * The bad-input list against a real `sluice up`: every bad request gets AWS's error shape
 * (status, `__type`, message), the server keeps running, and no acknowledged record is lost.
 * Also: a full stream answers "Slow down." and keeps what it acknowledged, and records that
 * do not fit the table go to errors/records/ and stl_load_errors while their neighbours load.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateDeliveryStreamCommand, type FirehoseClient } from '@aws-sdk/client-firehose';
import {
  batchBody,
  countRows,
  createBucket,
  firehoseClient,
  listKeys,
  messageTableSql,
  rawFirehose,
  readObject,
  readings,
  recordOf,
  redshiftStream,
  type RawAnswer,
} from '../support/firehose.ts';
import { eventually, removeDataDir, startSluice, type SluiceProcess } from '../support/sluice-process.ts';

const BUCKET = 'bad-bucket';
const TABLE = 'bad.message';
const STREAM = 'bad-stream';
const KEYS = { accessKeyId: 'AKIASLUICEBADINPUT01', secretAccessKey: 'bad-input-secret-1' };

/** Asserts an AWS JSON 1.1 error answer. */
function assertAwsError(answer: RawAnswer, status: number, type: string, message?: RegExp): void {
  assert.equal(answer.status, status, `status of ${answer.text}`);
  assert.ok(answer.json, `a JSON body, got ${answer.text}`);
  assert.equal(answer.json['__type'], type, answer.text);
  assert.equal(typeof answer.json['message'], 'string');
  if (message) assert.match(answer.json['message'] as string, message);
  assert.equal(answer.headers.get('x-amzn-errortype'), type);
  assert.ok(answer.headers.get('x-amzn-requestid'), 'a request id');
  assert.match(answer.headers.get('content-type') ?? '', /application\/x-amz-json-1\.1/);
}

/** A PutRecordBatch of readings; returns the guids it acknowledged. */
async function putReadings(s: SluiceProcess, stream: string, tag: string, n: number): Promise<string[]> {
  const sent = readings(tag, n);
  const answer = await rawFirehose(s, 'PutRecordBatch', batchBody(stream, sent.map(recordOf)));
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.json?.['FailedPutCount'], 0);
  return sent.map((r) => r.guid);
}

describe('bad input gets AWS error shapes and loses nothing', () => {
  let s: SluiceProcess;
  let keyed: SluiceProcess;
  let client: FirehoseClient;
  let work: string;
  let configFile: string;
  /** Guids acknowledged on `s`'s main stream. */
  const acknowledged: string[] = [];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'sluice-bad-'));
    configFile = join(work, 'config.json');
    await writeFile(configFile, JSON.stringify({ log: { maxBytes: 2_000_000 }, accessKeys: [KEYS] }));
    [s, keyed] = await Promise.all([startSluice(), startSluice({ args: ['up', '--config', configFile] })]);
    client = firehoseClient(s);
    await createBucket(s.dataDir, BUCKET);
    await s.sql(messageTableSql(TABLE));
    await client.send(
      new CreateDeliveryStreamCommand(redshiftStream(s, { name: STREAM, bucket: BUCKET, table: TABLE })),
    );
    acknowledged.push(...(await putReadings(s, STREAM, 'before', 100)));
  });

  after(async () => {
    client?.destroy();
    for (const p of [s, keyed]) {
      if (!p) continue;
      await p.stop();
      await removeDataDir(p.dataDir);
    }
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('a malformed JSON body is SerializationException', async () => {
    const answer = await rawFirehose(
      s,
      'PutRecordBatch',
      `{"DeliveryStreamName":"${STREAM}","Records":[{"Data":"e30="}`,
    );
    assertAwsError(answer, 400, 'SerializationException', /not valid JSON/);
    const notObject = await rawFirehose(s, 'PutRecord', '[1,2,3]');
    assertAwsError(notObject, 400, 'SerializationException');
  });

  test('an unknown X-Amz-Target is UnknownOperationException', async () => {
    const answer = await rawFirehose(s, 'PutRecords', '{}');
    assertAwsError(answer, 400, 'UnknownOperationException', /Firehose_20150804\.PutRecords/);
  });

  test('a missing or invalid field is ValidationException', async () => {
    const missing = await rawFirehose(s, 'PutRecord', JSON.stringify({ Record: { Data: 'e30=' } }));
    assertAwsError(
      missing,
      400,
      'ValidationException',
      /^1 validation error detected: Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null$/,
    );
    const spaced = await rawFirehose(
      s,
      'PutRecord',
      JSON.stringify({ DeliveryStreamName: 'bad stream', Record: { Data: 'e30=' } }),
    );
    assertAwsError(
      spaced,
      400,
      'ValidationException',
      /Value 'bad stream' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: \[a-zA-Z0-9_.-\]\+/,
    );
    const noRecords = await rawFirehose(s, 'PutRecordBatch', JSON.stringify({ DeliveryStreamName: STREAM }));
    assertAwsError(
      noRecords,
      400,
      'ValidationException',
      /at 'records' failed to satisfy constraint: Member must not be null/,
    );
    const wrongType = await rawFirehose(
      s,
      'PutRecord',
      JSON.stringify({ DeliveryStreamName: STREAM, Record: { Data: 12 } }),
    );
    assertAwsError(wrongType, 400, 'SerializationException', /record\.data/);
  });

  test('invalid base64 is SerializationException for the whole request', async () => {
    const answer = await rawFirehose(
      s,
      'PutRecordBatch',
      JSON.stringify({ DeliveryStreamName: STREAM, Records: [{ Data: 'e30=' }, { Data: 'e30*' }] }),
    );
    assertAwsError(answer, 400, 'SerializationException', /records\.2\.member\.data.*not valid base64/);
    const urlSafe = await rawFirehose(
      s,
      'PutRecord',
      JSON.stringify({ DeliveryStreamName: STREAM, Record: { Data: 'ab-_' } }),
    );
    assertAwsError(urlSafe, 400, 'SerializationException', /not valid base64/);
  });

  test('a record over 1,000 KiB is ValidationException; one of exactly 1,024,000 bytes is accepted', async () => {
    const big = Buffer.alloc(1_024_001, 0x61);
    const answer = await rawFirehose(
      s,
      'PutRecord',
      JSON.stringify({ DeliveryStreamName: STREAM, Record: { Data: big.toString('base64') } }),
    );
    assertAwsError(
      answer,
      400,
      'ValidationException',
      /Member must have length less than or equal to 1024000/,
    );
    const inBatch = await rawFirehose(s, 'PutRecordBatch', batchBody(STREAM, [Buffer.from('{}'), big]));
    assertAwsError(inBatch, 400, 'ValidationException', /records\.2\.member\.data/);

    const head = '{"guid":"max-size","ts":1700000000,"temp":1.5,"pad":"';
    const max = Buffer.from(head + 'a'.repeat(1_024_000 - head.length - 2) + '"}');
    assert.equal(max.length, 1_024_000);
    const accepted = await rawFirehose(
      s,
      'PutRecord',
      JSON.stringify({ DeliveryStreamName: STREAM, Record: { Data: max.toString('base64') } }),
    );
    assert.equal(accepted.status, 200, accepted.text);
    acknowledged.push('max-size');
  });

  test('a batch of 501 records is ValidationException', async () => {
    const records = Array.from({ length: 501 }, () => Buffer.from('{}'));
    const answer = await rawFirehose(s, 'PutRecordBatch', batchBody(STREAM, records));
    assertAwsError(
      answer,
      400,
      'ValidationException',
      /at 'records' failed to satisfy constraint: Member must have length less than or equal to 500/,
    );
  });

  test('a batch over 4 MiB is InvalidArgumentException', async () => {
    const records = Array.from({ length: 5 }, () => Buffer.alloc(850_000, 0x62));
    const answer = await rawFirehose(s, 'PutRecordBatch', batchBody(STREAM, records));
    assertAwsError(answer, 400, 'InvalidArgumentException', /4 MiB/);
  });

  test('an unknown stream is ResourceNotFoundException', async () => {
    const put = await rawFirehose(
      s,
      'PutRecord',
      JSON.stringify({ DeliveryStreamName: 'nope', Record: { Data: 'e30=' } }),
    );
    assertAwsError(
      put,
      400,
      'ResourceNotFoundException',
      /^Firehose nope under account 000000000000 not found\.$/,
    );
    const batch = await rawFirehose(s, 'PutRecordBatch', batchBody('nope', [Buffer.from('{}')]));
    assertAwsError(batch, 400, 'ResourceNotFoundException');
    const describe = await rawFirehose(
      s,
      'DescribeDeliveryStream',
      JSON.stringify({ DeliveryStreamName: 'nope' }),
    );
    assertAwsError(describe, 400, 'ResourceNotFoundException');
  });

  test('a duplicate stream name is ResourceInUseException', async () => {
    const answer = await rawFirehose(
      s,
      'CreateDeliveryStream',
      JSON.stringify(redshiftStream(s, { name: STREAM, bucket: BUCKET, table: TABLE })),
    );
    assertAwsError(answer, 400, 'ResourceInUseException', new RegExp(STREAM));
  });

  test('a request without a signature is MissingAuthenticationTokenException', async () => {
    const answer = await rawFirehose(s, 'ListDeliveryStreams', '{}', { unsigned: true });
    assertAwsError(answer, 403, 'MissingAuthenticationTokenException');
  });

  test('with keys configured, a bad signature is InvalidSignatureException and a good one works', async () => {
    const wrong = await rawFirehose(keyed, 'ListDeliveryStreams', '{}', {
      credentials: { accessKeyId: KEYS.accessKeyId, secretAccessKey: 'wrong' },
    });
    assertAwsError(wrong, 400, 'InvalidSignatureException', /signature we calculated does not match/);
    const good = await rawFirehose(keyed, 'ListDeliveryStreams', '{}', { credentials: KEYS });
    assert.equal(good.status, 200, good.text);
    const unknownKey = await rawFirehose(keyed, 'ListDeliveryStreams', '{}', {
      credentials: { accessKeyId: 'AKIANOTCONFIGURED000', secretAccessKey: KEYS.secretAccessKey },
    });
    assertAwsError(unknownKey, 400, 'UnrecognizedClientException');
    // A signed header changed after signing (here the date) breaks the signature.
    const tampered = await rawFirehose(keyed, 'ListDeliveryStreams', '{}', {
      credentials: KEYS,
      headers: { 'x-amz-date': '20200101T000000Z' },
    });
    assert.equal(tampered.status, 400, tampered.text);
    assert.match(String(tampered.json?.['__type']), /InvalidSignatureException/);
  });

  test('after all the bad requests the server runs and a good batch lands with everything acknowledged before', async () => {
    assert.equal(s.child.exitCode, null, 'still running');
    const health = await fetch(`${s.consoleUrl}/health`);
    assert.equal(health.status, 200);
    acknowledged.push(...(await putReadings(s, STREAM, 'after', 200)));
    await eventually(async () => (await countRows(s, TABLE)) >= acknowledged.length, 15_000);
    const [rows] = await s.sql(`SELECT guid FROM ${TABLE} ORDER BY guid`);
    assert.deepEqual(
      rows!.rows.map((r) => r[0]),
      [...acknowledged].sort(),
      'exactly the acknowledged records, once each',
    );
  });

  test('records that do not fit the table go to errors/records/ and stl_load_errors; their neighbours load', async () => {
    const table = 'bad.fit';
    await s.sql(messageTableSql(table));
    await client.send(
      new CreateDeliveryStreamCommand(
        redshiftStream(s, { name: 'fit-stream', bucket: BUCKET, table, prefix: 'fit/' }),
      ),
    );
    const good = readings('fit', 4);
    const badJson = Buffer.from('{"guid":"broken-json","ts":17000');
    const longGuid = recordOf({ guid: 'g'.repeat(40), ts: 1_700_000_100, temp: 70.1 });
    const badTemp = recordOf({ guid: 'bad-temp', ts: 1_700_000_101, temp: 'abc' });
    const batch = [
      recordOf(good[0]),
      badJson,
      recordOf(good[1]),
      longGuid,
      recordOf(good[2]),
      badTemp,
      recordOf(good[3]),
    ];
    const answer = await rawFirehose(s, 'PutRecordBatch', batchBody('fit-stream', batch));
    assert.equal(answer.json?.['FailedPutCount'], 0, answer.text);

    const errorKeys = await eventually(async () => {
      const keys = await listKeys(s.dataDir, BUCKET, 'fit/errors/records/');
      return keys.length > 0 && keys;
    }, 15_000);
    await eventually(async () => (await countRows(s, table)) === 4, 10_000);
    const [loaded] = await s.sql(`SELECT guid FROM ${table} ORDER BY guid`);
    assert.deepEqual(
      loaded!.rows.map((r) => r[0]),
      good.map((r) => r.guid),
    );

    assert.equal(errorKeys.length, 1);
    assert.match(errorKeys[0]!, /^fit\/errors\/records\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/fit-stream-1-/);
    const lines = (await readObject(s.dataDir, BUCKET, errorKeys[0]!)).toString('utf8').trim().split('\n');
    const entries = lines.map(
      (l) => JSON.parse(l) as { errorCode: string; errorMessage: string; rawData: string },
    );
    assert.equal(entries.length, 3);
    const raw = entries.map((e) => Buffer.from(e.rawData, 'base64').toString('utf8'));
    assert.deepEqual(
      raw,
      [badJson, longGuid, badTemp].map((b) => b.toString('utf8')),
    );
    for (const e of entries) {
      assert.equal(typeof e.errorCode, 'string');
      assert.ok(e.errorCode.length > 0);
      assert.ok(e.errorMessage.length > 0);
    }
    assert.match(entries[0]!.errorMessage, /JSON/, 'the broken record names its error');
    assert.match(
      entries[1]!.errorMessage,
      /String length exceeds DDL length.*column guid/,
      'the long guid names its error',
    );
    assert.match(entries[2]!.errorMessage, /Invalid digit.*column temp/, 'the bad temp names its error');

    const [errors] = await s.sql(
      `SELECT trim(colname), err_code, trim(err_reason), trim(raw_field_value) FROM stl_load_errors ORDER BY line_number`,
    );
    assert.equal(errors!.rows.length, 3, JSON.stringify(errors!.rows));
    const byColumn = new Map(errors!.rows.map((r) => [String(r[0]), r]));
    assert.ok(byColumn.has('guid'), `a guid error in ${JSON.stringify(errors!.rows)}`);
    assert.ok(byColumn.has('temp'), `a temp error in ${JSON.stringify(errors!.rows)}`);
    assert.equal(byColumn.get('guid')![2], 'String length exceeds DDL length');
    assert.equal(byColumn.get('guid')![3], 'g'.repeat(40));
    assert.equal(byColumn.get('temp')![3], 'abc');
    for (const r of errors!.rows) assert.ok(Number(r[1]) > 0 && String(r[2]).length > 0);
  });

  test('a full stream answers Slow down., and every record it acknowledged is delivered after SIGTERM', async () => {
    const keyedClient = firehoseClient(keyed, KEYS);
    const table = 'slow.message';
    try {
      await createBucket(keyed.dataDir, BUCKET);
      await keyed.sql(messageTableSql(table));
      // Nothing is released: a 900 s interval and 128 MB buffer keep every record in the log.
      await keyedClient.send(
        new CreateDeliveryStreamCommand(
          redshiftStream(keyed, {
            name: 'full',
            bucket: BUCKET,
            table,
            intervalSeconds: 900,
            sizeInMBs: 128,
          }),
        ),
      );
    } finally {
      keyedClient.destroy();
    }
    const pad = 'p'.repeat(950);
    const acked: string[] = [];
    const refused: string[] = [];
    let batchNo = 0;
    let sawSlowDown = false;
    // Batches of shrinking size, each until one is refused, so the log ends up full to the byte.
    for (const size of [500, 50, 5, 1]) {
      for (;;) {
        const sent = readings(`full${batchNo++}`, size).map((r) => ({ ...r, pad }));
        const answer = await rawFirehose(keyed, 'PutRecordBatch', batchBody('full', sent.map(recordOf)), {
          credentials: KEYS,
        });
        assert.equal(answer.status, 200, answer.text);
        const failed = answer.json!['FailedPutCount'] as number;
        const entries = answer.json!['RequestResponses'] as {
          RecordId?: string;
          ErrorCode?: string;
          ErrorMessage?: string;
        }[];
        assert.equal(entries.length, size);
        if (failed === 0) {
          acked.push(...sent.map((r) => r.guid));
          continue;
        }
        assert.equal(failed, size, 'a batch that cannot be made durable fails for all of its records');
        for (const e of entries) {
          assert.equal(e.ErrorCode, 'ServiceUnavailableException');
          assert.equal(e.ErrorMessage, 'Slow down.');
          assert.equal(e.RecordId, undefined);
        }
        refused.push(...sent.map((r) => r.guid));
        sawSlowDown = true;
        break;
      }
    }
    assert.ok(sawSlowDown);
    assert.ok(acked.length >= 1000, `acknowledged ${acked.length} before the log filled`);

    const one = await rawFirehose(
      keyed,
      'PutRecord',
      JSON.stringify({
        DeliveryStreamName: 'full',
        Record: {
          Data: Buffer.from(JSON.stringify({ guid: 'one-more', ts: 1, temp: 1, pad })).toString('base64'),
        },
      }),
      { credentials: KEYS },
    );
    assertAwsError(one, 500, 'ServiceUnavailableException', /^Slow down\.$/);
    assert.equal(await countRows(keyed, table), 0, 'nothing delivered yet');

    const code = await keyed.stop();
    assert.equal(code, 0, keyed.stderr());
    keyed = await startSluice({
      dataDir: keyed.dataDir,
      ports: { aws: keyed.awsPort, sql: keyed.sqlPort, console: keyed.consolePort },
      args: ['up', '--config', configFile],
    });
    const [rows] = await keyed.sql(`SELECT guid FROM ${table} ORDER BY guid`);
    assert.deepEqual(
      rows!.rows.map((r) => r[0]),
      [...acked].sort(),
      'every acknowledged record, once; no refused one',
    );
  });

  test('a stream that was full accepts records again once what it held is delivered', async () => {
    // The previous test filled the stream 'full' on `keyed` and drained it with SIGTERM.
    assert.ok((await countRows(keyed, 'slow.message')) >= 1000, 'the held records were delivered');
    const again = await rawFirehose(
      keyed,
      'PutRecordBatch',
      batchBody('full', readings('again', 10).map(recordOf)),
      {
        credentials: KEYS,
      },
    );
    assert.equal(again.json?.['FailedPutCount'], 0, again.text);
  });
});
