/**
 * `sluice lake`: the lake from the shell, shaped like `aws s3` (mb, rb, ls, cp, rm) plus
 * `cat`, which prints an object and unzips `.gz` ones.
 * @see https://docs.aws.amazon.com/cli/latest/reference/s3/
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Command } from 'commander';
import {
  formatS3Url,
  LakeError,
  listAllObjects,
  parseS3Url,
  type ObjectStore,
  type S3Location,
} from '../lake/index.ts';

/** Where `sluice lake` reads and writes; process streams unless a test passes its own. */
export interface LakeCommandIo {
  /** Standard output. */
  readonly stdout?: { write(chunk: string | Uint8Array): unknown };
  /** Standard error. */
  readonly stderr?: { write(chunk: string | Uint8Array): unknown };
  /** Standard input, for `cp - s3://…`. */
  readonly stdin?: AsyncIterable<Buffer | string>;
  /** Called with 1 when a command fails (default: sets process.exitCode). */
  readonly setExitCode?: (code: number) => void;
}

/** Adds `sluice lake mb|rb|ls|cp|rm|cat` to a commander program. */
export function registerLakeCommand(
  program: Command,
  openStore: () => Promise<ObjectStore>,
  io: LakeCommandIo = {},
): Command {
  const out = io.stdout ?? process.stdout;
  const err = io.stderr ?? process.stderr;
  const setExitCode =
    io.setExitCode ??
    ((code: number): void => {
      process.exitCode = code;
    });
  const say = (line: string): void => void out.write(`${line}\n`);

  /** Runs an action, printing failures as `sluice lake: <message>` with exit code 1. */
  const run =
    <A extends unknown[]>(action: (...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      try {
        await action(...args);
      } catch (error) {
        err.write(`sluice lake: ${describeError(error)}\n`);
        setExitCode(1);
      }
    };

  const lake = program
    .command('lake')
    .description('manage the lake: buckets and objects, like `aws s3` (mb, rb, ls, cp, rm, cat)');

  lake
    .command('mb')
    .description('make a bucket')
    .argument('<url>', 's3://bucket')
    .action(
      run(async (url: string) => {
        const { bucket } = bucketOnly(url);
        await (await openStore()).createBucket(bucket);
        say(`make_bucket: ${bucket}`);
      }),
    );

  lake
    .command('rb')
    .description('remove an empty bucket (--force: delete its objects first)')
    .argument('<url>', 's3://bucket')
    .option('--force', 'delete every object in the bucket first')
    .action(
      run(async (url: string, flags: { force?: boolean }) => {
        const { bucket } = bucketOnly(url);
        const store = await openStore();
        if (flags.force === true) {
          for await (const object of listAllObjects(store, bucket, '')) {
            await store.deleteObject(bucket, object.key);
            say(`delete: ${formatS3Url(bucket, object.key)}`);
          }
        }
        await store.deleteBucket(bucket);
        say(`remove_bucket: ${bucket}`);
      }),
    );

  lake
    .command('ls')
    .description('list buckets, or the objects and prefixes (PRE) under s3://bucket/prefix')
    .argument('[url]', 's3://bucket[/prefix]')
    .option('-r, --recursive', 'list every object under the prefix, with full keys')
    .action(
      run(async (url: string | undefined, flags: { recursive?: boolean }) => {
        const store = await openStore();
        if (url === undefined || url === 's3://') {
          for (const b of await store.listBuckets()) say(`${formatTime(b.created)} ${b.name}`);
          return;
        }
        const { bucket, key: prefix } = parseS3Url(url);
        if (flags.recursive === true) {
          for await (const o of listAllObjects(store, bucket, prefix)) {
            say(`${formatTime(o.lastModified)} ${String(o.size).padStart(10)} ${o.key}`);
          }
          return;
        }
        // As `aws s3 ls`, names are shown relative to the prefix's last '/'.
        const shownFrom = prefix.lastIndexOf('/') + 1;
        let startAfter: string | undefined;
        for (;;) {
          const page = await store.listObjects(bucket, {
            prefix,
            delimiter: '/',
            ...(startAfter !== undefined ? { startAfter } : {}),
          });
          for (const p of page.commonPrefixes) say(`${' '.repeat(27)}PRE ${p.slice(shownFrom)}`);
          for (const o of page.objects) {
            say(`${formatTime(o.lastModified)} ${String(o.size).padStart(10)} ${o.key.slice(shownFrom)}`);
          }
          if (!page.isTruncated || page.nextStartAfter === undefined) return;
          startAfter = page.nextStartAfter;
        }
      }),
    );

  lake
    .command('cp')
    .description('copy files to, from and within the lake (- is standard input or output)')
    .argument('<src>', 'local path, s3://bucket/key, or -')
    .argument('<dst>', 'local path, s3://bucket/key, or -')
    .option('-r, --recursive', 'copy a whole folder or prefix')
    .action(
      run(async (src: string, dst: string, flags: { recursive?: boolean }) => {
        const store = await openStore();
        const recursive = flags.recursive === true;
        const srcS3 = isS3(src) ? parseS3Url(src) : undefined;
        const dstS3 = isS3(dst) ? parseS3Url(dst) : undefined;
        if (srcS3 === undefined && dstS3 === undefined) {
          throw new Error('cp needs an s3:// source or destination');
        }
        if (srcS3 === undefined && dstS3 !== undefined) {
          await upload(store, src, dstS3, recursive);
        } else if (srcS3 !== undefined && dstS3 === undefined) {
          await download(store, srcS3, dst, recursive);
        } else if (srcS3 !== undefined && dstS3 !== undefined) {
          await copyWithin(store, srcS3, dstS3, recursive);
        }
      }),
    );

  lake
    .command('rm')
    .description('delete an object (--recursive: every object under a prefix)')
    .argument('<url>', 's3://bucket/key')
    .option('-r, --recursive', 'delete every object under the prefix')
    .action(
      run(async (url: string, flags: { recursive?: boolean }) => {
        const store = await openStore();
        const { bucket, key } = parseS3Url(url);
        if (flags.recursive !== true) {
          if (key === '')
            throw new Error(`rm needs a key: ${url} (use --recursive for a whole bucket or prefix)`);
          await store.deleteObject(bucket, key);
          say(`delete: ${formatS3Url(bucket, key)}`);
          return;
        }
        for await (const o of listAllObjects(store, bucket, asFolder(key))) {
          await store.deleteObject(bucket, o.key);
          say(`delete: ${formatS3Url(bucket, o.key)}`);
        }
      }),
    );

  lake
    .command('cat')
    .description('print an object; .gz objects are unzipped')
    .argument('<url>', 's3://bucket/key')
    .action(
      run(async (url: string) => {
        const { bucket, key } = parseS3Url(url);
        if (key === '') throw new Error(`cat needs a key: ${url}`);
        const body = await (await openStore()).getObject(bucket, key);
        const gzipped = key.endsWith('.gz') && body[0] === 0x1f && body[1] === 0x8b;
        out.write(gzipped ? gunzipSync(body) : body);
      }),
    );

  /** local → s3: one file, standard input, or a folder's files with --recursive. */
  async function upload(store: ObjectStore, src: string, dst: S3Location, recursive: boolean): Promise<void> {
    if (src === '-') {
      if (dst.key === '' || dst.key.endsWith('/'))
        throw new Error(`cp from - needs a full destination key, not ${formatS3Url(dst.bucket, dst.key)}`);
      const chunks: Buffer[] = [];
      for await (const chunk of io.stdin ?? process.stdin)
        chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      await store.putObject(dst.bucket, dst.key, Buffer.concat(chunks), contentTypeOf(dst.key));
      say(`upload: - to ${formatS3Url(dst.bucket, dst.key)}`);
      return;
    }
    const st = await stat(src);
    if (st.isDirectory()) {
      if (!recursive) throw new Error(`${src} is a folder; use --recursive to copy it`);
      const base = asFolder(dst.key);
      for (const file of await filesUnder(src)) {
        const key = base + relative(src, file).split(sep).join('/');
        await store.putObject(dst.bucket, key, await readFile(file), contentTypeOf(key));
        say(`upload: ${file} to ${formatS3Url(dst.bucket, key)}`);
      }
      return;
    }
    const key = dst.key === '' || dst.key.endsWith('/') ? dst.key + basename(src) : dst.key;
    await store.putObject(dst.bucket, key, await readFile(src), contentTypeOf(key));
    say(`upload: ${src} to ${formatS3Url(dst.bucket, key)}`);
  }

  /** s3 → local: one object (to a file, a folder, or standard output) or a prefix with --recursive. */
  async function download(
    store: ObjectStore,
    src: S3Location,
    dst: string,
    recursive: boolean,
  ): Promise<void> {
    if (recursive) {
      if (dst === '-') throw new Error('cp --recursive cannot write to -');
      const prefix = asFolder(src.key);
      const root = resolve(dst);
      for await (const o of listAllObjects(store, src.bucket, prefix)) {
        const rest = o.key.slice(prefix.length);
        const target = resolve(root, ...rest.split('/'));
        // Keys such as `../x` or `a/` have no safe file under the destination folder.
        if (rest === '' || rest.endsWith('/') || !target.startsWith(root + sep)) {
          err.write(`sluice lake: skipped ${formatS3Url(src.bucket, o.key)}: not a file name under ${dst}\n`);
          continue;
        }
        await writeLocal(target, await store.getObject(src.bucket, o.key));
        say(`download: ${formatS3Url(src.bucket, o.key)} to ${target}`);
      }
      return;
    }
    if (src.key === '')
      throw new Error(`cp needs a key: ${formatS3Url(src.bucket, '')} (use --recursive for a prefix)`);
    const body = await store.getObject(src.bucket, src.key);
    if (dst === '-') {
      out.write(body);
      return;
    }
    const isFolder =
      dst.endsWith('/') ||
      dst.endsWith(sep) ||
      (await stat(dst).then(
        (s) => s.isDirectory(),
        () => false,
      ));
    const target = isFolder ? join(dst, lastSegment(src.key)) : dst;
    await writeLocal(target, body);
    say(`download: ${formatS3Url(src.bucket, src.key)} to ${target}`);
  }

  /** s3 → s3, keeping content type and metadata. */
  async function copyWithin(
    store: ObjectStore,
    src: S3Location,
    dst: S3Location,
    recursive: boolean,
  ): Promise<void> {
    const copyOne = async (fromKey: string, toKey: string): Promise<void> => {
      const head = await store.headObject(src.bucket, fromKey);
      const body = await store.getObject(src.bucket, fromKey);
      await store.putObject(dst.bucket, toKey, body, {
        ...(head?.contentType !== undefined ? { contentType: head.contentType } : {}),
        ...(head?.metadata !== undefined ? { metadata: head.metadata } : {}),
      });
      say(`copy: ${formatS3Url(src.bucket, fromKey)} to ${formatS3Url(dst.bucket, toKey)}`);
    };
    if (recursive) {
      const from = asFolder(src.key);
      const to = asFolder(dst.key);
      // Collected first, so copying into the same prefix does not list its own copies.
      const keys: string[] = [];
      for await (const o of listAllObjects(store, src.bucket, from)) keys.push(o.key);
      for (const key of keys) await copyOne(key, to + key.slice(from.length));
      return;
    }
    if (src.key === '')
      throw new Error(`cp needs a key: ${formatS3Url(src.bucket, '')} (use --recursive for a prefix)`);
    const toKey = dst.key === '' || dst.key.endsWith('/') ? dst.key + lastSegment(src.key) : dst.key;
    await copyOne(src.key, toKey);
  }

  return lake;
}

function isS3(path: string): boolean {
  return path.startsWith('s3://');
}

/** An s3:// URL that must name just a bucket. */
function bucketOnly(url: string): S3Location {
  const location = parseS3Url(url);
  if (location.key !== '') throw new Error(`expected s3://bucket without a key, got ${url}`);
  return location;
}

/** A prefix treated as a folder: '' stays '', otherwise it ends with '/'. */
function asFolder(key: string): string {
  return key === '' || key.endsWith('/') ? key : `${key}/`;
}

function lastSegment(key: string): string {
  return key.split('/').pop() || 'object';
}

/** Content types for the files people put in the lake; the rest go without one, as `aws s3 cp` guesses. */
function contentTypeOf(key: string): { contentType?: string } {
  const types: Record<string, string> = {
    '.json': 'application/json',
    '.csv': 'text/csv',
    '.txt': 'text/plain',
    '.gz': 'application/gzip',
    '.parquet': 'application/vnd.apache.parquet',
  };
  const dot = key.lastIndexOf('.');
  const type = dot >= 0 ? types[key.slice(dot).toLowerCase()] : undefined;
  return type !== undefined ? { contentType: type } : {};
}

/** Every file under a folder, sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

async function writeLocal(path: string, body: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, body);
}

/** `aws s3 ls` prints local time as YYYY-MM-DD HH:MM:SS. */
function formatTime(date: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
}

function describeError(error: unknown): string {
  if (error instanceof LakeError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
