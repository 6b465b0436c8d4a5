/**
 * The local object store: the lake as a plain directory tree that a person can browse with
 * `ls`, `zcat` and `find`.
 *
 * ON-DISK LAYOUT
 *
 *   <root>/<bucket>/                         one folder per bucket (a valid S3 bucket name)
 *   <root>/<bucket>/.sluice-bucket.json      {"version":1,"created":"<ISO time>"}
 *   <root>/<bucket>/.sluice-tmp/             writes in progress; never listed; files older
 *                                            than an hour are crash leftovers and removed
 *   <root>/<bucket>/<seg>/<seg>/…/<seg>      an object: its key split on '/', each segment
 *                                            a folder name, the last one the file name
 *   <dir>/.sluice-meta.<name>.json           the sidecar of the object stored as <dir>/<name>
 *   <dir>/.sluice-prev.<name>.json           the sidecar being replaced, while an overwrite
 *                                            of <dir>/<name> is between its renames
 *
 * So `message/2026/11/25/22/redshift-delivery-stream-1-….gz` is exactly that path under
 * the bucket folder. Every name that starts with `.sluice` is the store's own; ls hides them.
 *
 * KEY SEGMENT → FILE NAME (the escaping scheme)
 *
 * A segment is stored as itself ("raw") unless it is empty, `.` or `..`, starts with `%`
 * or `.sluice`, contains NUL, or is longer than 200 UTF-8 bytes. Otherwise:
 *   - `%=` + the segment with `%` written `%25` and NUL written `%00` (`a//b` → `a/%=/b`,
 *     `..` → `%=..`, `%x` → `%=%25x`), when that fits in 200 bytes;
 *   - `%#` + SHA-256 hex of the segment otherwise. Such a folder holds its real segment in
 *     a `.sluice-name` file; such an object's sidecar holds its key (and is always fsynced).
 * A name on disk whose decoding does not encode back to itself (a file someone dropped in
 * named `%foo`) is not an object of the lake and is ignored.
 *
 * A KEY THAT IS BOTH AN OBJECT AND A FOLDER (`a` and `a/b`)
 *
 * Folders always live at the segment's name. An object whose name is taken by a folder is
 * stored as `%@` + name (`a` → `%@a`) beside it; putting `a/b` while the object `a` is a
 * file first renames that file to `%@a` (one atomic rename, no data in flight), and
 * removing the last object under `a/` renames `%@a` back. Readers look for the plain name
 * first, then the `%@` name. Sidecars are named after the plain name, so they never move.
 * A `%@a` beside a plain file `a` (a crash between pruning `a/` and renaming back) is
 * ignored; deleting `a` removes it first.
 *
 * SIDECARS AND ETAGS
 *
 * Each object has a JSON sidecar {version, key, size, mtimeNs, etag, contentType?,
 * metadata?}. It belongs to the data file when size and modification time (ns) match, or,
 * when only the time differs (the lake was copied without preserving times), when the MD5
 * of the file equals its ETag. A file with no valid sidecar (a crash leftover, or a file a
 * person copied into the lake) gets its ETag from its MD5, computed lazily and cached; it
 * has no content type or metadata. Hence the sidecar is fsynced only when it carries what
 * cannot be derived again: a content type, metadata, or a long segment's real name.
 * An overwrite renames the old sidecar to its `.sluice-prev.` name before the new one
 * comes in, and removes it once the new data is in place; readers whose data file does not
 * match the sidecar try that previous one, so a crash between the renames leaves the old
 * object whole, with its content type and metadata.
 *
 * WRITES AND DURABILITY (the MUSTs of the contract in ./index.ts)
 *
 *   - putObject MUST be atomic: the data is written to a new file in `.sluice-tmp`, fsynced,
 *     then renamed over the object's path, so a reader sees the old file or the new one.
 *   - putObject MUST be durable when it resolves: the data file (and a sidecar that carries
 *     what cannot be derived again) is fsynced before the renames, each through the
 *     descriptor that wrote it and the two at once, and after them the
 *     object's folder (and any folder created for it) is fsynced. Folder fsyncs are
 *     group-committed: concurrent writers into one folder share one that began after all
 *     their renames.
 *   - Each bucket has a reader-writer lock. The renames of one key's sidecar and data run
 *     under its shared side and a lock of that key, so concurrent writers to one key leave
 *     one data file and its own sidecar while writers of other keys go on alongside; folder
 *     creation, pruning and deletes take the exclusive side. A put first tries its renames
 *     under the shared side and, when its folder is missing, does it all again exclusively.
 *     Reading never takes the lock. A second process on the same lake (`sluice lake`
 *     beside the server) is tolerated where folders are made and pruned; should two
 *     processes write one key at the same instant, a data file may end up beside the
 *     other's sidecar, which readers detect (the ETag is then taken from the data).
 *   - Deleting removes the data file, then its sidecar, then every folder left empty.
 *
 * LISTING
 *
 * A listing walks the tree in key order, entering only folders that can hold keys after
 * startAfter that start with the prefix, and jumping over a whole folder once it has
 * rolled up into a common prefix. Within a folder, entries sort by segment (+ '/' for a
 * folder), which is key order because every key under a folder shares that string. Sorted
 * entries of folders with 256+ entries are kept in memory, checked against the folder's
 * mtime and this store's own writes, so paging through a large folder reads it once.
 *
 * The store assumes a case-sensitive file system (Linux); on a case-insensitive one,
 * keys differing only in case collide.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, type BigIntStats, type Stats } from 'node:fs';
import {
  type FileHandle,
  lstat,
  mkdir,
  open,
  opendir,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
} from 'node:fs/promises';
import { join } from 'node:path';
import { writeStreamHashed } from '../util/fs.ts';
import { silentLogger, type Logger } from '../util/logger.ts';
import { isValidBucketName } from './bucket-name.ts';
import {
  LakeError,
  type BucketInfo,
  type ListObjectsOptions,
  type ListObjectsPage,
  type ObjectBody,
  type ObjectInfo,
  type ObjectReader,
  type ObjectStore,
  type PutObjectOptions,
} from './index.ts';
import { compareKeys } from './key-order.ts';

/** Options for the local object store. */
export interface LocalObjectStoreOptions {
  /** The folder that holds one folder per bucket; created on first use. */
  readonly root: string;
  /** Where the store logs what it repairs or skips. */
  readonly logger?: Logger;
  /**
   * Whether writes are fsynced (default true). Turning it off gives up durability on power
   * loss and is meant for throwaway lakes in tests and benchmarks only.
   */
  readonly fsync?: boolean;
}

/** Creates an object store over a local directory (see the layout at the top of this file). */
export function createLocalObjectStore(options: LocalObjectStoreOptions): ObjectStore {
  return new LocalObjectStore(options);
}

const RESERVED = '.sluice';
const TMP_DIR = '.sluice-tmp';
const BUCKET_FILE = '.sluice-bucket.json';
const DIR_NAME_FILE = '.sluice-name';
const SIDECAR_PREFIX = '.sluice-meta.';
const SIDECAR_SUFFIX = '.json';
const PREV_SIDECAR_PREFIX = '.sluice-prev.';
const TRASH_PREFIX = '.sluice-trash-';
const ESCAPED = '%=';
const HASHED = '%#';
const ALT = '%@';
const MAX_NAME_BYTES = 200;
const MAX_KEY_BYTES = 1024;
const MAX_KEYS = 1000;
const STALE_TEMP_MS = 60 * 60 * 1000;
const LONE_SURROGATE = /\p{Cs}/u;
/** Folders with at least this many entries keep their sorted listing in memory. */
const DIR_CACHE_MIN_ENTRIES = 256;
/** Upper bound on entries held by the folder listing cache. */
const DIR_CACHE_MAX_ENTRIES = 300_000;
const ETAG_CACHE_MAX = 10_000;
const DESCRIBE_CONCURRENCY = 32;
const SMALL_FILE_BYTES = 16 * 1024;
const READ_CHUNK_BYTES = 1024 * 1024;

/** What a sidecar file holds. */
interface Sidecar {
  readonly version: 1;
  readonly key: string;
  readonly size: number;
  readonly mtimeNs: string;
  readonly etag: string;
  readonly contentType?: string;
  readonly metadata?: Record<string, string>;
}

/** One object or folder in a folder listing, decoded. */
interface DirEntry {
  /** The entry's part of the key: the segment, plus '/' for a folder. */
  readonly rel: string;
  /** Name on disk. */
  readonly fsName: string;
  /** True for a folder. */
  readonly isDir: boolean;
}

/** A listing cache entry. */
interface CachedDir {
  readonly version: number;
  readonly mtimeNs: bigint;
  readonly entries: readonly DirEntry[];
}

/** Where an object's files are. */
interface ObjectLocation {
  readonly dirPath: string;
  /** The encoded last segment (the plain name, also the sidecar's base). */
  readonly name: string;
  /** The data file: `<dirPath>/<name>` or `<dirPath>/%@<name>`. */
  readonly filePath: string;
}

/** One object found by the listing walk. */
interface Found {
  readonly key: string;
  readonly dirPath: string;
  readonly name: string;
  readonly filePath: string;
}

/** A promise-chain lock: callers run one at a time, in order. */
class Mutex {
  #tail: Promise<void> = Promise.resolve();

  /** Runs `fn` once every earlier caller has finished. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      await previous;
      return await fn();
    } finally {
      release();
    }
  }
}

/**
 * A bucket's lock: shared holders work on one key each (one at a time per key) and run
 * alongside each other; an exclusive holder (making or pruning folders, deleting) runs alone.
 * Both kinds queue in arrival order, so neither starves the other.
 */
class BucketLock {
  /** Settles once every exclusive holder queued so far has finished. */
  #exclusiveTail: Promise<void> = Promise.resolve();
  readonly #shared = new Set<Promise<unknown>>();
  readonly #keys = new Map<string, { mutex: Mutex; users: number }>();

  /** Runs `fn` alongside other keys' shared holders, after earlier holders of `key` and earlier exclusive ones. */
  shared<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const gate = this.#exclusiveTail;
    let entry = this.#keys.get(key);
    if (entry === undefined) {
      entry = { mutex: new Mutex(), users: 0 };
      this.#keys.set(key, entry);
    }
    const held = entry;
    held.users++;
    const run = (async () => {
      try {
        await gate;
        return await held.mutex.run(fn);
      } finally {
        if (--held.users === 0) this.#keys.delete(key);
      }
    })();
    const tracked = run.catch(() => undefined);
    this.#shared.add(tracked);
    void tracked.then(() => this.#shared.delete(tracked));
    return run;
  }

  /** Runs `fn` alone, once every earlier holder, shared or exclusive, has finished. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const before = Promise.all([this.#exclusiveTail, ...this.#shared]);
    let release!: () => void;
    this.#exclusiveTail = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      await before;
      return await fn();
    } finally {
      release();
    }
  }

  /** Resolves once every holder queued so far has finished. */
  async idle(): Promise<void> {
    await Promise.all([this.#exclusiveTail, ...this.#shared]);
  }
}

/**
 * Group commit of folder fsyncs: writers that renamed into a folder while its fsync was
 * already running share the next one, so N concurrent puts into one folder cost about two
 * folder fsyncs, not N, and each still returns only after an fsync that began after its rename.
 */
class DirSyncs {
  readonly #running = new Map<string, Promise<void>>();
  readonly #queued = new Map<string, Promise<void>>();

  /** Resolves once an fsync of `dir` that started after this call has finished. */
  sync(dir: string): Promise<void> {
    const queued = this.#queued.get(dir);
    if (queued !== undefined) return queued;
    const start = (): Promise<void> => {
      const run: Promise<void> = fsyncDir(dir).finally(() => {
        if (this.#running.get(dir) === run) this.#running.delete(dir);
      });
      this.#running.set(dir, run);
      return run;
    };
    const running = this.#running.get(dir);
    if (running === undefined) return start();
    const next = running
      .catch(() => undefined)
      .then(() => {
        this.#queued.delete(dir);
        return start();
      });
    this.#queued.set(dir, next);
    return next;
  }
}

/** The local directory implementation of ObjectStore. */
class LocalObjectStore implements ObjectStore {
  readonly #root: string;
  readonly #logger: Logger;
  readonly #fsync: boolean;
  readonly #locks = new Map<string, BucketLock>();
  readonly #tempSwept = new Set<string>();
  readonly #dirCache = new Map<string, CachedDir>();
  #dirCacheSize = 0;
  readonly #dirVersions = new Map<string, number>();
  #versionCounter = 0;
  readonly #etagCache = new Map<string, { size: bigint; mtimeNs: bigint; etag: string }>();
  readonly #dirSyncs = new DirSyncs();

  constructor(options: LocalObjectStoreOptions) {
    this.#root = options.root;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'local-object-store' });
    this.#fsync = options.fsync ?? true;
  }

  async createBucket(bucket: string): Promise<void> {
    if (!isValidBucketName(bucket)) {
      throw new LakeError(
        'InvalidBucketName',
        `The specified bucket is not valid: ${JSON.stringify(bucket)}`,
      );
    }
    await mkdir(this.#root, { recursive: true });
    const dir = join(this.#root, bucket);
    try {
      await mkdir(dir);
    } catch (err) {
      if (errno(err) === 'EEXIST') {
        throw new LakeError('BucketAlreadyOwnedByYou', `The bucket ${bucket} already exists.`);
      }
      throw err;
    }
    await mkdir(join(dir, TMP_DIR));
    const info = Buffer.from(JSON.stringify({ version: 1, created: new Date().toISOString() }));
    const temp = join(dir, TMP_DIR, tempName('bucket'));
    await writeNewFile(temp, info, this.#fsync);
    await rename(temp, join(dir, BUCKET_FILE));
    if (this.#fsync) {
      await fsyncDir(dir);
      await fsyncDir(this.#root);
    }
    this.#logger.info({ bucket }, `Created bucket ${bucket}.`);
  }

  async deleteBucket(bucket: string): Promise<void> {
    const dir = await this.#bucketDir(bucket);
    await this.#lock(bucket).exclusive(async () => {
      for await (const _object of this.#walk(dir, { prefix: '' })) {
        throw new LakeError('BucketNotEmpty', `The bucket ${bucket} is not empty.`);
      }
      // Renaming first makes the bucket vanish at once; the slow removal happens after.
      const trash = join(this.#root, `${TRASH_PREFIX}${tempName(bucket)}`);
      await rename(dir, trash);
      if (this.#fsync) await fsyncDir(this.#root);
      await rm(trash, { recursive: true, force: true });
    });
    this.#locks.delete(bucket);
    this.#tempSwept.delete(bucket);
    this.#forgetCachedUnder(dir);
    this.#logger.info({ bucket }, `Deleted bucket ${bucket}.`);
  }

  async bucketExists(bucket: string): Promise<boolean> {
    if (!isValidBucketName(bucket)) return false;
    const st = await lstatOrUndefined(join(this.#root, bucket));
    return st?.isDirectory() ?? false;
  }

  async listBuckets(): Promise<BucketInfo[]> {
    let names: string[];
    try {
      names = await readdir(this.#root);
    } catch (err) {
      if (errno(err) === 'ENOENT') return [];
      throw err;
    }
    const buckets: BucketInfo[] = [];
    for (const name of names.filter(isValidBucketName).sort(compareKeys)) {
      const dir = join(this.#root, name);
      const st = await lstatOrUndefined(dir);
      if (!st?.isDirectory()) continue;
      buckets.push({ name, created: await bucketCreated(dir, st.birthtimeMs || st.mtimeMs) });
    }
    return buckets;
  }

  async putObject(
    bucket: string,
    key: string,
    body: ObjectBody,
    options: PutObjectOptions = {},
  ): Promise<ObjectInfo> {
    checkKey(key);
    // Once the bucket's temp folder is known, a missing bucket shows as ENOENT on the first
    // write into it (answered below), so the folder is not looked up again on every put.
    const bucketDir = this.#tempSwept.has(bucket)
      ? join(this.#root, this.#checkBucketName(bucket))
      : await this.#bucketDir(bucket);
    await this.#sweepTemp(bucket, bucketDir);
    const segments = key.split('/');
    const name = encodeSegment(segments.pop() ?? '');
    const metadata = normalizeMetadata(options.metadata);
    const tmpData = join(bucketDir, TMP_DIR, tempName('data'));
    const tmpSidecar = join(bucketDir, TMP_DIR, tempName('meta'));
    try {
      const precious = options.contentType !== undefined || metadata !== undefined || name.startsWith(HASHED);
      // The sidecar is written (and, when precious, fsynced) while the data's fdatasync runs,
      // each through the descriptor that wrote it, so the two syncs overlap.
      const writeSidecar = async (st: BigIntStats, etag: string, size: number): Promise<void> => {
        if (options.contentLength !== undefined && size !== options.contentLength) {
          throw new LakeError(
            'InvalidArgument',
            `The body of ${key} holds ${size} bytes, not the ${options.contentLength} announced.`,
          );
        }
        const sidecar: Sidecar = {
          version: 1,
          key,
          size,
          mtimeNs: st.mtimeNs.toString(),
          etag,
          ...(options.contentType !== undefined ? { contentType: options.contentType } : {}),
          ...(metadata !== undefined ? { metadata } : {}),
        };
        await writeSmallFile(tmpSidecar, Buffer.from(JSON.stringify(sidecar)), this.#fsync && precious);
      };
      let st: BigIntStats;
      let etag: string;
      let size: number;
      if (body instanceof Uint8Array) {
        const bytes = body;
        etag = `"${await md5Hex(bytes)}"`;
        size = bytes.byteLength;
        st = await writeNewFile(tmpData, bytes, this.#fsync, (written) => writeSidecar(written, etag, size));
      } else {
        ({ st, etag, size } = await streamToNewFile(tmpData, body, this.#fsync, writeSidecar));
      }
      // Moves sidecar and data into `dirPath`; false, having moved nothing, when the folder
      // is not there (or a file stands on its path).
      const renameIn = async (dirPath: string): Promise<boolean> => {
        // The old sidecar steps aside, then the new one comes in, then the data: a crash
        // anywhere in between leaves the old data beside its own sidecar (as the previous
        // one), so an acknowledged object never loses its content type, metadata or
        // multipart ETag to a write that did not finish.
        const current = join(dirPath, sidecarName(name));
        const movedPrev = await renameIfExists(current, join(dirPath, prevSidecarName(name)));
        try {
          await rename(tmpSidecar, current);
        } catch (err) {
          if (isMissing(err)) return false;
          throw err;
        }
        const plain = join(dirPath, name);
        // Renaming a file over a folder fails with EISDIR: then a folder holds the plain name
        // and the object goes to its %@ name. (One call in the lock instead of lstat + rename.)
        let plainIsDir = false;
        try {
          await rename(tmpData, plain);
        } catch (err) {
          if (errno(err) !== 'EISDIR') throw err;
          plainIsDir = true;
        }
        // A %@ file beside a plain one (left by a crash while a folder was pruned) is never
        // read while the plain one exists; deleting the object removes both.
        if (plainIsDir) await rename(tmpData, join(dirPath, ALT + name));
        if (movedPrev) await unlinkIfExists(join(dirPath, prevSidecarName(name)));
        this.#invalidate(dirPath);
        return true;
      };
      const lock = this.#lock(bucket);
      const deepest = join(bucketDir, ...segments.map(encodeSegment));
      // The common case, the key's folder exists: only this key's writers wait for each other,
      // since folders are made and pruned only under the exclusive lock.
      let touched = await lock.shared(key, async () =>
        (await renameIn(deepest)) ? new Set([deepest]) : undefined,
      );
      touched ??= await lock.exclusive(async () => {
        // Folders made by an attempt that failed later still need their fsync.
        const changed = new Set<string>();
        for (let attempt = 0; ; attempt++) {
          try {
            const ready = await this.#ensureDirs(bucketDir, segments, changed);
            if (await renameIn(ready)) {
              changed.add(ready);
              return changed;
            }
          } catch (err) {
            if (errno(err) !== 'ENOENT' || attempt >= 2) throw err;
          }
          // Another process (`sluice lake` beside the server) pruned a folder on the way
          // just now, while it was being made or before the sidecar came in.
          if (attempt >= 2) {
            throw Object.assign(new Error(`The folder of ${key} keeps vanishing.`), { code: 'ENOENT' });
          }
        }
      });
      if (this.#fsync) await Promise.all([...touched].map((dir) => this.#dirSyncs.sync(dir)));
      return {
        key,
        size,
        lastModified: new Date(Number(st.mtimeNs / 1_000_000n)),
        etag,
        ...(options.contentType !== undefined ? { contentType: options.contentType } : {}),
        ...(metadata !== undefined ? { metadata } : {}),
      };
    } catch (err) {
      await unlinkIfExists(tmpData);
      await unlinkIfExists(tmpSidecar);
      if (isMissing(err) && !(await this.bucketExists(bucket))) throw noSuchBucket(bucket);
      throw err;
    }
  }

  async getObject(bucket: string, key: string): Promise<Buffer> {
    checkKey(key);
    const bucketDir = join(this.#root, this.#checkBucketName(bucket));
    for (let attempt = 0; attempt < 3; attempt++) {
      const location = await this.#locate(bucketDir, key);
      if (location === undefined) break;
      try {
        return await readFile(location.filePath);
      } catch (err) {
        // The file moved between finding and opening it (see "both an object and a folder").
        if (!isMissing(err)) throw err;
      }
    }
    await this.#bucketDir(bucket);
    throw new LakeError('NoSuchKey', `The specified key does not exist: ${key}`);
  }

  async openObject(bucket: string, key: string): Promise<ObjectReader> {
    checkKey(key);
    const bucketDir = join(this.#root, this.#checkBucketName(bucket));
    for (let attempt = 0; attempt < 3; attempt++) {
      const location = await this.#locate(bucketDir, key);
      if (location === undefined) break;
      let handle: FileHandle;
      try {
        handle = await open(location.filePath, 'r');
      } catch (err) {
        // The file moved between finding and opening it (see "both an object and a folder").
        if (!isMissing(err)) throw err;
        continue;
      }
      try {
        // The open file is this reader's version: a writer renaming a new file over the path,
        // or a delete, leaves it readable, and its facts are taken from it.
        const st = await handle.stat({ bigint: true });
        const info = await this.#describeStat(bucket, key, location, st, () => md5OfHandle(handle));
        let used = false;
        return {
          info,
          stream: (range) => {
            if (used) throw new Error('ObjectReader.stream may be called once.');
            used = true;
            return handle.createReadStream({
              ...(range !== undefined ? { start: range.start, end: range.end } : {}),
              // Large reads: a 64 MiB object in 64 reads rather than 1,024.
              highWaterMark: READ_CHUNK_BYTES,
              autoClose: true,
            });
          },
          close: async () => {
            if (used) return;
            used = true;
            await handle.close();
          },
        };
      } catch (err) {
        await handle.close();
        throw err;
      }
    }
    await this.#bucketDir(bucket);
    throw new LakeError('NoSuchKey', `The specified key does not exist: ${key}`);
  }

  async headObject(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    checkKey(key);
    const bucketDir = join(this.#root, this.#checkBucketName(bucket));
    for (let attempt = 0; attempt < 3; attempt++) {
      const location = await this.#locate(bucketDir, key);
      if (location === undefined) break;
      const info = await this.#describe(bucket, key, location);
      if (info !== undefined) return info;
    }
    await this.#bucketDir(bucket);
    return undefined;
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    checkKey(key);
    const bucketDir = await this.#bucketDir(bucket);
    await this.#lock(bucket).exclusive(async () => {
      const location = await this.#locate(bucketDir, key);
      if (location === undefined) return;
      // A stale %@ file goes first: were the plain one removed first, a crash in between
      // would bring the stale one back as the object.
      const alt = join(location.dirPath, ALT + location.name);
      if (location.filePath !== alt) await unlinkIfExists(alt);
      await unlinkIfExists(location.filePath);
      await unlinkIfExists(join(location.dirPath, sidecarName(location.name)));
      await unlinkIfExists(join(location.dirPath, prevSidecarName(location.name)));
      this.#invalidate(location.dirPath);
      if (this.#fsync) await fsyncDir(location.dirPath);
      await this.#prune(bucketDir, key.split('/').slice(0, -1));
    });
  }

  async listObjects(bucket: string, options: ListObjectsOptions = {}): Promise<ListObjectsPage> {
    const bucketDir = await this.#bucketDir(bucket);
    const prefix = options.prefix ?? '';
    const delimiter = options.delimiter === '' ? undefined : options.delimiter;
    const startAfter = options.startAfter === '' ? undefined : options.startAfter;
    const maxKeys = Math.max(0, Math.min(MAX_KEYS, Math.floor(options.maxKeys ?? MAX_KEYS)));
    const found: Found[] = [];
    const commonPrefixes: string[] = [];
    let isTruncated = false;
    let last: string | undefined;
    const walk = { prefix, startAfter, skipPrefix: undefined as string | undefined };
    for await (const item of this.#walk(bucketDir, walk)) {
      let common: string | undefined;
      if (delimiter !== undefined) {
        const at = item.key.indexOf(delimiter, prefix.length);
        if (at >= 0) common = item.key.slice(0, at + delimiter.length);
      }
      if (common !== undefined) {
        walk.skipPrefix = common;
        if (startAfter !== undefined && compareKeys(common, startAfter) <= 0) continue;
      }
      if (found.length + commonPrefixes.length >= maxKeys) {
        isTruncated = true;
        break;
      }
      if (common !== undefined) commonPrefixes.push(common);
      else found.push(item);
      last = common ?? item.key;
    }
    const described = await mapLimit(found, DESCRIBE_CONCURRENCY, (f) => this.#describe(bucket, f.key, f));
    const objects = described.filter((o): o is ObjectInfo => o !== undefined);
    return {
      objects,
      commonPrefixes,
      isTruncated,
      ...(isTruncated && last !== undefined ? { nextStartAfter: last } : {}),
    };
  }

  /** Throws NoSuchBucket for names that cannot be a bucket (which also keeps paths inside the root). */
  #checkBucketName(bucket: string): string {
    if (!isValidBucketName(bucket)) throw noSuchBucket(bucket);
    return bucket;
  }

  /** The bucket's folder; NoSuchBucket when it does not exist. */
  async #bucketDir(bucket: string): Promise<string> {
    const dir = join(this.#root, this.#checkBucketName(bucket));
    const st = await lstatOrUndefined(dir);
    if (!st?.isDirectory()) throw noSuchBucket(bucket);
    return dir;
  }

  #lock(bucket: string): BucketLock {
    let lock = this.#locks.get(bucket);
    if (lock === undefined) {
      lock = new BucketLock();
      this.#locks.set(bucket, lock);
    }
    return lock;
  }

  /** Removes crash leftovers from the bucket's temp folder, once per bucket per process. */
  async #sweepTemp(bucket: string, bucketDir: string): Promise<void> {
    if (this.#tempSwept.has(bucket)) return;
    this.#tempSwept.add(bucket);
    const tmp = join(bucketDir, TMP_DIR);
    await mkdir(tmp, { recursive: true });
    const cutoff = Date.now() - STALE_TEMP_MS;
    for (const name of await readdir(tmp)) {
      const st = await lstatOrUndefined(join(tmp, name));
      if (st !== undefined && st.mtimeMs < cutoff) {
        await rm(join(tmp, name), { recursive: true, force: true });
        this.#logger.warn(
          { bucket, file: name },
          `Removed the unfinished write ${name} left in bucket ${bucket}.`,
        );
      }
    }
  }

  /** Makes the folders for a key's leading segments; returns the last one and adds the folders whose entries changed to `changed`. */
  async #ensureDirs(bucketDir: string, segments: readonly string[], changed: Set<string>): Promise<string> {
    const deepest = join(bucketDir, ...segments.map(encodeSegment));
    // The common case: the folder exists already, one lstat instead of one per level.
    if ((await lstatOrUndefined(deepest))?.isDirectory()) return deepest;
    let dir = bucketDir;
    for (const segment of segments) {
      const name = encodeSegment(segment);
      const path = join(dir, name);
      const st = await lstatOrUndefined(path);
      if (st?.isDirectory()) {
        dir = path;
        continue;
      }
      if (st !== undefined) {
        // An object already has this name: it moves aside to its %@ name so the folder fits.
        await rename(path, join(dir, ALT + name));
      }
      try {
        if (name.startsWith(HASHED)) {
          // A hashed folder must never exist without its real name, so it is built aside.
          const temp = join(bucketDir, TMP_DIR, tempName('dir'));
          await mkdir(temp);
          await writeNewFile(join(temp, DIR_NAME_FILE), Buffer.from(segment), this.#fsync);
          if (this.#fsync) await fsyncDir(temp);
          await rename(temp, path).catch(async (err: unknown) => {
            await rm(temp, { recursive: true, force: true });
            throw err;
          });
        } else {
          await mkdir(path);
        }
      } catch (err) {
        // Another process made the same folder first; that is as good.
        const code = errno(err);
        const raced = code === 'EEXIST' || code === 'ENOTEMPTY';
        if (!raced || !(await lstatOrUndefined(path))?.isDirectory()) throw err;
      }
      this.#invalidate(dir);
      changed.add(dir);
      dir = path;
    }
    return dir;
  }

  /** Removes the folders of a deleted key that are now empty, deepest first. */
  async #prune(bucketDir: string, segments: readonly string[]): Promise<void> {
    const names = segments.map(encodeSegment);
    for (let depth = names.length; depth > 0; depth--) {
      const parent = join(bucketDir, ...names.slice(0, depth - 1));
      const name = names[depth - 1] as string;
      const dir = join(parent, name);
      // Trying rmdir first keeps deleting from a folder of many objects O(1).
      if (!(await tryRmdir(dir))) {
        // A hashed folder keeps its .sluice-name; only then is the folder read, so deleting
        // from a folder of many objects stays cheap. (Orphan sidecars left by a crash keep
        // an otherwise empty folder; listing is not affected. A sidecar is never removed
        // here: it may be one a writer in another process has just renamed in.)
        if (!name.startsWith(HASHED)) return;
        const leftovers = await reservedEntriesOnly(dir);
        if (leftovers?.length !== 1 || leftovers[0] !== DIR_NAME_FILE) return;
        const nameFile = join(dir, DIR_NAME_FILE);
        await unlinkIfExists(nameFile);
        if (!(await tryRmdir(dir))) {
          // Another process wrote into the folder meanwhile: it gets its name back.
          await writeNewFile(nameFile, Buffer.from(segments[depth - 1] as string), this.#fsync).catch(
            (err: unknown) => {
              if (!isMissing(err) && errno(err) !== 'EEXIST') throw err;
            },
          );
          return;
        }
      }
      this.#invalidate(dir);
      this.#invalidate(parent);
      try {
        await rename(join(parent, ALT + name), join(parent, name));
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
      if (this.#fsync) await fsyncDir(parent);
    }
  }

  /** Finds an object's data file without taking the lock. */
  async #locate(bucketDir: string, key: string): Promise<ObjectLocation | undefined> {
    const segments = key.split('/');
    const name = encodeSegment(segments.pop() ?? '');
    const dirPath = join(bucketDir, ...segments.map(encodeSegment));
    for (let attempt = 0; attempt < 3; attempt++) {
      const plain = join(dirPath, name);
      const st = await lstatOrUndefined(plain);
      if (st?.isFile()) return { dirPath, name, filePath: plain };
      const alt = join(dirPath, ALT + name);
      if ((await lstatOrUndefined(alt))?.isFile()) return { dirPath, name, filePath: alt };
      // Only a folder at the plain name means a rename may have been in flight; look again.
      if (!st?.isDirectory()) return undefined;
    }
    return undefined;
  }

  /** Reads an object's facts; undefined when its file has gone. */
  async #describe(
    bucket: string,
    key: string,
    location: ObjectLocation,
    retried = false,
  ): Promise<ObjectInfo | undefined> {
    let st: BigIntStats;
    try {
      st = await stat(location.filePath, { bigint: true });
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
    if (!st.isFile()) return undefined;
    return this.#describeStat(bucket, key, location, st, () => this.#md5(location.filePath, st), retried);
  }

  /** An object's facts from its data file's stats and its sidecar; `md5` hashes that very file. */
  async #describeStat(
    bucket: string,
    key: string,
    location: ObjectLocation,
    st: BigIntStats,
    md5: () => Promise<string>,
    retried = false,
  ): Promise<ObjectInfo> {
    const base = { key, size: Number(st.size), lastModified: new Date(Number(st.mtimeNs / 1_000_000n)) };
    const fits = (found: Sidecar | undefined): found is Sidecar =>
      found !== undefined && found.key === key && BigInt(found.size) === st.size;
    const describe = (found: Sidecar): ObjectInfo => ({
      ...base,
      etag: found.etag,
      ...(found.contentType !== undefined ? { contentType: found.contentType } : {}),
      ...(found.metadata !== undefined ? { metadata: found.metadata } : {}),
    });
    const sidecar = await readSidecar(join(location.dirPath, sidecarName(location.name)));
    if (fits(sidecar) && sidecar.mtimeNs === st.mtimeNs.toString()) return describe(sidecar);
    // An overwrite cut off between its renames leaves the data's own sidecar as the previous
    // one; it is read only when the current one does not match, so listings stay one read each.
    const prev = await readSidecar(join(location.dirPath, prevSidecarName(location.name)));
    if (fits(prev) && prev.mtimeNs === st.mtimeNs.toString()) return describe(prev);
    let digest: Promise<string> | undefined;
    const once = (): Promise<string> => (digest ??= md5());
    for (const found of [sidecar, prev]) {
      if (fits(found) && (await once()) === found.etag) return describe(found);
    }
    if (sidecar !== undefined && !retried) {
      // A writer may be between its two renames; once it is done the pair matches.
      await this.#lock(bucket).idle();
      return this.#describeStat(bucket, key, location, st, md5, true);
    }
    return { ...base, etag: await once() };
  }

  /** The quoted MD5 of a file, cached by path, size and modification time. */
  async #md5(path: string, st: BigIntStats): Promise<string> {
    const hit = this.#etagCache.get(path);
    if (hit !== undefined && hit.size === st.size && hit.mtimeNs === st.mtimeNs) return hit.etag;
    const hash = createHash('md5');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    const etag = `"${hash.digest('hex')}"`;
    if (this.#etagCache.size >= ETAG_CACHE_MAX) this.#etagCache.clear();
    this.#etagCache.set(path, { size: st.size, mtimeNs: st.mtimeNs, etag });
    return etag;
  }

  /**
   * Yields the bucket's objects in key order, visiting only folders that can hold keys
   * after `startAfter` that start with `prefix` and not with `skipPrefix` (which the caller
   * may change between items, to jump over a common prefix).
   */
  async *#walk(
    dirPath: string,
    state: { readonly prefix: string; readonly startAfter?: string; skipPrefix?: string },
    base = '',
  ): AsyncGenerator<Found> {
    const entries = await this.#entries(dirPath);
    const { prefix, startAfter } = state;
    let from = lowerBound(entries, base, prefix, false);
    if (startAfter !== undefined) from = Math.max(from, lowerBound(entries, base, startAfter, true));
    for (let i = from; i < entries.length; i++) {
      const entry = entries[i] as DirEntry;
      const full = base + entry.rel;
      if (!full.startsWith(prefix) && !(entry.isDir && prefix.startsWith(full))) {
        if (compareKeys(full, prefix) > 0) return;
        continue;
      }
      const skip = state.skipPrefix;
      if (skip !== undefined && full.startsWith(skip)) {
        // The whole folder rolled up into one common prefix: nothing more to see here.
        if (base.startsWith(skip)) return;
        continue;
      }
      if (entry.isDir) {
        if (startAfter !== undefined && compareKeys(full, startAfter) <= 0 && !startAfter.startsWith(full))
          continue;
        yield* this.#walk(join(dirPath, entry.fsName), state, full);
      } else {
        if (startAfter !== undefined && compareKeys(full, startAfter) <= 0) continue;
        const plainName = entry.fsName.startsWith(ALT) ? entry.fsName.slice(ALT.length) : entry.fsName;
        yield { key: full, dirPath, name: plainName, filePath: join(dirPath, entry.fsName) };
      }
    }
  }

  /** A folder's decoded entries in key order, from the cache when the folder is unchanged. */
  async #entries(dirPath: string): Promise<readonly DirEntry[]> {
    const version = this.#dirVersions.get(dirPath) ?? 0;
    let st: BigIntStats;
    try {
      st = await stat(dirPath, { bigint: true });
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
    const hit = this.#dirCache.get(dirPath);
    if (hit !== undefined && hit.version === version && hit.mtimeNs === st.mtimeNs) {
      // Re-insert to keep the map in least-recently-used order.
      this.#dirCache.delete(dirPath);
      this.#dirCache.set(dirPath, hit);
      return hit.entries;
    }
    const entries = await this.#scan(dirPath);
    if (entries.length >= DIR_CACHE_MIN_ENTRIES && entries.length <= DIR_CACHE_MAX_ENTRIES) {
      this.#forgetCached(dirPath);
      this.#dirCache.set(dirPath, { version, mtimeNs: st.mtimeNs, entries });
      this.#dirCacheSize += entries.length;
      for (const [path, old] of this.#dirCache) {
        if (this.#dirCacheSize <= DIR_CACHE_MAX_ENTRIES) break;
        this.#dirCache.delete(path);
        this.#dirCacheSize -= old.entries.length;
      }
    }
    return entries;
  }

  /** Reads and decodes a folder. */
  async #scan(dirPath: string): Promise<DirEntry[]> {
    let dirents;
    try {
      dirents = await readdir(dirPath, { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
    const files = new Map<string, DirEntry>();
    const dirs: DirEntry[] = [];
    for (const d of dirents) {
      if (d.name.startsWith(RESERVED)) continue;
      const isDir = d.isDirectory();
      if (!isDir && !d.isFile()) continue;
      const alt = d.name.startsWith(ALT);
      const plain = alt ? d.name.slice(ALT.length) : d.name;
      if (alt && isDir) continue;
      let segment = decodeName(plain);
      if (segment === undefined && plain.startsWith(HASHED)) {
        segment = isDir
          ? await hashedDirName(join(dirPath, d.name), d.name)
          : (
              (await readSidecar(join(dirPath, sidecarName(plain)))) ??
              (await readSidecar(join(dirPath, prevSidecarName(plain))))
            )?.key
              .split('/')
              .pop();
      }
      if (segment === undefined || encodeSegment(segment) !== plain) {
        this.#logger.debug(
          { dir: dirPath, file: d.name },
          `Ignored ${d.name} in ${dirPath}: not a name the lake writes.`,
        );
        continue;
      }
      if (isDir) {
        dirs.push({ rel: segment + '/', fsName: d.name, isDir });
      } else if (!alt || !files.has(segment)) {
        // Should a plain and a %@ file both exist (a crash mid-move), readers use the plain one.
        files.set(segment, { rel: segment, fsName: d.name, isDir });
      }
    }
    return [...dirs, ...files.values()].sort((a, b) => compareKeys(a.rel, b.rel));
  }

  /** Records that a folder's entries changed, so cached listings of it are not used again. */
  #invalidate(dirPath: string): void {
    this.#versionCounter += 1;
    this.#dirVersions.set(dirPath, this.#versionCounter);
    this.#forgetCached(dirPath);
    // The version map only needs entries for folders a listing may be reading right now.
    if (this.#dirVersions.size > 100_000) {
      this.#dirVersions.clear();
      this.#dirCache.clear();
      this.#dirCacheSize = 0;
    }
  }

  #forgetCached(dirPath: string): void {
    const old = this.#dirCache.get(dirPath);
    if (old === undefined) return;
    this.#dirCache.delete(dirPath);
    this.#dirCacheSize -= old.entries.length;
  }

  #forgetCachedUnder(dir: string): void {
    for (const path of [...this.#dirCache.keys()]) {
      if (path === dir || path.startsWith(dir + '/')) this.#forgetCached(path);
    }
  }
}

/**
 * Index of the first entry that can hold keys at or after `bound` (strictly after when
 * `exclusive`): binary search on the sorted entries, then one step back when the entry
 * before is the folder that contains `bound`.
 */
function lowerBound(entries: readonly DirEntry[], base: string, bound: string, exclusive: boolean): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareKeys(base + (entries[mid] as DirEntry).rel, bound);
    if (c < 0 || (exclusive && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  const before = entries[lo - 1];
  if (before?.isDir && bound.startsWith(base + before.rel)) return lo - 1;
  return lo;
}

/**
 * The real segment of a hashed folder: its .sluice-name, or, should that be missing (a crash
 * while another process was pruning the folder), the segment a sidecar in it names.
 */
async function hashedDirName(path: string, fsName: string): Promise<string | undefined> {
  const text = await readTextOrUndefined(join(path, DIR_NAME_FILE));
  if (text !== undefined && encodeSegment(text) === fsName) return text;
  let names: string[];
  try {
    names = await readdir(path);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
  for (const file of names) {
    if (!file.startsWith(SIDECAR_PREFIX) && !file.startsWith(PREV_SIDECAR_PREFIX)) continue;
    const key = (await readSidecar(join(path, file)))?.key;
    const segment = key?.split('/').find((s) => encodeSegment(s) === fsName);
    if (segment !== undefined) return segment;
  }
  return undefined;
}

/** Encodes one key segment as a file or folder name (see the scheme at the top). */
function encodeSegment(segment: string): string {
  if (
    segment !== '' &&
    segment !== '.' &&
    segment !== '..' &&
    !segment.startsWith('%') &&
    !segment.startsWith(RESERVED) &&
    !segment.includes('\0') &&
    Buffer.byteLength(segment) <= MAX_NAME_BYTES
  ) {
    return segment;
  }
  const escaped = ESCAPED + segment.replace(/[%\0]/g, (c) => (c === '%' ? '%25' : '%00'));
  if (Buffer.byteLength(escaped) <= MAX_NAME_BYTES) return escaped;
  return HASHED + createHash('sha256').update(segment).digest('hex');
}

/** Decodes a plain (not %@) name; undefined for hashed names, whose segment is stored elsewhere. */
function decodeName(name: string): string | undefined {
  if (name.startsWith(HASHED)) return undefined;
  if (name.startsWith(ESCAPED)) {
    return name.slice(ESCAPED.length).replace(/%(25|00)/g, (_m, hex: string) => (hex === '25' ? '%' : '\0'));
  }
  return name;
}

function sidecarName(name: string): string {
  return SIDECAR_PREFIX + name + SIDECAR_SUFFIX;
}

function prevSidecarName(name: string): string {
  return PREV_SIDECAR_PREFIX + name + SIDECAR_SUFFIX;
}

/** S3's key rules: 1 to 1,024 bytes of UTF-8. */
function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new LakeError('InvalidArgument', 'An object key must not be empty.');
  }
  if (LONE_SURROGATE.test(key)) {
    throw new LakeError('InvalidArgument', `The key ${JSON.stringify(key)} is not valid UTF-8.`);
  }
  const bytes = Buffer.byteLength(key);
  if (bytes > MAX_KEY_BYTES) {
    throw new LakeError(
      'KeyTooLongError',
      `Your key is too long: ${bytes} bytes, the limit is ${MAX_KEY_BYTES}.`,
    );
  }
}

/** Lower-cases metadata names, as S3 does with x-amz-meta-* headers. */
function normalizeMetadata(
  metadata: Readonly<Record<string, string>> | undefined,
): Record<string, string> | undefined {
  if (metadata === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata)) out[name.toLowerCase()] = value;
  return out;
}

function noSuchBucket(bucket: string): LakeError {
  return new LakeError('NoSuchBucket', `The specified bucket does not exist: ${bucket}`);
}

/** Random per process, so a name cannot meet a crash leftover of an earlier process with the same pid. */
const TEMP_PREFIX = `${process.pid}-${randomBytes(6).toString('hex')}`;
let tempCounter = 0;

function tempName(kind: string): string {
  return `${kind}-${TEMP_PREFIX}-${(tempCounter++).toString(36)}`;
}

/**
 * Runs after a new file's bytes are written, with its stats, while its fdatasync is under way
 * (the stats are taken first: fdatasync does not change them), so a second file that depends
 * on them is written and synced alongside instead of after.
 */
type Alongside = (st: BigIntStats) => Promise<unknown>;

/**
 * Writes a file that must not exist yet; fsyncs it when asked, through the descriptor that
 * wrote it (no second open); returns its stats.
 */
async function writeNewFile(
  path: string,
  data: Uint8Array,
  sync: boolean,
  alongside?: Alongside,
): Promise<BigIntStats> {
  const handle = await open(path, 'wx', 0o644);
  try {
    await handle.writeFile(data);
    const st = await handle.stat({ bigint: true });
    await Promise.all([sync ? handle.datasync() : undefined, alongside?.(st)]);
    return st;
  } finally {
    await handle.close();
  }
}

/** Writes a small file that must not exist yet, without taking its stats; fsyncs it when asked. */
async function writeSmallFile(path: string, data: Uint8Array, sync: boolean): Promise<void> {
  const handle = await open(path, 'wx', 0o644);
  try {
    await handle.writeFile(data);
    if (sync) await handle.datasync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes a streamed body to a file that must not exist yet, hashing it (MD5) on the way;
 * fsyncs it when asked. Nothing of the body is kept beyond one write's worth.
 */
async function streamToNewFile(
  path: string,
  body: AsyncIterable<Uint8Array>,
  sync: boolean,
  alongside?: (st: BigIntStats, etag: string, size: number) => Promise<unknown>,
): Promise<{ st: BigIntStats; etag: string; size: number }> {
  const handle = await open(path, 'wx', 0o644);
  try {
    const { md5Hex, size } = await writeStreamHashed(handle, body);
    const st = await handle.stat({ bigint: true });
    const etag = `"${md5Hex}"`;
    await Promise.all([sync ? handle.datasync() : undefined, alongside?.(st, etag, size)]);
    return { st, etag, size };
  } finally {
    await handle.close();
  }
}

/** The quoted MD5 of an open file's bytes, read without moving or closing it. */
async function md5OfHandle(handle: FileHandle): Promise<string> {
  const hash = createHash('md5');
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  for (let position = 0; ;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return `"${hash.digest('hex')}"`;
}

/** Makes a folder's entries (renames, new files) durable. */
async function fsyncDir(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readSidecar(path: string): Promise<Sidecar | undefined> {
  const text = await readTextOrUndefined(path);
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<Sidecar>;
    if (
      value.version === 1 &&
      typeof value.key === 'string' &&
      typeof value.size === 'number' &&
      typeof value.mtimeNs === 'string' &&
      typeof value.etag === 'string'
    ) {
      return value as Sidecar;
    }
  } catch {
    // A torn sidecar (written without fsync before a crash) is the same as none.
  }
  return undefined;
}

async function bucketCreated(dir: string, fallbackMs: number): Promise<Date> {
  const text = await readTextOrUndefined(join(dir, BUCKET_FILE));
  if (text !== undefined) {
    try {
      const created = new Date((JSON.parse(text) as { created?: string }).created ?? '');
      if (!Number.isNaN(created.getTime())) return created;
    } catch {
      // A bucket folder made by hand has no usable file; fall back to the folder's time.
    }
  }
  return new Date(fallbackMs);
}

/**
 * Reads a small file (a sidecar, a folder name) in one read call: fs.readFile costs five
 * thread-pool round trips (open, fstat, read, read to EOF, close), this three, which
 * matters when a listing reads a thousand sidecars.
 */
async function readTextOrUndefined(path: string): Promise<string | undefined> {
  try {
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.allocUnsafe(SMALL_FILE_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, SMALL_FILE_BYTES, 0);
      if (bytesRead < SMALL_FILE_BYTES) return buffer.toString('utf8', 0, bytesRead);
    } finally {
      await handle.close();
    }
    return await readFile(path, 'utf8');
  } catch (err) {
    if (isMissing(err) || errno(err) === 'EISDIR') return undefined;
    throw err;
  }
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/** Removes a folder if it is empty; false when it still has entries or is gone. */
async function tryRmdir(dir: string): Promise<boolean> {
  try {
    await rmdir(dir);
    return true;
  } catch (err) {
    if (isMissing(err) || errno(err) === 'ENOTEMPTY' || errno(err) === 'EEXIST') return false;
    throw err;
  }
}

/** The folder's entries when all are the store's own files; undefined at the first that is not. */
async function reservedEntriesOnly(dir: string): Promise<string[] | undefined> {
  const names: string[] = [];
  let handle;
  try {
    handle = await opendir(dir);
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
  try {
    for (let entry = await handle.read(); entry !== null; entry = await handle.read()) {
      if (!entry.name.startsWith(RESERVED)) return undefined;
      names.push(entry.name);
    }
  } finally {
    await handle.close();
  }
  return names;
}

/** Renames a file if it exists; false when there was none (or its folder is gone). */
async function renameIfExists(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
}

/** Runs `fn` over `items` with at most `limit` at a time, keeping order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** ENOENT, or ENOTDIR when a path runs through a file. */
function isMissing(err: unknown): boolean {
  const code = errno(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** MD5 of a body in hex; large bodies are hashed in slices so the event loop keeps serving requests. */
async function md5Hex(body: Uint8Array): Promise<string> {
  const hash = createHash('md5');
  const slice = 4 * 1024 * 1024;
  for (let at = 0; at < body.length; at += slice) {
    if (at > 0) await new Promise((resolve) => setImmediate(resolve));
    hash.update(body.subarray(at, Math.min(body.length, at + slice)));
  }
  return hash.digest('hex');
}
