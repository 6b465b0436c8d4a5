/**
 * The Firehose API of a real `sluice up`, driven by the AWS CLI v2 (the Debian package at
 * /usr/bin/aws) exactly as the README shows it: create, put-record, put-record-batch,
 * describe, list, delete; records become rows.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countRows, createBucket, messageTableSql, readings, redshiftStream } from '../support/firehose.ts';
import { eventually, removeDataDir, startSluice, type SluiceProcess } from '../support/sluice-process.ts';

const AWS = '/usr/bin/aws';
const BUCKET = 'cli-bucket';
const TABLE = 'cli.message';
const STREAM = 'cli-stream';

/** What one `aws` run printed and how it exited. */
interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('Firehose API through the AWS CLI v2', () => {
  let s: SluiceProcess;
  let work: string;

  /** Runs `aws firehose <args>` against the child. */
  function aws(...args: string[]): Promise<CliRun> {
    return awsWith('config', ...args);
  }

  /** Runs `aws firehose <args>` with one of the config files in the work folder. */
  function awsWith(config: string, ...args: string[]): Promise<CliRun> {
    return new Promise((resolve) => {
      execFile(
        AWS,
        ['--endpoint-url', s.awsUrl, '--output', 'json', 'firehose', ...args],
        {
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: work,
            AWS_ACCESS_KEY_ID: 'AKIDCLITEST',
            AWS_SECRET_ACCESS_KEY: 'cli-secret',
            AWS_DEFAULT_REGION: 'us-east-1',
            AWS_CONFIG_FILE: join(work, config),
            AWS_SHARED_CREDENTIALS_FILE: join(work, 'credentials'),
            AWS_PAGER: '',
            AWS_MAX_ATTEMPTS: '1',
          },
          timeout: 60_000,
        },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  /** Runs `aws firehose ...`, expects success and parses its JSON output. */
  async function awsJson(...args: string[]): Promise<Record<string, unknown>> {
    const run = await aws(...args);
    assert.equal(run.code, 0, `aws ${args.join(' ')} failed:\n${run.stderr}`);
    return run.stdout.trim() === '' ? {} : (JSON.parse(run.stdout) as Record<string, unknown>);
  }

  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
    await writeFile(join(work, 'config'), '[default]\n');
    // The CLI's bundled model (2.9) still has IntervalInSeconds >= 60, which Firehose has since
    // lowered to 0; without client-side validation the demo's 0 s buffer reaches the server.
    await writeFile(join(work, 'config-unvalidated'), '[default]\nparameter_validation = false\n');
    s = await startSluice();
    await createBucket(s.dataDir, BUCKET);
    await s.sql(messageTableSql(TABLE));
  });

  after(async () => {
    if (s) {
      await s.stop();
      await removeDataDir(s.dataDir);
    }
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('create-delivery-stream with --cli-input-json creates the demo-like Redshift stream', async () => {
    const input = join(work, 'create.json');
    await writeFile(
      input,
      JSON.stringify(redshiftStream(s, { name: STREAM, bucket: BUCKET, table: TABLE, prefix: 'message/' })),
    );
    const run = await awsWith(
      'config-unvalidated',
      'create-delivery-stream',
      '--cli-input-json',
      `file://${input}`,
    );
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.equal(
      out['DeliveryStreamARN'],
      `arn:aws:firehose:us-east-1:000000000000:deliverystream/${STREAM}`,
    );
  });

  test('put-record and put-record-batch records become rows', async () => {
    const [first] = readings('cli-one', 1);
    const one = await awsJson(
      'put-record',
      '--delivery-stream-name',
      STREAM,
      '--record',
      JSON.stringify({ Data: b64(first) }),
      '--cli-binary-format',
      'base64',
    );
    assert.equal(typeof one['RecordId'], 'string');
    assert.equal(one['Encrypted'], false);

    const batchFile = join(work, 'batch.json');
    await writeFile(batchFile, JSON.stringify(readings('cli-batch', 50).map((r) => ({ Data: b64(r) }))));
    const batch = await awsJson(
      'put-record-batch',
      '--delivery-stream-name',
      STREAM,
      '--records',
      `file://${batchFile}`,
    );
    assert.equal(batch['FailedPutCount'], 0);
    assert.equal((batch['RequestResponses'] as unknown[]).length, 50);

    await eventually(async () => (await countRows(s, TABLE)) === 51, 15_000);
    const [rows] = await s.sql(`SELECT guid, ts, temp FROM ${TABLE} WHERE guid = 'cli-one-000000'`);
    assert.deepEqual(
      rows!.rows.map((r) => r.map(String)),
      [['cli-one-000000', '1700000000', '0.65']],
    );
  });

  test('describe-delivery-stream and list-delivery-streams', async () => {
    const described = await awsJson('describe-delivery-stream', '--delivery-stream-name', STREAM);
    const d = described['DeliveryStreamDescription'] as Record<string, unknown>;
    assert.equal(d['DeliveryStreamStatus'], 'ACTIVE');
    assert.equal(d['VersionId'], '1');
    const dest = (d['Destinations'] as Record<string, Record<string, unknown>>[])[0]!;
    const redshift = dest['RedshiftDestinationDescription'] as Record<string, unknown>;
    assert.equal(redshift['ClusterJDBCURL'], `jdbc:redshift://127.0.0.1:${s.sqlPort}/dev`);
    assert.ok(!JSON.stringify(described).includes(s.password), 'no password in the description');

    const list = await awsJson('list-delivery-streams');
    assert.deepEqual(list['DeliveryStreamNames'], [STREAM]);
    assert.equal(list['HasMoreDeliveryStreams'], false);
  });

  test('put-record to an unknown stream exits non-zero with ResourceNotFoundException', async () => {
    const run = await aws(
      'put-record',
      '--delivery-stream-name',
      'no-such-stream',
      '--record',
      JSON.stringify({ Data: b64({ guid: 'x' }) }),
      '--cli-binary-format',
      'base64',
    );
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /ResourceNotFoundException/);
    assert.match(run.stderr, /no-such-stream/);
  });

  test('delete-delivery-stream removes the stream after its records are delivered', async () => {
    await awsJson('delete-delivery-stream', '--delivery-stream-name', STREAM);
    await eventually(async () => {
      const list = await awsJson('list-delivery-streams');
      return (list['DeliveryStreamNames'] as string[]).length === 0;
    }, 15_000);
    assert.equal(await countRows(s, TABLE), 51);
    const run = await aws('describe-delivery-stream', '--delivery-stream-name', STREAM);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /ResourceNotFoundException/);
  });
});
