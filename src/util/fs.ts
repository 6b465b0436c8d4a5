/** Small file helpers for durable metadata writes. */
import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Fsyncs a directory so a rename or create inside it survives power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces a file atomically and durably: write a temp file, fsync it, rename it over the
 * target, fsync the folder. A reader sees the old content or the new, never a mix.
 */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(data);
    await handle.datasync();
  } catch (error) {
    await handle.close();
    await rm(tmp, { force: true });
    throw error;
  }
  await handle.close();
  await rename(tmp, path);
  await fsyncDir(dir);
}

/** Bytes gathered from a stream before one write call: fewer, larger writes to the pool. */
const STREAM_WRITE_BYTES = 1024 * 1024;

/**
 * Writes a stream to an open file in writes of about 1 MiB, hashing it with MD5 on the way.
 * Returns the hex digest and the byte count; syncing and closing are the caller's.
 */
export async function writeStreamHashed(
  handle: FileHandle,
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<{ md5Hex: string; size: number }> {
  const hash = createHash('md5');
  let size = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const chunk = pending.length === 1 ? (pending[0] as Uint8Array) : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    await handle.write(chunk, 0, chunk.byteLength);
  };
  for await (const chunk of body) {
    hash.update(chunk);
    size += chunk.byteLength;
    pending.push(chunk);
    pendingBytes += chunk.byteLength;
    if (pendingBytes >= STREAM_WRITE_BYTES) await flush();
  }
  await flush();
  return { md5Hex: hash.digest('hex'), size };
}
