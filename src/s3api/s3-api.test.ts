import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { createLocalObjectStore } from '../lake/index.ts';
import { createS3Api } from './index.ts';

const KEY = { accessKeyId: 'AKIDSLUICETEST', secretAccessKey: 'sluice-test-secret' };
const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let root: string;
let server: Server;
let port: number;
let s3: S3Client;

function client(credentials = KEY): S3Client {
  return new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
  });
}

async function s3Error(p: Promise<unknown>): Promise<{ code: string; status: number | undefined }> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof S3ServiceException, String(err));
    return { code: err.name, status: err.$metadata.httpStatusCode };
  }
  assert.fail('expected an S3 error');
}

interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends a request signed with SigV4 (the SDK's signer) with a chosen Host header. */
async function signedRaw(opts: {
  method: string;
  host?: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer;
}): Promise<RawReply> {
  const host = opts.host ?? `127.0.0.1:${port}`;
  const signer = new SignatureV4({
    credentials: KEY,
    region: 'us-east-1',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: opts.method,
      protocol: 'http:',
      hostname: host,
      path: opts.path,
      query: opts.query ?? {},
      headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...opts.headers },
      ...(opts.body ? { body: opts.body } : {}),
    }),
  );
  const qs = new URLSearchParams(opts.query ?? {}).toString();
  return raw(opts.method, opts.path + (qs ? `?${qs}` : ''), signed.headers, opts.body);
}

function raw(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function presign(
  method: string,
  path: string,
  expiresIn: number,
  signingDate = new Date(),
): Promise<string> {
  const signer = new SignatureV4({
    credentials: KEY,
    region: 'us-east-1',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
  });
  const out = await signer.presign(
    // As @aws-sdk/s3-request-presigner does: the payload is UNSIGNED-PAYLOAD, hoisted into the query.
    new HttpRequest({
      method,
      protocol: 'http:',
      hostname: `127.0.0.1:${port}`,
      path,
      headers: { host: `127.0.0.1:${port}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    }),
    { expiresIn, signingDate },
  );
  const qs = new URLSearchParams(out.query as Record<string, string>).toString();
  return `http://127.0.0.1:${port}${path}?${qs}`;
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'sluice-s3api-'));
  const api = createS3Api({
    store: createLocalObjectStore({ root: join(root, 'lake'), fsync: false }),
    credentials: [KEY],
    multipartDir: join(root, 'multipart'),
    maxObjectBytes: 64 * MiB,
  });
  server = createServer((req, res) => api.handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  s3 = client();
});

after(async () => {
  s3.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  await rm(root, { recursive: true, force: true });
});

describe('buckets', () => {
  test('create, head, list, locate, versioning and delete a bucket with the SDK', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'b-one' }));
    await s3.send(
      new CreateBucketCommand({
        Bucket: 'b-two',
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    );
    assert.equal(
      (await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'b-one' })))).code,
      'BucketAlreadyOwnedByYou',
    );
    await s3.send(new HeadBucketCommand({ Bucket: 'b-one' }));
    assert.equal((await s3Error(s3.send(new HeadBucketCommand({ Bucket: 'b-missing' })))).status, 404);
    const names = (await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);
    assert.ok(names?.includes('b-one') && names.includes('b-two'));
    const loc = await s3.send(new GetBucketLocationCommand({ Bucket: 'b-one' }));
    assert.equal(loc.LocationConstraint ?? '', '');
    const ver = await s3.send(new GetBucketVersioningCommand({ Bucket: 'b-one' }));
    assert.equal(ver.Status, undefined);
    await s3.send(new PutObjectCommand({ Bucket: 'b-two', Key: 'x', Body: 'x' }));
    const notEmpty = await s3Error(s3.send(new DeleteBucketCommand({ Bucket: 'b-two' })));
    assert.deepEqual(notEmpty, { code: 'BucketNotEmpty', status: 409 });
    await s3.send(new DeleteObjectCommand({ Bucket: 'b-two', Key: 'x' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'b-two' }));
    assert.equal((await s3Error(s3.send(new DeleteBucketCommand({ Bucket: 'b-two' })))).code, 'NoSuchBucket');
  });

  test('an invalid bucket name is refused', async () => {
    assert.deepEqual(await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' }))), {
      code: 'InvalidBucketName',
      status: 400,
    });
  });
});

describe('objects', () => {
  before(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'objs' }));
  });

  test('put, get, head and delete keep content type, metadata and the MD5 ETag', async () => {
    const body = 'hello, lake';
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: 'objs',
        Key: 'dir/a b+c.txt',
        Body: body,
        ContentType: 'text/plain',
        Metadata: { Owner: 'me' },
      }),
    );
    assert.equal(put.ETag, `"${createHash('md5').update(body).digest('hex')}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'objs', Key: 'dir/a b+c.txt' }));
    assert.equal(await got.Body?.transformToString(), body);
    assert.equal(got.ContentType, 'text/plain');
    assert.deepEqual(got.Metadata, { owner: 'me' });
    assert.equal(got.ETag, put.ETag);
    assert.equal(got.AcceptRanges, 'bytes');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'objs', Key: 'dir/a b+c.txt' }));
    assert.equal(head.ContentLength, body.length);
    assert.ok(head.LastModified instanceof Date);
    await s3.send(new DeleteObjectCommand({ Bucket: 'objs', Key: 'dir/a b+c.txt' }));
    assert.equal(
      (await s3Error(s3.send(new GetObjectCommand({ Bucket: 'objs', Key: 'dir/a b+c.txt' })))).code,
      'NoSuchKey',
    );
    assert.equal(
      (await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'objs', Key: 'dir/a b+c.txt' })))).status,
      404,
    );
  });

  test('a streamed body (aws-chunked with a CRC32 trailer) and each checksum algorithm are stored whole', async () => {
    const data = Buffer.alloc(200_000, 7);
    await s3.send(
      new PutObjectCommand({
        Bucket: 'objs',
        Key: 'streamed',
        Body: Readable.from([data.subarray(0, 70_000), data.subarray(70_000)]),
        ContentLength: data.length,
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: 'objs', Key: 'streamed' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
    for (const alg of ['CRC32', 'CRC32C', 'SHA1', 'SHA256'] as const) {
      await s3.send(
        new PutObjectCommand({ Bucket: 'objs', Key: `sum-${alg}`, Body: 'abc', ChecksumAlgorithm: alg }),
      );
    }
  });

  test('ranges answer 206 with Content-Range and an unsatisfiable one 416', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'objs', Key: 'digits', Body: '0123456789' }));
    const get = async (Range: string): Promise<[string | undefined, string | undefined]> => {
      const r = await s3.send(new GetObjectCommand({ Bucket: 'objs', Key: 'digits', Range }));
      return [await r.Body?.transformToString(), r.ContentRange];
    };
    assert.deepEqual(await get('bytes=2-4'), ['234', 'bytes 2-4/10']);
    assert.deepEqual(await get('bytes=7-'), ['789', 'bytes 7-9/10']);
    assert.deepEqual(await get('bytes=-3'), ['789', 'bytes 7-9/10']);
    assert.deepEqual(await s3Error(get('bytes=10-12')), { code: 'InvalidRange', status: 416 });
  });

  test('conditional reads answer 304 and 412', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: 'objs', Key: 'cond', Body: 'c' }));
    const ok = await s3.send(new GetObjectCommand({ Bucket: 'objs', Key: 'cond', IfMatch: put.ETag }));
    assert.equal(await ok.Body?.transformToString(), 'c');
    assert.equal(
      (await s3Error(s3.send(new GetObjectCommand({ Bucket: 'objs', Key: 'cond', IfMatch: '"nope"' }))))
        .status,
      412,
    );
    assert.equal(
      (await s3Error(s3.send(new GetObjectCommand({ Bucket: 'objs', Key: 'cond', IfNoneMatch: put.ETag }))))
        .status,
      304,
    );
    const future = new Date(Date.now() + 3600_000);
    const past = new Date(Date.now() - 3600_000);
    assert.equal(
      (
        await s3Error(
          s3.send(new HeadObjectCommand({ Bucket: 'objs', Key: 'cond', IfModifiedSince: future })),
        )
      ).status,
      304,
    );
    assert.equal(
      (await s3Error(s3.send(new GetObjectCommand({ Bucket: 'objs', Key: 'cond', IfUnmodifiedSince: past }))))
        .status,
      412,
    );
  });

  test('copy keeps metadata with COPY and replaces it with REPLACE', async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: 'objs',
        Key: 'src',
        Body: 'copy me',
        ContentType: 'text/x',
        Metadata: { a: '1' },
      }),
    );
    await s3.send(new CopyObjectCommand({ Bucket: 'objs', Key: 'dst1', CopySource: 'objs/src' }));
    const d1 = await s3.send(new HeadObjectCommand({ Bucket: 'objs', Key: 'dst1' }));
    assert.equal(d1.ContentType, 'text/x');
    assert.deepEqual(d1.Metadata, { a: '1' });
    const res = await s3.send(
      new CopyObjectCommand({
        Bucket: 'objs',
        Key: 'dst2',
        CopySource: '/objs/src',
        MetadataDirective: 'REPLACE',
        ContentType: 'text/y',
        Metadata: { b: '2' },
      }),
    );
    assert.ok(res.CopyObjectResult?.ETag);
    const d2 = await s3.send(new GetObjectCommand({ Bucket: 'objs', Key: 'dst2' }));
    assert.equal(await d2.Body?.transformToString(), 'copy me');
    assert.equal(d2.ContentType, 'text/y');
    assert.deepEqual(d2.Metadata, { b: '2' });
    assert.equal(
      (await s3Error(s3.send(new CopyObjectCommand({ Bucket: 'objs', Key: 'src', CopySource: 'objs/src' }))))
        .code,
      'InvalidRequest',
    );
  });

  test('DeleteObjects answers every key verbosely and only errors when quiet', async () => {
    for (const k of ['d1', 'd2', 'd3'])
      await s3.send(new PutObjectCommand({ Bucket: 'objs', Key: k, Body: k }));
    const verbose = await s3.send(
      new DeleteObjectsCommand({ Bucket: 'objs', Delete: { Objects: [{ Key: 'd1' }, { Key: 'd2' }] } }),
    );
    assert.deepEqual(
      verbose.Deleted?.map((d) => d.Key),
      ['d1', 'd2'],
    );
    const quiet = await s3.send(
      new DeleteObjectsCommand({ Bucket: 'objs', Delete: { Quiet: true, Objects: [{ Key: 'd3' }] } }),
    );
    assert.equal(quiet.Deleted, undefined);
    assert.equal((await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'objs', Key: 'd3' })))).status, 404);
  });

  test('virtual-host addressing finds the bucket in the Host header', async () => {
    const put = await signedRaw({
      method: 'PUT',
      host: `objs.localhost:${port}`,
      path: '/vh/key%20one',
      body: Buffer.from('vhost'),
    });
    assert.equal(put.status, 200, put.body);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'objs', Key: 'vh/key one' }));
    assert.equal(await got.Body?.transformToString(), 'vhost');
    const viaS3Host = await signedRaw({
      method: 'GET',
      host: 'objs.s3.us-east-1.amazonaws.com',
      path: '/vh/key%20one',
    });
    assert.equal(viaS3Host.body, 'vhost');
    const list = await signedRaw({
      method: 'GET',
      host: `objs.localhost:${port}`,
      path: '/',
      query: { 'list-type': '2', prefix: 'vh/' },
    });
    assert.match(list.body, /<Key>vh\/key one<\/Key>/);
  });

  test('two concurrent PutObjects to one key leave one whole object', async () => {
    const a = Buffer.alloc(300_000, 'a');
    const b = Buffer.alloc(200_000, 'b');
    await Promise.all([
      s3.send(new PutObjectCommand({ Bucket: 'objs', Key: 'race', Body: a })),
      s3.send(new PutObjectCommand({ Bucket: 'objs', Key: 'race', Body: b })),
    ]);
    const got = Buffer.from(
      await (
        await s3.send(new GetObjectCommand({ Bucket: 'objs', Key: 'race' }))
      ).Body!.transformToByteArray(),
    );
    assert.ok(got.equals(a) || got.equals(b));
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'objs', Key: 'race' }));
    assert.equal(head.ETag, `"${createHash('md5').update(got).digest('hex')}"`);
  });
});

describe('listing', () => {
  before(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'list' }));
    for (const k of ['a/1', 'a/2', 'b/1', 'c', 'd e', 'z/y/x']) {
      await s3.send(new PutObjectCommand({ Bucket: 'list', Key: k, Body: k }));
    }
  });

  test('ListObjectsV2 pages with delimiter, continuation token and start-after', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: 'list', Delimiter: '/', MaxKeys: 2, ContinuationToken: token }),
      );
      assert.ok((page.KeyCount ?? 0) <= 2);
      seen.push(
        ...(page.Contents ?? []).map((o) => o.Key!),
        ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!),
      );
      token = page.NextContinuationToken;
    } while (token !== undefined);
    assert.deepEqual(seen.sort(), ['a/', 'b/', 'c', 'd e', 'z/']);
    const after = await s3.send(new ListObjectsV2Command({ Bucket: 'list', StartAfter: 'c', Prefix: '' }));
    assert.deepEqual(
      after.Contents?.map((o) => o.Key),
      ['d e', 'z/y/x'],
    );
    const pre = await s3.send(new ListObjectsV2Command({ Bucket: 'list', Prefix: 'a/' }));
    assert.deepEqual(
      pre.Contents?.map((o) => [o.Key, o.Size]),
      [
        ['a/1', 3],
        ['a/2', 3],
      ],
    );
    const enc = await s3.send(new ListObjectsV2Command({ Bucket: 'list', Prefix: 'd', EncodingType: 'url' }));
    assert.equal(enc.Contents?.[0]?.Key, 'd%20e');
  });

  test('ListObjects v1 gives NextMarker with a delimiter, and ListObjectVersions null versions', async () => {
    const p1 = await s3.send(new ListObjectsCommand({ Bucket: 'list', Delimiter: '/', MaxKeys: 2 }));
    assert.equal(p1.IsTruncated, true);
    assert.equal(p1.NextMarker, 'b/');
    const p2 = await s3.send(
      new ListObjectsCommand({ Bucket: 'list', Delimiter: '/', Marker: p1.NextMarker }),
    );
    assert.deepEqual(
      p2.Contents?.map((o) => o.Key),
      ['c', 'd e'],
    );
    assert.deepEqual(
      p2.CommonPrefixes?.map((p) => p.Prefix),
      ['z/'],
    );
    const v = await s3.send(new ListObjectVersionsCommand({ Bucket: 'list', Prefix: 'a/' }));
    assert.deepEqual(
      v.Versions?.map((x) => [x.Key, x.VersionId, x.IsLatest]),
      [
        ['a/1', 'null', true],
        ['a/2', 'null', true],
      ],
    );
  });
});

describe('multipart uploads', () => {
  before(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'mpu' }));
  });

  test('a 12 MB upload in 5 MB parts (one copied) completes with the multipart ETag', async () => {
    const data = Buffer.alloc(12 * MiB);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32BE(i, i);
    await s3.send(
      new PutObjectCommand({ Bucket: 'mpu', Key: 'copy-src', Body: data.subarray(5 * MiB, 10 * MiB) }),
    );
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: 'mpu',
        Key: 'big',
        ContentType: 'application/x-big',
        Metadata: { m: 'v' },
      }),
    );
    const p1 = await s3.send(
      new UploadPartCommand({
        Bucket: 'mpu',
        Key: 'big',
        UploadId,
        PartNumber: 1,
        Body: data.subarray(0, 5 * MiB),
      }),
    );
    const p2 = await s3.send(
      new UploadPartCopyCommand({
        Bucket: 'mpu',
        Key: 'big',
        UploadId,
        PartNumber: 2,
        CopySource: 'mpu/copy-src',
        CopySourceRange: `bytes=0-${5 * MiB - 1}`,
      }),
    );
    const p3 = await s3.send(
      new UploadPartCommand({
        Bucket: 'mpu',
        Key: 'big',
        UploadId,
        PartNumber: 3,
        Body: data.subarray(10 * MiB),
      }),
    );
    const listed = await s3.send(new ListPartsCommand({ Bucket: 'mpu', Key: 'big', UploadId }));
    assert.deepEqual(
      listed.Parts?.map((p) => [p.PartNumber, p.Size]),
      [
        [1, 5 * MiB],
        [2, 5 * MiB],
        [3, 2 * MiB],
      ],
    );
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'mpu' }));
    assert.deepEqual(
      uploads.Uploads?.map((u) => u.UploadId),
      [UploadId],
    );
    const parts = [
      { PartNumber: 1, ETag: p1.ETag },
      { PartNumber: 2, ETag: p2.CopyPartResult?.ETag },
      { PartNumber: 3, ETag: p3.ETag },
    ];
    assert.equal(
      (
        await s3Error(
          s3.send(
            new CompleteMultipartUploadCommand({
              Bucket: 'mpu',
              Key: 'big',
              UploadId,
              MultipartUpload: { Parts: [parts[1]!, parts[0]!] },
            }),
          ),
        )
      ).code,
      'InvalidPartOrder',
    );
    assert.equal(
      (
        await s3Error(
          s3.send(
            new CompleteMultipartUploadCommand({
              Bucket: 'mpu',
              Key: 'big',
              UploadId,
              MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"0000"' }] },
            }),
          ),
        )
      ).code,
      'InvalidPart',
    );
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'mpu',
        Key: 'big',
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    const md5s = Buffer.concat(
      [0, 5, 10].map((s, i) =>
        createHash('md5')
          .update(data.subarray(s * MiB, i === 2 ? undefined : (s + 5) * MiB))
          .digest(),
      ),
    );
    const expected = `"${createHash('md5').update(md5s).digest('hex')}-3"`;
    assert.equal(done.ETag, expected);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'big' }));
    assert.equal(got.ETag, expected);
    assert.equal(got.ContentType, 'application/x-big');
    assert.deepEqual(got.Metadata, { m: 'v' });
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
  });

  test('an upload aborted and then completed answers NoSuchUpload', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'gone' }));
    const p1 = await s3.send(
      new UploadPartCommand({ Bucket: 'mpu', Key: 'gone', UploadId, PartNumber: 1, Body: 'x' }),
    );
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'mpu', Key: 'gone', UploadId }));
    const err = await s3Error(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'mpu',
          Key: 'gone',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }] },
        }),
      ),
    );
    assert.deepEqual(err, { code: 'NoSuchUpload', status: 404 });
  });
});

describe('multipart expiry', () => {
  test('uploads not completed in time are removed with their parts; younger ones stay', async () => {
    const dir = join(root, 'multipart-expiry');
    const other = createS3Api({
      store: createLocalObjectStore({ root: join(root, 'lake'), fsync: false }),
      credentials: [KEY],
      multipartDir: dir,
      multipartExpiryMs: 60 * 60 * 1000,
    });
    const otherServer = createServer((req, res) => other.handle(req, res));
    await new Promise<void>((r) => otherServer.listen(0, '127.0.0.1', r));
    const c = new S3Client({
      endpoint: `http://127.0.0.1:${(otherServer.address() as AddressInfo).port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: KEY,
    });
    try {
      await c.send(new CreateBucketCommand({ Bucket: 'expiry' }));
      const old = await c.send(new CreateMultipartUploadCommand({ Bucket: 'expiry', Key: 'old' }));
      await c.send(
        new UploadPartCommand({
          Bucket: 'expiry',
          Key: 'old',
          UploadId: old.UploadId,
          PartNumber: 1,
          Body: 'x',
        }),
      );
      const young = await c.send(new CreateMultipartUploadCommand({ Bucket: 'expiry', Key: 'young' }));
      // Age the first upload by two hours, as if the server had been running all along.
      const file = join(dir, old.UploadId as string, 'upload.json');
      const info = JSON.parse(await readFile(file, 'utf8')) as { initiated: string };
      info.initiated = new Date(Date.now() - 2 * 60 * 60 * 1000).toISOString();
      await writeFile(file, JSON.stringify(info));

      assert.equal(await other.sweepUploads(), 1);
      const listed = await c.send(new ListMultipartUploadsCommand({ Bucket: 'expiry' }));
      assert.deepEqual(
        (listed.Uploads ?? []).map((u) => u.Key),
        ['young'],
      );
      assert.deepEqual(await readdir(dir), [young.UploadId]);
      const err = await s3Error(
        c.send(new ListPartsCommand({ Bucket: 'expiry', Key: 'old', UploadId: old.UploadId })),
      );
      assert.equal(err.code, 'NoSuchUpload');
    } finally {
      other.close();
      c.destroy();
      await new Promise<void>((r) => otherServer.close(() => r()));
    }
  });
});

describe('authentication', () => {
  test('presigned PUT and GET URLs work, an expired one is refused', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'pre' }));
    const put = await fetch(await presign('PUT', '/pre/p%20k', 60), { method: 'PUT', body: 'presigned!' });
    assert.equal(put.status, 200);
    const get = await fetch(await presign('GET', '/pre/p%20k', 60));
    assert.equal(await get.text(), 'presigned!');
    const expired = await fetch(await presign('GET', '/pre/p%20k', 60, new Date(Date.now() - 3600_000)));
    assert.equal(expired.status, 403);
    assert.match(await expired.text(), /<Code>AccessDenied<\/Code><Message>Request has expired/);
  });

  test('a wrong secret is SignatureDoesNotMatch and an unknown key InvalidAccessKeyId', async () => {
    const wrong = client({ accessKeyId: KEY.accessKeyId, secretAccessKey: 'wrong' });
    assert.deepEqual(await s3Error(wrong.send(new ListBucketsCommand({}))), {
      code: 'SignatureDoesNotMatch',
      status: 403,
    });
    const unknown = client({ accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x' });
    assert.deepEqual(await s3Error(unknown.send(new ListBucketsCommand({}))), {
      code: 'InvalidAccessKeyId',
      status: 403,
    });
    const anonymous = await raw('GET', '/', {});
    assert.equal(anonymous.status, 403);
    wrong.destroy();
    unknown.destroy();
  });
});

describe('bad input', () => {
  before(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'bad' }));
  });

  test('a key over 1024 bytes is KeyTooLongError', async () => {
    const err = await s3Error(
      s3.send(new PutObjectCommand({ Bucket: 'bad', Key: 'k'.repeat(1025), Body: 'x' })),
    );
    assert.deepEqual(err, { code: 'KeyTooLongError', status: 400 });
  });

  test('a wrong Content-MD5 is BadDigest and a malformed one InvalidDigest', async () => {
    const wrongMd5 = createHash('md5').update('other').digest('base64');
    assert.equal(
      (
        await s3Error(
          s3.send(new PutObjectCommand({ Bucket: 'bad', Key: 'm', Body: 'body', ContentMD5: wrongMd5 })),
        )
      ).code,
      'BadDigest',
    );
    assert.equal(
      (
        await s3Error(
          s3.send(new PutObjectCommand({ Bucket: 'bad', Key: 'm', Body: 'body', ContentMD5: 'xx' })),
        )
      ).code,
      'InvalidDigest',
    );
    assert.equal((await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'bad', Key: 'm' })))).status, 404);
  });

  test('a wrong checksum is BadDigest', async () => {
    const r = await signedRaw({
      method: 'PUT',
      path: '/bad/ck',
      body: Buffer.from('abc'),
      headers: { 'x-amz-checksum-crc32': 'AAAAAA==' },
    });
    assert.equal(r.status, 400);
    assert.match(r.body, /<Code>BadDigest<\/Code>/);
  });

  test('a truncated aws-chunked body is IncompleteBody and stores nothing', async () => {
    const body = Buffer.from('a\r\n0123456789\r\n');
    const r = await signedRaw({
      method: 'PUT',
      path: '/bad/trunc',
      body,
      headers: {
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': '10',
        'x-amz-trailer': 'x-amz-checksum-crc32',
        'content-length': String(body.length),
      },
    });
    assert.equal(r.status, 400);
    assert.match(r.body, /<Code>IncompleteBody<\/Code>/);
    assert.equal(
      (await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'bad', Key: 'trunc' })))).status,
      404,
    );
  });

  test('a client gone halfway through a PUT or a part leaves nothing, and other requests are served', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'bad', Key: 'kept', Body: 'kept' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'bad', Key: 'half' }));
    const cutShort = async (path: string): Promise<void> => {
      const signer = new SignatureV4({
        credentials: KEY,
        region: 'us-east-1',
        service: 's3',
        sha256: Sha256,
        uriEscapePath: false,
      });
      const [pathname, qs] = path.split('?') as [string, string | undefined];
      const host = `127.0.0.1:${port}`;
      const signed = await signer.sign(
        new HttpRequest({
          method: 'PUT',
          protocol: 'http:',
          hostname: host,
          path: pathname,
          query: Object.fromEntries(new URLSearchParams(qs ?? '')),
          headers: {
            host,
            'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
            'content-length': String(16 * MiB),
          },
        }),
      );
      await new Promise<void>((resolve) => {
        const req = request({ host: '127.0.0.1', port, method: 'PUT', path, headers: signed.headers });
        req.on('error', () => resolve());
        req.write(Buffer.alloc(4 * MiB, 'h'), () => {
          // Half a body, then the connection drops.
          setTimeout(() => {
            req.destroy();
            resolve();
          }, 50);
        });
      });
    };
    await Promise.all([
      cutShort('/bad/half-put'),
      cutShort(`/bad/half?partNumber=1&uploadId=${UploadId}`),
      // Served meanwhile, as if nothing happened.
      s3.send(new GetObjectCommand({ Bucket: 'bad', Key: 'kept' })),
    ]);
    const leftovers = async (): Promise<string[]> => [
      ...(await readdir(join(root, 'lake', 'bad', '.sluice-tmp'))),
      ...(await readdir(join(root, 'multipart', UploadId as string))).filter((n) => n !== 'upload.json'),
    ];
    for (let i = 0; i < 100 && (await leftovers()).length > 0; i++) await sleep(20);
    assert.deepEqual(await leftovers(), []);
    assert.equal(
      (await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'bad', Key: 'half-put' })))).status,
      404,
    );
    const parts = await s3.send(new ListPartsCommand({ Bucket: 'bad', Key: 'half', UploadId }));
    assert.deepEqual(parts.Parts ?? [], []);
    const kept = await s3.send(new GetObjectCommand({ Bucket: 'bad', Key: 'kept' }));
    assert.equal(await kept.Body?.transformToString(), 'kept');
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'bad', Key: 'half', UploadId }));
  });

  test('a missing bucket is NoSuchBucket and a wrong method MethodNotAllowed', async () => {
    assert.deepEqual(
      await s3Error(s3.send(new PutObjectCommand({ Bucket: 'nope-bucket', Key: 'k', Body: 'x' }))),
      {
        code: 'NoSuchBucket',
        status: 404,
      },
    );
    const r = await signedRaw({ method: 'POST', path: '/' });
    assert.equal(r.status, 405);
    const garbage = await signedRaw({
      method: 'POST',
      path: '/bad',
      query: { delete: '' },
      body: Buffer.from('<Delete><Object>'),
    });
    assert.match(garbage.body, /<Code>MalformedXML<\/Code>/);
  });

  test('a body over maxObjectBytes is EntityTooLarge', async () => {
    const err = await s3Error(
      s3.send(new PutObjectCommand({ Bucket: 'bad', Key: 'huge', Body: Buffer.alloc(64 * MiB + 1) })),
    );
    assert.equal(err.code, 'EntityTooLarge');
  });
});

describe('without credentials configured', () => {
  test('any well-formed signature is accepted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-s3api-open-'));
    const api = createS3Api({
      store: createLocalObjectStore({ root: dir, fsync: false }),
      multipartDir: join(dir, 'mp'),
    });
    const open = createServer((req, res) => api.handle(req, res));
    await new Promise<void>((r) => open.listen(0, '127.0.0.1', r));
    const c = new S3Client({
      endpoint: `http://127.0.0.1:${(open.address() as AddressInfo).port}`,
      region: 'eu-central-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'anything', secretAccessKey: 'whatever' },
    });
    await c.send(new CreateBucketCommand({ Bucket: 'open' }));
    await c.send(new PutObjectCommand({ Bucket: 'open', Key: 'k', Body: 'v' }));
    assert.equal(
      await (await c.send(new GetObjectCommand({ Bucket: 'open', Key: 'k' }))).Body?.transformToString(),
      'v',
    );
    c.destroy();
    await new Promise<void>((r) => open.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });
});
