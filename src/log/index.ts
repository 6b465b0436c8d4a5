/**
 * The durable per-stream record log.
 *
 * CONTRACT (the implementation documents its on-disk format and invariants at the top of
 * its own file and repeats the summary here):
 *
 * - `append()` resolves only after the records are written AND fsynced (fdatasync) to disk.
 *   A record whose append resolved survives kill -9 and power loss.
 * - Offsets are dense: the first record ever appended is offset 0, then 1, 2, ... Offsets are
 *   never reused, also not after segments are deleted or after a restart.
 * - Every record stores its arrival time (ms since epoch, the time passed to append) and is
 *   covered by a checksum. On open, recovery scans the tail and truncates a torn or corrupt
 *   tail; everything that was acknowledged is kept.
 * - `read()` returns only durable records, in offset order.
 * - Space is reclaimed only below the offset passed to `release()`.
 * - Bounded: when retained bytes would exceed `maxBytes`, or bytes waiting to be fsynced
 *   exceed `maxPendingBytes`, or the disk is full, `append()` rejects with LogFullError and
 *   writes nothing.
 *
 * SUMMARY of `stream-log.ts` (the full format and the MUST rules are at the top of that file):
 * - Folder of segment files `<base offset, 20 digits>.seg`, each a 16-byte header (magic
 *   "SLSG", format version 1, base offset) then one frame per append(): a 32-byte header
 *   (magic "SLFR", crc32 of the rest of the frame, length, record count, first offset,
 *   arrivalMs) and the records as u32 length + bytes.
 * - The fsync point: one writer loop writes every queued frame with one writev, then one
 *   fdatasync, then resolves those appends (group commit).
 * - Recovery truncates the newest segment at its first torn or corrupt frame; a bad frame in
 *   an older segment makes open() throw, naming the file and byte position.
 * - The newest segment is never deleted, so offsets survive release() and restarts.
 * - Records returned by read() share memory with the log's cache: treat `data` as read-only.
 */

import type { Logger } from '../util/logger.ts';

/** One record read back from the log. */
export interface LogRecord {
  /** Dense position of the record in its stream, from 0. */
  readonly offset: number;
  /** Arrival time in milliseconds since the epoch. */
  readonly arrivalMs: number;
  /** The record's bytes as the producer sent them (after base64 decoding). */
  readonly data: Buffer;
}

/** A durable, append-only log of one delivery stream. */
export interface StreamLog {
  /** Appends records; resolves with the offset of the first once all are fsynced. */
  append(records: readonly Buffer[], arrivalMs: number): Promise<number>;
  /** Reads durable records from `from` (inclusive): at most maxRecords and about maxBytes (at least one record). */
  read(from: number, maxRecords: number, maxBytes: number): Promise<LogRecord[]>;
  /**
   * The bytes of records first..last (inclusive) concatenated, each followed by `delimiter`,
   * in one Buffer and without a per-record object: for delivering large batches.
   */
  readData(first: number, last: number, delimiter?: Buffer): Promise<LogData>;
  /** Like read(), but only counts: how many records and bytes it would return, and the first one's arrival time. */
  measure(from: number, maxRecords: number, maxBytes: number): Promise<LogExtent>;
  /** Resolves once a durable record exists at `offset` (or at once if one does), or rejects when `signal` aborts. */
  waitFor(offset: number, signal?: AbortSignal): Promise<void>;
  /** Says that every record below `offset` is committed downstream; space below it may be reclaimed. */
  release(offset: number): Promise<void>;
  /** The offset the next appended record gets (equals the count of records ever appended). */
  readonly endOffset: number;
  /** The oldest offset still stored. */
  readonly startOffset: number;
  /** Sizes for metrics and back-pressure. */
  stats(): LogStats;
  /** Flushes and closes files; pending appends finish first. */
  close(): Promise<void>;
}

/** Record bytes read out in bulk. */
export interface LogData extends LogExtent {
  /** The records' bytes, each followed by the delimiter when one was given. */
  readonly data: Buffer;
}

/** What a read would return, counted without reading the records out. */
export interface LogExtent {
  /** Records. */
  readonly count: number;
  /** Bytes of record data. */
  readonly bytes: number;
  /** Arrival time of the first record (0 when count is 0). */
  readonly oldestArrivalMs: number;
}

/** Sizes of one log. */
export interface LogStats {
  /** Bytes stored in segment files. */
  readonly bytes: number;
  /** Records stored (endOffset - startOffset). */
  readonly records: number;
  /** Number of segment files. */
  readonly segments: number;
}

/** Options for opening a stream log. */
export interface StreamLogOptions {
  /** Folder that holds this stream's segments; created if missing. */
  readonly dir: string;
  /** Roll to a new segment file past this many bytes (default 64 MiB). */
  readonly segmentBytes?: number;
  /** Most bytes retained on disk before appends are refused (default 4 GiB). */
  readonly maxBytes?: number;
  /** Most bytes queued in memory awaiting fsync before appends are refused (default 64 MiB). */
  readonly maxPendingBytes?: number;
  /** Logger for recovery and errors. */
  readonly logger?: Logger;
}

// Defined in its own file so the implementation can throw it without importing this file back.
export { LogFullError } from './errors.ts';

export { openStreamLog, destroyStreamLog } from './stream-log.ts';
