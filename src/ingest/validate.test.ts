import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FirehoseApiError } from './errors.ts';
import { decodePutRecord, decodePutRecordBatch, parseJsonBody, validateInput } from './validate.ts';

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

function expectError(fn: () => unknown, type: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof FirehoseApiError, `expected a FirehoseApiError, got ${String(err)}`);
    assert.equal(err.type, type);
    assert.match(err.message, message);
    return true;
  });
}

describe('parseJsonBody', () => {
  test('an empty body is an empty request', () => {
    assert.deepEqual(parseJsonBody(Buffer.alloc(0)), {});
  });

  test('keeps non-ASCII text intact', () => {
    assert.deepEqual(parseJsonBody(Buffer.from('{"a":"grüße"}')), { a: 'grüße' });
  });

  test('malformed JSON is a SerializationException', () => {
    expectError(
      () => parseJsonBody(Buffer.from('{"DeliveryStreamName":')),
      'SerializationException',
      /not valid JSON/,
    );
  });

  test('a JSON array is not a request', () => {
    expectError(() => parseJsonBody(Buffer.from('[1]')), 'SerializationException', /JSON object/);
  });
});

describe('decodePutRecordBatch', () => {
  test('decodes every record, in order, including empty ones', () => {
    const batch = decodePutRecordBatch({
      DeliveryStreamName: 's',
      Records: [{ Data: b64('a') }, { Data: '' }, { Data: b64('hello world') }, { Data: b64('xy') }],
    });
    assert.equal(batch.streamName, 's');
    assert.deepEqual(
      batch.records.map((r) => r.toString()),
      ['a', '', 'hello world', 'xy'],
    );
    assert.equal(batch.totalBytes, 14);
  });

  test('decodes binary data exactly', () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const batch = decodePutRecordBatch({ DeliveryStreamName: 's', Records: [{ Data: b64(bytes) }] });
    assert.deepEqual(batch.records[0], bytes);
  });

  test('a record that is not base64 names the record', () => {
    const records = [{ Data: b64('ok') }, { Data: b64('ok') }, { Data: 'ab$d' }];
    expectError(
      () => decodePutRecordBatch({ DeliveryStreamName: 's', Records: records }),
      'SerializationException',
      /'records\.3\.member\.data' \(record index 2\) is not valid base64/,
    );
  });

  test('URL-safe base64, inner padding and bad lengths are not base64', () => {
    for (const bad of ['ab-_', 'QQ==QUJD', 'abc', 'QU D']) {
      expectError(
        () => decodePutRecordBatch({ DeliveryStreamName: 's', Records: [{ Data: bad }] }),
        'SerializationException',
        /records\.1\.member\.data/,
      );
    }
  });

  test('URL-safe base64 is refused also when the raw body is checked, escaped or not', () => {
    const datas = [b64('ok'), 'ab-_'];
    const body = Buffer.from(
      JSON.stringify({ DeliveryStreamName: 'my-stream_1', Records: datas.map((Data) => ({ Data })) }),
    );
    expectError(
      () => decodePutRecordBatch(parseJsonBody(body), body),
      'SerializationException',
      /records\.2\.member\.data/,
    );
    const escaped = Buffer.from(
      '{"DeliveryStreamName":"s","Records":[{"Data":"YWJj"},{"Data":"ab\\u002d\\u002d"}]}',
    );
    expectError(
      () => decodePutRecordBatch(parseJsonBody(escaped), escaped),
      'SerializationException',
      /records\.2\.member\.data/,
    );
  });

  test('a stream name with - and _ and JSON-escaped slashes are fine', () => {
    const data = Buffer.from([0xff, 0xff, 0xfe]).toString('base64');
    assert.equal(data, '///+');
    const body = Buffer.from(
      `{"DeliveryStreamName":"my-stream_1","Records":[{"Data":"${data.replace(/\//g, '\\/')}"}]}`,
    );
    const batch = decodePutRecordBatch(parseJsonBody(body), body);
    assert.deepEqual([...(batch.records[0] ?? [])], [0xff, 0xff, 0xfe]);
  });

  test('a record of 1,024,001 bytes fails with the ValidationException AWS sends', () => {
    const big = Buffer.alloc(1_024_001, 1).toString('base64');
    expectError(
      () => decodePutRecordBatch({ DeliveryStreamName: 's', Records: [{ Data: b64('x') }, { Data: big }] }),
      'ValidationException',
      /^1 validation error detected: Value 'java\.nio\.HeapByteBuffer\[pos=0 lim=1024001 cap=1024001\]' at 'records\.2\.member\.data' failed to satisfy constraint: Member must have length less than or equal to 1024000$/,
    );
  });

  test('a record of exactly 1,024,000 bytes is accepted', () => {
    const data = Buffer.alloc(1_024_000, 7);
    const batch = decodePutRecordBatch({
      DeliveryStreamName: 's',
      Records: [{ Data: data.toString('base64') }],
    });
    assert.equal(batch.records[0]?.length, 1_024_000);
  });

  test('501 records fail naming records', () => {
    const records = Array.from({ length: 501 }, () => ({ Data: b64('x') }));
    expectError(
      () => decodePutRecordBatch({ DeliveryStreamName: 's', Records: records }),
      'ValidationException',
      /at 'records' failed to satisfy constraint: Member must have length less than or equal to 500$/,
    );
  });

  test('no records fail naming records', () => {
    expectError(
      () => decodePutRecordBatch({ DeliveryStreamName: 's', Records: [] }),
      'ValidationException',
      /Value '\[\]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1/,
    );
  });

  test('more than 4 MiB in total is an InvalidArgumentException naming the limit', () => {
    const data = Buffer.alloc(900_000).toString('base64');
    const records = Array.from({ length: 5 }, () => ({ Data: data }));
    expectError(
      () => decodePutRecordBatch({ DeliveryStreamName: 's', Records: records }),
      'InvalidArgumentException',
      /4500000 bytes.*4194304 bytes \(4 MiB\)/,
    );
  });

  test('reports every violation in one message', () => {
    expectError(
      () => decodePutRecordBatch({ DeliveryStreamName: 'bad name!', Records: [{}] }),
      'ValidationException',
      /^2 validation errors detected: Value 'bad name!' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: \[a-zA-Z0-9_.-\]\+; Value null at 'records\.1\.member\.data' failed to satisfy constraint: Member must not be null$/,
    );
  });

  test('a missing stream name and records are both named', () => {
    expectError(
      () => decodePutRecordBatch({}),
      'ValidationException',
      /^2 validation errors detected: Value null at 'deliveryStreamName'.*Value null at 'records'/,
    );
  });

  test('a number where a string belongs is a SerializationException', () => {
    expectError(
      () => decodePutRecordBatch({ DeliveryStreamName: 's', Records: [{ Data: 5 }] }),
      'SerializationException',
      /records\.1\.member\.data/,
    );
  });
});

describe('decodePutRecord', () => {
  test('decodes the record', () => {
    const one = decodePutRecord({ DeliveryStreamName: 's', Record: { Data: b64('{"temp":99.99}') } });
    assert.equal(one.records[0]?.toString(), '{"temp":99.99}');
  });

  test('a missing record is named record', () => {
    expectError(
      () => decodePutRecord({ DeliveryStreamName: 's' }),
      'ValidationException',
      /Value null at 'record' failed/,
    );
  });
});

describe('validateInput', () => {
  test('a stream name of 65 characters is too long', () => {
    expectError(
      () => validateInput('DescribeDeliveryStream', { DeliveryStreamName: 'a'.repeat(65) }),
      'ValidationException',
      /^1 validation error detected: Value 'a{65}' at 'deliveryStreamName' failed to satisfy constraint: Member must have length less than or equal to 64$/,
    );
  });

  test('Limit outside its range names the limit', () => {
    expectError(
      () => validateInput('ListDeliveryStreams', { Limit: 0 }),
      'ValidationException',
      /Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1/,
    );
  });

  test('checks nested destination settings with their member path', () => {
    expectError(
      () =>
        validateInput('CreateDeliveryStream', {
          DeliveryStreamName: 's',
          ExtendedS3DestinationConfiguration: {
            BucketARN: 'arn:aws:s3:::b',
            BufferingHints: { SizeInMBs: 0 },
            CompressionFormat: 'LZ4',
          },
        }),
      'ValidationException',
      /^2 validation errors detected: Value '0' at 'extendedS3DestinationConfiguration\.bufferingHints\.sizeInMBs'.*Value 'LZ4' at 'extendedS3DestinationConfiguration\.compressionFormat' failed to satisfy constraint: Member must satisfy enum value set: \[UNCOMPRESSED, GZIP, ZIP, Snappy, HADOOP_SNAPPY\]$/,
    );
  });

  test('accepts the reference Redshift stream with a local JDBC URL and no RoleARN', () => {
    validateInput('CreateDeliveryStream', {
      DeliveryStreamName: 'redshift-delivery-stream',
      DeliveryStreamType: 'DirectPut',
      RedshiftDestinationConfiguration: {
        ClusterJDBCURL: 'jdbc:redshift://127.0.0.1:5439/dev',
        CopyCommand: {
          DataTableName: 'sensor.message',
          DataTableColumns: 'guid,ts,temp',
          CopyOptions: "JSON 'auto' GZIP",
        },
        Username: 'awsuser',
        Password: 'secret-password',
        S3Configuration: {
          BucketARN: 'arn:aws:s3:::redshift-stack-databucket',
          Prefix: 'message/',
          BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
          CompressionFormat: 'GZIP',
        },
      },
    });
  });

  test('never echoes a password', () => {
    assert.throws(
      () =>
        validateInput('CreateDeliveryStream', {
          DeliveryStreamName: 's',
          RedshiftDestinationConfiguration: {
            ClusterJDBCURL: 'jdbc:redshift://h:5439/dev',
            CopyCommand: { DataTableName: 't' },
            Password: 'abc',
            S3Configuration: { BucketARN: 'arn:aws:s3:::b' },
          },
        }),
      (err: unknown) =>
        err instanceof FirehoseApiError && !err.message.includes('abc') && /Redacted/.test(err.message),
    );
  });

  test('tags need keys and at most 50 entries', () => {
    expectError(
      () => validateInput('TagDeliveryStream', { DeliveryStreamName: 's', Tags: [{ Value: 'v' }] }),
      'ValidationException',
      /Value null at 'tags\.1\.member\.key' failed to satisfy constraint: Member must not be null/,
    );
    const tags = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}` }));
    expectError(
      () => validateInput('TagDeliveryStream', { DeliveryStreamName: 's', Tags: tags }),
      'ValidationException',
      /at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50/,
    );
  });

  test('a tag key starting with aws: is refused', () => {
    expectError(
      () => validateInput('UntagDeliveryStream', { DeliveryStreamName: 's', TagKeys: ['aws:x'] }),
      'ValidationException',
      /at 'tagKeys\.1\.member' failed to satisfy constraint: Member must satisfy regular expression pattern/,
    );
  });
});
