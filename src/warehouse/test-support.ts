/**
 * Helpers for the warehouse tests: an in-memory ObjectStore (so the tests do not depend on
 * the lake's implementations) and a warehouse in a temporary directory.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type {
  BucketInfo,
  ListObjectsOptions,
  ListObjectsPage,
  ObjectInfo,
  ObjectReader,
  ObjectStore,
  PutObjectOptions,
} from '../lake/index.ts';
import type { DuckDbWarehouseOptions, Warehouse } from './index.ts';
import { createDuckDbWarehouse } from './duckdb-warehouse.ts';

class MemoryError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** An ObjectStore held in memory (keys listed in UTF-8 binary order, like S3). */
export class MemoryObjectStore implements ObjectStore {
  private readonly buckets = new Map<
    string,
    { created: Date; objects: Map<string, { body: Buffer; info: ObjectInfo }> }
  >();

  async createBucket(bucket: string): Promise<void> {
    if (this.buckets.has(bucket)) throw new MemoryError('BucketAlreadyOwnedByYou', bucket);
    this.buckets.set(bucket, { created: new Date(), objects: new Map() });
  }
  async deleteBucket(bucket: string): Promise<void> {
    this.bucket(bucket);
    this.buckets.delete(bucket);
  }
  async bucketExists(bucket: string): Promise<boolean> {
    return this.buckets.has(bucket);
  }
  async listBuckets(): Promise<BucketInfo[]> {
    return [...this.buckets].map(([name, b]) => ({ name, created: b.created }));
  }
  async putObject(
    bucket: string,
    key: string,
    body: Buffer,
    options: PutObjectOptions = {},
  ): Promise<ObjectInfo> {
    const b = this.bucket(bucket);
    const info: ObjectInfo = {
      key,
      size: body.length,
      lastModified: new Date(),
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      ...(options.contentType ? { contentType: options.contentType } : {}),
    };
    b.objects.set(key, { body: Buffer.from(body), info });
    return info;
  }
  async getObject(bucket: string, key: string): Promise<Buffer> {
    const o = this.bucket(bucket).objects.get(key);
    if (!o) throw new MemoryError('NoSuchKey', key);
    return o.body;
  }
  async openObject(bucket: string, key: string): Promise<ObjectReader> {
    const o = this.bucket(bucket).objects.get(key);
    if (!o) throw new MemoryError('NoSuchKey', key);
    return {
      info: o.info,
      stream: (range) => Readable.from([range ? o.body.subarray(range.start, range.end + 1) : o.body]),
      close: async () => undefined,
    };
  }
  async headObject(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    return this.bucket(bucket).objects.get(key)?.info;
  }
  async deleteObject(bucket: string, key: string): Promise<void> {
    this.bucket(bucket).objects.delete(key);
  }
  async listObjects(bucket: string, options: ListObjectsOptions = {}): Promise<ListObjectsPage> {
    const keys = [...this.bucket(bucket).objects.keys()]
      .filter(
        (k) =>
          k.startsWith(options.prefix ?? '') &&
          (options.startAfter === undefined ||
            Buffer.compare(Buffer.from(k), Buffer.from(options.startAfter)) > 0),
      )
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const max = options.maxKeys ?? 1000;
    const page = keys.slice(0, max);
    const objects = page.map((k) => this.bucket(bucket).objects.get(k)?.info as ObjectInfo);
    return {
      objects,
      commonPrefixes: [],
      isTruncated: keys.length > max,
      ...(keys.length > max ? { nextStartAfter: page[page.length - 1] as string } : {}),
    };
  }
  /** Writes an object, creating the bucket when needed (test shorthand). */
  async put(url: string, body: string | Buffer): Promise<void> {
    const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(url);
    if (!m) throw new Error(`bad url ${url}`);
    if (!this.buckets.has(m[1] as string)) await this.createBucket(m[1] as string);
    await this.putObject(m[1] as string, m[2] as string, typeof body === 'string' ? Buffer.from(body) : body);
  }
  private bucket(name: string): { objects: Map<string, { body: Buffer; info: ObjectInfo }> } {
    const b = this.buckets.get(name);
    if (!b) throw new MemoryError('NoSuchBucket', name);
    return b;
  }
}

/** A warehouse in a fresh temporary directory, with a superuser `awsuser` / `secret`. */
export async function openTestWarehouse(extra: Partial<DuckDbWarehouseOptions> = {}): Promise<{
  warehouse: Warehouse;
  store: MemoryObjectStore;
  dir: string;
  cleanup: () => Promise<void>;
}> {
  const dir = extra.dir ?? (await mkdtemp(join(tmpdir(), 'sluice-wh-')));
  const store = (extra.objectStore as MemoryObjectStore | undefined) ?? new MemoryObjectStore();
  const warehouse = await createDuckDbWarehouse({
    threads: 1,
    memoryLimit: '512MB',
    ...extra,
    dir,
    objectStore: store,
  });
  await warehouse.ensureUser('awsuser', 'secret', { superuser: true });
  return {
    warehouse,
    store,
    dir,
    cleanup: async () => {
      await warehouse.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
