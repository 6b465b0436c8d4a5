/**
 * Transient delivery failures on a real `sluice up`: a stream whose table is missing gives up
 * after RetryOptions.DurationInSeconds, leaves its manifest under errors/manifests/ and its
 * error in the stream status, while other streams keep delivering; `sluice redeliver` then
 * loads it exactly once. A wrong warehouse password is Redshift.AuthenticationFailed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  CreateDeliveryStreamCommand,
  PutRecordBatchCommand,
  type FirehoseClient,
} from '@aws-sdk/client-firehose';
import {
  countRows,
  createBucket,
  firehoseClient,
  lakeOf,
  listKeys,
  messageTableSql,
  readings,
  recordOf,
  redshiftStream,
} from '../support/firehose.ts';
import {
  eventually,
  removeDataDir,
  SLUICE_BIN,
  startSluice,
  type SluiceProcess,
} from '../support/sluice-process.ts';

const BUCKET = 'rd-bucket';
const FAILING = 'rd-failing';
const HEALTHY = 'rd-healthy';
const BAD_PASSWORD = 'rd-badpw';

/** A delivery error as GET /api/streams/<name> shows it. */
interface ErrorEntry {
  readonly code: string;
  readonly message: string;
  readonly manifest?: string;
}

describe('failed deliveries and sluice redeliver', () => {
  let s: SluiceProcess;
  let client: FirehoseClient;

  /** GET /api/streams/<name> with the warehouse user's password. */
  async function streamStatus(
    name: string,
  ): Promise<{ errors: ErrorEntry[]; status: { next: number; end: number } }> {
    const response = await fetch(`${s.consoleUrl}/api/streams/${name}`, {
      headers: { authorization: `Basic ${Buffer.from(`awsuser:${s.password}`).toString('base64')}` },
    });
    assert.equal(response.status, 200);
    return (await response.json()) as { errors: ErrorEntry[]; status: { next: number; end: number } };
  }

  /** Runs `sluice redeliver --stream <name>` against the child. */
  function redeliver(stream: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const env = { ...process.env };
    delete env.SLUICE_PASSWORD;
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [SLUICE_BIN, 'redeliver', '--stream', stream, '--url', s.consoleUrl, '--password', s.password],
        { env, timeout: 60_000 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  async function put(stream: string, tag: string, n: number): Promise<void> {
    const answer = await client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: stream,
        Records: readings(tag, n).map((r) => ({ Data: recordOf(r) })),
      }),
    );
    assert.equal(answer.FailedPutCount, 0);
  }

  before(async () => {
    s = await startSluice();
    client = firehoseClient(s);
    await createBucket(s.dataDir, BUCKET);
    await s.sql(`CREATE SCHEMA rd; ${messageTableSql('rd.healthy')} ${messageTableSql('rd.badpw')}`);
    for (const input of [
      redshiftStream(s, {
        name: FAILING,
        bucket: BUCKET,
        table: 'rd.message',
        prefix: 'failing/',
        retrySeconds: 2,
      }),
      redshiftStream(s, { name: HEALTHY, bucket: BUCKET, table: 'rd.healthy', prefix: 'healthy/' }),
      redshiftStream(s, {
        name: BAD_PASSWORD,
        bucket: BUCKET,
        table: 'rd.badpw',
        prefix: 'badpw/',
        retrySeconds: 2,
        password: 'Not-The-Password-1',
      }),
    ]) {
      await client.send(new CreateDeliveryStreamCommand(input));
    }
  });

  after(async () => {
    client?.destroy();
    if (s) {
      await s.stop();
      await removeDataDir(s.dataDir);
    }
  });

  test('a missing table ends in errors/manifests/ after the retry duration while other streams keep delivering', async () => {
    const started = Date.now();
    await put(FAILING, 'late', 50);

    // While the failing stream retries (it has reported errors, but not given up), the healthy
    // one delivers.
    await eventually(async () => (await streamStatus(FAILING)).errors.length > 0, 5000);
    await put(HEALTHY, 'healthy0', 10);
    await eventually(async () => (await countRows(s, 'rd.healthy')) === 10, 5000);
    assert.deepEqual(await listKeys(s.dataDir, BUCKET, 'failing/errors/manifests/'), [], 'still retrying');

    const manifests = await eventually(async () => {
      const keys = await listKeys(s.dataDir, BUCKET, 'failing/errors/manifests/');
      return keys.length > 0 && keys;
    }, 15_000);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1000 && elapsed < 8000, `gave up after ${elapsed} ms`);
    assert.equal(manifests.length, 1);
    assert.match(
      manifests[0]!,
      /^failing\/errors\/manifests\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/rd-failing-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}$/,
    );
    const body = JSON.parse((await lakeOf(s.dataDir).getObject(BUCKET, manifests[0]!)).toString('utf8')) as {
      entries: { url: string; mandatory: boolean }[];
    };
    assert.equal(body.entries.length, 1);
    assert.match(
      body.entries[0]!.url,
      /^s3:\/\/rd-bucket\/failing\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/rd-failing-1-.*\.gz$/,
    );

    const { errors } = await streamStatus(FAILING);
    assert.ok(errors.length > 0);
    assert.ok(
      errors.every((e) => e.code === 'Redshift.TableNotFound'),
      `errors: ${JSON.stringify(errors.map((e) => e.code))}`,
    );
    assert.ok(
      errors.some((e) => e.manifest?.includes('/errors/manifests/')),
      'the last error names the failed manifest',
    );

    // And after the other stream gave up, this one still delivers.
    await put(HEALTHY, 'healthy1', 10);
    await eventually(async () => (await countRows(s, 'rd.healthy')) === 20, 5000);
  });

  test('sluice redeliver loads the failed manifest exactly once after the table exists', async () => {
    await s.sql(messageTableSql('rd.message'));
    const [failed] = await listKeys(s.dataDir, BUCKET, 'failing/errors/manifests/');
    // A second copy of the same failed manifest (same batch offsets) must not load twice.
    const lake = lakeOf(s.dataDir);
    const info = await lake.headObject(BUCKET, failed!);
    await lake.putObject(BUCKET, `${failed!}-copy`, await lake.getObject(BUCKET, failed!), {
      contentType: 'application/json',
      ...(info?.metadata ? { metadata: info.metadata } : {}),
    });

    const first = await redeliver(FAILING);
    assert.equal(first.code, 0, `stdout:\n${first.stdout}\nstderr:\n${first.stderr}`);
    const lines = first.stdout.trim().split('\n');
    assert.equal(lines.length, 2, first.stdout);
    assert.match(lines[0]!, /^loaded\t50 rows\ts3:\/\/rd-bucket\/failing\/errors\/manifests\//);
    assert.match(lines[1]!, /^already-loaded\t/);
    assert.equal(await countRows(s, 'rd.message'), 50);
    const [distinct] = await s.sql('SELECT count(DISTINCT guid) FROM rd.message');
    assert.equal(Number(distinct!.rows[0]![0]), 50);
    assert.deepEqual(
      await listKeys(s.dataDir, BUCKET, 'failing/errors/manifests/'),
      [],
      'redelivered manifests are removed',
    );

    const second = await redeliver(FAILING);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /No failed manifests for rd-failing/);
    assert.equal(await countRows(s, 'rd.message'), 50, 'nothing loaded twice');

    // The worker moved on: new records to the stream load as usual.
    await put(FAILING, 'fresh', 5);
    await eventually(async () => (await countRows(s, 'rd.message')) === 55, 10_000);
  });

  test('a wrong warehouse password is Redshift.AuthenticationFailed', async () => {
    await put(BAD_PASSWORD, 'pw', 3);
    const errors = await eventually(async () => {
      const status = await streamStatus(BAD_PASSWORD);
      return status.errors.length > 0 && status.errors;
    }, 10_000);
    assert.equal(errors[0]!.code, 'Redshift.AuthenticationFailed');
    assert.match(errors[0]!.message, /awsuser/);
    assert.ok(!JSON.stringify(errors).includes('Not-The-Password-1'), 'the password is not echoed');
    assert.equal(await countRows(s, 'rd.badpw'), 0);
  });
});
