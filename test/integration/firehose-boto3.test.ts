/**
 * The Firehose API of a real `sluice up`, driven by Python boto3 (/usr/bin/python3): one
 * script puts a record and a batch of 500, describes, lists and checks the error code of an
 * unknown stream; the records become rows.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateDeliveryStreamCommand } from '@aws-sdk/client-firehose';
import {
  countRows,
  createBucket,
  firehoseClient,
  messageTableSql,
  redshiftStream,
} from '../support/firehose.ts';
import { eventually, removeDataDir, startSluice, type SluiceProcess } from '../support/sluice-process.ts';

const PYTHON = '/usr/bin/python3';
const BUCKET = 'boto-bucket';
const TABLE = 'boto.message';
const STREAM = 'boto-stream';

const SCRIPT = `
import json, os, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

client = boto3.client(
    "firehose",
    endpoint_url=os.environ["SLUICE_ENDPOINT"],
    region_name="us-east-1",
    aws_access_key_id="AKIDBOTOTEST",
    aws_secret_access_key="boto-secret",
    config=Config(retries={"max_attempts": 1, "mode": "standard"}),
)
stream = os.environ["SLUICE_STREAM"]
out = {}

def reading(tag, i):
    return json.dumps({"guid": "%s-%06d" % (tag, i), "ts": 1700000000 + i, "temp": 70.5}).encode()

one = client.put_record(DeliveryStreamName=stream, Record={"Data": reading("boto-one", 0)})
out["put_record"] = {"RecordId": one["RecordId"], "Encrypted": one.get("Encrypted")}

batch = client.put_record_batch(
    DeliveryStreamName=stream,
    Records=[{"Data": reading("boto-batch", i)} for i in range(500)],
)
out["put_record_batch"] = {
    "FailedPutCount": batch["FailedPutCount"],
    "n": len(batch["RequestResponses"]),
    "ids": len({r["RecordId"] for r in batch["RequestResponses"]}),
}

d = client.describe_delivery_stream(DeliveryStreamName=stream)["DeliveryStreamDescription"]
out["describe"] = {
    "status": d["DeliveryStreamStatus"],
    "version": d["VersionId"],
    "created": d["CreateTimestamp"].year,
    "table": d["Destinations"][0]["RedshiftDestinationDescription"]["CopyCommand"]["DataTableName"],
}

out["list"] = client.list_delivery_streams()["DeliveryStreamNames"]

try:
    client.put_record(DeliveryStreamName="no-such-stream", Record={"Data": b"x"})
    out["unknown"] = "no error"
except ClientError as e:
    out["unknown"] = {
        "code": e.response["Error"]["Code"],
        "message": e.response["Error"]["Message"],
        "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
    }

print(json.dumps(out))
`;

describe('Firehose API through boto3', () => {
  let s: SluiceProcess;
  let work: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'sluice-boto-'));
    s = await startSluice();
    await createBucket(s.dataDir, BUCKET);
    await s.sql(messageTableSql(TABLE));
    const client = firehoseClient(s);
    try {
      await client.send(
        new CreateDeliveryStreamCommand(redshiftStream(s, { name: STREAM, bucket: BUCKET, table: TABLE })),
      );
    } finally {
      client.destroy();
    }
  });

  after(async () => {
    if (s) {
      await s.stop();
      await removeDataDir(s.dataDir);
    }
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('put_record, put_record_batch of 500, describe, list and an unknown stream; rows arrive', async () => {
    const script = join(work, 'firehose_test.py');
    await writeFile(script, SCRIPT);
    const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number }>(
      (resolve) => {
        execFile(
          PYTHON,
          [script],
          {
            env: {
              PATH: process.env.PATH ?? '/usr/bin:/bin',
              HOME: work,
              AWS_CONFIG_FILE: join(work, 'config'),
              AWS_SHARED_CREDENTIALS_FILE: join(work, 'credentials'),
              SLUICE_ENDPOINT: s.awsUrl,
              SLUICE_STREAM: STREAM,
            },
            timeout: 60_000,
          },
          (error, out, err) =>
            resolve({ stdout: out, stderr: err, code: error ? Number(error.code ?? 1) : 0 }),
        );
      },
    );
    assert.equal(code, 0, `python failed:\n${stderr}`);
    const out = JSON.parse(stdout) as Record<string, Record<string, unknown> | string[] | string>;
    assert.equal(typeof (out['put_record'] as Record<string, unknown>)['RecordId'], 'string');
    assert.equal((out['put_record'] as Record<string, unknown>)['Encrypted'], false);
    assert.deepEqual(out['put_record_batch'], { FailedPutCount: 0, n: 500, ids: 500 });
    assert.deepEqual(out['describe'], {
      status: 'ACTIVE',
      version: '1',
      created: new Date().getUTCFullYear(),
      table: TABLE,
    });
    assert.deepEqual(out['list'], [STREAM]);
    const unknown = out['unknown'] as Record<string, unknown>;
    assert.equal(unknown['code'], 'ResourceNotFoundException');
    assert.equal(unknown['status'], 400);
    assert.match(String(unknown['message']), /no-such-stream/);

    await eventually(async () => (await countRows(s, TABLE)) === 501, 15_000);
    assert.equal(await countRows(s, TABLE, "guid LIKE 'boto-batch-%'"), 500);
    const [distinct] = await s.sql(`SELECT count(DISTINCT guid) FROM ${TABLE}`);
    assert.equal(Number(distinct!.rows[0]![0]), 501);
  });
});
