/**
 * Multipart uploads in progress, kept on disk until completed or aborted:
 *
 *   <dir>/<uploadId>/upload.json      {version, bucket, key, initiated, contentType?, metadata?}
 *   <dir>/<uploadId>/part-<n>         the part's bytes (written to a temp name, then renamed)
 *   <dir>/<uploadId>/part-<n>.json    {etag, size, lastModified}, renamed in after the bytes
 *
 * Upload ids are 32 random hex digits, so they are safe as folder names. Completing reads
 * the parts into memory (the object store takes one Buffer), writes the object, then removes
 * the folder; operations on one upload run one at a time, so completing and aborting cannot
 * interleave.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
    await writeFile(join(dir, 'upload.json'), JSON.stringify({ version: 1, ...info }));
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
    let text: string;
    try {
      text = await readFile(join(this.#dir, uploadId, 'upload.json'), 'utf8');
    } catch {
      return undefined;
    }
    const raw = JSON.parse(text) as UploadInfo & { initiated: string };
    return { ...raw, initiated: new Date(raw.initiated) };
  }

  /** Stores one part (replacing an earlier one with the same number). */
  async putPart(
    uploadId: string,
    bucket: string,
    key: string,
    partNumber: number,
    data: Buffer,
    etag: string,
  ): Promise<PartInfo> {
    return this.#locked(uploadId, async () => {
      await this.get(uploadId, bucket, key);
      const dir = join(this.#dir, uploadId);
      const tmp = join(dir, `tmp-${randomBytes(8).toString('hex')}`);
      const part: PartInfo = { partNumber, etag, size: data.length, lastModified: new Date() };
      await writeFile(tmp, data);
      await rename(tmp, join(dir, `part-${partNumber}`));
      await writeFile(tmp, JSON.stringify(part));
      await rename(tmp, join(dir, `part-${partNumber}.json`));
      return part;
    });
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
      read: (partNumber: number) => Promise<Buffer>,
    ) => Promise<T>,
  ): Promise<T> {
    return this.#locked(uploadId, async () => {
      const upload = await this.get(uploadId, bucket, key);
      const parts = new Map((await this.#parts(uploadId)).map((p) => [p.partNumber, p]));
      const dir = join(this.#dir, uploadId);
      const result = await build(upload, parts, (n) => readFile(join(dir, `part-${n}`)));
      await rm(dir, { recursive: true, force: true });
      return result;
    });
  }

  /** Aborts an upload and deletes its parts; NoSuchUpload when it is unknown. */
  async abort(uploadId: string, bucket: string, key: string): Promise<void> {
    await this.#locked(uploadId, async () => {
      await this.get(uploadId, bucket, key);
      await rm(join(this.#dir, uploadId), { recursive: true, force: true });
    });
  }
}
