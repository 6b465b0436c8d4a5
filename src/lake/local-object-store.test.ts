import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { compareKeys, createLocalObjectStore } from './index.ts';
import { runObjectStoreContract } from './object-store-contract.ts';

// fsync cannot be observed from a test and doubles the time of writing the contract's
// 2,500 objects; the local-only tests below run with it on.
runObjectStoreContract({
  name: 'local directory',
  create: async () => {
    const root = await mkdtemp(join(tmpdir(), 'sluice-lake-'));
    return {
      store: createLocalObjectStore({ root, fsync: false }),
      cleanup: () => rm(root, { recursive: true, force: true }),
    };
  },
});

/** Runs `fn` with a fresh store in a temp dir and a bucket named `lake`. */
async function withLake(
  fn: (root: string, store: ReturnType<typeof createLocalObjectStore>) => Promise<void>,
): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'sluice-lake-'));
  try {
    const store = createLocalObjectStore({ root });
    await store.createBucket('lake');
    await fn(root, store);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Every file under a folder, as paths relative to it, sorted. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('local object store on disk', () => {
  test('the lake can be browsed as plain folders and files', async () => {
    await withLake(async (root, store) => {
      const key = 'message/2026/11/25/22/redshift-delivery-stream-1-2026-11-25-22-00-01-0001.gz';
      const body = gzipSync('{"guid":"g","ts":1,"temp":90}');
      await store.putObject('lake', key, body);
      const onDisk = await readFile(join(root, 'lake', key));
      assert.equal(gunzipSync(onDisk).toString(), '{"guid":"g","ts":1,"temp":90}');
      const visible = (await tree(join(root, 'lake'))).filter(
        (p) => !p.split('/').some((s) => s.startsWith('.')),
      );
      assert.deepEqual(visible, [key]);
    });
  });

  test('a temp file left by a crash mid-write is not listed and does not block deleting the bucket', async () => {
    await withLake(async (root, store) => {
      await store.putObject('lake', 'real', Buffer.from('r'));
      await writeFile(join(root, 'lake', '.sluice-tmp', 'data-999-deadbeef'), 'half a write');
      const page = await store.listObjects('lake');
      assert.deepEqual(
        page.objects.map((o) => o.key),
        ['real'],
      );
      await store.deleteObject('lake', 'real');
      await store.deleteBucket('lake');
      assert.deepEqual(await readdir(root), []);
    });
  });

  test('a temp file older than an hour is removed on the next write', async () => {
    await withLake(async (root, store) => {
      const stale = join(root, 'lake', '.sluice-tmp', 'data-999-cafebabe');
      await writeFile(stale, 'left over');
      const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
      await utimes(stale, old, old);
      await store.putObject('lake', 'k', Buffer.from('v'));
      assert.deepEqual(await readdir(join(root, 'lake', '.sluice-tmp')), []);
    });
  });

  test('dot-dot and empty key segments stay inside the bucket folder', async () => {
    await withLake(async (root, store) => {
      await store.putObject('lake', '../../escape', Buffer.from('x'));
      await store.putObject('lake', 'a//b/./c', Buffer.from('y'));
      assert.deepEqual(await readdir(root), ['lake']);
      const files = (await tree(join(root, 'lake'))).filter(
        (p) => !p.split('/').some((s) => s.startsWith('.sluice')),
      );
      assert.deepEqual(files, ['%=../%=../escape', 'a/%=/b/%=./c']);
    });
  });

  test('deleting the last object under a prefix removes the folders it leaves empty', async () => {
    await withLake(async (root, store) => {
      await store.putObject('lake', 'message/2026/11/25/22/a.gz', Buffer.from('a'));
      await store.putObject('lake', 'message/2026/11/25/23/b.gz', Buffer.from('b'));
      await store.deleteObject('lake', 'message/2026/11/25/22/a.gz');
      assert.deepEqual(await readdir(join(root, 'lake', 'message/2026/11/25')), ['23']);
      await store.deleteObject('lake', 'message/2026/11/25/23/b.gz');
      assert.deepEqual((await readdir(join(root, 'lake'))).sort(), ['.sluice-bucket.json', '.sluice-tmp']);
    });
  });

  test('keys with segments too long for a file name are stored under hashed names and cleaned up', async () => {
    await withLake(async (root, store) => {
      const folder = 'f'.repeat(300);
      await store.putObject('lake', `${folder}/x`, Buffer.from('1'));
      await store.putObject('lake', 'n'.repeat(400), Buffer.from('2'));
      const names = (await readdir(join(root, 'lake'))).filter((n) => !n.startsWith('.sluice'));
      assert.equal(names.length, 2);
      assert.ok(names.every((n) => /^%#[0-9a-f]{64}$/.test(n)));
      const fresh = createLocalObjectStore({ root });
      assert.deepEqual(
        (await fresh.listObjects('lake')).objects.map((o) => o.key),
        [`${folder}/x`, 'n'.repeat(400)],
      );
      await fresh.deleteObject('lake', `${folder}/x`);
      await fresh.deleteObject('lake', 'n'.repeat(400));
      assert.deepEqual((await readdir(join(root, 'lake'))).sort(), ['.sluice-bucket.json', '.sluice-tmp']);
    });
  });

  test('an object whose name a folder needs moves aside and back again', async () => {
    await withLake(async (root, store) => {
      await store.putObject('lake', 'a', Buffer.from('A'));
      await store.putObject('lake', 'a/b', Buffer.from('AB'));
      assert.equal((await stat(join(root, 'lake', 'a'))).isDirectory(), true);
      assert.equal((await readFile(join(root, 'lake', '%@a'))).toString(), 'A');
      await store.deleteObject('lake', 'a/b');
      assert.equal((await readFile(join(root, 'lake', 'a'))).toString(), 'A');
    });
  });

  test('a %@ file left beside a plain one by a crash stays hidden, and is gone once the object is deleted', async () => {
    await withLake(async (root, store) => {
      await store.putObject('lake', 'a', Buffer.from('A'));
      // A crash while pruning folder a/ after deleting a/b: the folder is gone, %@a not yet renamed back.
      await writeFile(join(root, 'lake', '%@a'), 'stale');
      await store.putObject('lake', 'a', Buffer.from('A2'));
      assert.equal((await store.getObject('lake', 'a')).toString(), 'A2');
      assert.deepEqual(
        (await store.listObjects('lake')).objects.map((o) => [o.key, o.size]),
        [['a', 2]],
      );
      await store.deleteObject('lake', 'a');
      await assert.rejects(store.getObject('lake', 'a'), { code: 'NoSuchKey' });
      assert.deepEqual((await store.listObjects('lake')).objects, []);
      assert.deepEqual((await readdir(join(root, 'lake'))).sort(), ['.sluice-bucket.json', '.sluice-tmp']);
    });
  });

  test('a file copied into the lake by hand is listed with its MD5 as ETag', async () => {
    await withLake(async (root, store) => {
      await store.putObject('lake', 'seed/keep', Buffer.from('k'));
      const body = Buffer.from('id,name\n1,x\n');
      await writeFile(join(root, 'lake', 'seed', 'sensor.csv'), body);
      const listed = (await store.listObjects('lake', { prefix: 'seed/' })).objects;
      assert.deepEqual(
        listed.map((o) => o.key),
        ['seed/keep', 'seed/sensor.csv'],
      );
      const md5 = `"${createHash('md5').update(body).digest('hex')}"`;
      assert.equal(listed[1]?.etag, md5);
      assert.equal((await store.headObject('lake', 'seed/sensor.csv'))?.etag, md5);
      assert.deepEqual(await store.getObject('lake', 'seed/sensor.csv'), body);
    });
  });

  test('a crash between writing the sidecar and renaming the data keeps the old data with its true ETag', async () => {
    await withLake(async (root, store) => {
      const old = Buffer.from('old contents');
      await store.putObject('lake', 'k.json', old, { contentType: 'application/json' });
      // The sidecar of a newer write landed, the data rename did not.
      const sidecar = join(root, 'lake', '.sluice-meta.k.json.json');
      const stored = JSON.parse(await readFile(sidecar, 'utf8')) as Record<string, unknown>;
      await writeFile(
        sidecar,
        JSON.stringify({ ...stored, size: 3, etag: '"0123456789abcdef0123456789abcdef"' }),
      );
      const fresh = createLocalObjectStore({ root });
      const head = await fresh.headObject('lake', 'k.json');
      assert.equal(head?.etag, `"${createHash('md5').update(old).digest('hex')}"`);
      assert.equal(head?.size, old.length);
      assert.deepEqual(await fresh.getObject('lake', 'k.json'), old);
    });
  });

  test('an overwrite cut off between its renames leaves the old object whole, content type and metadata included', async () => {
    await withLake(async (root, store) => {
      const old = Buffer.from('old contents');
      await store.putObject('lake', 'dir/k', old, { contentType: 'text/old', metadata: { v: '1' } });
      const dir = join(root, 'lake', 'dir');
      const sidecar = join(dir, '.sluice-meta.k.json');
      const prev = join(dir, '.sluice-prev.k.json');
      const stored = JSON.parse(await readFile(sidecar, 'utf8')) as Record<string, unknown>;
      const newer = {
        ...stored,
        size: 3,
        mtimeNs: '1',
        etag: '"0123456789abcdef0123456789abcdef"',
        contentType: 'text/new',
        metadata: { v: '2' },
      };
      const expectOld = async (): Promise<void> => {
        const fresh = createLocalObjectStore({ root });
        const head = await fresh.headObject('lake', 'dir/k');
        assert.equal(head?.etag, `"${createHash('md5').update(old).digest('hex')}"`);
        assert.equal(head?.contentType, 'text/old');
        assert.deepEqual(head?.metadata, { v: '1' });
        const listed = await fresh.listObjects('lake', { prefix: 'dir/' });
        assert.deepEqual(
          listed.objects.map((o) => [o.key, o.etag, o.contentType]),
          [['dir/k', head.etag, 'text/old']],
        );
      };
      // Killed after the old sidecar stepped aside.
      await rename(sidecar, prev);
      await expectOld();
      // Killed after the new sidecar came in, before the data.
      await writeFile(sidecar, JSON.stringify(newer));
      await expectOld();
      // The next write and delete leave nothing behind, so the folder goes too.
      const fresh = createLocalObjectStore({ root });
      await fresh.putObject('lake', 'dir/k', Buffer.from('new'), { contentType: 'text/new' });
      assert.equal((await fresh.headObject('lake', 'dir/k'))?.contentType, 'text/new');
      assert.deepEqual((await readdir(dir)).sort(), ['.sluice-meta.k.json', 'k']);
      await rename(sidecar, prev);
      await fresh.deleteObject('lake', 'dir/k');
      assert.deepEqual((await readdir(join(root, 'lake'))).sort(), ['.sluice-bucket.json', '.sluice-tmp']);
    });
  });

  test('a second process emptying a folder while the server writes into it never loses the write', async () => {
    await withLake(async (root) => {
      // Two stores on one lake share no lock, as the server and `sluice lake` do not.
      const server = createLocalObjectStore({ root, fsync: false });
      const cli = createLocalObjectStore({ root, fsync: false });
      const long = 'x'.repeat(250);
      const written: string[] = [];
      for (let i = 0; i < 60; i++) {
        // Plain and hashed (long-named) folders, each emptied and pruned by the other store.
        const dir = i % 2 === 0 ? `p/${i % 6}` : `p/${long}${i % 6}`;
        await cli.putObject('lake', `${dir}/cli`, Buffer.from('c'));
        const key = `${dir}/server-${i}`;
        await Promise.all([
          cli.deleteObject('lake', `${dir}/cli`),
          server.putObject('lake', key, Buffer.from(key), { contentType: 'text/plain' }),
        ]);
        written.push(key);
        assert.deepEqual(await server.getObject('lake', key), Buffer.from(key), key);
        // Then the server empties it while the other process writes.
        if (i % 3 === 0) {
          const other = `${dir}/cli-${i}`;
          await Promise.all([
            ...written.splice(0).map((k) => server.deleteObject('lake', k)),
            cli.putObject('lake', other, Buffer.from(other)),
          ]);
          assert.deepEqual(await server.getObject('lake', other), Buffer.from(other), other);
          await cli.deleteObject('lake', other);
        }
      }
      for (const key of written) {
        assert.equal((await server.headObject('lake', key))?.contentType, 'text/plain', key);
      }
      const listed = await server.listObjects('lake', { prefix: 'p/' });
      assert.deepEqual(
        listed.objects.map((o) => o.key),
        [...written].sort(compareKeys),
      );
    });
  });

  test('a long-named folder that lost its name file to a crash is still listed', async () => {
    await withLake(async (root, store) => {
      const key = `${'n'.repeat(250)}/k`;
      await store.putObject('lake', key, Buffer.from('v'));
      const [folder] = (await readdir(join(root, 'lake'))).filter((n) => n.startsWith('%#'));
      await rm(join(root, 'lake', folder as string, '.sluice-name'));
      const listed = await createLocalObjectStore({ root }).listObjects('lake');
      assert.deepEqual(
        listed.objects.map((o) => o.key),
        [key],
      );
    });
  });

  test('a lake copied without its file times keeps content types and metadata', async () => {
    await withLake(async (root, store) => {
      await store.putObject('lake', 'k', Buffer.from('v'), {
        contentType: 'text/plain',
        metadata: { a: 'b' },
      });
      const later = new Date(Date.now() + 60_000);
      await utimes(join(root, 'lake', 'k'), later, later);
      const head = await createLocalObjectStore({ root }).headObject('lake', 'k');
      assert.equal(head?.contentType, 'text/plain');
      assert.deepEqual(head?.metadata, { a: 'b' });
    });
  });

  test('a bucket folder made by hand is a bucket', async () => {
    await withLake(async (root, store) => {
      await writeFile(join(root, 'not-a-folder'), 'x');
      await mkdir(join(root, 'by-hand'));
      await mkdir(join(root, 'Not_Valid'));
      assert.deepEqual(
        (await store.listBuckets()).map((b) => b.name),
        ['by-hand', 'lake'],
      );
      await store.putObject('by-hand', 'k', Buffer.from('v'));
      assert.equal((await store.getObject('by-hand', 'k')).toString(), 'v');
    });
  });

  test('listing a large folder page by page stays in order and sees writes made between pages', async () => {
    await withLake(async (root, store) => {
      const keys = Array.from({ length: 600 }, (_, i) => `flat/${String(i * 2).padStart(5, '0')}`);
      const fast = createLocalObjectStore({ root, fsync: false });
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((k) => fast.putObject('lake', k, Buffer.from('v'))));
      }
      const seen: string[] = [];
      let startAfter: string | undefined;
      for (let page = 0; ; page++) {
        const listed = await store.listObjects('lake', {
          prefix: 'flat/',
          maxKeys: 100,
          ...(startAfter !== undefined ? { startAfter } : {}),
        });
        seen.push(...listed.objects.map((o) => o.key));
        if (page === 1) {
          // Between pages: one key behind the listing, one ahead of it.
          await store.putObject('lake', 'flat/00001', Buffer.from('behind'));
          await store.putObject('lake', 'flat/01001', Buffer.from('ahead'));
          await store.deleteObject('lake', 'flat/01100');
        }
        if (!listed.isTruncated) break;
        startAfter = listed.nextStartAfter;
      }
      const expected = [...keys.filter((k) => k !== 'flat/01100'), 'flat/01001'].sort();
      assert.deepEqual(seen, expected);
    });
  });
});

describe('local object store against a model', () => {
  test('random writes and deletes of awkward keys list exactly as a sorted map says', async () => {
    const segment = fc.constantFrom(
      'a',
      'b',
      '',
      '.',
      '..',
      '%',
      '%@a',
      '%=',
      '.sluice-x',
      'é',
      '😀',
      'a-b',
      'a b',
    );
    const key = fc
      .array(segment, { minLength: 1, maxLength: 3 })
      .map((s) => s.join('/'))
      .filter((k) => k !== '');
    const op = fc.record({ put: fc.boolean(), key, body: fc.string({ maxLength: 5 }) });
    const query = fc.record({
      prefix: fc.constantFrom('', 'a', 'a/', '%', '.', 'é', 'a/b', '/', '..'),
      delimiter: fc.constantFrom(undefined, '/', '-', 'b'),
      startAfter: fc.option(key, { nil: undefined }),
      maxKeys: fc.constantFrom(1, 2, 3, 1000),
    });
    const root = await mkdtemp(join(tmpdir(), 'sluice-lake-model-'));
    const store = createLocalObjectStore({ root, fsync: false });
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(op, { maxLength: 25 }),
          fc.array(query, { minLength: 1, maxLength: 4 }),
          async (ops, queries) => {
            const bucket = `model-${run++}`;
            await store.createBucket(bucket);
            const model = new Map<string, string>();
            for (const o of ops) {
              if (o.put) {
                await store.putObject(bucket, o.key, Buffer.from(o.body));
                model.set(o.key, o.body);
              } else {
                await store.deleteObject(bucket, o.key);
                model.delete(o.key);
              }
            }
            const keys = [...model.keys()].sort(compareKeys);
            for (const k of keys) assert.equal((await store.getObject(bucket, k)).toString(), model.get(k));
            for (const q of queries) {
              const options = {
                prefix: q.prefix,
                maxKeys: q.maxKeys,
                ...(q.delimiter !== undefined ? { delimiter: q.delimiter } : {}),
                ...(q.startAfter !== undefined ? { startAfter: q.startAfter } : {}),
              };
              const page = await store.listObjects(bucket, options);
              assert.deepEqual(
                {
                  objects: page.objects.map((o) => o.key),
                  commonPrefixes: page.commonPrefixes,
                  isTruncated: page.isTruncated,
                },
                modelList(keys, options),
              );
            }
            for (const k of keys) await store.deleteObject(bucket, k);
            await store.deleteBucket(bucket);
          },
        ),
        { numRuns: 25 },
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

/** S3's listing rules over a sorted key list: the oracle for the property test. */
function modelList(
  keys: readonly string[],
  options: { prefix: string; delimiter?: string; startAfter?: string; maxKeys: number },
): { objects: string[]; commonPrefixes: string[]; isTruncated: boolean } {
  const objects: string[] = [];
  const commonPrefixes: string[] = [];
  const { prefix, delimiter, startAfter, maxKeys } = options;
  for (const k of keys) {
    if (!k.startsWith(prefix)) continue;
    if (startAfter !== undefined && compareKeys(k, startAfter) <= 0) continue;
    const at = delimiter !== undefined ? k.indexOf(delimiter, prefix.length) : -1;
    const common = at >= 0 && delimiter !== undefined ? k.slice(0, at + delimiter.length) : undefined;
    if (common !== undefined) {
      if (commonPrefixes.at(-1) === common) continue;
      if (startAfter !== undefined && compareKeys(common, startAfter) <= 0) continue;
    }
    if (objects.length + commonPrefixes.length === maxKeys)
      return { objects, commonPrefixes, isTruncated: true };
    if (common !== undefined) commonPrefixes.push(common);
    else objects.push(k);
  }
  return { objects, commonPrefixes, isTruncated: false };
}
