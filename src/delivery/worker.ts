/**
 * The delivery worker of one stream's destination: it buffers records from the stream's
 * log by BufferingHints, writes each batch to the lake, and for a Redshift destination
 * writes a manifest and COPYs the batch into the warehouse. See guarantees.md for the
 * MUST rules this file keeps; the comments below name the rule each step serves.
 *
 * State file `destination-000000000001.json` (format 1):
 *   { format, next, pending? }  next = first offset not yet delivered;
 *   pending = the batch being delivered: its offsets, oldest arrival time, stream version
 *   and first attempt time. It is written (fsynced) BEFORE any byte of the batch reaches
 *   the lake, so after a crash the same batch, with the same keys, is delivered again.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { LogRecord, StreamLog } from '../log/index.ts';
import type { ObjectStore } from '../lake/index.ts';
import { formatS3Url } from '../lake/index.ts';
import type { RejectedRecord, Warehouse } from '../warehouse/index.ts';
import type { Logger } from '../util/logger.ts';
import { writeFileAtomic } from '../util/fs.ts';
import {
  bucketOf,
  delimiterOf,
  hintsOf,
  parseJdbcUrl,
  s3Of,
  DESTINATION_ID,
  type StoredStream,
} from './config.ts';
import { manifestKey, objectKey, parsePrefix, rejectedRecordsKey, type BatchIdentity } from './keys.ts';
import type { StreamMetrics } from './metrics.ts';

const gzip = promisify(gzipCallback);

/** Buffers up to this size keep their records in memory; larger ones are read back when due. */
const KEEP_BYTES = 16 * 1024 * 1024;

/** Work on large batches is done in slices of this many bytes, yielding to ingest in between. */
const SLICE_BYTES = 4 * 1024 * 1024;

/** How long a successful warehouse sign-in is trusted before it is checked again. */
const AUTH_TRUST_MS = 30_000;

/** A batch being delivered, as persisted in the state file. */
export interface PendingBatch {
  readonly first: number;
  readonly last: number;
  readonly oldestArrivalMs: number;
  readonly version: number;
  readonly firstAttemptMs: number;
}

/** The persisted state of one destination. */
interface DestinationState {
  readonly format: 1;
  next: number;
  pending?: PendingBatch;
}

/** A delivery error, with the Firehose error code it is logged under. */
export interface DeliveryErrorEntry {
  readonly time: string;
  readonly code: string;
  readonly message: string;
  readonly manifest?: string;
  readonly firstOffset: number;
  readonly lastOffset: number;
}

/** A failure that Firehose logs with an error code, e.g. Redshift.TableNotFound. */
export class DeliveryFailure extends Error {
  override readonly name = 'DeliveryFailure';
  /** Creates a failure with a Firehose error code. */
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the worker needs from its surroundings. */
export interface WorkerOptions {
  readonly statePath: string;
  readonly log: StreamLog;
  readonly objectStore: ObjectStore;
  readonly warehouse: Warehouse;
  readonly metrics: StreamMetrics;
  readonly logger: Logger;
  /** The current configuration (changes with UpdateDestination). */
  readonly stream: () => StoredStream;
  /** True when a ClusterJDBCURL host:port means this Sluice's embedded warehouse. */
  readonly isEmbedded: (host: string, port: number) => boolean;
  /** Called with each delivery error (for the stream's error log). */
  readonly onError: (entry: DeliveryErrorEntry) => void;
  /** Called after a batch is committed, with the next offset to deliver. */
  readonly onCommitted: (next: number) => void;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** Maps a warehouse error to the Firehose Redshift error code it is logged under. */
export function redshiftErrorCode(error: unknown): string {
  if (error instanceof DeliveryFailure) return error.code;
  const sqlstate = (error as { sqlstate?: string }).sqlstate;
  switch (sqlstate) {
    case '42P01':
      return 'Redshift.TableNotFound';
    case '3F000':
      return 'Redshift.TableNotFound';
    case '42703':
      return 'Redshift.ColumnNotFound';
    case '42601':
      return 'Redshift.SyntaxError';
    case '42501':
      return 'Redshift.InsufficientPrivilege';
    case '28P01':
    case '28000':
      return 'Redshift.AuthenticationFailed';
    default:
      return 'Redshift.DataLoadFailed';
  }
}

/** Delivers one destination of one stream, in log order, exactly once. */
export class DestinationWorker {
  private state: DestinationState = { format: 1, next: 0 };
  /**
   * The records buffered towards the next batch: offsets state.next .. state.next+count-1.
   * Small buffers keep the records themselves; past KEEP_BYTES only their count and size are
   * kept and the batch is read back from the log when due, so a 128 MB / 900 s buffer does
   * not hold millions of objects on the heap.
   */
  private buffered = { count: 0, bytes: 0, oldestMs: 0, records: [] as LogRecord[] | undefined };
  private readonly controller = new AbortController();
  private running?: Promise<void>;
  /** When set, buffered records are delivered at once, whatever the interval (shutdown, delete). */
  private flushing = false;
  private wake?: () => void;
  /** The last successful warehouse sign-in (see checkTarget). */
  private auth?: { key: string; until: number };
  /** The next batch of a zero-interval stream, read and encoded ahead (see prepareNext). */
  private prepared?: Promise<
    { first: number; records: LogRecord[]; version: number; body: Buffer } | undefined
  >;

  constructor(private readonly options: WorkerOptions) {}

  /** The first offset not yet delivered. */
  get next(): number {
    return this.state.next;
  }

  /** Arrival time of the oldest record not yet delivered, if any. */
  oldestUndeliveredMs(): number | undefined {
    return (
      this.state.pending?.oldestArrivalMs ?? (this.buffered.count > 0 ? this.buffered.oldestMs : undefined)
    );
  }

  /** Loads the state file and starts the loop. */
  async start(): Promise<void> {
    try {
      const text = await readFile(this.options.statePath, 'utf8');
      const parsed = JSON.parse(text) as DestinationState;
      if (parsed.format !== 1) throw new Error(`unknown state format ${String(parsed.format)}`);
      this.state = parsed;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.state = { format: 1, next: this.options.log.startOffset };
    }
    this.running = this.loop().catch((error: unknown) => {
      this.options.logger.error({ err: error }, 'Delivery stopped after an unexpected error.');
    });
  }

  /** Delivers everything buffered now, ignoring the buffering interval. */
  flush(): void {
    this.flushing = true;
    this.wake?.();
  }

  /** True when every record in the log has been delivered. */
  caughtUp(): boolean {
    return this.state.pending === undefined && this.state.next >= this.options.log.endOffset;
  }

  /** Stops the loop after the batch in flight. */
  async stop(): Promise<void> {
    this.controller.abort();
    this.wake?.();
    await this.running;
  }

  private async saveState(): Promise<void> {
    await writeFileAtomic(this.options.statePath, JSON.stringify(this.state));
  }

  private async loop(): Promise<void> {
    const signal = this.controller.signal;
    while (!signal.aborted) {
      if (this.state.pending) {
        await this.deliverPending(signal);
        continue;
      }
      const prepared = await this.takePrepared();
      if (prepared) {
        // MUST: the batch is fixed on disk before any of it reaches the lake.
        this.state.pending = {
          first: prepared.first,
          last: prepared.first + prepared.records.length - 1,
          oldestArrivalMs: prepared.records[0]!.arrivalMs,
          version: prepared.version,
          firstAttemptMs: Date.now(),
        };
        await this.saveState();
        await this.deliverPending(signal, prepared.records, prepared.body);
        continue;
      }
      const due = await this.collect(signal);
      if (!due) continue;
      const first = this.state.next;
      // MUST: the batch is fixed on disk before any of it reaches the lake.
      this.state.pending = {
        first,
        last: first + due.count - 1,
        oldestArrivalMs: due.oldestMs,
        version: this.options.stream().version,
        firstAttemptMs: Date.now(),
      };
      await this.saveState();
      this.buffered = { count: 0, bytes: 0, oldestMs: 0, records: [] };
      await this.deliverPending(signal, due.records);
    }
  }

  /**
   * Reads and encodes the next batch of a zero-interval stream that is behind while the
   * current one loads, so compression overlaps the COPY. Nothing of it is decided on disk until the loop takes
   * it; a prepared batch whose stream changed meanwhile is dropped.
   */
  private prepareNext(from: number): void {
    const stream = this.options.stream();
    const { sizeBytes, intervalMs } = hintsOf(stream);
    if (intervalMs !== 0 || this.prepared || this.flushing || from >= this.options.log.endOffset) return;
    const gzipped = (s3Of(stream).CompressionFormat ?? 'UNCOMPRESSED') === 'GZIP';
    const prepared = (async () => {
      // Only a backlog is worth reading ahead: when less than half a batch waits, the next
      // batch is fresher if it is collected after this one commits.
      const waiting = await this.options.log.measure(from, 1_000_000, sizeBytes);
      if (waiting.bytes < sizeBytes / 2) return undefined;
      const records = await this.options.log.read(from, 1_000_000, sizeBytes);
      if (records.length === 0) return undefined;
      return {
        first: from,
        records,
        version: stream.version,
        body: await this.encode(records, stream, gzipped),
      };
    })();
    // A failed read or encode only means the loop collects the batch itself.
    this.prepared = prepared.catch(() => undefined);
  }

  /** The prepared batch, if it still starts where delivery is and the stream is unchanged. */
  private async takePrepared(): Promise<
    { first: number; records: LogRecord[]; version: number; body: Buffer } | undefined
  > {
    const prepared = await this.prepared;
    this.prepared = undefined;
    if (!prepared || this.buffered.count > 0) return undefined;
    if (prepared.first !== this.state.next || prepared.version !== this.options.stream().version)
      return undefined;
    return prepared;
  }

  /** Waits for records and returns the buffer once BufferingHints say a batch is due, or undefined to re-check. */
  private async collect(
    signal: AbortSignal,
  ): Promise<{ count: number; oldestMs: number; records: LogRecord[] | undefined } | undefined> {
    const { log } = this.options;
    const { sizeBytes, intervalMs } = hintsOf(this.options.stream());
    const buffered = this.buffered;
    const readFrom = this.state.next + buffered.count;
    if (readFrom < log.endOffset && buffered.bytes < sizeBytes) {
      if (intervalMs > 0 && !this.flushing) {
        // While a buffer fills for seconds or minutes, only its extent is tracked; the batch
        // is read back from the log when it is due.
        const extent = await log.measure(readFrom, 1_000_000, sizeBytes - buffered.bytes);
        if (buffered.count === 0) buffered.oldestMs = extent.oldestArrivalMs;
        buffered.count += extent.count;
        buffered.bytes += extent.bytes;
        buffered.records = undefined;
      } else {
        const records = await log.read(readFrom, 1_000_000, sizeBytes - buffered.bytes);
        for (const record of records) {
          if (buffered.count === 0) buffered.oldestMs = record.arrivalMs;
          buffered.count++;
          buffered.bytes += record.data.length;
          buffered.records?.push(record);
        }
        if (buffered.bytes > KEEP_BYTES) buffered.records = undefined;
      }
    }
    if (buffered.count === 0) {
      await this.waitForData(readFrom, undefined, signal);
      return undefined;
    }
    const dueMs = buffered.oldestMs + intervalMs;
    if (buffered.bytes >= sizeBytes || Date.now() >= dueMs || this.flushing) return buffered;
    await this.waitForData(this.state.next + buffered.count, dueMs, signal);
    return undefined;
  }

  /** Sleeps until a record at `offset` is durable, the deadline passes, a flush is asked, or stop. */
  private async waitForData(
    offset: number,
    deadlineMs: number | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const waiter = new AbortController();
    const onAbort = (): void => waiter.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const timer =
      deadlineMs === undefined ? undefined : setTimeout(onAbort, Math.max(0, deadlineMs - Date.now()));
    this.wake = onAbort;
    try {
      await this.options.log.waitFor(offset, waiter.signal);
    } catch {
      // Woken by the deadline, a flush or stop: the caller re-checks.
    } finally {
      if (timer) clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      this.wake = undefined;
    }
  }

  /** Delivers the pending batch: lake object, then manifest and COPY for Redshift. */
  private async deliverPending(signal: AbortSignal, records?: LogRecord[], encoded?: Buffer): Promise<void> {
    const pending = this.state.pending!;
    const stream = this.options.stream();
    const s3 = s3Of(stream);
    const bucket = bucketOf(s3.BucketARN);
    const batch: BatchIdentity = {
      stream: stream.name,
      version: pending.version,
      firstOffset: pending.first,
      lastOffset: pending.last,
      oldestArrivalMs: pending.oldestArrivalMs,
    };
    const count = pending.last - pending.first + 1;
    const startedMs = performance.now();
    const gzipped = (s3.CompressionFormat ?? 'UNCOMPRESSED') === 'GZIP';
    const key = objectKey(parsePrefix(s3.Prefix ?? '', false), batch, gzipped);
    let body: Buffer;
    let rawBytes: number;
    if (records) {
      body = encoded ?? (await this.encode(records, stream, gzipped));
      rawBytes = records.reduce((sum, r) => sum + r.data.length, 0);
    } else {
      // A batch read back from the log (after waiting for its interval, or after a restart)
      // is copied out in bulk, without an object per record.
      const data = await this.options.log.readData(pending.first, pending.last, delimiterOf(stream));
      body = gzipped ? await gzip(data.data, { level: 1 }) : data.data;
      rawBytes = data.bytes;
    }

    // S3 delivery is retried until it succeeds (Firehose retries for 24 hours; Sluice keeps
    // the records in its log, so nothing is lost by waiting longer).
    let backoffMs = 500;
    for (;;) {
      try {
        // The manifest names only this object, so both are written at once; COPY runs after both.
        await Promise.all([
          this.options.objectStore.putObject(bucket, key, body, {
            contentType: gzipped ? 'application/gzip' : 'application/octet-stream',
          }),
          stream.redshift ? this.putManifest(stream, bucket, key, batch) : undefined,
        ]);
        this.options.metrics.s3Delivery(true, count, rawBytes);
        this.prepareNext(pending.last + 1);
        break;
      } catch (error) {
        this.options.metrics.s3Delivery(false, count, rawBytes);
        this.reportError('S3.PutObjectFailed', error, pending);
        await sleep(backoffMs, signal);
        if (signal.aborted) return;
        backoffMs = Math.min(backoffMs * 2, 30_000);
      }
    }

    const lakeDoneMs = performance.now();
    if (stream.redshift) {
      const delivered = await this.copyToWarehouse(stream, bucket, key, batch, records, rawBytes, signal);
      if (!delivered) return;
    }
    // MUST: the state moves past the batch only after its destination committed it.
    const copyDoneMs = performance.now();
    this.state = { format: 1, next: pending.last + 1 };
    await this.saveState();
    this.options.logger.debug(
      {
        stream: stream.name,
        records: count,
        ageMs: Date.now() - pending.oldestArrivalMs,
        lakeMs: Math.round(lakeDoneMs - startedMs),
        copyMs: Math.round(copyDoneMs - lakeDoneMs),
      },
      'Delivered a batch.',
    );
    this.flushing = this.flushing && !this.caughtUp();
    this.options.onCommitted(this.state.next);
  }

  private async encode(
    records: readonly LogRecord[],
    stream: StoredStream,
    gzipped: boolean,
  ): Promise<Buffer> {
    const delimiter = delimiterOf(stream);
    const extra = delimiter?.length ?? 0;
    let total = 0;
    for (const record of records) total += record.data.length + extra;
    const raw = Buffer.allocUnsafe(total);
    let at = 0;
    let sinceYield = 0;
    for (const record of records) {
      raw.set(record.data, at);
      at += record.data.length;
      if (delimiter) {
        raw.set(delimiter, at);
        at += extra;
      }
      sinceYield += record.data.length + extra;
      // Copied in slices, so a 128 MB batch does not hold the event loop (and ingest) in one go.
      if (sinceYield >= SLICE_BYTES) {
        sinceYield = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    return gzipped ? gzip(raw, { level: 1 }) : raw;
  }

  /**
   * Writes the manifest and COPYs the batch, retrying transient failures for
   * RetryOptions.DurationInSeconds from the first attempt. Returns false when stopped.
   */
  private async copyToWarehouse(
    stream: StoredStream,
    bucket: string,
    key: string,
    batch: BatchIdentity,
    records: readonly LogRecord[] | undefined,
    rawBytes: number,
    signal: AbortSignal,
  ): Promise<boolean> {
    const redshift = stream.redshift!;
    const pending = this.state.pending!;
    const prefix = redshift.S3Configuration.Prefix ?? '';
    const manifest = manifestKey(prefix, batch, false);
    const manifestUrl = formatS3Url(bucket, manifest);
    const manifestBody = manifestBodyOf(bucket, key);
    const copy = buildCopy(stream, manifestUrl);
    const retryMs = (redshift.RetryOptions?.DurationInSeconds ?? 3600) * 1000;
    const count = batch.lastOffset - batch.firstOffset + 1;
    let backoffMs = 500;
    let manifestWritten = true;
    for (;;) {
      try {
        if (!manifestWritten) await this.putManifest(stream, bucket, key, batch);
        manifestWritten = false;
        const user = await this.checkTarget(stream);
        const result = await this.options.warehouse.loadBatch({
          ledger: {
            stream: stream.name,
            destinationId: DESTINATION_ID,
            firstOffset: batch.firstOffset,
            lastOffset: batch.lastOffset,
          },
          copy,
          user,
          rejectBadRecords: true,
          beforeCommit: async (rejected) => {
            if (rejected.length > 0) await this.writeRejected(bucket, prefix, batch, rejected, records);
          },
        });
        this.options.metrics.redshiftDelivery(true, result.rowsLoaded, rawBytes);
        if (result.rejected.length > 0) {
          this.options.logger.warn(
            { stream: stream.name, rejected: result.rejected.length, manifest: manifestUrl },
            'Some records of a batch could not be loaded; they are under errors/records/ and in stl_load_errors.',
          );
        }
        return true;
      } catch (error) {
        this.options.metrics.redshiftDelivery(false, count, rawBytes);
        const code = redshiftErrorCode(error);
        this.reportError(code, error, pending, manifestUrl);
        if (Date.now() - pending.firstAttemptMs + backoffMs >= retryMs) {
          await this.failManifest(bucket, prefix, batch, manifestBody, copy, code, error);
          return true;
        }
        await sleep(backoffMs, signal);
        if (signal.aborted) return false;
        backoffMs = Math.min(backoffMs * 2, 60_000);
      }
    }
  }

  /** Writes a batch's manifest under `<Prefix>manifests/`. */
  private async putManifest(
    stream: StoredStream,
    bucket: string,
    key: string,
    batch: BatchIdentity,
  ): Promise<void> {
    const prefix = stream.redshift!.S3Configuration.Prefix ?? '';
    await this.options.objectStore.putObject(
      bucket,
      manifestKey(prefix, batch, false),
      manifestBodyOf(bucket, key),
      {
        contentType: 'application/json',
      },
    );
  }

  /** Checks the ClusterJDBCURL and credentials as a real cluster would; returns the user. */
  private async checkTarget(stream: StoredStream): Promise<string> {
    const redshift = stream.redshift!;
    const target = parseJdbcUrl(redshift.ClusterJDBCURL);
    if (!this.options.isEmbedded(target.host, target.port)) {
      throw new DeliveryFailure(
        'Redshift.ConnectionFailed',
        `Could not connect to ${target.host}:${target.port}: Sluice delivers only to its embedded warehouse (this host, its SQL port).`,
      );
    }
    if (target.database !== 'dev') {
      throw new DeliveryFailure(
        'Redshift.DatabaseNotFound',
        `Database "${target.database}" does not exist; the warehouse holds "dev".`,
      );
    }
    const user = redshift.Username ?? '';
    // A successful sign-in is trusted for AUTH_TRUST_MS, as a cluster connection would be
    // kept open: checking the SCRAM verifier costs milliseconds on every batch otherwise.
    const authKey = createHash('sha256')
      .update(`${user}\0${redshift.Password ?? ''}`)
      .digest('hex');
    if (this.auth?.key === authKey && this.auth.until > Date.now()) return user;
    if (!(await this.options.warehouse.authenticate(user, redshift.Password ?? ''))) {
      throw new DeliveryFailure(
        'Redshift.AuthenticationFailed',
        `Password authentication failed for user "${user}".`,
      );
    }
    this.auth = { key: authKey, until: Date.now() + AUTH_TRUST_MS };
    return user;
  }

  /** Writes a batch's rejected records, each with its error, under errors/records/. */
  private async writeRejected(
    bucket: string,
    prefix: string,
    batch: BatchIdentity,
    rejected: readonly RejectedRecord[],
    records: readonly LogRecord[] | undefined,
  ): Promise<void> {
    const lines = rejected.map((r) => {
      const record = records?.[r.lineNumber - 1];
      return JSON.stringify({
        attemptsMade: 1,
        arrivalTimestamp: record?.arrivalMs ?? batch.oldestArrivalMs,
        errorCode: 'Redshift.DataLoadFailed',
        errorMessage: `${r.reason} (err_code ${r.errCode}${r.column ? `, column ${r.column}` : ''})`,
        recordOffset: record?.offset,
        rawData: (record?.data ?? Buffer.from(r.raw)).toString('base64'),
      });
    });
    await this.options.objectStore.putObject(
      bucket,
      rejectedRecordsKey(prefix, batch),
      Buffer.from(lines.join('\n') + '\n'),
      { contentType: 'application/x-ndjson' },
    );
  }

  /** Gives up on a batch: writes its manifest under errors/manifests/ for `sluice redeliver`. */
  private async failManifest(
    bucket: string,
    prefix: string,
    batch: BatchIdentity,
    manifestBody: Buffer,
    copy: string,
    code: string,
    error: unknown,
  ): Promise<void> {
    const key = manifestKey(prefix, batch, true);
    for (;;) {
      try {
        await this.options.objectStore.putObject(bucket, key, manifestBody, {
          contentType: 'application/json',
          metadata: {
            'sluice-stream': batch.stream,
            'sluice-destination': DESTINATION_ID,
            'sluice-first-offset': String(batch.firstOffset),
            'sluice-last-offset': String(batch.lastOffset),
            'sluice-copy': Buffer.from(copy).toString('base64'),
            'sluice-error-code': code,
          },
        });
        break;
      } catch (putError) {
        this.reportError('S3.PutObjectFailed', putError, this.state.pending!);
        await sleep(2000, this.controller.signal);
        if (this.controller.signal.aborted) return;
      }
    }
    this.options.logger.error(
      { stream: batch.stream, code, manifest: formatS3Url(bucket, key), err: error },
      'Giving up on a batch after RetryOptions.DurationInSeconds; its manifest is under errors/manifests/ for sluice redeliver.',
    );
    this.options.onError({
      time: new Date().toISOString(),
      code,
      message: `Retries exhausted: ${(error as Error).message}`,
      manifest: formatS3Url(bucket, key),
      firstOffset: batch.firstOffset,
      lastOffset: batch.lastOffset,
    });
  }

  private reportError(code: string, error: unknown, pending: PendingBatch, manifest?: string): void {
    const message = (error as Error)?.message ?? String(error);
    this.options.logger.warn(
      {
        stream: this.options.stream().name,
        code,
        firstOffset: pending.first,
        lastOffset: pending.last,
        err: message,
      },
      'Delivery attempt failed; retrying.',
    );
    this.options.onError({
      time: new Date().toISOString(),
      code,
      message,
      ...(manifest ? { manifest } : {}),
      firstOffset: pending.first,
      lastOffset: pending.last,
    });
  }
}

/** A Redshift manifest naming one data object. */
function manifestBodyOf(bucket: string, key: string): Buffer {
  return Buffer.from(JSON.stringify({ entries: [{ url: formatS3Url(bucket, key), mandatory: true }] }));
}

/** The COPY a Redshift destination runs for a manifest, in the form the Firehose console shows. */
export function buildCopy(stream: StoredStream, manifestUrl: string): string {
  const redshift = stream.redshift!;
  const columns = redshift.CopyCommand.DataTableColumns?.trim();
  const role = redshift.RoleARN ?? 'arn:aws:iam::000000000000:role/sluice';
  const options = (redshift.CopyCommand.CopyOptions ?? '').trim().replace(/;\s*$/, '');
  return (
    `COPY ${redshift.CopyCommand.DataTableName}${columns ? ` (${columns})` : ''} FROM '${manifestUrl}' ` +
    `CREDENTIALS 'aws_iam_role=${role}' MANIFEST${options ? ` ${options}` : ''}`
  );
}
