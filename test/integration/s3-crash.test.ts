/**
 * Crash test for the S3 API over the local lake: concurrent clients PUT new objects,
 * overwrite a few hot keys, run multipart uploads, copy and batch-delete objects while the
 * server is killed with SIGKILL at random moments and restarted on the same data directory
 * and ports. After every restart each object reads back whole: what an acknowledged request
 * wrote (bytes, ETag, Content-Type, metadata), or what a request still in flight at the kill
 * would have written, never a mix and never something nobody sent.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { freePort, removeDataDir, startSluice, type SluiceProcess } from '../support/sluice-process.ts';

const BUCKET = 'crash-objects';
const KiB = 1024;
const MiB = 1024 * KiB;
const HOT_KEYS = ['hot/a', 'hot/b', 'hot/c'];
const ROUNDS = 6;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const randomInt = (min: number, max: number): number => min + Math.floor(Math.random() * (max - min + 1));
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const md5 = (data: Uint8Array): string => `"${createHash('md5').update(data).digest('hex')}"`;

/**
 * One state a key may be in: the content a request wrote (or `deleted`), with the moments
 * the request was sent and answered on one logical clock.
 */
interface Version {
  readonly id: string;
  readonly key: string;
  readonly deleted: boolean;
  readonly sha?: string;
  readonly size?: number;
  /** The ETag expected; for a request that got no answer, the one it would have had. */
  etag?: string;
  readonly contentType?: string;
  readonly metadata?: Record<string, string>;
  readonly sent: number;
  /** When the answer (or the error) came; undefined while in flight. */
  answered?: number;
  /** True once the server said 200. */
  acked: boolean;
}

/** Everything the clients sent, per key. */
class Ledger {
  readonly versions = new Map<string, Version[]>();
  /** Keys touched since the last full check. */
  readonly touched = new Set<string>();
  readonly sentShas = new Set<string>();
  clock = 0;
  acks = 0;
  unknown = 0;
  /** Answers by kind of request (the key's first segment, or `delete`): [acknowledged, not]. */
  readonly byKind = new Map<string, [number, number]>();
  private nextId = 0;

  /** Records a request about to be sent. */
  begin(key: string, v: Omit<Version, 'id' | 'key' | 'sent' | 'acked'>): Version {
    const version: Version = { ...v, id: `v${this.nextId++}`, key, sent: ++this.clock, acked: false };
    const list = this.versions.get(key) ?? [];
    list.push(version);
    this.versions.set(key, list);
    this.touched.add(key);
    if (version.sha !== undefined) this.sentShas.add(version.sha);
    return version;
  }

  /** Records the answer to a request. */
  end(version: Version, acked: boolean): void {
    version.answered = ++this.clock;
    version.acked = acked;
    if (acked) this.acks++;
    else this.unknown++;
    const kind = version.deleted ? 'delete' : (version.key.split('/')[0] as string);
    const counts = this.byKind.get(kind) ?? [0, 0];
    counts[acked ? 0 : 1]++;
    this.byKind.set(kind, counts);
  }

  /**
   * The versions a key may show now: those not superseded by an acknowledged request sent
   * after they were answered (a request with no answer may still have landed at any moment
   * before the kill). `mustExist` when an acknowledged write is among them and no delete is.
   */
  candidates(key: string): { allowed: Version[]; mustExist: boolean } {
    const list = this.versions.get(key) ?? [];
    const allowed = list.filter(
      (v) => !list.some((w) => w.acked && v.answered !== undefined && w.sent > v.answered),
    );
    // A delete that may have landed allows absence; so does having nothing acknowledged.
    const mustExist = allowed.some((v) => v.acked) && !allowed.some((v) => v.deleted);
    return { allowed, mustExist };
  }
}

function s3Client(awsUrl: string): S3Client {
  return new S3Client({
    endpoint: awsUrl,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDS3CRASH', secretAccessKey: 's3-crash-secret' },
    maxAttempts: 1,
    requestHandler: { requestTimeout: 20_000, connectionTimeout: 2_000 },
  });
}

/** An object size: mostly small, some around a megabyte, a few up to 8 MiB. */
function randomSize(): number {
  const roll = Math.random();
  if (roll < 0.6) return randomInt(KiB, 64 * KiB);
  if (roll < 0.9) return randomInt(64 * KiB, 2 * MiB);
  return randomInt(2 * MiB, 8 * MiB);
}

/** Sends one request filed under `version`; true when acknowledged. */
async function attempt(
  ledger: Ledger,
  version: Version,
  send: () => Promise<string | undefined>,
): Promise<boolean> {
  try {
    const etag = await send();
    if (etag !== undefined && version.etag === undefined) version.etag = etag;
    if (etag !== undefined) assert.equal(etag, version.etag, `ETag acknowledged for ${version.id}`);
    ledger.end(version, true);
    return true;
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    ledger.end(version, false);
    return false;
  }
}

/** Writes a new object with random bytes, content type and metadata. */
async function putVersion(
  client: S3Client,
  ledger: Ledger,
  key: string,
  size = randomSize(),
): Promise<boolean> {
  const body = randomBytes(size);
  const contentType = `application/x-crash-${randomInt(0, 9)}`;
  const version = ledger.begin(key, {
    deleted: false,
    sha: sha256(body),
    size,
    etag: md5(body),
    contentType,
    metadata: { origin: `put-${ledger.clock}` },
  });
  return attempt(ledger, version, async () => {
    const out = await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: body,
        ContentType: contentType,
        Metadata: version.metadata,
      }),
    );
    return out.ETag;
  });
}

/** The state kept by the load across kills. */
interface Load {
  stop(): Promise<void>;
}

/** An upload the multipart writer started. */
interface Upload {
  readonly key: string;
  uploadId?: string;
  readonly parts: Buffer[];
  readonly etags: (string | undefined)[];
  version?: Version;
}

/** Runs writers against the server until stopped (at the kill, every request fails). */
function startLoad(
  awsUrl: string,
  ledger: Ledger,
  state: { seq: number; uploads: Upload[]; stable: string[] },
): Load {
  let stopped = false;
  const client = s3Client(awsUrl);
  const writer = async (w: number): Promise<void> => {
    while (!stopped) {
      const hot = Math.random() < 0.3;
      const key = hot ? (HOT_KEYS[randomInt(0, HOT_KEYS.length - 1)] as string) : `new/${w}/${state.seq++}`;
      const ok = await putVersion(client, ledger, key);
      if (ok && !hot) state.stable.push(key);
      if (!ok) await sleep(20);
    }
  };
  const multipart = async (): Promise<void> => {
    while (!stopped) {
      const upload: Upload = {
        key: `multi/${state.seq++}`,
        parts: [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(5 * MiB)],
        etags: [],
      };
      state.uploads.push(upload);
      if (!(await finishUpload(client, ledger, upload))) await sleep(20);
    }
  };
  const copier = async (): Promise<void> => {
    while (!stopped) {
      const source = state.stable[randomInt(0, state.stable.length - 1)];
      if (source === undefined) {
        await sleep(20);
        continue;
      }
      const src = ledger.versions.get(source)?.[0] as Version;
      const key = `copy/${state.seq++}`;
      const version = ledger.begin(key, {
        deleted: false,
        sha: src.sha,
        size: src.size,
        etag: src.etag,
        contentType: src.contentType,
        metadata: src.metadata,
      });
      const ok = await attempt(ledger, version, async () => {
        const out = await client.send(
          new CopyObjectCommand({ Bucket: BUCKET, Key: key, CopySource: `${BUCKET}/${source}` }),
        );
        return out.CopyObjectResult?.ETag;
      });
      if (!ok) await sleep(20);
    }
  };
  const deleter = async (): Promise<void> => {
    while (!stopped) {
      const keys = Array.from({ length: 5 }, () => `del/${state.seq++}`);
      for (const key of keys) await putVersion(client, ledger, key, randomInt(KiB, 256 * KiB));
      if (stopped) break;
      const versions = keys.map((key) => ledger.begin(key, { deleted: true }));
      try {
        const out = await client.send(
          new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: keys.map((Key) => ({ Key })) } }),
        );
        const done = new Set((out.Deleted ?? []).map((d) => d.Key));
        versions.forEach((v, i) => ledger.end(v, done.has(keys[i])));
      } catch {
        for (const v of versions) ledger.end(v, false);
        await sleep(20);
      }
    }
  };
  // Small overwrites of the hot keys, many in flight at once, so kills land mid-overwrite.
  const overwriter = async (): Promise<void> => {
    while (!stopped) {
      const key = HOT_KEYS[randomInt(0, HOT_KEYS.length - 1)] as string;
      if (!(await putVersion(client, ledger, key, randomInt(KiB, 32 * KiB)))) await sleep(20);
    }
  };
  const loops = [
    ...[0, 1, 2, 3].map(writer),
    ...[0, 1, 2, 3].map(overwriter),
    multipart(),
    copier(),
    deleter(),
  ];
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      client.destroy();
    },
  };
}

/**
 * Takes an upload as far as it can go: creates it if needed, sends missing parts in
 * parallel, completes it. True when the completion was acknowledged.
 */
async function finishUpload(client: S3Client, ledger: Ledger, upload: Upload): Promise<boolean> {
  try {
    if (upload.uploadId === undefined) {
      const created = await client.send(
        new CreateMultipartUploadCommand({
          Bucket: BUCKET,
          Key: upload.key,
          ContentType: 'application/x-multipart',
          Metadata: { origin: upload.key },
        }),
      );
      upload.uploadId = created.UploadId;
    }
    await Promise.all(
      upload.parts.map(async (body, i) => {
        if (upload.etags[i] !== undefined) return;
        const out = await client.send(
          new UploadPartCommand({
            Bucket: BUCKET,
            Key: upload.key,
            UploadId: upload.uploadId,
            PartNumber: i + 1,
            Body: body,
          }),
        );
        assert.equal(out.ETag, md5(body));
        upload.etags[i] = out.ETag;
      }),
    );
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    return false;
  }
  const whole = Buffer.concat(upload.parts);
  const digests = Buffer.concat(upload.parts.map((p) => createHash('md5').update(p).digest()));
  upload.version ??= ledger.begin(upload.key, {
    deleted: false,
    sha: sha256(whole),
    size: whole.length,
    etag: `"${createHash('md5').update(digests).digest('hex')}-3"`,
    contentType: 'application/x-multipart',
    metadata: { origin: upload.key },
  });
  const version = upload.version;
  if (version.answered !== undefined) {
    // A retry after a kill: it is in flight again.
    version.answered = undefined;
  }
  return attempt(ledger, version, async () => {
    const out = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: upload.key,
        UploadId: upload.uploadId,
        MultipartUpload: { Parts: upload.etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    return out.ETag;
  });
}

/** Reads a whole object: its bytes' SHA-256 and the headers that come with them. */
async function readObject(client: S3Client, key: string) {
  const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const bytes = await out.Body!.transformToByteArray();
  return {
    sha: sha256(bytes),
    size: bytes.length,
    etag: out.ETag,
    contentType: out.ContentType,
    metadata: out.Metadata ?? {},
  };
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

/** Lists the whole bucket, page by page. */
async function listAll(
  client: S3Client,
  prefix?: string,
): Promise<Map<string, { size: number; etag: string }>> {
  const out = new Map<string, { size: number; etag: string }>();
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token, MaxKeys: 250, Prefix: prefix }),
    );
    for (const o of page.Contents ?? []) out.set(o.Key!, { size: o.Size!, etag: o.ETag! });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return out;
}

/**
 * Checks the bucket against the ledger: listed keys are all known, each key shows one
 * allowed version whole (reading the bytes of `readKeys`, heading the rest), and listing,
 * HEAD and GET agree.
 */
async function verify(client: S3Client, ledger: Ledger, readKeys: ReadonlySet<string>): Promise<number> {
  const listed = await listAll(client);
  assert.equal((await listAll(client, '.sluice')).size, 0, 'the store’s own files are never listed');
  for (const key of listed.keys()) assert.ok(ledger.versions.has(key), `listed key ${key} was never written`);
  let read = 0;
  for (const [key] of ledger.versions) {
    const { allowed, mustExist } = ledger.candidates(key);
    const entry = listed.get(key);
    if (entry === undefined) {
      assert.ok(
        !mustExist,
        `acknowledged object ${key} is missing after the restart (${JSON.stringify(allowed)})`,
      );
      await assert.rejects(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })), isNotFound);
      continue;
    }
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.equal(head.ContentLength, entry.size, `HEAD and the listing agree on the size of ${key}`);
    assert.equal(head.ETag, entry.etag, `HEAD and the listing agree on the ETag of ${key}`);
    const matches = allowed.filter(
      (v) =>
        !v.deleted &&
        v.size === entry.size &&
        v.etag === entry.etag &&
        v.contentType === head.ContentType &&
        JSON.stringify(v.metadata) === JSON.stringify(head.Metadata ?? {}),
    );
    assert.ok(
      matches.length > 0,
      `${key} shows size ${entry.size}, ETag ${entry.etag}, ${head.ContentType} ${JSON.stringify(head.Metadata)}: ` +
        `none of the versions it may be (${JSON.stringify(allowed)})`,
    );
    if (readKeys.has(key)) {
      const got = await readObject(client, key);
      read++;
      assert.equal(got.size, entry.size, `GET and the listing agree on the size of ${key}`);
      assert.equal(got.etag, entry.etag, `GET and the listing agree on the ETag of ${key}`);
      assert.equal(got.contentType, head.ContentType, `GET and HEAD agree on the Content-Type of ${key}`);
      assert.deepEqual(got.metadata, head.Metadata ?? {}, `GET and HEAD agree on the metadata of ${key}`);
      assert.ok(ledger.sentShas.has(got.sha), `${key} holds bytes no client ever sent (torn or mixed)`);
      assert.ok(
        matches.some((v) => v.sha === got.sha),
        `${key} holds bytes that do not belong with its ETag and metadata`,
      );
    }
  }
  return read;
}

/** Finishes or aborts the uploads a kill interrupted; both must work. */
async function settleUploads(client: S3Client, ledger: Ledger, uploads: Upload[]): Promise<void> {
  let n = 0;
  for (const upload of uploads.splice(0)) {
    if (upload.version?.acked === true) continue;
    if (upload.uploadId === undefined) continue;
    if (n++ % 2 === 0 || upload.version !== undefined) {
      // A completion in flight at the kill either finished (then the upload is gone and the
      // object is there) or retrying it now must work.
      const ok = await finishUpload(client, ledger, upload);
      if (!ok) {
        const obj = await readObject(client, upload.key).catch(() => undefined);
        assert.ok(
          obj !== undefined && obj.sha === upload.version?.sha,
          `retrying the interrupted upload of ${upload.key} failed and the object is not there`,
        );
        upload.version!.acked = true;
      }
    } else {
      await client.send(
        new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: upload.key, UploadId: upload.uploadId }),
      );
    }
  }
  // An upload whose CreateMultipartUpload answer the kill cut off is unknown to the client.
  const stray = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  for (const u of stray.Uploads ?? []) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: u.Key, UploadId: u.UploadId }));
  }
  const left = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  assert.deepEqual(left.Uploads ?? [], [], 'no unfinished upload is left after retrying or aborting');
}

describe('the S3 API under SIGKILL', () => {
  test('objects acknowledged by PutObject, CompleteMultipartUpload, CopyObject and DeleteObjects survive SIGKILL whole, and no object is ever half written', async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sluice-s3crash-'));
    const ports = { aws: await freePort(), sql: await freePort(), console: await freePort() };
    let server: SluiceProcess = await startSluice({ dataDir, ports, timeoutMs: 30_000 });
    const ledger = new Ledger();
    const state = { seq: 0, uploads: [] as Upload[], stable: [] as string[] };
    let read = 0;
    try {
      let client = s3Client(server.awsUrl);
      await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
      for (const key of HOT_KEYS) assert.ok(await putVersion(client, ledger, key, randomInt(KiB, MiB)));
      client.destroy();
      for (let round = 0; round < ROUNDS; round++) {
        const load = startLoad(server.awsUrl, ledger, state);
        await sleep(randomInt(400, 1500));
        await server.kill();
        await load.stop();
        const t0 = Date.now();
        server = await startSluice({ dataDir, ports, timeoutMs: 30_000 });
        const t1 = Date.now();
        assert.doesNotMatch(
          server.stderr() + server.stdout(),
          /"level":(50|60)/,
          'the server starts without errors',
        );
        client = s3Client(server.awsUrl);
        try {
          const last = round === ROUNDS - 1;
          read += await verify(
            client,
            ledger,
            last ? new Set(ledger.versions.keys()) : new Set(ledger.touched),
          );
          ledger.touched.clear();
          await settleUploads(client, ledger, state.uploads);
          t.diagnostic(`round ${round}: restart ${t1 - t0} ms, check ${Date.now() - t1} ms`);
        } finally {
          client.destroy();
        }
      }
      // The uploads settled after the last kill, checked once more.
      client = s3Client(server.awsUrl);
      try {
        read += await verify(client, ledger, new Set(ledger.touched));
      } finally {
        client.destroy();
      }
      const kinds = Object.fromEntries(ledger.byKind);
      t.diagnostic(`[acknowledged, cut off or refused] by kind: ${JSON.stringify(kinds)}`);
      for (const kind of ['new', 'hot', 'multi', 'copy', 'delete']) {
        assert.ok((ledger.byKind.get(kind)?.[0] ?? 0) > 0, `some ${kind} requests were acknowledged`);
      }
      assert.ok(ledger.acks > 50, `the load got ${ledger.acks} acknowledgements`);
      assert.ok(ledger.unknown > 0, 'some requests were in flight at a kill');
      t.diagnostic(
        `${ledger.acks} acknowledged, ${ledger.unknown} cut off by ${ROUNDS} kills, ${ledger.versions.size} keys, ${read} reads checked`,
      );
    } finally {
      await server.kill();
      await removeDataDir(dataDir);
    }
  });
});
