/**
 * The S3 phase of `npm run bench`: PutObject and GetObject throughput through Sluice's S3 API,
 * with @aws-sdk/client-s3 as the client, for objects of 1 KiB, 1 MiB and 64 MiB; and, in the
 * same run, two baselines:
 *
 *   s3rver  an independent S3 server (bench/s3rver-server.ts, its own process, like Sluice),
 *           driven by the same client the same way;
 *   disk    the same bytes written to the same disk by this process: open, write, fdatasync
 *           and MD5 per object (what a durable PutObject must do at the least), and read back
 *           for GET.
 *
 * and, to read the others by, the client's own ceiling: the same client against a server that
 * does no work (bench/null-s3-server.ts). On a small machine the SDK's cost per request
 * (middleware, SigV4, checksums) caps every server's figure for small objects near it.
 *
 * Each (size, operation) runs RUNS times against each target, the targets in turn within a
 * run, so a busy spell weighs on all of them alike; the figure is the median. Objects are
 * written at a fixed concurrency (16 for the small sizes, 4 for 64 MiB) and their keys are
 * reused across runs, so the disk holds one set per target. The client runs in the bench
 * process for every target, so its own cost (SigV4, CRC32 and SHA-256 of each body) is in
 * every figure alike.
 */
import { createHash, createHmac } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

const KiB = 1024;
const MiB = 1024 * 1024;

/** One object size of the phase, with how many objects a run moves and at what concurrency. */
export interface S3Size {
  readonly label: string;
  readonly bytes: number;
  readonly objects: number;
  readonly concurrency: number;
}

/** The sizes measured (BENCH_S3_SCALE multiplies the object counts). */
export function s3Sizes(scale: number): S3Size[] {
  return [
    { label: '1 KiB', bytes: KiB, objects: Math.max(16, Math.round(2000 * scale)), concurrency: 16 },
    { label: '1 MiB', bytes: MiB, objects: Math.max(16, Math.round(200 * scale)), concurrency: 16 },
    { label: '64 MiB', bytes: 64 * MiB, objects: Math.max(4, Math.round(8 * scale)), concurrency: 4 },
  ];
}

/** Where the objects go. */
export interface S3Target {
  readonly label: 'sluice' | 's3rver' | 'disk' | 'client';
  put(index: number, body: Buffer): Promise<void>;
  get(index: number): Promise<number>;
}

/** One measured run. */
export interface S3Run {
  readonly objects: number;
  readonly seconds: number;
  readonly objectsPerSec: number;
  readonly mibPerSec: number;
}

/** Medians per target, size and operation. */
export interface S3Figure {
  readonly target: S3Target['label'];
  readonly size: string;
  readonly op: 'PUT' | 'GET';
  readonly runs: S3Run[];
  readonly objectsPerSec: number;
  readonly mibPerSec: number;
}

/** A target speaking S3 at `endpoint`, through the SDK with its default settings. */
export async function s3Target(
  label: 'sluice' | 's3rver' | 'client',
  endpoint: string,
  bucket: string,
): Promise<S3Target> {
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: unknown) => {
    const name = (error as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
  });
  return {
    label,
    async put(index, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: `obj/${index}`, Body: body }));
    },
    async get(index) {
      const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `obj/${index}` }));
      let bytes = 0;
      for await (const chunk of answer.Body as AsyncIterable<Uint8Array>) bytes += chunk.byteLength;
      return bytes;
    },
  };
}

/**
 * A target speaking S3 at `endpoint` through node:http with a hand-made SigV4 header
 * (UNSIGNED-PAYLOAD, the signing key cached): a client far cheaper per request than the SDK,
 * so small-object figures show the server rather than the client (BENCH_S3_CLIENT=lean).
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 */
export async function leanS3Target(
  label: 'sluice' | 's3rver' | 'client',
  endpoint: string,
  bucket: string,
): Promise<S3Target> {
  const url = new URL(endpoint);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const keys = new Map<string, Buffer>();
  const hmac = (key: Buffer | string, data: string): Buffer =>
    createHmac('sha256', key).update(data).digest();
  const send = (
    method: 'PUT' | 'GET',
    path: string,
    body?: Buffer,
  ): Promise<{ status: number; bytes: number }> => {
    const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const day = amzDate.slice(0, 8);
    let key = keys.get(day);
    if (key === undefined) {
      key = hmac(hmac(hmac(hmac('AWS4S3RVER', day), 'us-east-1'), 's3'), 'aws4_request');
      keys.set(day, key);
    }
    const scope = `${day}/us-east-1/s3/aws4_request`;
    const canonical = [
      method,
      path,
      '',
      `host:${url.host}\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:${amzDate}\n`,
      'host;x-amz-content-sha256;x-amz-date',
      'UNSIGNED-PAYLOAD',
    ].join('\n');
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')];
    const signature = hmac(key, toSign.join('\n')).toString('hex');
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          host: url.hostname,
          port: url.port,
          method,
          path,
          agent,
          headers: {
            'content-length': body?.length ?? 0,
            'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
            'x-amz-date': amzDate,
            authorization:
              `AWS4-HMAC-SHA256 Credential=S3RVER/${scope}, ` +
              `SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${signature}`,
          },
        },
        (response) => {
          let bytes = 0;
          response.on('data', (chunk: Buffer) => (bytes += chunk.length));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, bytes }));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  };
  const created = await send('PUT', `/${bucket}`);
  if (created.status !== 200 && created.status !== 409) {
    throw new Error(`Creating bucket ${bucket} at ${endpoint} answered ${created.status}.`);
  }
  const ok = (answer: { status: number }, what: string): void => {
    if (answer.status !== 200) throw new Error(`${what} at ${endpoint} answered ${answer.status}.`);
  };
  return {
    label,
    async put(index, body) {
      ok(await send('PUT', `/${bucket}/obj/${index}`, body), `PUT obj/${index}`);
    },
    async get(index) {
      const answer = await send('GET', `/${bucket}/obj/${index}`);
      ok(answer, `GET obj/${index}`);
      return answer.bytes;
    },
  };
}

/** The plain-disk baseline: write, fdatasync and MD5 per object in `dir`; read back for GET. */
export async function diskTarget(dir: string): Promise<S3Target> {
  await mkdir(dir, { recursive: true });
  return {
    label: 'disk',
    async put(index, body) {
      const md5 = createHash('md5');
      const handle = await open(join(dir, `obj-${index}`), 'w');
      try {
        // Slices as a server receives them, hashed and written in turn.
        for (let at = 0; at < body.length; at += MiB) {
          const slice = body.subarray(at, Math.min(body.length, at + MiB));
          md5.update(slice);
          await handle.write(slice);
        }
        await handle.datasync();
      } finally {
        await handle.close();
      }
      md5.digest('hex');
    },
    async get(index) {
      return (await readFile(join(dir, `obj-${index}`))).length;
    },
  };
}

/** Runs `objects` operations at `concurrency`; returns the run's figures. */
async function timed(size: S3Size, op: (index: number) => Promise<unknown>): Promise<S3Run> {
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < size.objects) await op(next++);
  };
  await Promise.all(Array.from({ length: size.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return {
    objects: size.objects,
    seconds,
    objectsPerSec: size.objects / seconds,
    mibPerSec: (size.objects * size.bytes) / MiB / seconds,
  };
}

/** Measures every size and operation against every target, `runs` times; returns the medians. */
export async function measureS3Targets(
  targets: readonly S3Target[],
  sizes: readonly S3Size[],
  runs: number,
  say: (line: string) => void,
): Promise<S3Figure[]> {
  const figures = new Map<
    string,
    { target: S3Target['label']; size: string; op: 'PUT' | 'GET'; runs: S3Run[] }
  >();
  for (const size of sizes) {
    const body = randomBytes(size.bytes);
    // One untimed pass per target, so keys exist for GET and connections are warm.
    for (const target of targets) {
      await timed({ ...size, objects: Math.min(size.objects, size.concurrency * 2) }, (i) =>
        target.put(i, body),
      );
    }
    for (let run = 0; run < runs; run++) {
      for (const op of ['PUT', 'GET'] as const) {
        for (const target of targets) {
          const result = await timed(size, (i) =>
            op === 'PUT' ? target.put(i, body) : target.get(i).then((n) => check(n, size.bytes)),
          );
          const id = `${target.label}|${size.label}|${op}`;
          const entry = figures.get(id) ?? { target: target.label, size: size.label, op, runs: [] };
          entry.runs.push(result);
          figures.set(id, entry);
          say(
            `  ${target.label.padEnd(6)} ${op} ${size.label.padStart(6)} run ${run + 1}/${runs}: ` +
              `${result.objectsPerSec.toFixed(1)} objects/s, ${result.mibPerSec.toFixed(1)} MiB/s`,
          );
        }
      }
    }
  }
  return [...figures.values()].map((f) => ({
    ...f,
    objectsPerSec: median(f.runs.map((r) => r.objectsPerSec)),
    mibPerSec: median(f.runs.map((r) => r.mibPerSec)),
  }));
}

function check(got: number, expected: number): void {
  if (got !== expected) throw new Error(`GET returned ${got} bytes, expected ${expected}.`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
