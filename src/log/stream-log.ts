/**
 * The durable per-stream record log: segment files of checksummed frames, group-committed
 * with one fdatasync per round.
 *
 * ON-DISK FORMAT (version 1; all integers big-endian)
 *
 *   <dir>/<base offset, 20 digits>.seg   one segment; <base> is the offset of its first record
 *
 *   Segment header, 16 bytes:
 *     0  u32  magic 0x534c5347 ("SLSG")
 *     4  u16  format version (1)
 *     6  u16  flags (0)
 *     8  u64  base offset (equals the number in the file name)
 *   Then frames back to back, one per append() call. Frame header, 32 bytes:
 *     0  u32  magic 0x534c4652 ("SLFR")
 *     4  u32  crc32 (zlib) of bytes 8 .. length of this frame: the header fields below and all records
 *     8  u32  length of the whole frame in bytes, header included
 *    12  u32  record count (at least 1)
 *    16  u64  offset of the frame's first record
 *    24  f64  arrival time in milliseconds since the epoch, shared by the frame's records
 *   Then `count` records, each a u32 byte length followed by the bytes.
 *
 * DURABILITY (where a record can and cannot be lost)
 *
 * - append() MUST resolve only after its frame was written and the segment file fdatasync'ed.
 *   That fdatasync is the one and only durability point; a record whose append resolved
 *   survives kill -9 and power loss. A record whose append did not resolve may be lost.
 * - Group commit: one writer loop takes every queued frame, writes them with one writev and
 *   makes them durable with one fdatasync; appends arriving meanwhile wait for the next round.
 * - A new segment MUST be written as `<name>.tmp`, fdatasync'ed, renamed and the folder
 *   fsync'ed before any frame goes into it, so a segment file always has a whole header.
 *   The previous segment is fdatasync'ed before the roll, so only the newest segment can end
 *   in a torn frame.
 * - Offsets MUST be dense from 0 and never reused. The newest segment is never deleted, so
 *   its base offset plus its frames give the next offset after a restart, also when every
 *   older segment was released.
 * - read() MUST return only durable records (those below endOffset), in offset order, each
 *   frame checked against its crc when it comes from disk.
 * - Recovery on open MUST keep every acknowledged record: the newest segment is scanned frame
 *   by frame with crcs verified and truncated (ftruncate + fdatasync) at its first short,
 *   malformed or corrupt frame, which is logged with its offset and byte position; that can
 *   only be a frame whose append never resolved. Older segments are scanned header by header
 *   to rebuild the frame index; a bad frame there MUST make open() throw an Error naming the
 *   file and byte position instead of dropping acknowledged data.
 * - release(offset) MUST delete only whole segments below `offset`, oldest first, never the
 *   newest. A segment left behind by a release that a crash interrupted (older than a gap in
 *   the offsets) is deleted on open.
 * - append() MUST write nothing and reject with LogFullError when retained plus queued bytes
 *   plus the new frame would exceed maxBytes, or queued bytes would exceed maxPendingBytes.
 *   A write or fdatasync that fails (ENOSPC: LogFullError) truncates the segment back to its
 *   last durable byte and rejects that round and every append queued behind it, whose offsets
 *   depended on it; the log then stays usable. If even that truncation fails, every later
 *   append rejects with the failure.
 *
 * One process MUST own a log folder at a time; nothing here locks it.
 */
import { mkdir, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from '../util/logger.ts';
import { silentLogger } from '../util/logger.ts';
import { LogFullError } from './errors.ts';
import type { LogData, LogExtent, LogRecord, LogStats, StreamLog, StreamLogOptions } from './index.ts';

/** The format version written into every segment header. */
export const LOG_FORMAT_VERSION = 1;

/** readData() copies in slices of about this many bytes, yielding in between. */
const READ_DATA_SLICE_BYTES = 4 * 1024 * 1024;
const SEGMENT_MAGIC = 0x534c5347;
const FRAME_MAGIC = 0x534c4652;
const SEGMENT_HEADER_BYTES = 16;
const FRAME_HEADER_BYTES = 32;
const RECORD_HEADER_BYTES = 4;
const MAX_FRAME_BYTES = 0xffff_ffff;
const TWO_POW_32 = 0x1_0000_0000;

const SEGMENT_NAME = /^(\d{20})\.seg$/;
const TMP_SUFFIX = '.tmp';

const MIB = 1024 * 1024;
const DEFAULT_SEGMENT_BYTES = 64 * MIB;
const DEFAULT_MAX_BYTES = 4 * 1024 * MIB;
const DEFAULT_MAX_PENDING_BYTES = 64 * MIB;
const DEFAULT_CACHE_BYTES = 32 * MIB;
/** A frame index entry every this many bytes keeps the index small for logs of tiny frames. */
const INDEX_INTERVAL_BYTES = 32 * 1024;
/** Bytes read from a segment file at a time by reads and recovery. */
const READ_WINDOW_BYTES = 1 * MIB;

/** Hooks and tuning that are not part of the contract; for tests and benchmarks. */
export interface StreamLogExtras {
  /** Bytes of recently written frames kept in memory for reads (default 32 MiB; 0 reads from disk). */
  readonly cacheBytes?: number;
  /** Called after every fdatasync of a segment file; lets tests count group-commit rounds. */
  readonly onSync?: () => void;
  /** Called after each write round, before its fdatasync; throwing here acts as a failed write (the bytes are on disk). */
  readonly afterWrite?: (file: string, position: number, bytes: number) => void;
}

/** Opens (creating or recovering) the log in `options.dir`. */
export async function openStreamLog(
  options: StreamLogOptions,
  extras: StreamLogExtras = {},
): Promise<StreamLog> {
  const settings = {
    dir: options.dir,
    segmentBytes: positive('segmentBytes', options.segmentBytes ?? DEFAULT_SEGMENT_BYTES),
    maxBytes: positive('maxBytes', options.maxBytes ?? DEFAULT_MAX_BYTES),
    maxPendingBytes: positive('maxPendingBytes', options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES),
    cacheBytes: nonNegative('cacheBytes', extras.cacheBytes ?? DEFAULT_CACHE_BYTES),
    logger: (options.logger ?? silentLogger).child({ log: options.dir }),
    onSync: extras.onSync,
    afterWrite: extras.afterWrite,
  };
  const { segments, endOffset, handle } = await recover(settings.dir, settings.logger);
  return new FileStreamLog(settings, segments, endOffset, handle);
}

/** Deletes a log's folder and everything in it; the log must be closed. */
export async function destroyStreamLog(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

interface Settings {
  readonly dir: string;
  readonly segmentBytes: number;
  readonly maxBytes: number;
  readonly maxPendingBytes: number;
  readonly cacheBytes: number;
  readonly logger: Logger;
  readonly onSync: (() => void) | undefined;
  readonly afterWrite: ((file: string, position: number, bytes: number) => void) | undefined;
}

/** One segment file and a sparse index of its frames (first offset and byte position). */
interface Segment {
  readonly base: number;
  readonly path: string;
  /** Durable bytes in the file, header included; frames are only ever read below this. */
  size: number;
  readonly indexFirst: number[];
  readonly indexPosition: number[];
}

/** An append waiting for its round. */
interface PendingFrame {
  readonly buf: Buffer;
  readonly first: number;
  readonly count: number;
  readonly resolve: (first: number) => void;
  readonly reject: (err: Error) => void;
}

/** A durable frame kept in memory for readers close behind the writer. */
interface CachedFrame {
  readonly buf: Buffer;
  readonly first: number;
  readonly count: number;
}

interface Waiter {
  readonly offset: number;
  readonly resolve: () => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/** Limits of one read() and what it has collected so far. */
interface ReadState {
  readonly out: LogRecord[];
  readonly maxRecords: number;
  readonly maxBytes: number;
  bytes: number;
  /** Count records and bytes without materialising them (measure(), readData()). */
  readonly countOnly: boolean;
  /** readData(): where record bytes are copied, each followed by the delimiter. */
  readonly sink?: { readonly target: Buffer; at: number; readonly delimiter: Buffer | undefined };
  /** Records taken so far (equals out.length unless countOnly). */
  taken: number;
  /** Offset after the last record taken. */
  next: number;
  /** Arrival time of the first record taken. */
  firstArrivalMs: number;
}

/** The StreamLog implementation over segment files. */
class FileStreamLog implements StreamLog {
  private readonly settings: Settings;
  private readonly segments: Segment[];
  private handle: FileHandle;
  private durableEnd: number;
  /** Offset the next append gets; runs ahead of durableEnd by the queued and in-flight frames. */
  private nextOffset: number;
  private retainedBytes: number;
  private pendingBytes = 0;
  /** Highest offset passed to release(): records below it are delivered downstream. */
  private releasedOffset = 0;
  private queue: PendingFrame[] = [];
  private writer: Promise<void> | null = null;
  private failure: Error | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;
  private readonly waiters = new Set<Waiter>();
  private cache: CachedFrame[] = [];
  private cacheHead = 0;
  private cacheBytes = 0;

  constructor(settings: Settings, segments: Segment[], endOffset: number, handle: FileHandle) {
    this.settings = settings;
    this.segments = segments;
    this.handle = handle;
    this.durableEnd = endOffset;
    this.nextOffset = endOffset;
    this.retainedBytes = segments.reduce((sum, s) => sum + s.size, 0);
  }

  get endOffset(): number {
    return this.durableEnd;
  }

  get startOffset(): number {
    return (this.segments[0] as Segment).base;
  }

  stats(): LogStats {
    return {
      bytes: this.retainedBytes,
      records: this.durableEnd - this.startOffset,
      segments: this.segments.length,
    };
  }

  append(records: readonly Buffer[], arrivalMs: number): Promise<number> {
    if (this.closed) return Promise.reject(new Error(`Stream log ${this.settings.dir} is closed.`));
    if (this.failure !== null) return Promise.reject(this.failure);
    const count = records.length;
    if (count === 0) return Promise.resolve(this.nextOffset);

    let length = FRAME_HEADER_BYTES + RECORD_HEADER_BYTES * count;
    for (let k = 0; k < count; k++) length += (records[k] as Buffer).length;
    if (length > MAX_FRAME_BYTES) {
      return Promise.reject(new RangeError(`A frame of ${length} bytes exceeds the format's 4 GiB limit.`));
    }
    const { maxPendingBytes, maxBytes, dir } = this.settings;
    if (this.pendingBytes + length > maxPendingBytes) {
      return Promise.reject(
        new LogFullError(
          `Stream log ${dir} has ${this.pendingBytes} bytes waiting for fsync; ${length} more would exceed maxPendingBytes ${maxPendingBytes}.`,
        ),
      );
    }
    // A fully released newest segment is rolled away at the next write and deleted at the
    // next release, so its bytes do not count: otherwise a log smaller than one segment
    // that filled up once would stay full for good.
    const reclaimable = this.activeReleased() ? this.active().size : 0;
    if (this.retainedBytes - reclaimable + this.pendingBytes + length > maxBytes) {
      return Promise.reject(
        new LogFullError(
          `Stream log ${dir} holds ${this.retainedBytes + this.pendingBytes} bytes; ${length} more would exceed maxBytes ${maxBytes}.`,
        ),
      );
    }

    const first = this.nextOffset;
    const buf = Buffer.allocUnsafe(length);
    buf.writeUInt32BE(FRAME_MAGIC, 0);
    buf.writeUInt32BE(length, 8);
    buf.writeUInt32BE(count, 12);
    buf.writeUInt32BE(Math.floor(first / TWO_POW_32), 16);
    buf.writeUInt32BE(first >>> 0, 20);
    buf.writeDoubleBE(arrivalMs, 24);
    let at = FRAME_HEADER_BYTES;
    for (let k = 0; k < count; k++) {
      const record = records[k] as Buffer;
      buf.writeUInt32BE(record.length, at);
      buf.set(record, at + RECORD_HEADER_BYTES);
      at += RECORD_HEADER_BYTES + record.length;
    }
    // Checksummed here rather than in the writer loop so it overlaps the fdatasync in flight.
    buf.writeUInt32BE(crc32(buf.subarray(8)), 4);

    this.nextOffset = first + count;
    this.pendingBytes += length;
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ buf, first, count, resolve, reject });
      // Deferred by a microtask so appends issued in the same tick share the first round.
      this.writer ??= Promise.resolve().then(() => this.runWriter());
    });
  }

  async read(from: number, maxRecords: number, maxBytes: number): Promise<LogRecord[]> {
    return (await this.scan(from, maxRecords, maxBytes, false)).out;
  }

  async measure(from: number, maxRecords: number, maxBytes: number): Promise<LogExtent> {
    const state = await this.scan(from, maxRecords, maxBytes, true);
    return { count: state.taken, bytes: state.bytes, oldestArrivalMs: state.firstArrivalMs };
  }

  async readData(first: number, last: number, delimiter?: Buffer): Promise<LogData> {
    const extent = await this.measure(first, last - first + 1, Number.MAX_SAFE_INTEGER);
    if (extent.count !== last - first + 1) {
      throw new RangeError(
        `Offsets ${first}..${last} are not all in the log (it ends at ${this.durableEnd}).`,
      );
    }
    const sink = {
      target: Buffer.allocUnsafe(extent.bytes + extent.count * (delimiter?.length ?? 0)),
      at: 0,
      delimiter,
    };
    let next = first;
    while (next <= last) {
      const state = await this.scan(next, last - next + 1, READ_DATA_SLICE_BYTES, true, sink);
      if (state.taken === 0) throw new RangeError(`Offset ${next} could not be read.`);
      next = state.next;
      // Slices keep a large copy from holding the event loop (and the appends behind it).
      if (next <= last) await new Promise((resolve) => setImmediate(resolve));
    }
    return {
      data: sink.target,
      count: extent.count,
      bytes: extent.bytes,
      oldestArrivalMs: extent.oldestArrivalMs,
    };
  }

  private async scan(
    from: number,
    maxRecords: number,
    maxBytes: number,
    countOnly: boolean,
    sink?: ReadState['sink'],
  ): Promise<ReadState> {
    if (this.closed) throw new Error(`Stream log ${this.settings.dir} is closed.`);
    if (!Number.isSafeInteger(from) || from < 0)
      throw new RangeError(`Offset ${from} is not a valid offset.`);
    if (from < this.startOffset) {
      throw new RangeError(`Offset ${from} was released; the log starts at ${this.startOffset}.`);
    }
    const end = this.durableEnd;
    const state: ReadState = {
      out: [],
      maxRecords,
      maxBytes,
      bytes: 0,
      countOnly,
      ...(sink ? { sink } : {}),
      taken: 0,
      next: from,
      firstArrivalMs: 0,
    };
    if (from >= end || maxRecords < 1) return state;
    for (;;) {
      const next = state.next;
      if (next >= end) break;
      const before = state.taken;
      const stopped =
        next >= this.cacheStart() ? this.readCache(next, state) : await this.readDisk(next, state);
      if (stopped || state.taken === before) break;
    }
    return state;
  }

  waitFor(offset: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (offset < this.durableEnd) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error(`Stream log ${this.settings.dir} is closed.`));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        offset,
        resolve,
        reject,
        signal,
        onAbort: () => {
          this.waiters.delete(waiter);
          reject(signal?.reason);
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  async release(offset: number): Promise<void> {
    if (offset > this.releasedOffset) this.releasedOffset = offset;
    const doomed: Segment[] = [];
    // The newest segment stays: its base offset is what keeps offsets from being reused.
    while (this.segments.length > 1) {
      const oldest = this.segments[0] as Segment;
      const nextBase = (this.segments[1] as Segment).base;
      if (nextBase > offset) break;
      this.segments.shift();
      this.retainedBytes -= oldest.size;
      doomed.push(oldest);
    }
    if (doomed.length === 0) return;
    this.dropCacheBelow(this.startOffset);
    for (const segment of doomed) {
      try {
        await unlink(segment.path);
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') throw err;
      }
      // Each deletion is made durable before the next, so a crash leaves only a prefix undeleted.
      await fsyncDir(this.settings.dir);
    }
    this.settings.logger.debug(
      { segments: doomed.length, startOffset: this.startOffset },
      `Released log segments below offset ${offset}.`,
    );
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    while (this.writer !== null) await this.writer;
    await this.handle.close();
    const error = new Error(`Stream log ${this.settings.dir} is closed.`);
    for (const waiter of this.waiters) {
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(error);
    }
    this.waiters.clear();
    this.cache = [];
    this.cacheHead = 0;
    this.cacheBytes = 0;
  }

  /** True when every record of the newest segment is released and none is in flight. */
  private activeReleased(): boolean {
    return this.releasedOffset >= this.durableEnd && this.nextOffset === this.durableEnd;
  }

  private active(): Segment {
    return this.segments[this.segments.length - 1] as Segment;
  }

  private async runWriter(): Promise<void> {
    try {
      while (this.queue.length > 0 && this.failure === null) {
        const batch = this.queue;
        this.queue = [];
        await this.writeBatch(batch);
      }
      if (this.failure !== null) this.rejectFrames(this.queue.splice(0), this.failure);
    } finally {
      this.writer = null;
    }
  }

  /** Writes one round: one writev and one fdatasync per segment it touches (one unless it rolls). */
  private async writeBatch(batch: PendingFrame[]): Promise<void> {
    const { segmentBytes } = this.settings;
    let i = 0;
    while (i < batch.length) {
      let segment = this.active();
      // A delivered newest segment rolls early when the log is small, so release() can free it.
      const released =
        this.releasedOffset >= (batch[i] as PendingFrame).first &&
        segment.size >= Math.min(segmentBytes, this.settings.maxBytes / 4);
      if ((segment.size >= segmentBytes || released) && segment.size > SEGMENT_HEADER_BYTES) {
        try {
          segment = await this.roll((batch[i] as PendingFrame).first);
        } catch (err) {
          await this.recoverFromWriteError(batch.slice(i), err, segment);
          return;
        }
      }
      const buffers: Buffer[] = [];
      let j = i;
      let size = segment.size;
      do {
        const frame = batch[j] as PendingFrame;
        buffers.push(frame.buf);
        size += frame.buf.length;
        j++;
      } while (j < batch.length && size < segmentBytes);
      const position = segment.size;
      try {
        await writeAll(this.handle, buffers, position, segment.path);
        this.settings.afterWrite?.(segment.path, position, size - position);
        await this.handle.datasync();
      } catch (err) {
        await this.recoverFromWriteError(batch.slice(i), err, segment);
        return;
      }
      this.settings.onSync?.();
      this.commit(batch, i, j, segment);
      i = j;
    }
  }

  /** Makes frames batch[from..to) visible: index, cache, offsets, then resolves their appends. */
  private commit(batch: PendingFrame[], from: number, to: number, segment: Segment): void {
    let position = segment.size;
    for (let k = from; k < to; k++) {
      const frame = batch[k] as PendingFrame;
      addToIndex(segment, frame.first, position);
      position += frame.buf.length;
      this.pendingBytes -= frame.buf.length;
      this.addToCache(frame);
    }
    this.retainedBytes += position - segment.size;
    segment.size = position;
    const last = batch[to - 1] as PendingFrame;
    this.durableEnd = last.first + last.count;
    for (let k = from; k < to; k++) {
      const frame = batch[k] as PendingFrame;
      frame.resolve(frame.first);
    }
    if (this.waiters.size > 0) {
      for (const waiter of this.waiters) {
        if (waiter.offset < this.durableEnd) {
          this.waiters.delete(waiter);
          waiter.signal?.removeEventListener('abort', waiter.onAbort);
          waiter.resolve();
        }
      }
    }
  }

  /** Rejects a failed round and everything queued behind it, and cuts the file back to its durable end. */
  private async recoverFromWriteError(failed: PendingFrame[], err: unknown, segment: Segment): Promise<void> {
    const { dir, logger } = this.settings;
    // Queued frames carry offsets that assumed the failed ones; they are rejected so offsets stay dense.
    const rejected = failed.concat(this.queue.splice(0));
    this.nextOffset = this.durableEnd;
    const code = errorCode(err);
    const error =
      code === 'ENOSPC' || code === 'EDQUOT'
        ? new LogFullError(`The disk holding stream log ${dir} is full.`, { cause: err })
        : new Error(`Writing stream log ${dir} failed: ${errorMessage(err)}`, { cause: err });
    this.rejectFrames(rejected, error);
    logger.error(
      { err, file: segment.path, position: segment.size, offset: this.durableEnd, appends: rejected.length },
      `A write to ${segment.path} failed; ${rejected.length} appends from offset ${this.durableEnd} were rejected.`,
    );
    try {
      await this.handle.truncate(segment.size);
      await this.handle.datasync();
    } catch (truncateErr) {
      this.failure = new Error(
        `Stream log ${dir} could not cut ${segment.path} back to byte ${segment.size} after a failed write; it accepts no more appends.`,
        { cause: truncateErr },
      );
      logger.error({ err: truncateErr, file: segment.path }, this.failure.message);
      this.rejectFrames(this.queue.splice(0), this.failure);
    }
  }

  private rejectFrames(frames: PendingFrame[], error: Error): void {
    for (const frame of frames) {
      this.pendingBytes -= frame.buf.length;
      frame.reject(error);
    }
  }

  /** Starts a new segment at `base` and makes it the one appends go to. */
  private async roll(base: number): Promise<Segment> {
    const segment = await createSegment(this.settings.dir, base);
    let handle: FileHandle;
    try {
      handle = await open(segment.path, 'r+');
    } catch (err) {
      await unlink(segment.path).catch(() => undefined);
      throw err;
    }
    const previous = this.handle;
    this.handle = handle;
    this.segments.push(segment);
    this.retainedBytes += segment.size;
    // The previous segment was fdatasync'ed after its last frame; failing to close it loses nothing.
    await previous.close().catch((err: unknown) => {
      this.settings.logger.warn({ err }, `Closing a full log segment failed: ${errorMessage(err)}`);
    });
    this.settings.logger.debug(
      { file: segment.path, offset: base },
      `Rolled to a new log segment at offset ${base}.`,
    );
    return segment;
  }

  private cacheStart(): number {
    return (this.cache[this.cacheHead] as CachedFrame | undefined)?.first ?? this.durableEnd;
  }

  private addToCache(frame: PendingFrame): void {
    const { cacheBytes } = this.settings;
    if (cacheBytes === 0) return;
    this.cache.push({ buf: frame.buf, first: frame.first, count: frame.count });
    this.cacheBytes += frame.buf.length;
    while (this.cacheBytes > cacheBytes && this.cacheHead < this.cache.length) {
      this.evictOldest();
    }
  }

  private dropCacheBelow(offset: number): void {
    for (;;) {
      const oldest = this.cache[this.cacheHead];
      if (oldest === undefined || oldest.first + oldest.count > offset) return;
      this.evictOldest();
    }
  }

  private evictOldest(): void {
    const oldest = this.cache[this.cacheHead] as CachedFrame;
    this.cacheBytes -= oldest.buf.length;
    this.cacheHead++;
    // Compacts rarely, so evicting stays O(1) on average.
    if (this.cacheHead > 1024 && this.cacheHead * 2 > this.cache.length) {
      this.cache = this.cache.slice(this.cacheHead);
      this.cacheHead = 0;
    }
  }

  /** Reads from the in-memory frames; returns true once the read is full. */
  private readCache(next: number, state: ReadState): boolean {
    const cache = this.cache;
    let lo = this.cacheHead;
    let hi = cache.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((cache[mid] as CachedFrame).first <= next) lo = mid;
      else hi = mid - 1;
    }
    for (let k = lo; k < cache.length; k++) {
      const frame = cache[k] as CachedFrame;
      if (takeRecords(frame.buf, 0, frame.first, frame.count, next, state)) return true;
    }
    return false;
  }

  /** Reads from the segment file that holds `next`; returns true once the read is full. */
  private async readDisk(next: number, state: ReadState): Promise<boolean> {
    // A release() may have run while an earlier part of this read awaited the disk.
    if (next < this.startOffset) {
      throw new RangeError(`Offset ${next} was released; the log starts at ${this.startOffset}.`);
    }
    const segment = this.segmentFor(next);
    const limit = segment.size;
    const start = indexLookup(segment, next);
    let handle: FileHandle;
    try {
      handle = await open(segment.path, 'r');
    } catch (err) {
      if (errorCode(err) === 'ENOENT' && next < this.startOffset) {
        throw new RangeError(`Offset ${next} was released; the log starts at ${this.startOffset}.`);
      }
      throw err;
    }
    try {
      const window = new FileWindow(handle, segment.path, limit, null);
      let position = start;
      while (position < limit) {
        let at = await window.view(position, FRAME_HEADER_BYTES);
        const header = readFrameHeader(window.buf, at);
        if (
          header.magic !== FRAME_MAGIC ||
          header.length < FRAME_HEADER_BYTES ||
          position + header.length > limit
        ) {
          throw corruptFrame(segment.path, position, 'bad frame header');
        }
        if (header.first + header.count > next) {
          at = await window.view(position, header.length);
          if (window.buf.readUInt32BE(at + 4) !== crc32(window.buf.subarray(at + 8, at + header.length))) {
            throw corruptFrame(segment.path, position, 'bad checksum');
          }
          if (takeRecords(window.buf, at, header.first, header.count, next, state)) return true;
        }
        position += header.length;
      }
      return false;
    } finally {
      await handle.close();
    }
  }

  private segmentFor(offset: number): Segment {
    const segments = this.segments;
    let lo = 0;
    let hi = segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((segments[mid] as Segment).base <= offset) lo = mid;
      else hi = mid - 1;
    }
    return segments[lo] as Segment;
  }
}

/** Appends the records of one frame at or after `from` to the read; returns true once it is full. */
function takeRecords(
  buf: Buffer,
  frameAt: number,
  first: number,
  count: number,
  from: number,
  state: ReadState,
): boolean {
  const arrivalMs = buf.readDoubleBE(frameAt + 24);
  const { out } = state;
  let at = frameAt + FRAME_HEADER_BYTES;
  for (let k = 0; k < count; k++) {
    const length = buf.readUInt32BE(at);
    at += RECORD_HEADER_BYTES;
    const offset = first + k;
    if (offset >= from) {
      if (state.taken >= state.maxRecords || (state.taken > 0 && state.bytes + length > state.maxBytes))
        return true;
      if (state.taken === 0) state.firstArrivalMs = arrivalMs;
      if (!state.countOnly) out.push({ offset, arrivalMs, data: buf.subarray(at, at + length) });
      const sink = state.sink;
      if (sink) {
        buf.copy(sink.target, sink.at, at, at + length);
        sink.at += length;
        if (sink.delimiter) {
          sink.delimiter.copy(sink.target, sink.at);
          sink.at += sink.delimiter.length;
        }
      }
      state.taken++;
      state.next = offset + 1;
      state.bytes += length;
    }
    at += length;
  }
  return false;
}

interface FrameHeader {
  readonly magic: number;
  readonly crc: number;
  readonly length: number;
  readonly count: number;
  readonly first: number;
}

function readFrameHeader(buf: Buffer, at: number): FrameHeader {
  return {
    magic: buf.readUInt32BE(at),
    crc: buf.readUInt32BE(at + 4),
    length: buf.readUInt32BE(at + 8),
    count: buf.readUInt32BE(at + 12),
    first: buf.readUInt32BE(at + 16) * TWO_POW_32 + buf.readUInt32BE(at + 20),
  };
}

function addToIndex(segment: Segment, first: number, position: number): void {
  const positions = segment.indexPosition;
  const lastPosition = positions[positions.length - 1];
  if (lastPosition === undefined || position - lastPosition >= INDEX_INTERVAL_BYTES) {
    segment.indexFirst.push(first);
    positions.push(position);
  }
}

/** Byte position of the last indexed frame starting at or before `offset`. */
function indexLookup(segment: Segment, offset: number): number {
  const firsts = segment.indexFirst;
  let lo = 0;
  let hi = firsts.length - 1;
  if (hi < 0 || (firsts[0] as number) > offset) return SEGMENT_HEADER_BYTES;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((firsts[mid] as number) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return segment.indexPosition[lo] as number;
}

/** Reads a file through a window of about READ_WINDOW_BYTES, refilled as positions move past it. */
class FileWindow {
  /** The current window; valid until the next view() call. */
  buf: Buffer = Buffer.alloc(0);
  private start = 0;

  /** `scratch` is reused for every refill when given; without it, each refill gets a new buffer, so views handed out stay valid. */
  constructor(
    private readonly handle: FileHandle,
    private readonly path: string,
    private readonly limit: number,
    private readonly scratch: Buffer | null,
  ) {}

  /** Makes bytes [position, position + length) available in `buf` and returns where they start. */
  async view(position: number, length: number): Promise<number> {
    if (position >= this.start && position + length <= this.start + this.buf.length)
      return position - this.start;
    const size = Math.min(Math.max(length, READ_WINDOW_BYTES), this.limit - position);
    const target =
      this.scratch !== null && size <= this.scratch.length
        ? this.scratch.subarray(0, size)
        : Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await this.handle.read(target, filled, size - filled, position + filled);
      if (bytesRead === 0) throw corruptFrame(this.path, position + filled, 'file ends early');
      filled += bytesRead;
    }
    this.buf = target;
    this.start = position;
    return 0;
  }
}

interface Recovered {
  readonly segments: Segment[];
  readonly endOffset: number;
  readonly handle: FileHandle;
}

interface ScanResult {
  readonly segment: Segment;
  /** Offset after the last good frame. */
  readonly end: number;
  /** Why the scan stopped before the end of the file, at byte segment.size. */
  readonly problem: string | null;
  readonly fileBytes: number;
}

/** Scans the folder, repairs the newest segment's tail and opens it for appending. */
async function recover(dir: string, logger: Logger): Promise<Recovered> {
  // New folders' entries are made durable too, or a power loss could take the whole log with them.
  const created = await mkdir(dir, { recursive: true });
  if (created !== undefined) {
    for (let d = dir; d !== dirname(created); d = dirname(d)) await fsyncDir(dirname(d));
  }
  const names = (await readdir(dir)).sort();
  for (const name of names) {
    if (name.endsWith(TMP_SUFFIX)) {
      await unlink(join(dir, name));
      logger.info({ file: join(dir, name) }, `Deleted ${name}, a segment left half-created by a crash.`);
    }
  }
  const bases = names.flatMap((name) => {
    const match = SEGMENT_NAME.exec(name);
    return match ? [Number(match[1])] : [];
  });
  if (bases.length === 0) {
    const segment = await createSegment(dir, 0);
    return { segments: [segment], endOffset: 0, handle: await open(segment.path, 'r+') };
  }

  const scratch = Buffer.allocUnsafe(READ_WINDOW_BYTES);
  const scans: ScanResult[] = [];
  for (let k = 0; k < bases.length; k++) {
    scans.push(await scanSegment(dir, bases[k] as number, k === bases.length - 1, scratch));
  }

  let keepFrom = 0;
  for (let k = 0; k < scans.length - 1; k++) {
    const scan = scans[k] as ScanResult;
    const nextBase = (scans[k + 1] as ScanResult).segment.base;
    if (scan.problem !== null) {
      throw corruptFrame(
        scan.segment.path,
        scan.segment.size,
        `${scan.problem}; it holds acknowledged records`,
      );
    }
    if (scan.end > nextBase) {
      throw new Error(
        `Log segment ${scan.segment.path} ends at offset ${scan.end}, past the start ${nextBase} of the next segment.`,
      );
    }
    if (scan.end < nextBase) keepFrom = k + 1;
  }
  for (const scan of scans.slice(0, keepFrom)) {
    await unlink(scan.segment.path);
    logger.warn(
      { file: scan.segment.path },
      `Deleted ${scan.segment.path}: it lies before a gap in the offsets, left over from a release that a crash interrupted.`,
    );
  }
  if (keepFrom > 0) await fsyncDir(dir);

  const last = scans[scans.length - 1] as ScanResult;
  const handle = await open(last.segment.path, 'r+');
  try {
    if (last.problem !== null) {
      await handle.truncate(last.segment.size);
      await handle.datasync();
      logger.warn(
        {
          file: last.segment.path,
          position: last.segment.size,
          offset: last.end,
          droppedBytes: last.fileBytes - last.segment.size,
        },
        `Truncated ${last.segment.path} at byte ${last.segment.size} (offset ${last.end}): ${last.problem}; ` +
          `${last.fileBytes - last.segment.size} bytes of unacknowledged writes dropped.`,
      );
    }
  } catch (err) {
    await handle.close();
    throw err;
  }
  return { segments: scans.slice(keepFrom).map((s) => s.segment), endOffset: last.end, handle };
}

/** Rebuilds one segment's frame index; verifies checksums when `verify` (the newest segment). */
async function scanSegment(dir: string, base: number, verify: boolean, scratch: Buffer): Promise<ScanResult> {
  const path = join(dir, segmentName(base));
  const handle = await open(path, 'r');
  try {
    const fileBytes = (await handle.stat()).size;
    if (fileBytes < SEGMENT_HEADER_BYTES) throw corruptFrame(path, 0, 'short segment header');
    const window = new FileWindow(handle, path, fileBytes, scratch);
    let at = await window.view(0, SEGMENT_HEADER_BYTES);
    const { buf } = window;
    if (buf.readUInt32BE(at) !== SEGMENT_MAGIC)
      throw corruptFrame(path, 0, 'not a Sluice log segment (bad magic)');
    const version = buf.readUInt16BE(at + 4);
    if (version !== LOG_FORMAT_VERSION) {
      throw new Error(
        `Log segment ${path} has format version ${version}; this build reads version ${LOG_FORMAT_VERSION}.`,
      );
    }
    const headerBase = buf.readUInt32BE(at + 8) * TWO_POW_32 + buf.readUInt32BE(at + 12);
    if (headerBase !== base) throw corruptFrame(path, 8, `header says base offset ${headerBase}`);

    const segment: Segment = { base, path, size: SEGMENT_HEADER_BYTES, indexFirst: [], indexPosition: [] };
    let expected = base;
    const stop = (problem: string): ScanResult => ({ segment, end: expected, problem, fileBytes });
    while (segment.size < fileBytes) {
      const position = segment.size;
      if (fileBytes - position < FRAME_HEADER_BYTES) return stop('short frame header');
      at = await window.view(position, FRAME_HEADER_BYTES);
      const header = readFrameHeader(window.buf, at);
      if (header.magic !== FRAME_MAGIC) return stop('bad frame magic');
      if (header.count < 1 || header.length < FRAME_HEADER_BYTES + RECORD_HEADER_BYTES * header.count) {
        return stop('bad frame length');
      }
      if (position + header.length > fileBytes) return stop('short frame');
      if (header.first !== expected)
        return stop(`frame starts at offset ${header.first}, expected ${expected}`);
      if (verify) {
        at = await window.view(position, header.length);
        const frame = window.buf.subarray(at, at + header.length);
        if (header.crc !== crc32(frame.subarray(8))) return stop('bad checksum');
        if (!recordsFit(frame, header.count)) return stop('record lengths do not fit the frame');
      }
      addToIndex(segment, header.first, position);
      segment.size = position + header.length;
      expected += header.count;
    }
    return { segment, end: expected, problem: null, fileBytes };
  } finally {
    await handle.close();
  }
}

/** True when `count` length-prefixed records fill the frame exactly. */
function recordsFit(frame: Buffer, count: number): boolean {
  let at = FRAME_HEADER_BYTES;
  for (let k = 0; k < count; k++) {
    if (at + RECORD_HEADER_BYTES > frame.length) return false;
    at += RECORD_HEADER_BYTES + frame.readUInt32BE(at);
  }
  return at === frame.length;
}

/** Creates an empty segment atomically: written as .tmp, fdatasync'ed, renamed, folder fsync'ed. */
async function createSegment(dir: string, base: number): Promise<Segment> {
  const path = join(dir, segmentName(base));
  const tmp = path + TMP_SUFFIX;
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  header.writeUInt32BE(SEGMENT_MAGIC, 0);
  header.writeUInt16BE(LOG_FORMAT_VERSION, 4);
  header.writeUInt16BE(0, 6);
  header.writeUInt32BE(Math.floor(base / TWO_POW_32), 8);
  header.writeUInt32BE(base >>> 0, 12);
  try {
    const handle = await open(tmp, 'w');
    try {
      await writeAll(handle, [header], 0, tmp);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dir);
  return { base, path, size: SEGMENT_HEADER_BYTES, indexFirst: [], indexPosition: [] };
}

/** Writes all buffers at `position`, continuing after short writes. */
async function writeAll(
  handle: FileHandle,
  buffers: Buffer[],
  position: number,
  path: string,
): Promise<void> {
  let total = 0;
  for (const b of buffers) total += b.length;
  let { bytesWritten } = await handle.writev(buffers, position);
  while (bytesWritten < total) {
    // Rare (a signal or a nearly full disk): write what is left as one buffer.
    const rest = Buffer.concat(buffers).subarray(bytesWritten);
    const result = await handle.write(rest, 0, rest.length, position + bytesWritten);
    if (result.bytesWritten === 0)
      throw new Error(`Writing ${path} made no progress at byte ${position + bytesWritten}.`);
    bytesWritten += result.bytesWritten;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function segmentName(base: number): string {
  return `${String(base).padStart(20, '0')}.seg`;
}

function corruptFrame(path: string, position: number, reason: string): Error {
  return new Error(`Corrupt log segment ${path} at byte ${position}: ${reason}.`);
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function positive(name: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value))
    throw new RangeError(`${name} must be a positive number, not ${value}.`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!(value >= 0) || !Number.isFinite(value))
    throw new RangeError(`${name} must be zero or more, not ${value}.`);
  return value;
}
