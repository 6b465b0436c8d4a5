/**
 * The lake over the S3 REST API on the AWS port, driven by the tools people already use
 * against S3: the AWS CLI v2, boto3, and the AWS SDK; and the lake shared with delivery and
 * COPY.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { FirehoseClient, CreateDeliveryStreamCommand, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { eventually, removeDataDir, startSluice, type SluiceProcess } from '../support/sluice-process.ts';

const run = promisify(execFile);
const AWS = '/usr/bin/aws';
const PYTHON = '/usr/bin/python3';

describe('the lake over the S3 API', () => {
  let s: SluiceProcess;
  let work: string;
  let env: NodeJS.ProcessEnv;
  const aws = (...args: string[]) =>
    run(AWS, ['--endpoint-url', s.awsUrl, ...args], { env, maxBuffer: 16 * 1024 * 1024 });

  before(async () => {
    s = await startSluice();
    work = await mkdtemp(join(tmpdir(), 'sluice-s3-'));
    env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'sluice',
      AWS_SECRET_ACCESS_KEY: 'sluice',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: join(work, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(work, 'none'),
      AWS_PAGER: '',
    };
  });

  after(async () => {
    await s.stop();
    await removeDataDir(s.dataDir);
    await rm(work, { recursive: true, force: true });
  });

  test('the AWS CLI makes a bucket, copies a 70 MiB file (multipart) and a folder tree, lists, and removes it all', async () => {
    await aws('s3', 'mb', 's3://cli-bucket');
    // Over 64 MB, made in slices so the test itself does not hold it in memory twice.
    const file = await open(join(work, 'big.bin'), 'w');
    const original = createHash('sha256');
    for (let i = 0; i < 70; i++) {
      const slice = randomBytes(1024 * 1024);
      original.update(slice);
      await file.write(slice);
    }
    await file.close();
    const bigSha256 = original.digest('hex');
    await aws('s3', 'cp', '--only-show-errors', join(work, 'big.bin'), 's3://cli-bucket/data/big.bin');
    const head = JSON.parse(
      (await aws('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'data/big.bin')).stdout,
    ) as { ContentLength: number; ETag: string };
    assert.equal(head.ContentLength, 70 * 1024 * 1024);
    assert.match(head.ETag, /^"[0-9a-f]{32}-\d+"$/, 'a multipart ETag: the CLI uploaded in parts');
    await mkdir(join(work, 'tree', 'a', 'b'), { recursive: true });
    await writeFile(join(work, 'tree', 'top.txt'), 'top');
    await writeFile(join(work, 'tree', 'a', 'mid.txt'), 'mid');
    await writeFile(join(work, 'tree', 'a', 'b', 'deep.csv'), 'x,y\n1,2\n');
    await aws('s3', 'sync', '--only-show-errors', join(work, 'tree'), 's3://cli-bucket/tree/');

    const listing = (await aws('s3', 'ls', '--recursive', 's3://cli-bucket/')).stdout;
    for (const key of ['data/big.bin', 'tree/top.txt', 'tree/a/mid.txt', 'tree/a/b/deep.csv']) {
      assert.match(listing, new RegExp(`\\s${key.replace(/\./g, '\\.')}\\n`));
    }
    assert.match((await aws('s3', 'ls', 's3://cli-bucket/tree/')).stdout, /PRE a\/\n[\s\S]*top\.txt/);

    await aws('s3', 'cp', '--only-show-errors', 's3://cli-bucket/data/big.bin', join(work, 'back.bin'));
    const copy = createHash('sha256');
    for await (const chunk of createReadStream(join(work, 'back.bin'))) copy.update(chunk as Buffer);
    assert.equal(copy.digest('hex'), bigSha256, 'the multipart object reads back byte for byte');
    await rm(join(work, 'back.bin'));
    await rm(join(work, 'big.bin'));
    // A second sync finds nothing to do.
    assert.equal(
      (await aws('s3', 'sync', '--only-show-errors', join(work, 'tree'), 's3://cli-bucket/tree/')).stdout,
      '',
    );

    await aws('s3', 'rb', '--force', 's3://cli-bucket');
    assert.doesNotMatch((await aws('s3', 'ls')).stdout, /cli-bucket/);
  });

  test('boto3 writes and lists objects, then deletes every object version and the bucket', async () => {
    const script = `
import os, boto3
from botocore.exceptions import ClientError
s3 = boto3.resource('s3', endpoint_url=os.environ['ENDPOINT'], region_name='us-east-1',
                    aws_access_key_id='sluice', aws_secret_access_key='sluice')
client = s3.meta.client
bucket = s3.Bucket('boto-bucket')
bucket.create()
for i in range(25):
    bucket.put_object(Key=f'k/{i:02d}.json', Body=('{"n": %d}' % i).encode(), ContentType='application/json',
                      Metadata={'origin': 'boto3'})
head = client.head_object(Bucket='boto-bucket', Key='k/07.json')
assert head['ContentType'] == 'application/json', head
assert head['Metadata'] == {'origin': 'boto3'}, head['Metadata']
assert client.get_object(Bucket='boto-bucket', Key='k/07.json')['Body'].read() == b'{"n": 7}'
pages = client.get_paginator('list_objects_v2').paginate(Bucket='boto-bucket', Prefix='k/', PaginationConfig={'PageSize': 10})
keys = [o['Key'] for page in pages for o in page.get('Contents', [])]
assert keys == [f'k/{i:02d}.json' for i in range(25)], keys
versions = list(bucket.object_versions.all())
assert len(versions) == 25 and all(v.id == 'null' for v in versions), versions
bucket.object_versions.delete()
bucket.delete()
try:
    client.head_bucket(Bucket='boto-bucket')
    raise SystemExit('bucket still there')
except ClientError as e:
    assert e.response['Error']['Code'] in ('404', 'NoSuchBucket'), e.response
try:
    client.get_object(Bucket='nope-bucket', Key='x')
    raise SystemExit('expected NoSuchBucket')
except ClientError as e:
    assert e.response['Error']['Code'] == 'NoSuchBucket', e.response
print('ok')
`;
    await writeFile(join(work, 'boto.py'), script);
    const { stdout } = await run(PYTHON, [join(work, 'boto.py')], { env: { ...env, ENDPOINT: s.awsUrl } });
    assert.equal(stdout.trim(), 'ok');
  });

  test('objects uploaded with the SDK load with COPY, and objects a delivery stream writes are listed and read through S3', async () => {
    const s3 = new S3Client({
      endpoint: s.awsUrl,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'sluice', secretAccessKey: 'sluice' },
    });
    await aws('s3', 'mb', 's3://shared-lake');
    await s3.send(
      new PutObjectCommand({
        Bucket: 'shared-lake',
        Key: 'dim/colors.csv',
        Body: 'id,name\r\n1,red\r\n2,green',
      }),
    );
    await s.sql(
      `CREATE SCHEMA lake; CREATE TABLE lake.colors (id INTEGER, name VARCHAR(10));
       COPY lake.colors FROM 's3://shared-lake/dim/' IAM_ROLE 'arn:aws:iam::000000000000:role/r' CSV IGNOREHEADER 1;
       CREATE TABLE lake.events (n BIGINT NOT NULL);`,
    );
    const [colors] = await s.sql('SELECT id, name FROM lake.colors ORDER BY id');
    assert.deepEqual(colors!.rows, [
      [1, 'red'],
      [2, 'green'],
    ]);

    const firehose = new FirehoseClient({
      endpoint: s.awsUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 'sluice', secretAccessKey: 'sluice' },
    });
    await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'to-lake',
        RedshiftDestinationConfiguration: {
          RoleARN: 'arn:aws:iam::000000000000:role/r',
          ClusterJDBCURL: `jdbc:redshift://127.0.0.1:${s.sqlPort}/dev`,
          CopyCommand: {
            DataTableName: 'lake.events',
            DataTableColumns: 'n',
            CopyOptions: "JSON 'auto' GZIP",
          },
          Username: 'awsuser',
          Password: s.password,
          S3Configuration: {
            RoleARN: 'arn:aws:iam::000000000000:role/r',
            BucketARN: 'arn:aws:s3:::shared-lake',
            Prefix: 'events/',
            BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
            CompressionFormat: 'GZIP',
          },
        },
      }),
    );
    await firehose.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: 'to-lake',
        Records: Array.from({ length: 50 }, (_, n) => ({ Data: Buffer.from(JSON.stringify({ n })) })),
      }),
    );
    await eventually(
      async () => Number((await s.sql('SELECT count(*) FROM lake.events'))[0]!.rows[0]![0]) === 50,
    );
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'shared-lake', Prefix: 'events/' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!);
    const data = keys.filter((k) => /^events\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/to-lake-1-.*\.gz$/.test(k));
    assert.ok(data.length >= 1, keys.join('\n'));
    assert.ok(keys.some((k) => k.startsWith('events/manifests/')));
    const object = await s3.send(new GetObjectCommand({ Bucket: 'shared-lake', Key: data[0] }));
    const body = Buffer.from(await object.Body!.transformToByteArray());
    assert.equal(body[0], 0x1f, 'a GZIP object');
    assert.equal(object.ETag, `"${createHash('md5').update(body).digest('hex')}"`);
  });

  test("a Sluice whose lake is another S3 endpoint (here this Sluice's S3 API) delivers and COPYs through it", async () => {
    const config = join(work, 's3-lake.json');
    await writeFile(
      config,
      JSON.stringify({
        lake: {
          endpoint: s.awsUrl,
          region: 'us-east-1',
          accessKeyId: 'sluice',
          secretAccessKey: 'sluice',
          forcePathStyle: true,
        },
      }),
    );
    const remote = await startSluice({ args: ['up', '--config', config] });
    try {
      await aws('s3', 'mb', 's3://remote-lake');
      await remote.sql('CREATE TABLE public.remote_events (n BIGINT NOT NULL)');
      const firehose = new FirehoseClient({
        endpoint: remote.awsUrl,
        region: 'us-east-1',
        credentials: { accessKeyId: 'sluice', secretAccessKey: 'sluice' },
      });
      await firehose.send(
        new CreateDeliveryStreamCommand({
          DeliveryStreamName: 'via-s3',
          RedshiftDestinationConfiguration: {
            RoleARN: 'arn:aws:iam::000000000000:role/r',
            ClusterJDBCURL: `jdbc:redshift://127.0.0.1:${remote.sqlPort}/dev`,
            CopyCommand: {
              DataTableName: 'public.remote_events',
              DataTableColumns: 'n',
              CopyOptions: "JSON 'auto' GZIP",
            },
            Username: 'awsuser',
            Password: remote.password,
            S3Configuration: {
              RoleARN: 'arn:aws:iam::000000000000:role/r',
              BucketARN: 'arn:aws:s3:::remote-lake',
              Prefix: 'in/',
              BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
              CompressionFormat: 'GZIP',
            },
          },
        }),
      );
      await firehose.send(
        new PutRecordBatchCommand({
          DeliveryStreamName: 'via-s3',
          Records: Array.from({ length: 20 }, (_, n) => ({ Data: Buffer.from(JSON.stringify({ n })) })),
        }),
      );
      await eventually(
        async () =>
          Number((await remote.sql('SELECT count(*) FROM public.remote_events'))[0]!.rows[0]![0]) === 20,
      );
      // The objects are in the other Sluice's lake, where the AWS CLI sees them.
      const listing = (await aws('s3', 'ls', '--recursive', 's3://remote-lake/in/')).stdout;
      assert.match(listing, /in\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/via-s3-1-.*\.gz/);
      assert.match(listing, /in\/manifests\//);
    } finally {
      await remote.stop();
      await removeDataDir(remote.dataDir);
    }
  });
});
