/**
 * Multipart uploads in progress, kept on disk until completed, aborted or expired:
 *
 *   <dir>/<uploadId>/upload.json      {version, bucket, key, initiated, contentType?, metadata?}
 *   <dir>/<uploadId>/part-<n>         the part's bytes (streamed to a temp name, fsynced, renamed)
 *   <dir>/<uploadId>/part-<n>.json    {etag, size, lastModified}, renamed in after the bytes
 *   <dir>/<uploadId>/tmp-<random>     a part (or upload.json) being written; removed if its body fails
 *
 * Upload ids are 32 random hex digits, so they are safe as folder names. A part's body streams
 * to its temp file outside any lock (parts of one upload arrive in parallel); only the renames
 * run under the upload's lock, after checking the upload still exists, so a part that finishes
 * after an abort leaves nothing. A replaced part's .json goes before its bytes change, so a
 * crash never pairs one part's ETag with another's bytes. Completing streams the parts, in order, into the object store
 * and then removes the folder; completing and aborting take the same lock and cannot
 * interleave. Uploads older than the expiry are removed by expire(), as an S3 lifecycle rule
 * "AbortIncompleteMultipartUpload" would.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpu-abort-incomplete-mpu-lifecycle-config.html
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { writeStreamHashed } from '../util/fs.ts';
import { S3Error } from './errors.ts';

/** One upload's facts. */
export interface UploadInfo {
  /** Upload id. */
  readonly uploadId: string;
  /** Target bucket. */
  readonly bucket: string;
  /** Target key. */
  readonly key: string;
  /** When it was created. */
  readonly initiated: Date;
  /** Content-Type for the final object. */
  readonly contentType?: string;
  /** User metadata for the final object. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** One uploaded part. */
export interface PartInfo {
  /** 1..10000. */
  readonly partNumber: number;
  /** Quoted MD5 of the part. */
  readonly etag: string;
  /** Bytes. */
  readonly size: number;
  /** Upload time. */
  readonly lastModified: Date;
}

const UPLOAD_ID_RE = /^[0-9a-f]{32}$/;

/** Multipart uploads under one folder. */
export class MultipartUploads {
  readonly #dir: string;
  readonly #locks = new Map<string, Promise<void>>();

  /** Keeps uploads under `dir` (created on first use). */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Runs `fn` with this upload locked against other operations on it. */
  async #locked<T>(uploadId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(uploadId) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const tail = previous.then(() => mine);
    this.#locks.set(uploadId, tail);
    try {
      await previous;
      return await fn();
    } finally {
      release();
      if (this.#locks.get(uploadId) === tail) this.#locks.delete(uploadId);
    }
  }

  /** Starts an upload. */
  async create(
    bucket: string,
    key: string,
    contentType: string | undefined,
    metadata: Readonly<Record<string, string>> | undefined,
  ): Promise<UploadInfo> {
    const uploadId = randomBytes(16).toString('hex');
    const info: UploadInfo = {
      uploadId,
      bucket,
      key,
      initiated: new Date(),
      ...(contentType !== undefined ? { contentType } : {}),
      ...(metadata !== undefined ? { metadata } : {}),
    };
    const dir = join(this.#dir, uploadId);
    await mkdir(dir, { recursive: true });
    // Written aside and renamed in, so a crash never leaves a torn upload.json; the folders
    // are fsynced so an upload id once returned survives a power loss.
    const temp = join(dir, `tmp-${randomBytes(8).toString('hex')}`);
    await writeDurably(temp, JSON.stringify({ version: 1, ...info }));
    await rename(temp, join(dir, 'upload.json'));
    await fsyncDir(dir);
    await fsyncDir(this.#dir);
    return info;
  }

  /** The upload, checked to belong to bucket and key; NoSuchUpload otherwise. */
  async get(uploadId: string, bucket: string, key: string): Promise<UploadInfo> {
    const info = await this.#read(uploadId);
    if (info === undefined || info.bucket !== bucket || info.key !== key) throw new S3Error('NoSuchUpload');
    return info;
  }

  async #read(uploadId: string): Promise<UploadInfo | undefined> {
    if (!UPLOAD_ID_RE.test(uploadId)) return undefined;
    let raw: UploadInfo & { initiated: string };
    try {
      raw = JSON.parse(await readFile(join(this.#dir, uploadId, 'upload.json'), 'utf8')) as typeof raw;
    } catch {
      // Missing, or unreadable (written by an older version that a crash cut short): no
      // such upload; expire() removes the folder in time.
      return undefined;
    }
    return { ...raw, initiated: new Date(raw.initiated) };
  }

  /**
   * Stores one part (replacing an earlier one with the same number), streaming its body to
   * disk; if the body fails, or the upload is aborted meanwhile, nothing of it stays.
   */
  async putPart(
    uploadId: string,
    bucket: string,
    key: string,
    partNumber: number,
    body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): Promise<PartInfo> {
    await this.get(uploadId, bucket, key);
    const dir = join(this.#dir, uploadId);
    const tmp = join(dir, `tmp-${randomBytes(8).toString('hex')}`);
    try {
      const { etag, size } = await streamToFile(tmp, body);
      return await this.#locked(uploadId, async () => {
        await this.get(uploadId, bucket, key);
        const part: PartInfo = { partNumber, etag, size, lastModified: new Date() };
        const facts = join(dir, `part-${partNumber}.json`);
        // A part being replaced is unlisted before its bytes change, so a crash between the
        // renames never pairs the old part's ETag with the new part's bytes.
        await rm(facts, { force: true });
        await rename(tmp, join(dir, `part-${partNumber}`));
        await writeDurably(tmp, JSON.stringify(part));
        await rename(tmp, facts);
        await fsyncDir(dir);
        return part;
      });
    } catch (err) {
      await rm(tmp, { force: true });
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new S3Error('NoSuchUpload');
      throw err;
    }
  }

  /** The parts uploaded so far, by part number. */
  async listParts(uploadId: string, bucket: string, key: string): Promise<PartInfo[]> {
    await this.get(uploadId, bucket, key);
    return this.#parts(uploadId);
  }

  async #parts(uploadId: string): Promise<PartInfo[]> {
    const dir = join(this.#dir, uploadId);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return [];
    }
    const parts: PartInfo[] = [];
    for (const name of names) {
      if (!/^part-\d+\.json$/.test(name)) continue;
      try {
        const raw = JSON.parse(await readFile(join(dir, name), 'utf8')) as PartInfo & {
          lastModified: string;
        };
        parts.push({ ...raw, lastModified: new Date(raw.lastModified) });
      } catch {
        // A part being replaced right now; it will be listed once its write finishes.
      }
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  /** Every upload in progress for a bucket, by key then initiation time. */
  async listUploads(bucket: string): Promise<UploadInfo[]> {
    let ids: string[];
    try {
      ids = await readdir(this.#dir);
    } catch {
      return [];
    }
    const out: UploadInfo[] = [];
    for (const id of ids) {
      const info = await this.#read(id);
      if (info !== undefined && info.bucket === bucket) out.push(info);
    }
    return out;
  }

  /**
   * Completes an upload: `build` gets the upload and its stored parts and writes the object;
   * the upload is removed once it succeeds.
   */
  async complete<T>(
    uploadId: string,
    bucket: string,
    key: string,
    build: (
      upload: UploadInfo,
      parts: ReadonlyMap<number, PartInfo>,
      read: (partNumber: number) => Readable,
    ) => Promise<T>,
  ): Promise<T> {
    return this.#locked(uploadId, async () => {
      const upload = await this.get(uploadId, bucket, key);
      const parts = new Map((await this.#parts(uploadId)).map((p) => [p.partNumber, p]));
      const dir = join(this.#dir, uploadId);
      const result = await build(upload, parts, (n) => createReadStream(join(dir, `part-${n}`)));
      await removeUpload(dir);
      return result;
    });
  }

  /**
   * Removes every upload initiated before `cutoff` (and any folder without a readable
   * upload.json last changed before it); returns the ids removed.
   */
  async expire(cutoff: Date): Promise<string[]> {
    let ids: string[];
    try {
      ids = await readdir(this.#dir);
    } catch {
      return [];
    }
    const removed: string[] = [];
    for (const id of ids) {
      if (!UPLOAD_ID_RE.test(id)) continue;
      const info = await this.#read(id).catch(() => undefined);
      const since =
        info?.initiated.getTime() ?? (await lstat(join(this.#dir, id)).catch(() => undefined))?.mtimeMs;
      if (since === undefined || since >= cutoff.getTime()) continue;
      await this.#locked(id, () => rm(join(this.#dir, id), { recursive: true, force: true }));
      removed.push(id);
    }
    return removed;
  }

  /** Aborts an upload and deletes its parts; NoSuchUpload when it is unknown. */
  async abort(uploadId: string, bucket: string, key: string): Promise<void> {
    await this.#locked(uploadId, async () => {
      await this.get(uploadId, bucket, key);
      await removeUpload(join(this.#dir, uploadId));
    });
  }
}

/**
 * Removes an upload's folder, upload.json first: a crash halfway leaves no upload with some
 * of its parts gone (a retried completion then says NoSuchUpload, not InvalidPart), only a
 * folder that expire() removes.
 */
async function removeUpload(dir: string): Promise<void> {
  await rm(join(dir, 'upload.json'), { force: true });
  await rm(dir, { recursive: true, force: true });
}

/** Streams a body into a new file, hashing it (MD5), and fsyncs it. */
async function streamToFile(
  path: string,
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<{ etag: string; size: number }> {
  const handle = await open(path, 'wx', 0o644);
  try {
    const { md5Hex, size } = await writeStreamHashed(handle, body);
    await handle.datasync();
    return { etag: `"${md5Hex}"`, size };
  } finally {
    await handle.close();
  }
}

/** Writes a small file and fsyncs it. */
async function writeDurably(path: string, text: string): Promise<void> {
  const handle = await open(path, 'w', 0o644);
  try {
    await handle.writeFile(text);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

async function fsyncDir(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
