import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { S3Error } from './errors.ts';
import { MultipartUploads } from './multipart.ts';

describe('multipart uploads on disk after a crash', () => {
  test('an upload whose upload.json a crash left empty is no upload, and the others are still listed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-mpu-'));
    try {
      const uploads = new MultipartUploads(dir);
      const kept = await uploads.create('b', 'k', 'text/plain', undefined);
      const torn = 'f'.repeat(32);
      await mkdir(join(dir, torn));
      await writeFile(join(dir, torn, 'upload.json'), '');
      assert.deepEqual(
        (await uploads.listUploads('b')).map((u) => u.uploadId),
        [kept.uploadId],
      );
      await assert.rejects(
        uploads.get(torn, 'b', 'k'),
        (err) => err instanceof S3Error && err.code === 'NoSuchUpload',
      );
      await assert.rejects(
        uploads.putPart(torn, 'b', 'k', 1, [Buffer.from('x')]),
        (err) => err instanceof S3Error && err.code === 'NoSuchUpload',
      );
      // In time it expires like any unfinished upload.
      assert.deepEqual(await uploads.expire(new Date(Date.now() + 60_000)), [kept.uploadId, torn].sort());
      assert.deepEqual(await readdir(dir), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('creating an upload leaves only upload.json in its folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-mpu-'));
    try {
      const uploads = new MultipartUploads(dir);
      const { uploadId } = await uploads.create('b', 'k', undefined, { a: '1' });
      assert.deepEqual(await readdir(join(dir, uploadId)), ['upload.json']);
      assert.deepEqual((await uploads.get(uploadId, 'b', 'k')).metadata, { a: '1' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
