import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryStreamError } from './errors.ts';
import { applyUpdate, delimiterOf, describeStream, hintsOf, parseJdbcUrl, validateCreate } from './config.ts';

const redshift = {
  DeliveryStreamName: 'redshift-delivery-stream',
  RedshiftDestinationConfiguration: {
    RoleARN: 'arn:aws:iam::000000000000:role/r',
    ClusterJDBCURL: 'jdbc:redshift://127.0.0.1:5439/dev',
    CopyCommand: {
      DataTableName: 'sensor.message',
      DataTableColumns: 'guid, ts, temp',
      CopyOptions: "JSON 'auto' GZIP",
    },
    Username: 'awsuser',
    Password: 'secret-password',
    S3Configuration: {
      RoleARN: 'arn:aws:iam::000000000000:role/r',
      BucketARN: 'arn:aws:s3:::redshift-stack-databucket',
      Prefix: 'message/',
      BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 60 },
      CompressionFormat: 'GZIP',
    },
  },
};

/** Asserts a DeliveryStreamError of a kind whose message matches. */
function assertRejects(fn: () => unknown, kind: string, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof DeliveryStreamError);
    assert.equal(error.kind, kind);
    assert.match(error.message, message);
    return true;
  });
}

describe('delivery stream configuration', () => {
  test('the reference Redshift stream is accepted and described without its password', () => {
    const stream = validateCreate(redshift, 1_700_000_000_000);
    assert.deepEqual(hintsOf(stream), { sizeBytes: 1024 * 1024, intervalMs: 60_000 });
    const description = describeStream(stream, 'arn:aws:firehose:us-east-1:000000000000:deliverystream/x');
    assert.equal(description.DeliveryStreamStatus, 'ACTIVE');
    assert.equal(description.VersionId, '1');
    assert.ok(!JSON.stringify(description).includes('secret-password'));
  });

  test('buffering hints out of range are refused with a Firehose validation message', () => {
    const bad = structuredClone(redshift);
    bad.RedshiftDestinationConfiguration.S3Configuration.BufferingHints.IntervalInSeconds = 901;
    assertRejects(() => validateCreate(bad, 0), 'InvalidArgument', /less than or equal to 900/);
    const big = structuredClone(redshift);
    big.RedshiftDestinationConfiguration.S3Configuration.BufferingHints.SizeInMBs = 129;
    assertRejects(() => validateCreate(big, 0), 'InvalidArgument', /less than or equal to 128/);
  });

  test('a Redshift prefix with expressions and ZIP compression are refused', () => {
    const expr = structuredClone(redshift);
    expr.RedshiftDestinationConfiguration.S3Configuration.Prefix = 'm/!{timestamp:yyyy}/';
    assertRejects(() => validateCreate(expr, 0), 'InvalidArgument', /must not contain expressions/);
    const zip = structuredClone(redshift);
    zip.RedshiftDestinationConfiguration.S3Configuration.CompressionFormat = 'ZIP';
    assertRejects(() => validateCreate(zip, 0), 'InvalidArgument', /ZIP/);
  });

  test('a stream name outside the pattern and a missing destination are refused', () => {
    assertRejects(
      () => validateCreate({ ...redshift, DeliveryStreamName: 'bad name' }, 0),
      'InvalidArgument',
      /\[a-zA-Z0-9_.-\]\+/,
    );
    assertRejects(
      () => validateCreate({ DeliveryStreamName: 'x' }, 0),
      'InvalidArgument',
      /destination configuration is required/,
    );
  });

  test('UpdateDestination merges into the same destination type and bumps the version', () => {
    const stream = validateCreate(redshift, 0);
    const next = applyUpdate(
      stream,
      {
        DeliveryStreamName: stream.name,
        CurrentDeliveryStreamVersionId: '1',
        DestinationId: 'destinationId-000000000001',
        RedshiftDestinationUpdate: {
          CopyCommand: { DataTableName: 'sensor.message2' },
          S3Update: { Prefix: 'other/' },
        },
      },
      1,
    );
    assert.equal(next.version, 2);
    assert.equal(next.redshift?.CopyCommand.DataTableName, 'sensor.message2');
    assert.equal(next.redshift?.CopyCommand.CopyOptions, "JSON 'auto' GZIP");
    assert.equal(next.redshift?.S3Configuration.Prefix, 'other/');
    assert.equal(next.redshift?.S3Configuration.CompressionFormat, 'GZIP');
    assertRejects(
      () =>
        applyUpdate(
          next,
          {
            DeliveryStreamName: stream.name,
            CurrentDeliveryStreamVersionId: '1',
            DestinationId: 'destinationId-000000000001',
            S3DestinationUpdate: {},
          },
          2,
        ),
      'ConcurrentModification',
      /does not match/,
    );
  });

  test('AppendDelimiterToRecord gives a newline by default and JDBC URLs are parsed', () => {
    const stream = validateCreate(
      {
        DeliveryStreamName: 's3-only',
        ExtendedS3DestinationConfiguration: {
          BucketARN: 'arn:aws:s3:::b',
          ProcessingConfiguration: { Enabled: true, Processors: [{ Type: 'AppendDelimiterToRecord' }] },
        },
      },
      0,
    );
    assert.deepEqual(delimiterOf(stream), Buffer.from('\n'));
    assert.deepEqual(parseJdbcUrl('jdbc:postgresql://db.example:5432/analytics?ssl=true'), {
      host: 'db.example',
      port: 5432,
      database: 'analytics',
    });
    assertRejects(() => parseJdbcUrl('postgres://x/y'), 'InvalidArgument', /jdbc:redshift/);
  });
});
