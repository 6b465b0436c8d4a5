import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  appendFile,
  copyFile,
  mkdtemp,
  open,
  readdir,
  readFile,
  rm,
  stat,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StreamLog } from './index.ts';
import { LogFullError, destroyStreamLog, openStreamLog } from './index.ts';
import type { Logger } from '../util/logger.ts';

const SEGMENT_HEADER = 16;
const FRAME_HEADER = 32;

/** Runs `fn` with a fresh temp folder that is removed afterwards. */
async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-log-'));
  try {
    await fn(join(dir, 'stream'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function records(prefix: string, count: number, size = 80): Buffer[] {
  return Array.from({ length: count }, (_, k) => Buffer.from(`${prefix}-${k}`.padEnd(size, '.')));
}

function text(data: Buffer): string {
  return data.toString().replace(/\.+$/, '');
}

async function readAll(log: StreamLog, from = log.startOffset): Promise<string[]> {
  const out: string[] = [];
  let next = from;
  while (next < log.endOffset) {
    const batch = await log.read(next, 7, 1 << 20);
    for (const [k, r] of batch.entries()) {
      assert.equal(r.offset, next + k);
      out.push(text(r.data));
    }
    next += batch.length;
  }
  return out;
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
}

/** A logger that keeps its messages, to check what recovery reports. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = {
    lines,
    debug() {},
    info(_obj: object, msg?: string) {
      lines.push(msg ?? '');
    },
    warn(_obj: object, msg?: string) {
      lines.push(msg ?? '');
    },
    error(_obj: object, msg?: string) {
      lines.push(msg ?? '');
    },
    child() {
      return logger;
    },
  };
  return logger;
}

describe('stream log', () => {
  test('appends and reads back records with their offsets and arrival time', async () => {
    await withDir(async (dir) => {
      const log = await openStreamLog({ dir });
      assert.equal(await log.append(records('a', 3), 1000), 0);
      assert.equal(await log.append(records('b', 2), 2000), 3);
      assert.equal(log.endOffset, 5);
      assert.equal(log.startOffset, 0);
      const got = await log.read(0, 100, 1 << 20);
      assert.deepEqual(
        got.map((r) => [r.offset, r.arrivalMs, text(r.data)]),
        [
          [0, 1000, 'a-0'],
          [1, 1000, 'a-1'],
          [2, 1000, 'a-2'],
          [3, 2000, 'b-0'],
          [4, 2000, 'b-1'],
        ],
      );
      assert.deepEqual(
        (await log.read(2, 2, 1 << 20)).map((r) => r.offset),
        [2, 3],
      );
      assert.deepEqual(log.stats(), {
        bytes: SEGMENT_HEADER + 2 * FRAME_HEADER + 5 * 84,
        records: 5,
        segments: 1,
      });
      await log.close();
    });
  });

  test('read stops at maxRecords and about maxBytes but returns at least one record', async () => {
    await withDir(async (dir) => {
      const log = await openStreamLog({ dir });
      await log.append(records('a', 10, 100), 1);
      assert.equal((await log.read(0, 4, 1 << 20)).length, 4);
      assert.equal((await log.read(0, 100, 250)).length, 2);
      assert.equal((await log.read(0, 100, 10)).length, 1);
      assert.deepEqual(await log.read(10, 100, 1 << 20), []);
      assert.deepEqual(await log.read(99, 100, 1 << 20), []);
      await assert.rejects(log.read(-1, 1, 1), RangeError);
      await log.close();
    });
  });

  test('reads across segment boundaries, from memory and from disk', async () => {
    await withDir(async (dir) => {
      for (const cacheBytes of [32 << 20, 0]) {
        await destroyStreamLog(dir);
        const log = await openStreamLog({ dir, segmentBytes: 1024 }, { cacheBytes });
        const expected: string[] = [];
        for (let i = 0; i < 30; i++) {
          const batch = records(`f${i}`, 1 + (i % 5));
          await log.append(batch, i);
          expected.push(...batch.map(text));
        }
        assert.ok(log.stats().segments > 5, `expected several segments, got ${log.stats().segments}`);
        assert.deepEqual(await readAll(log), expected);
        const middle = await log.read(37, 20, 1 << 20);
        assert.deepEqual(
          middle.map((r) => text(r.data)),
          expected.slice(37, 57),
        );
        await log.close();
        const reopened = await openStreamLog({ dir, segmentBytes: 1024 });
        assert.deepEqual(await readAll(reopened), expected);
        await reopened.close();
      }
    });
  });

  test('offsets continue after close and reopen', async () => {
    await withDir(async (dir) => {
      const log = await openStreamLog({ dir, segmentBytes: 512 });
      for (let i = 0; i < 10; i++) await log.append(records(`x${i}`, 3), i);
      await log.close();
      const reopened = await openStreamLog({ dir, segmentBytes: 512 });
      assert.equal(reopened.endOffset, 30);
      assert.equal(await reopened.append(records('after', 2), 99), 30);
      const tail = await reopened.read(28, 10, 1 << 20);
      assert.deepEqual(
        tail.map((r) => [r.offset, text(r.data)]),
        [
          [28, 'x9-1'],
          [29, 'x9-2'],
          [30, 'after-0'],
          [31, 'after-1'],
        ],
      );
      await reopened.close();
    });
  });

  test('offsets are not reused after every segment is released and the log reopened', async () => {
    await withDir(async (dir) => {
      const log = await openStreamLog({ dir, segmentBytes: 512 });
      for (let i = 0; i < 10; i++) await log.append(records(`x${i}`, 3), i);
      await log.release(log.endOffset);
      // The newest segment is kept; it is what remembers the next offset.
      assert.equal(log.stats().segments, 1);
      await log.close();
      const reopened = await openStreamLog({ dir, segmentBytes: 512 });
      assert.equal(reopened.endOffset, 30);
      assert.equal(await reopened.append(records('next', 1), 1), 30);
      await reopened.release(reopened.endOffset);
      await reopened.close();
      const again = await openStreamLog({ dir, segmentBytes: 512 });
      assert.equal(again.endOffset, 31);
      assert.equal(await again.append(records('more', 1), 1), 31);
      await again.close();
    });
  });

  test('release deletes only segments wholly below the offset', async () => {
    await withDir(async (dir) => {
      const log = await openStreamLog({ dir, segmentBytes: 300 });
      // Each append is one frame of 32 + 3 * 84 = 284 bytes, so each segment holds one frame.
      for (let i = 0; i < 5; i++) await log.append(records(`s${i}`, 3), i);
      assert.deepEqual(
        (await segmentFiles(dir)).map((n) => Number(n.slice(0, 20))),
        [0, 3, 6, 9, 12],
      );
      const before = log.stats().bytes;
      await log.release(7);
      assert.deepEqual(
        (await segmentFiles(dir)).map((n) => Number(n.slice(0, 20))),
        [6, 9, 12],
      );
      assert.equal(log.startOffset, 6);
      assert.deepEqual(log.stats(), { bytes: before - 2 * (SEGMENT_HEADER + 284), records: 9, segments: 3 });
      await assert.rejects(log.read(5, 10, 1 << 20), RangeError);
      assert.equal(text((await log.read(6, 1, 1 << 20))[0]?.data ?? Buffer.alloc(0)), 's2-0');
      await log.release(100);
      assert.deepEqual((await segmentFiles(dir)).length, 1);
      assert.equal(log.startOffset, 12);
      await log.close();
    });
  });

  test('a torn tail frame is truncated on open and every complete frame is kept', async () => {
    await withDir(async (dir) => {
      const log = await openStreamLog({ dir });
      for (let i = 0; i < 4; i++) await log.append(records(`t${i}`, 2), i);
      await log.close();
      const [file] = await segmentFiles(dir);
      const path = join(dir, file ?? '');
      const size = (await stat(path)).size;
      const frame = FRAME_HEADER + 2 * 84;
      // Cut the last frame in half, then add garbage as a crash during a later write might.
      await truncate(path, size - Math.floor(frame / 2));
      await appendFile(path, Buffer.from('garbage that is not a frame'));
      const logger = recordingLogger();
      const reopened = await openStreamLog({ dir, logger });
      assert.equal(reopened.endOffset, 6);
      assert.deepEqual(await readAll(reopened), ['t0-0', 't0-1', 't1-0', 't1-1', 't2-0', 't2-1']);
      assert.equal((await stat(path)).size, size - frame);
      assert.ok(
        logger.lines.some((l) => l.includes('offset 6')),
        logger.lines.join('\n'),
      );
      assert.equal(await reopened.append(records('new', 1), 9), 6);
      await reopened.close();
      const again = await openStreamLog({ dir });
      assert.deepEqual((await readAll(again)).slice(-2), ['t2-1', 'new-0']);
      await again.close();
    });
  });

  test('a flipped byte in the last frame drops only that frame', async () => {
    await withDir(async (dir) => {
      const log = await openStreamLog({ dir });
      for (let i = 0; i < 3; i++) await log.append(records(`f${i}`, 2), i);
      await log.close();
      const [file] = await segmentFiles(dir);
      const path = join(dir, file ?? '');
      const bytes = await readFile(path);
      const target = bytes.length - 10;
      bytes[target] = (bytes[target] ?? 0) ^ 0x01;
      await writeFile(path, bytes);
      const reopened = await openStreamLog({ dir });
      assert.equal(reopened.endOffset, 4);
      assert.deepEqual(await readAll(reopened), ['f0-0', 'f0-1', 'f1-0', 'f1-1']);
      await reopened.close();
    });
  });

  test('a corrupt frame in an older segment makes open fail naming the file and byte position', async () => {
    await withDir(async (dir) => {
      const log = await openStreamLog({ dir, segmentBytes: 300 });
      for (let i = 0; i < 3; i++) await log.append(records(`c${i}`, 3), i);
      await log.close();
      const [first] = await segmentFiles(dir);
      const path = join(dir, first ?? '');
      const handle = await open(path, 'r+');
      await handle.write(Buffer.from('XXXX'), 0, 4, SEGMENT_HEADER);
      await handle.close();
      await assert.rejects(openStreamLog({ dir, segmentBytes: 300 }), (err: Error) => {
        assert.ok(err.message.includes(path), err.message);
        assert.ok(err.message.includes(`byte ${SEGMENT_HEADER}`), err.message);
        return true;
      });
    });
  });

  test('a segment whose deletion a crash undid is removed on open', async () => {
    await withDir(async (dir) => {
      const log = await openStreamLog({ dir, segmentBytes: 300 });
      for (let i = 0; i < 4; i++) await log.append(records(`g${i}`, 3), i);
      const [oldest] = await segmentFiles(dir);
      const saved = join(dir, '..', 'saved');
      await copyFile(join(dir, oldest ?? ''), saved);
      await log.release(6);
      await log.close();
      await copyFile(saved, join(dir, oldest ?? ''));
      const reopened = await openStreamLog({ dir, segmentBytes: 300 });
      assert.equal(reopened.startOffset, 6);
      assert.equal(reopened.endOffset, 12);
      assert.deepEqual((await segmentFiles(dir)).length, 2);
      await reopened.close();
    });
  });

  test('many concurrent appends are group-committed into few fdatasyncs', async () => {
    await withDir(async (dir) => {
      let syncs = 0;
      const log = await openStreamLog({ dir }, { onSync: () => syncs++ });
      const firsts = await Promise.all(
        Array.from({ length: 200 }, (_, i) => log.append(records(`p${i}`, 5), i)),
      );
      assert.ok(syncs <= 10, `200 appends took ${syncs} fdatasyncs`);
      assert.deepEqual(
        [...firsts].sort((a, b) => a - b),
        Array.from({ length: 200 }, (_, i) => i * 5),
      );
      for (const [i, first] of firsts.entries()) {
        const got = await log.read(first, 5, 1 << 20);
        assert.deepEqual(
          got.map((r) => text(r.data)),
          records(`p${i}`, 5).map(text),
        );
      }
      await log.close();
    });
  });

  test('maxBytes refuses appends with LogFullError until space is released', async () => {
    await withDir(async (dir) => {
      const log = await openStreamLog({ dir, segmentBytes: 300, maxBytes: 1500 });
      let accepted = 0;
      let refused: unknown = null;
      while (refused === null) {
        try {
          await log.append(records(`m${accepted}`, 3), 1);
          accepted++;
        } catch (err) {
          refused = err;
        }
      }
      // Five segments of one 284-byte frame each fill the 1500 bytes exactly.
      assert.ok(refused instanceof LogFullError);
      assert.equal(accepted, 5);
      assert.deepEqual(log.stats(), { bytes: 1500, records: 15, segments: 5 });
      await assert.rejects(log.append(records('again', 3), 1), LogFullError);
      assert.equal(log.endOffset, 15);
      await log.release(log.endOffset);
      assert.equal(await log.append(records('after', 3), 2), 15);
      assert.deepEqual((await readAll(log)).slice(-3), ['after-0', 'after-1', 'after-2']);
      await log.close();
    });
  });

  test('maxPendingBytes refuses appends with LogFullError at once and later appends succeed', async () => {
    await withDir(async (dir) => {
      const log = await openStreamLog({ dir, maxPendingBytes: 3000 });
      // Each frame is 32 + 10 * 84 = 872 bytes; three fit in 3000 bytes, the fourth does not.
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => log.append(records(`q${i}`, 10), i)),
      );
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected'],
      );
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof LogFullError);
      assert.equal(log.endOffset, 30);
      assert.equal(await log.append(records('later', 10), 9), 30);
      await log.close();
    });
  });

  test('a write that fails with ENOSPC is rolled back and the log stays usable', async () => {
    await withDir(async (dir) => {
      let failNext = false;
      const log = await openStreamLog(
        { dir },
        {
          afterWrite: () => {
            if (!failNext) return;
            failNext = false;
            throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
          },
        },
      );
      await log.append(records('ok', 2), 1);
      const bytes = log.stats().bytes;
      failNext = true;
      await assert.rejects(log.append(records('lost', 2), 2), LogFullError);
      assert.equal(log.endOffset, 2);
      assert.equal(log.stats().bytes, bytes);
      const [file] = await segmentFiles(dir);
      assert.equal((await stat(join(dir, file ?? ''))).size, bytes);
      assert.equal(await log.append(records('next', 2), 3), 2);
      await log.close();
      const reopened = await openStreamLog({ dir });
      assert.deepEqual(await readAll(reopened), ['ok-0', 'ok-1', 'next-0', 'next-1']);
      await reopened.close();
    });
  });

  test('waitFor resolves once a record is durable and rejects when aborted', async () => {
    await withDir(async (dir) => {
      const log = await openStreamLog({ dir });
      let resolved = false;
      const waiting = log.waitFor(0).then(() => (resolved = true));
      await new Promise((r) => setImmediate(r));
      assert.equal(resolved, false);
      await log.append(records('w', 1), 1);
      await waiting;
      assert.equal(resolved, true);
      await log.waitFor(0);
      const controller = new AbortController();
      const aborted = log.waitFor(5, controller.signal);
      controller.abort(new Error('stop'));
      await assert.rejects(aborted, /stop/);
      await log.close();
    });
  });

  test('close waits for queued appends and later appends reject', async () => {
    await withDir(async (dir) => {
      const log = await openStreamLog({ dir });
      const pending = Array.from({ length: 20 }, (_, i) => log.append(records(`z${i}`, 2), i));
      await log.close();
      assert.equal((await Promise.all(pending)).length, 20);
      await assert.rejects(log.append(records('late', 1), 1), /closed/);
      const reopened = await openStreamLog({ dir });
      assert.equal(reopened.endOffset, 40);
      await reopened.close();
      await destroyStreamLog(dir);
      await assert.rejects(stat(dir), { code: 'ENOENT' });
    });
  });

  test('records acknowledged before kill -9 are all there after restart', async () => {
    await withDir(async (dir) => {
      const child = fileURLToPath(new URL('./testdata/append-child.ts', import.meta.url));
      const root = fileURLToPath(new URL('../../', import.meta.url));
      for (let round = 0; round < 3; round++) {
        const acked = await runAndKill(child, root, dir, 300);
        assert.ok(acked.length > 0, `round ${round}: no append was acknowledged`);
        const log = await openStreamLog({ dir, segmentBytes: 256 * 1024 });
        for (const { first, count, id } of acked) {
          const got = await log.read(first, count, 1 << 20);
          assert.equal(got.length, count, `append ${id} at ${first}`);
          for (const [k, r] of got.entries()) assert.equal(text(r.data), `${id}-${k}`);
        }
        const end = Math.max(...acked.map((a) => a.first + a.count));
        assert.ok(log.endOffset >= end);
        await log.close();
      }
    });
  });
});

interface Ack {
  readonly first: number;
  readonly count: number;
  readonly id: string;
}

/** Runs the append child, SIGKILLs it `ms` after it is ready, and returns the appends it acknowledged. */
function runAndKill(child: string, cwd: string, dir: string, ms: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (timer === undefined && out.includes('ready')) timer = setTimeout(() => proc.kill('SIGKILL'), ms);
    });
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    proc.on('error', reject);
    proc.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') {
        reject(new Error(`append child exited without being killed: ${err}`));
        return;
      }
      // Only whole lines count: a line cut by the kill was still being printed.
      const lines = out.slice(0, out.lastIndexOf('\n') + 1).split('\n');
      resolve(
        lines.flatMap((line) => {
          const [first, count, id] = line.split(' ');
          if (first === undefined || count === undefined || id === undefined || first === 'ready') return [];
          return [{ first: Number(first), count: Number(count), id }];
        }),
      );
    });
  });
}

describe('measure', () => {
  test('counts what read would return without reading it out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-log-measure-'));
    try {
      const log = await openStreamLog({ dir, segmentBytes: 4096 });
      for (let i = 0; i < 20; i++) {
        await log.append(
          Array.from({ length: 10 }, (_, k) => Buffer.from(`record-${i}-${k}`)),
          1_000 + i,
        );
      }
      for (const [from, maxRecords, maxBytes] of [
        [0, 1000, 1e9],
        [15, 37, 1e9],
        [42, 1000, 100],
        [199, 10, 1e9],
        [200, 10, 1e9],
      ] as const) {
        const records = await log.read(from, maxRecords, maxBytes);
        const extent = await log.measure(from, maxRecords, maxBytes);
        assert.deepEqual(extent, {
          count: records.length,
          bytes: records.reduce((sum, r) => sum + r.data.length, 0),
          oldestArrivalMs: records[0]?.arrivalMs ?? 0,
        });
      }
      await log.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('readData', () => {
  test('copies a range of records out in bulk, each followed by the delimiter, across segments', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-log-data-'));
    try {
      const log = await openStreamLog({ dir, segmentBytes: 4096 });
      for (let i = 0; i < 30; i++) {
        await log.append(
          Array.from({ length: 20 }, (_, k) => Buffer.from(`{"i":${i},"k":${k}}`)),
          5_000 + i,
        );
      }
      for (const [first, last] of [
        [0, 599],
        [37, 412],
        [599, 599],
      ] as const) {
        const records = await log.read(first, last - first + 1, Number.MAX_SAFE_INTEGER);
        const plain = await log.readData(first, last);
        assert.deepEqual(plain.data, Buffer.concat(records.map((r) => r.data)));
        assert.equal(plain.count, last - first + 1);
        assert.equal(plain.oldestArrivalMs, records[0]!.arrivalMs);
        const lines = await log.readData(first, last, Buffer.from('\n'));
        assert.equal(lines.data.toString(), records.map((r) => `${r.data.toString()}\n`).join(''));
      }
      await assert.rejects(() => log.readData(590, 700), RangeError);
      await log.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
