/**
 * The one test suite every ObjectStore implementation must pass (local directory, the S3
 * REST API served by Sluice, real S3). Call it from a `*.test.ts` file:
 *
 *   runObjectStoreContract({ name: 'local', create: async () => ({ store, cleanup }) });
 *
 * The suite makes its own buckets, with a random suffix so it can run against a shared
 * endpoint, and removes them again. Expected behaviour follows S3.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test as nodeTest } from 'node:test';
import { LakeError, type LakeErrorCode, type ListObjectsOptions, type ObjectStore } from './index.ts';
import { compareKeys } from './key-order.ts';
import { listAllObjects } from './s3-url.ts';

/** What the contract suite needs from an implementation. */
export interface ObjectStoreContractOptions {
  /** Shown in the suite's title. */
  readonly name: string;
  /** Makes a fresh store; `cleanup` removes whatever it made. */
  readonly create: () => Promise<{ store: ObjectStore; cleanup(): Promise<void> }>;
  /**
   * Tests (by title) that the store behind this implementation is known to fail, each with
   * the reason (for an S3 endpoint that is not Sluice's, a defect of that endpoint). Such a
   * test still runs and must fail: once the endpoint meets the contract, the suite says so
   * and the entry has to go.
   */
  readonly knownFailures?: Readonly<Record<string, string>>;
  /** Tests (by title) not run at all, with the reason: those that would crash the endpoint itself. */
  readonly skip?: Readonly<Record<string, string>>;
}

/** Registers the shared ObjectStore contract tests (node:test) for one implementation. */
export function runObjectStoreContract(options: ObjectStoreContractOptions): void {
  const known = new Map(Object.entries(options.knownFailures ?? {}));
  const skipped = new Map(Object.entries(options.skip ?? {}));
  const test = (title: string, fn: () => Promise<void>): void => {
    const skip = skipped.get(title);
    if (skip !== undefined) {
      skipped.delete(title);
      nodeTest(title, { skip }, fn);
      return;
    }
    const reason = known.get(title);
    if (reason === undefined) {
      nodeTest(title, fn);
      return;
    }
    known.delete(title);
    nodeTest(`${title} (known to fail here: ${reason})`, async () => {
      const outcome = await fn().then(
        () => 'passed',
        () => 'failed',
      );
      assert.equal(outcome, 'failed', `now passes; remove it from knownFailures: ${title}`);
    });
  };
  describe(`ObjectStore contract: ${options.name}`, () => {
    let store: ObjectStore;
    let cleanup: (() => Promise<void>) | undefined;

    before(async () => {
      const made = await options.create();
      store = made.store;
      cleanup = () => made.cleanup();
    });
    after(async () => {
      await cleanup?.();
    });

    /** Runs `fn` with a new bucket, then empties and deletes it. */
    async function withBucket(label: string, fn: (bucket: string) => Promise<void>): Promise<void> {
      const bucket = `sluice-ct-${label}-${randomBytes(4).toString('hex')}`;
      await store.createBucket(bucket);
      try {
        await fn(bucket);
      } finally {
        const keys: string[] = [];
        for await (const o of listAllObjects(store, bucket)) keys.push(o.key);
        await inParallel(keys, 16, (key) => store.deleteObject(bucket, key));
        await store.deleteBucket(bucket);
      }
    }

    /** All keys (and common prefixes) of a listing, page by page, with the page sizes seen. */
    async function listPaged(
      bucket: string,
      opts: ListObjectsOptions,
    ): Promise<{ entries: string[]; pages: number[] }> {
      const entries: string[] = [];
      const pages: number[] = [];
      let startAfter: string | undefined;
      for (;;) {
        const page = await store.listObjects(bucket, {
          ...opts,
          ...(startAfter !== undefined ? { startAfter } : {}),
        });
        const merged = [...page.objects.map((o) => o.key), ...page.commonPrefixes].sort(compareKeys);
        entries.push(...merged);
        pages.push(merged.length);
        if (!page.isTruncated) return { entries, pages };
        assert.ok(page.nextStartAfter !== undefined, 'a truncated page says where the next one starts');
        startAfter = page.nextStartAfter;
        assert.ok(pages.length < 10_000, 'listing ends');
      }
    }

    test('a bucket can be created, found, listed and deleted once empty', async () => {
      const bucket = `sluice-ct-life-${randomBytes(4).toString('hex')}`;
      assert.equal(await store.bucketExists(bucket), false);
      await store.createBucket(bucket);
      assert.equal(await store.bucketExists(bucket), true);
      const listed = (await store.listBuckets()).find((b) => b.name === bucket);
      assert.ok(listed, 'the new bucket is listed');
      assert.ok(listed.created instanceof Date && !Number.isNaN(listed.created.getTime()));

      await assertLakeError(store.createBucket(bucket), 'BucketAlreadyOwnedByYou');
      await store.putObject(bucket, 'keep/me', Buffer.from('x'));
      await assertLakeError(store.deleteBucket(bucket), 'BucketNotEmpty');
      assert.equal(await store.bucketExists(bucket), true);

      await store.deleteObject(bucket, 'keep/me');
      await store.deleteBucket(bucket);
      assert.equal(await store.bucketExists(bucket), false);
      assert.equal(
        (await store.listBuckets()).some((b) => b.name === bucket),
        false,
      );
      await assertLakeError(store.deleteBucket(bucket), 'NoSuchBucket');
    });

    test('bucket names that S3 refuses are refused', async () => {
      const bad = [
        'ab',
        'Upper-case',
        'under_score',
        '-starts-with-hyphen',
        'ends-with-hyphen-',
        '192.168.10.1',
        'two..dots',
        'x'.repeat(64),
        'has space',
        '',
      ];
      for (const name of bad) {
        await assertLakeError(store.createBucket(name), 'InvalidBucketName', name);
      }
    });

    test('an object can be written, read, described and deleted', async () => {
      await withBucket('crud', async (bucket) => {
        const body = Buffer.from('{"guid":"g","ts":1,"temp":90.5}\n');
        const written = await store.putObject(bucket, 'message/2026/01/02/03/one.json', body);
        assert.equal(written.key, 'message/2026/01/02/03/one.json');
        assert.equal(written.size, body.length);
        assert.equal(written.etag, quotedMd5(body));

        assert.deepEqual(await store.getObject(bucket, 'message/2026/01/02/03/one.json'), body);
        const head = await store.headObject(bucket, 'message/2026/01/02/03/one.json');
        assert.ok(head);
        assert.equal(head.size, body.length);
        assert.equal(head.etag, quotedMd5(body));
        assert.ok(
          Math.abs(head.lastModified.getTime() - Date.now()) < 5 * 60_000,
          'lastModified is about now',
        );

        await store.deleteObject(bucket, 'message/2026/01/02/03/one.json');
        assert.equal(await store.headObject(bucket, 'message/2026/01/02/03/one.json'), undefined);
        await assertLakeError(store.getObject(bucket, 'message/2026/01/02/03/one.json'), 'NoSuchKey');
        await store.deleteObject(bucket, 'message/2026/01/02/03/one.json');
        assert.deepEqual((await store.listObjects(bucket)).objects, []);
      });
    });

    test('writing a key again replaces the object', async () => {
      await withBucket('over', async (bucket) => {
        await store.putObject(bucket, 'k', Buffer.from('first version, longer'));
        const second = Buffer.from('second');
        await store.putObject(bucket, 'k', second);
        assert.deepEqual(await store.getObject(bucket, 'k'), second);
        assert.equal((await store.headObject(bucket, 'k'))?.etag, quotedMd5(second));
        const page = await store.listObjects(bucket);
        assert.deepEqual(
          page.objects.map((o) => [o.key, o.size, o.etag]),
          [['k', second.length, quotedMd5(second)]],
        );
      });
    });

    test('content type and metadata come back as written, metadata names in lower case', async () => {
      await withBucket('meta', async (bucket) => {
        await store.putObject(bucket, 'm.json', Buffer.from('{}'), {
          contentType: 'application/json',
          metadata: { Color: 'blue', 'source-stream': 'redshift-delivery-stream' },
        });
        const head = await store.headObject(bucket, 'm.json');
        assert.equal(head?.contentType, 'application/json');
        assert.deepEqual(head?.metadata, { color: 'blue', 'source-stream': 'redshift-delivery-stream' });

        await store.putObject(bucket, 'm.json', Buffer.from('[]'));
        const replaced = await store.headObject(bucket, 'm.json');
        assert.notEqual(replaced?.contentType, 'application/json');
        assert.deepEqual(replaced?.metadata ?? {}, {});
      });
    });

    test('the ETag is the quoted MD5 of the body', async () => {
      await withBucket('etag', async (bucket) => {
        const bodies = [Buffer.alloc(0), Buffer.from('hello'), randomBytes(200_000)];
        for (const [i, body] of bodies.entries()) {
          const put = await store.putObject(bucket, `e${i}`, body);
          assert.equal(put.etag, quotedMd5(body));
          assert.equal((await store.headObject(bucket, `e${i}`))?.etag, quotedMd5(body));
        }
        assert.equal(quotedMd5(Buffer.alloc(0)), '"d41d8cd98f00b204e9800998ecf8427e"');
        const listed = (await store.listObjects(bucket)).objects.map((o) => o.etag);
        assert.deepEqual(listed, bodies.map(quotedMd5));
      });
    });

    test('listing filters by prefix, rolls up by delimiter, starts after a key and stops at maxKeys', async () => {
      await withBucket('list', async (bucket) => {
        const keys = [
          'a-b-c',
          'a-d',
          'e',
          'logs/2026-01/x',
          'logs/2026-02/y',
          'logs/2026-02/z',
          'logs/readme',
          'm',
        ];
        await inParallel(keys, 8, (k) => store.putObject(bucket, k, Buffer.from(k)));

        const all = await store.listObjects(bucket);
        assert.deepEqual(
          all.objects.map((o) => o.key),
          keys,
        );
        assert.deepEqual(all.commonPrefixes, []);
        assert.equal(all.isTruncated, false);

        const logs = await store.listObjects(bucket, { prefix: 'logs/2026-0' });
        assert.deepEqual(
          logs.objects.map((o) => o.key),
          ['logs/2026-01/x', 'logs/2026-02/y', 'logs/2026-02/z'],
        );

        const top = await store.listObjects(bucket, { delimiter: '/' });
        assert.deepEqual(
          top.objects.map((o) => o.key),
          ['a-b-c', 'a-d', 'e', 'm'],
        );
        assert.deepEqual(top.commonPrefixes, ['logs/']);

        const inLogs = await store.listObjects(bucket, { prefix: 'logs/', delimiter: '/' });
        assert.deepEqual(
          inLogs.objects.map((o) => o.key),
          ['logs/readme'],
        );
        assert.deepEqual(inLogs.commonPrefixes, ['logs/2026-01/', 'logs/2026-02/']);

        const dashes = await store.listObjects(bucket, { delimiter: '-' });
        assert.deepEqual(dashes.commonPrefixes, ['a-', 'logs/2026-']);
        assert.deepEqual(
          dashes.objects.map((o) => o.key),
          ['e', 'logs/readme', 'm'],
        );

        const after = await store.listObjects(bucket, { startAfter: 'logs/2026-02/y' });
        assert.deepEqual(
          after.objects.map((o) => o.key),
          ['logs/2026-02/z', 'logs/readme', 'm'],
        );
        const afterMissing = await store.listObjects(bucket, { startAfter: 'f' });
        assert.equal(afterMissing.objects[0]?.key, 'logs/2026-01/x');

        const one = await store.listObjects(bucket, { maxKeys: 1 });
        assert.deepEqual(
          one.objects.map((o) => o.key),
          ['a-b-c'],
        );
        assert.equal(one.isTruncated, true);
        assert.equal(one.nextStartAfter, 'a-b-c');

        const none = await store.listObjects(bucket, { prefix: 'nothing/' });
        assert.deepEqual([none.objects, none.commonPrefixes, none.isTruncated], [[], [], false]);
      });
    });

    test('2,500 keys list completely and in order across pages, with and without a delimiter', async () => {
      await withBucket('pages', async (bucket) => {
        const keys: string[] = [];
        for (let d = 0; d < 50; d++) {
          for (let k = 0; k < 50; k++)
            keys.push(`p/d${String(d).padStart(2, '0')}/k${String(k).padStart(2, '0')}`);
        }
        await inParallel(keys, 32, (k) => store.putObject(bucket, k, Buffer.from('v')));

        const flat = await listPaged(bucket, {});
        assert.equal(flat.entries.length, 2500);
        assert.deepEqual(flat.entries, keys);
        assert.deepEqual(flat.pages, [1000, 1000, 500]);

        const small = await listPaged(bucket, { prefix: 'p/d07/', maxKeys: 7 });
        assert.deepEqual(
          small.entries,
          keys.filter((k) => k.startsWith('p/d07/')),
        );

        const prefixes = await listPaged(bucket, { prefix: 'p/', delimiter: '/', maxKeys: 7 });
        assert.deepEqual(
          prefixes.entries,
          Array.from({ length: 50 }, (_, d) => `p/d${String(d).padStart(2, '0')}/`),
        );
        assert.equal(prefixes.pages.length, 8);

        const walked: string[] = [];
        for await (const o of listAllObjects(store, bucket, 'p/d4')) walked.push(o.key);
        assert.deepEqual(
          walked,
          keys.filter((k) => k.startsWith('p/d4')),
        );
      });
    });

    test('keys list in UTF-8 binary order', async () => {
      await withBucket('order', async (bucket) => {
        const keys = ['z', 'a/b', 'a-b', 'a0', 'é', '\uFFFD', '😀', 'ab', 'A', 'a', '~'];
        await inParallel(keys, 8, (k) => store.putObject(bucket, k, Buffer.from(k)));
        const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
        const listed = (await store.listObjects(bucket)).objects.map((o) => o.key);
        assert.deepEqual(listed, expected);
        assert.deepEqual([...keys].sort(compareKeys), expected);
      });
    });

    test('keys with unicode, spaces, dot segments, empty segments and trailing slashes are kept exactly', async () => {
      await withBucket('odd', async (bucket) => {
        const keys = [
          'with space/and  two spaces',
          'ünïcødé/ключ/🌊 wave.gz',
          'a/../b',
          '../up',
          './here',
          'end/.',
          'dir/',
          'dir//double',
          '/leading',
          '%25literal/%',
          '.hidden',
          '.sluice-meta.x.json',
          '.sluice-tmp/y',
          '%@alt',
          'tab\there',
          'q?x=1&y=#frag',
        ];
        await inParallel(keys, 8, (k) => store.putObject(bucket, k, Buffer.from(`body of ${k}`)));
        for (const k of keys) {
          assert.equal((await store.getObject(bucket, k)).toString(), `body of ${k}`, k);
          assert.equal((await store.headObject(bucket, k))?.size, Buffer.byteLength(`body of ${k}`), k);
        }
        const listed = (await store.listObjects(bucket)).objects.map((o) => o.key);
        assert.deepEqual(listed, [...keys].sort(compareKeys));
        assert.equal(await store.headObject(bucket, 'b'), undefined, "'a/../b' is not 'b'");
        assert.equal(await store.headObject(bucket, 'dir'), undefined, "'dir/' is not 'dir'");

        for (const k of keys) await store.deleteObject(bucket, k);
        assert.deepEqual((await store.listObjects(bucket)).objects, []);
      });
    });

    test('a key can be both an object and a prefix of other keys, in either order', async () => {
      await withBucket('both', async (bucket) => {
        await store.putObject(bucket, 'a', Buffer.from('A'));
        await store.putObject(bucket, 'a/b', Buffer.from('AB'));
        await store.putObject(bucket, 'q/r', Buffer.from('QR'));
        await store.putObject(bucket, 'q', Buffer.from('Q'));
        await store.putObject(bucket, 'x', Buffer.from('X'));
        await store.putObject(bucket, 'x/y', Buffer.from('XY'));
        await store.putObject(bucket, 'x/y/z', Buffer.from('XYZ'));

        for (const [k, v] of [
          ['a', 'A'],
          ['a/b', 'AB'],
          ['q', 'Q'],
          ['q/r', 'QR'],
          ['x', 'X'],
          ['x/y', 'XY'],
          ['x/y/z', 'XYZ'],
        ] as const) {
          assert.equal((await store.getObject(bucket, k)).toString(), v, k);
        }
        const top = await store.listObjects(bucket, { delimiter: '/' });
        assert.deepEqual(
          top.objects.map((o) => o.key),
          ['a', 'q', 'x'],
        );
        assert.deepEqual(top.commonPrefixes, ['a/', 'q/', 'x/']);
        assert.deepEqual(
          (await store.listObjects(bucket)).objects.map((o) => o.key),
          ['a', 'a/b', 'q', 'q/r', 'x', 'x/y', 'x/y/z'],
        );

        await store.deleteObject(bucket, 'a/b');
        assert.equal((await store.getObject(bucket, 'a')).toString(), 'A');
        await store.putObject(bucket, 'a', Buffer.from('A2'));
        assert.equal((await store.getObject(bucket, 'a')).toString(), 'A2');
        await store.deleteObject(bucket, 'q');
        assert.equal((await store.getObject(bucket, 'q/r')).toString(), 'QR');
        await assertLakeError(store.getObject(bucket, 'q'), 'NoSuchKey');
        await store.deleteObject(bucket, 'x/y');
        assert.equal((await store.getObject(bucket, 'x/y/z')).toString(), 'XYZ');
        assert.equal((await store.getObject(bucket, 'x')).toString(), 'X');
        assert.deepEqual(
          (await store.listObjects(bucket)).objects.map((o) => o.key),
          ['a', 'q/r', 'x', 'x/y/z'],
        );
      });
    });

    test('missing keys and buckets raise NoSuchKey and NoSuchBucket', async () => {
      const missing = `sluice-ct-none-${randomBytes(4).toString('hex')}`;
      await assertLakeError(store.getObject(missing, 'k'), 'NoSuchBucket');
      await assertLakeError(store.putObject(missing, 'k', Buffer.from('x')), 'NoSuchBucket');
      await assertLakeError(store.listObjects(missing), 'NoSuchBucket');
      await assertLakeError(store.deleteObject(missing, 'k'), 'NoSuchBucket');
      await assertLakeError(store.deleteBucket(missing), 'NoSuchBucket');
      await withBucket('miss', async (bucket) => {
        await assertLakeError(store.getObject(bucket, 'nope'), 'NoSuchKey');
        await assertLakeError(store.getObject(bucket, 'nope/deeper/still'), 'NoSuchKey');
        assert.equal(await store.headObject(bucket, 'nope'), undefined);
        await store.putObject(bucket, 'file', Buffer.from('f'));
        await assertLakeError(store.getObject(bucket, 'file/inside'), 'NoSuchKey');
      });
    });

    test('a key of 1,024 UTF-8 bytes is stored and one of 1,025 is refused', async () => {
      await withBucket('long', async (bucket) => {
        const ascii = 'k'.repeat(1024);
        const multibyte = 'é'.repeat(512);
        const deep = 'ab/'.repeat(341) + 'x';
        const longFolder = `${'f'.repeat(300)}/inside`;
        assert.equal(Buffer.byteLength(deep), 1024);
        for (const key of [ascii, multibyte, deep, longFolder]) {
          await store.putObject(bucket, key, Buffer.from('long'));
          assert.equal((await store.getObject(bucket, key)).toString(), 'long');
        }
        const listed = (await store.listObjects(bucket)).objects.map((o) => o.key);
        assert.deepEqual(listed, [ascii, multibyte, deep, longFolder].sort(compareKeys));
        const rolled = await store.listObjects(bucket, { prefix: 'f', delimiter: '/' });
        assert.deepEqual(rolled.commonPrefixes, [`${'f'.repeat(300)}/`]);
        await assertLakeError(store.putObject(bucket, 'k'.repeat(1025), Buffer.from('x')), 'KeyTooLongError');
        await assertLakeError(
          store.putObject(bucket, 'é'.repeat(512) + 'x', Buffer.from('x')),
          'KeyTooLongError',
        );
      });
    });

    test('concurrent writers to one key leave one whole object', async () => {
      await withBucket('race', async (bucket) => {
        for (let round = 0; round < 3; round++) {
          const bodies = Array.from({ length: 8 }, (_, i) => Buffer.alloc(1000 + i * 7919 + round, 65 + i));
          await Promise.all(bodies.map((b) => store.putObject(bucket, 'hot/key', b)));
          const got = await store.getObject(bucket, 'hot/key');
          const winner = bodies.find((b) => b.equals(got));
          assert.ok(winner, 'the object is exactly one of the bodies written');
          const head = await store.headObject(bucket, 'hot/key');
          assert.equal(head?.etag, quotedMd5(winner));
          assert.equal(head?.size, winner.length);
          const listed = (await store.listObjects(bucket)).objects;
          assert.deepEqual(
            listed.map((o) => [o.key, o.etag]),
            [['hot/key', quotedMd5(winner)]],
          );
        }
      });
    });

    test('concurrent writes and deletes of different keys, some both object and prefix, all take effect', async () => {
      await withBucket('mix', async (bucket) => {
        const expected = new Map<string, string>();
        const doomed = ['m/old/1', 'm/old/2', 'm/k3', 'm/k3/x', 'gone/deep/leaf'];
        for (const key of doomed) await store.putObject(bucket, key, Buffer.from(`old ${key}`));
        const writes: string[] = [];
        for (let i = 0; i < 24; i++) writes.push(`m/k${i}`);
        writes.push('m/k1/sub', 'm/k2/sub/deeper', 'm/old', 'n/fresh/a', 'n/fresh', 'm/k3/y');
        const ops = [
          ...writes.map((key, i) =>
            store.putObject(bucket, key, Buffer.alloc(100 + i, `v ${key}`)).then(() => {
              expected.set(key, Buffer.alloc(100 + i, `v ${key}`).toString());
            }),
          ),
          ...doomed.filter((k) => k !== 'm/k3').map((key) => store.deleteObject(bucket, key)),
        ];
        await Promise.all(ops);
        expected.set('m/k3', Buffer.alloc(100 + 3, 'v m/k3').toString());
        // Order is the listing tests' concern; here only which keys survived.
        const listed = (await store.listObjects(bucket)).objects.map((o) => o.key).sort(compareKeys);
        assert.deepEqual(listed, [...expected.keys()].sort(compareKeys));
        for (const [key, body] of expected) {
          assert.equal((await store.getObject(bucket, key)).toString(), body, key);
          assert.equal((await store.headObject(bucket, key))?.etag, quotedMd5(Buffer.from(body)), key);
        }
      });
    });

    test('a streamed body is stored whole and reads back whole and by range', async () => {
      await withBucket('stream', async (bucket) => {
        // Over 8 MiB, so an S3 store sends it in parts; chunks of odd sizes, as sockets give them.
        const body = randomBytes(9 * 1024 * 1024 + 12345);
        const info = await store.putObject(bucket, 'big/streamed.bin', chunksOf(body, 65_521), {
          contentType: 'application/x-test',
          contentLength: body.length,
        });
        assert.equal(info.size, body.length);
        assert.ok((await store.getObject(bucket, 'big/streamed.bin')).equals(body));
        const head = await store.headObject(bucket, 'big/streamed.bin');
        assert.equal(head?.size, body.length);
        assert.equal(head?.contentType, 'application/x-test');

        const reader = await store.openObject(bucket, 'big/streamed.bin');
        assert.equal(reader.info.size, body.length);
        assert.equal(reader.info.etag, head?.etag);
        assert.ok((await collect(reader.stream())).equals(body));
        const ranged = await store.openObject(bucket, 'big/streamed.bin');
        const from = 8 * 1024 * 1024 - 10;
        assert.ok(
          (await collect(ranged.stream({ start: from, end: from + 99 }))).equals(
            body.subarray(from, from + 100),
          ),
        );

        const small = Buffer.from('a small streamed body');
        const put = await store.putObject(bucket, 'small/streamed.txt', chunksOf(small, 3));
        assert.equal(put.etag, quotedMd5(small));
        assert.equal((await store.headObject(bucket, 'small/streamed.txt'))?.etag, quotedMd5(small));
        const empty = await store.putObject(bucket, 'small/empty', chunksOf(Buffer.alloc(0), 1));
        assert.equal(empty.size, 0);
        assert.equal((await store.getObject(bucket, 'small/empty')).length, 0);
      });
    });

    test('a streamed body that fails halfway or ends short writes nothing', async () => {
      await withBucket('abort', async (bucket) => {
        const old = Buffer.from('the old object');
        await store.putObject(bucket, 'k/kept', old);
        const failing = async function* (): AsyncGenerator<Uint8Array> {
          yield randomBytes(9 * 1024 * 1024);
          throw new Error('the client went away');
        };
        await assert.rejects(store.putObject(bucket, 'k/kept', failing()));
        await assert.rejects(store.putObject(bucket, 'k/new', failing()));
        const short = async function* (): AsyncGenerator<Uint8Array> {
          yield Buffer.from('only part');
          throw new Error('cut short');
        };
        await assert.rejects(store.putObject(bucket, 'k/new', short()));
        await assert.rejects(
          store.putObject(bucket, 'k/new', chunksOf(Buffer.from('12345'), 2), { contentLength: 6 }),
        );
        assert.ok((await store.getObject(bucket, 'k/kept')).equals(old));
        assert.equal(await store.headObject(bucket, 'k/new'), undefined);
        assert.deepEqual(
          (await store.listObjects(bucket)).objects.map((o) => o.key),
          ['k/kept'],
        );
      });
    });

    test('an opened object reads as it was when opened, even once replaced', async () => {
      await withBucket('open', async (bucket) => {
        const first = Buffer.alloc(1000, 'a');
        await store.putObject(bucket, 'v', first);
        const reader = await store.openObject(bucket, 'v');
        await store.putObject(bucket, 'v', Buffer.alloc(2000, 'b'));
        assert.equal(reader.info.size, 1000);
        assert.equal(reader.info.etag, quotedMd5(first));
        assert.ok((await collect(reader.stream())).equals(first));
        const unread = await store.openObject(bucket, 'v');
        assert.equal(unread.info.size, 2000);
        await unread.close();
        await assertLakeError(store.openObject(bucket, 'missing'), 'NoSuchKey');
        await assertLakeError(store.openObject(`${bucket}-gone`, 'v'), 'NoSuchBucket');
      });
    });

    nodeTest('every known failure names a test of the contract', () => {
      assert.deepEqual([...known.keys(), ...skipped.keys()], []);
    });
  });
}

/** A body as a stream of chunks of `size` bytes. */
async function* chunksOf(body: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < body.length; at += size) yield body.subarray(at, at + size);
}

/** Reads a stream to its end. */
async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function quotedMd5(body: Buffer): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}

async function assertLakeError(promise: Promise<unknown>, code: LakeErrorCode, note?: string): Promise<void> {
  await assert.rejects(
    promise,
    (err: unknown) => {
      assert.ok(
        err instanceof LakeError,
        `expected a LakeError ${code}${note !== undefined ? ` for ${JSON.stringify(note)}` : ''}, got ${String(err)}`,
      );
      assert.equal(err.code, code, note);
      return true;
    },
    note,
  );
}

async function inParallel<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
