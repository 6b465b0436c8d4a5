/**
 * Bad input to the S3 API of a running `sluice up`: each case gets S3's XML error, leaves
 * nothing half-written in the lake, and does not disturb the requests around it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { removeDataDir, startSluice, type SluiceProcess } from '../support/sluice-process.ts';

const BUCKET = 'bad-input';
const MiB = 1024 * 1024;
const CREDENTIALS = { accessKeyId: 'sluice', secretAccessKey: 'sluice' };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('bad input to the S3 API', () => {
  let s: SluiceProcess;
  let s3: S3Client;
  let host: string;
  const signer = new SignatureV4({
    credentials: CREDENTIALS,
    region: 'us-east-1',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
  });

  /** Signs a request to `path` (no query) as the SDK would. */
  async function sign(
    method: string,
    path: string,
    headers: Record<string, string>,
  ): Promise<Record<string, string>> {
    const signed = await signer.sign(
      new HttpRequest({ method, protocol: 'http:', hostname: host, path, headers: { host, ...headers } }),
    );
    return signed.headers;
  }

  /** Sends a request and collects the answer. */
  function send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: Buffer,
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: s.awsPort, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Files in the bucket's folder for writes in progress. */
  const writesInProgress = (): Promise<string[]> => readdir(join(s.dataDir, 'lake', BUCKET, '.sluice-tmp'));

  async function errorOf(p: Promise<unknown>): Promise<{ code: string; status: number | undefined }> {
    try {
      await p;
    } catch (err) {
      assert.ok(err instanceof S3ServiceException, String(err));
      return { code: err.name, status: err.$metadata.httpStatusCode };
    }
    assert.fail('expected an S3 error');
  }

  before(async () => {
    s = await startSluice();
    host = `127.0.0.1:${s.awsPort}`;
    s3 = new S3Client({
      endpoint: s.awsUrl,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: CREDENTIALS,
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  after(async () => {
    s3.destroy();
    await s.stop();
    await removeDataDir(s.dataDir);
  });

  test('two concurrent writers to one key leave one whole object', async () => {
    for (let round = 0; round < 2; round++) {
      const bodies = Array.from({ length: 6 }, (_, i) => Buffer.alloc(2 * MiB + i * 99_991, 97 + i + round));
      await Promise.all(
        bodies.map((Body) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'contended', Body }))),
      );
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'contended' }));
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      const winner = bodies.find((b) => b.equals(bytes));
      assert.ok(winner, 'the object is exactly one of the bodies written');
      assert.equal(got.ETag, `"${createHash('md5').update(winner).digest('hex')}"`);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'contended' }));
      assert.deepEqual(
        listed.Contents?.map((o) => [o.Key, o.Size]),
        [['contended', winner.length]],
      );
    }
  });

  test('a truncated aws-chunked body is IncompleteBody and stores nothing', async () => {
    // One 16-byte chunk announced, 10 bytes sent, and the body ends without its final chunk.
    const body = Buffer.from('10\r\n0123456789');
    const headers = await sign('PUT', `/${BUCKET}/truncated`, {
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': '16',
      'x-amz-trailer': 'x-amz-checksum-crc32',
      'content-length': String(body.length),
    });
    const answer = await send('PUT', `/${BUCKET}/truncated`, headers, body);
    assert.equal(answer.status, 400);
    assert.match(answer.body, /<Code>IncompleteBody<\/Code>/);
    assert.equal(
      (await errorOf(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'truncated' })))).status,
      404,
    );
    assert.deepEqual(await writesInProgress(), []);
  });

  test('a key over 1,024 bytes is KeyTooLongError; one of exactly 1,024 bytes round-trips', async () => {
    const longest = `k/${'é'.repeat(511)}`;
    assert.equal(Buffer.byteLength(longest), 1024);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: longest, Body: 'longest' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: longest }));
    assert.equal(await got.Body!.transformToString(), 'longest');
    const err = await errorOf(
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${longest}x`, Body: 'x' })),
    );
    assert.deepEqual(err, { code: 'KeyTooLongError', status: 400 });
  });

  test('an expired presigned URL is AccessDenied; a current one works', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'shared.txt', Body: 'shared' }));
    const presigned = async (signingDate: Date): Promise<string> => {
      const out = await signer.presign(
        new HttpRequest({
          method: 'GET',
          protocol: 'http:',
          hostname: host,
          path: `/${BUCKET}/shared.txt`,
          headers: { host },
        }),
        { expiresIn: 60, signingDate },
      );
      return `${s.awsUrl}/${BUCKET}/shared.txt?${new URLSearchParams(out.query as Record<string, string>)}`;
    };
    const current = await fetch(await presigned(new Date()));
    assert.equal(current.status, 200);
    assert.equal(await current.text(), 'shared');
    const expired = await fetch(await presigned(new Date(Date.now() - 10 * 60 * 1000)));
    assert.equal(expired.status, 403);
    const text = await expired.text();
    assert.match(text, /<Code>AccessDenied<\/Code>/);
    assert.match(text, /Request has expired/);
  });

  test('an upload dropped halfway leaves nothing, and requests alongside it are served', async () => {
    const kept = randomBytes(3 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'neighbour', Body: kept }));
    const headers = await sign('PUT', `/${BUCKET}/dropped`, {
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      'content-length': String(64 * MiB),
    });
    const dropped = new Promise<void>((resolve) => {
      const req = request({
        host: '127.0.0.1',
        port: s.awsPort,
        method: 'PUT',
        path: `/${BUCKET}/dropped`,
        headers,
      });
      req.on('error', () => resolve());
      req.write(randomBytes(8 * MiB), () =>
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 100),
      );
    });
    const [, neighbour] = await Promise.all([
      dropped,
      s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'neighbour' })),
    ]);
    assert.ok(Buffer.from(await neighbour.Body!.transformToByteArray()).equals(kept));
    for (let i = 0; i < 100 && (await writesInProgress()).length > 0; i++) await sleep(20);
    assert.deepEqual(await writesInProgress(), []);
    assert.equal(
      (await errorOf(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'dropped' })))).status,
      404,
    );
    const after = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'after', Body: 'still here' }));
    assert.ok(after.ETag);
  });
});
