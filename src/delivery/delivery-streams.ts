/**
 * The delivery-stream service: stream configurations persisted in the data directory, one
 * durable log and one delivery worker per stream, metrics, and redelivery of failed
 * manifests.
 *
 * Layout under `<data-dir>/streams/<name>/`:
 *   stream.json                        the stream (format 1), replaced atomically
 *   log/                               the stream's durable log (src/log)
 *   destination-000000000001.json      the worker's state (worker.ts)
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LogFullError, openStreamLog, type StreamLog } from '../log/index.ts';
import { LakeError, parseS3Url, type ObjectStore } from '../lake/index.ts';
import type { Warehouse } from '../warehouse/index.ts';
import type { Logger } from '../util/logger.ts';
import { writeFileAtomic } from '../util/fs.ts';
import { DeliveryStreamError } from './errors.ts';
import type {
  CreateDeliveryStreamInput,
  DeliveryStreams,
  PutResult,
  Tag,
  UpdateDestinationInput,
} from './index.ts';
import { applyUpdate, describeStream, DESTINATION_ID, validateCreate, type StoredStream } from './config.ts';
import type { FirehoseMetrics } from './metrics.ts';
import { type StreamMetrics } from './metrics.ts';
import { DestinationWorker, redshiftErrorCode, type DeliveryErrorEntry } from './worker.ts';

/** Options for the delivery-stream service. */
export interface DeliveryStreamsOptions {
  /** Folder that holds one folder per stream. */
  readonly dir: string;
  readonly objectStore: ObjectStore;
  readonly warehouse: Warehouse;
  readonly metrics: FirehoseMetrics;
  readonly logger: Logger;
  /** Region and account for ARNs (defaults us-east-1 / 000000000000). */
  readonly region?: string;
  readonly accountId?: string;
  /** True when a ClusterJDBCURL host:port means this Sluice's embedded warehouse. */
  readonly isEmbedded: (host: string, port: number) => boolean;
  /** Bounds of each stream's log. */
  readonly logMaxBytes?: number;
  readonly logMaxPendingBytes?: number;
  /** Most streams (Firehose's default quota is 5,000 per Region). */
  readonly maxStreams?: number;
}

/** What a redelivery did. */
export interface RedeliveryResult {
  readonly manifest: string;
  readonly outcome: 'loaded' | 'already-loaded' | 'failed';
  readonly rows?: number;
  readonly error?: string;
}

/** The service behind the Firehose API, plus what the console and CLI need. */
export interface DeliveryStreamService extends DeliveryStreams {
  /** Creates or updates the streams a config file names (the config file wins). */
  apply(inputs: readonly CreateDeliveryStreamInput[]): Promise<void>;
  /** Recent delivery errors of a stream, newest last. */
  errors(name: string): readonly DeliveryErrorEntry[];
  /** Delivery position and backlog of a stream. */
  status(name: string): { next: number; end: number; oldestUndeliveredMs?: number };
  /** Loads failed manifests of a stream again, exactly once (all under errors/manifests/, or one URL). */
  redeliver(name: string, manifestUrl?: string): Promise<RedeliveryResult[]>;
  /** The metrics of a stream. */
  metricsOf(name: string): StreamMetrics;
  /** Names of all streams. */
  names(): string[];
  /** Stops accepting records; with `flush`, delivers what is buffered (up to timeoutMs) before stopping. */
  close(options?: { readonly flush?: boolean; readonly timeoutMs?: number }): Promise<void>;
}

/** One open stream. */
interface OpenStream {
  config: StoredStream;
  readonly dir: string;
  readonly log: StreamLog;
  readonly worker: DestinationWorker;
  readonly metrics: StreamMetrics;
  readonly errors: DeliveryErrorEntry[];
  readonly recordIdPrefix: string;
}

const MAX_ERRORS_KEPT = 100;

/** Opens every stream in the data directory and starts delivering. */
export async function createDeliveryStreams(options: DeliveryStreamsOptions): Promise<DeliveryStreamService> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const streams = new Map<string, OpenStream>();
  let closed = false;
  await mkdir(options.dir, { recursive: true });

  const arnOf = (name: string): string => `arn:aws:firehose:${region}:${accountId}:deliverystream/${name}`;
  const notFound = (name: string): DeliveryStreamError =>
    new DeliveryStreamError('ResourceNotFound', `Firehose ${name} under account ${accountId} not found.`);

  function get(name: string): OpenStream {
    const stream = streams.get(name);
    if (!stream) throw notFound(name);
    return stream;
  }

  async function save(stream: OpenStream): Promise<void> {
    await writeFileAtomic(join(stream.dir, 'stream.json'), JSON.stringify(stream.config, null, 2));
  }

  async function open(config: StoredStream): Promise<OpenStream> {
    const dir = join(options.dir, config.name);
    const logger = options.logger.child({ stream: config.name });
    const log = await openStreamLog({
      dir: join(dir, 'log'),
      logger,
      ...(options.logMaxBytes ? { maxBytes: options.logMaxBytes } : {}),
      ...(options.logMaxPendingBytes ? { maxPendingBytes: options.logMaxPendingBytes } : {}),
    });
    let worker: DestinationWorker | undefined;
    const metrics = options.metrics.forStream(config.name, () => {
      const oldest = worker?.oldestUndeliveredMs();
      if (oldest !== undefined) return Math.max(0, (Date.now() - oldest) / 1000);
      // Records appended but not yet buffered by the worker are as old as the next one.
      return 0;
    });
    const open: OpenStream = {
      config,
      dir,
      log,
      metrics,
      errors: [],
      recordIdPrefix: createHash('sha256')
        .update(`${config.name}\0${config.createdMs}`)
        .digest('base64url')
        .slice(0, 40),
      worker: (worker = new DestinationWorker({
        statePath: join(dir, `${DESTINATION_ID.replace('destinationId', 'destination')}.json`),
        log,
        objectStore: options.objectStore,
        warehouse: options.warehouse,
        metrics,
        logger,
        stream: () => open.config,
        isEmbedded: options.isEmbedded,
        onError: (entry) => {
          open.errors.push(entry);
          if (open.errors.length > MAX_ERRORS_KEPT) open.errors.shift();
        },
        onCommitted: (next) => {
          void log
            .release(next)
            .catch((error: unknown) => logger.warn({ err: error }, 'Could not reclaim log space.'));
          if (open.config.status === 'DELETING' && worker!.caughtUp()) void finishDelete(open);
        },
      })),
    };
    await worker.start();
    // What was delivered before a restart is released again, so its space can be reclaimed.
    await log.release(worker.next);
    if (config.status === 'DELETING') {
      worker.flush();
      if (worker.caughtUp()) void finishDelete(open);
    }
    return open;
  }

  async function finishDelete(stream: OpenStream): Promise<void> {
    if (streams.get(stream.config.name) !== stream) return;
    streams.delete(stream.config.name);
    await stream.worker.stop();
    await stream.log.close();
    options.metrics.remove(stream.config.name);
    await rm(stream.dir, { recursive: true, force: true });
    options.logger.info(
      { stream: stream.config.name },
      'Deleted delivery stream after delivering its records.',
    );
  }

  // Recovery: open every stream found on disk.
  for (const entry of await readdir(options.dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    let config: StoredStream;
    try {
      config = JSON.parse(
        await readFile(join(options.dir, entry.name, 'stream.json'), 'utf8'),
      ) as StoredStream;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    if (config.format !== 1)
      throw new Error(`Stream ${entry.name} has unknown format ${String(config.format)}.`);
    streams.set(config.name, await open(config));
  }

  // DataFreshness is a sampled gauge: one point a second into each stream's series.
  const freshnessTimer = setInterval(() => {
    for (const stream of streams.values()) stream.metrics.sampleFreshness();
  }, 1000);
  freshnessTimer.unref();

  const service: DeliveryStreamService = {
    async create(input) {
      const config = validateCreate(input, Date.now());
      if (streams.has(config.name)) {
        throw new DeliveryStreamError(
          'ResourceInUse',
          `Firehose ${config.name} under account ${accountId} already exists.`,
        );
      }
      if (streams.size >= (options.maxStreams ?? 5000)) {
        throw new DeliveryStreamError(
          'LimitExceeded',
          `You have already reached the limit of ${options.maxStreams ?? 5000} Firehose streams.`,
        );
      }
      const dir = join(options.dir, config.name);
      await rm(dir, { recursive: true, force: true });
      await writeFileAtomic(join(dir, 'stream.json'), JSON.stringify(config, null, 2));
      streams.set(config.name, await open(config));
      options.logger.info({ stream: config.name }, 'Created delivery stream.');
      return arnOf(config.name);
    },

    describe(name) {
      const stream = get(name);
      return describeStream(stream.config, arnOf(name));
    },

    list({ limit = 10, exclusiveStartName, type }) {
      const names = [...streams.values()]
        .filter((s) => !type || s.config.type === type)
        .map((s) => s.config.name)
        .sort()
        .filter((n) => exclusiveStartName === undefined || n > exclusiveStartName);
      return { DeliveryStreamNames: names.slice(0, limit), HasMoreDeliveryStreams: names.length > limit };
    },

    async delete(name) {
      const stream = get(name);
      if (stream.config.status === 'DELETING') return;
      stream.config = { ...stream.config, status: 'DELETING' };
      await save(stream);
      stream.worker.flush();
      if (stream.worker.caughtUp()) await finishDelete(stream);
    },

    async updateDestination(input: UpdateDestinationInput) {
      const stream = get(input.DeliveryStreamName);
      if (stream.config.status !== 'ACTIVE') {
        throw new DeliveryStreamError('ResourceInUse', `Firehose ${input.DeliveryStreamName} is not ACTIVE.`);
      }
      const next = applyUpdate(stream.config, input, Date.now());
      const previous = stream.config;
      stream.config = next;
      try {
        await save(stream);
      } catch (error) {
        stream.config = previous;
        throw error;
      }
    },

    async tag(name, tags: readonly Tag[]) {
      const stream = get(name);
      const merged = new Map(stream.config.tags.map((t) => [t.Key, t]));
      for (const tag of tags) merged.set(tag.Key, tag);
      if (merged.size > 50) {
        throw new DeliveryStreamError('LimitExceeded', 'A Firehose stream can have at most 50 tags.');
      }
      stream.config = { ...stream.config, tags: [...merged.values()] };
      await save(stream);
    },

    async untag(name, keys) {
      const stream = get(name);
      const drop = new Set(keys);
      stream.config = { ...stream.config, tags: stream.config.tags.filter((t) => !drop.has(t.Key)) };
      await save(stream);
    },

    listTags(name, { exclusiveStartTagKey, limit = 50 }) {
      const stream = get(name);
      const tags = [...stream.config.tags]
        .sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0))
        .filter((t) => exclusiveStartTagKey === undefined || t.Key > exclusiveStartTagKey);
      return { Tags: tags.slice(0, limit), HasMoreTags: tags.length > limit };
    },

    async put(name, records): Promise<PutResult> {
      const stream = streams.get(name);
      if (!stream || stream.config.status !== 'ACTIVE' || closed) {
        if (closed && stream) throw new DeliveryStreamError('ServiceUnavailable', 'Slow down.');
        throw notFound(name);
      }
      let bytes = 0;
      for (const record of records) bytes += record.length;
      try {
        const firstOffset = await stream.log.append(records, Date.now());
        stream.metrics.incoming(records.length, bytes);
        return { firstOffset, recordIdPrefix: stream.recordIdPrefix };
      } catch (error) {
        if (error instanceof LogFullError) {
          stream.metrics.throttled(records.length);
          throw new DeliveryStreamError('ServiceUnavailable', 'Slow down.');
        }
        options.logger.error({ stream: name, err: error }, 'Could not append records to the stream log.');
        throw new DeliveryStreamError('InternalFailure', 'Internal service failure.');
      }
    },

    async apply(inputs) {
      for (const input of inputs) {
        const existing = streams.get(input.DeliveryStreamName);
        if (!existing) {
          await service.create(input);
          continue;
        }
        const fresh = validateCreate(input, existing.config.createdMs);
        const same =
          JSON.stringify({ r: fresh.redshift, s: fresh.s3 }) ===
          JSON.stringify({ r: existing.config.redshift, s: existing.config.s3 });
        if (same) continue;
        existing.config = {
          ...existing.config,
          ...(fresh.redshift
            ? { redshift: fresh.redshift, s3: undefined }
            : { s3: fresh.s3, redshift: undefined }),
          tags: fresh.tags.length ? fresh.tags : existing.config.tags,
          version: existing.config.version + 1,
          updatedMs: Date.now(),
        };
        await save(existing);
        options.logger.info(
          { stream: input.DeliveryStreamName },
          'Applied the config file to delivery stream.',
        );
      }
    },

    errors(name) {
      return get(name).errors;
    },

    status(name) {
      const stream = get(name);
      const oldest = stream.worker.oldestUndeliveredMs();
      return {
        next: stream.worker.next,
        end: stream.log.endOffset,
        ...(oldest !== undefined ? { oldestUndeliveredMs: oldest } : {}),
      };
    },

    async redeliver(name, manifestUrl) {
      const stream = get(name);
      const redshift = stream.config.redshift;
      if (!redshift) {
        throw new DeliveryStreamError(
          'InvalidArgument',
          `Firehose ${name} has no Redshift destination to redeliver to.`,
        );
      }
      const bucket = redshift.S3Configuration.BucketARN.split(':').pop()!;
      const prefix = redshift.S3Configuration.Prefix ?? '';
      let urls: string[];
      if (manifestUrl) urls = [manifestUrl];
      else {
        urls = [];
        let startAfter: string | undefined;
        for (;;) {
          const page = await options.objectStore.listObjects(bucket, {
            prefix: `${prefix}errors/manifests/`,
            ...(startAfter ? { startAfter } : {}),
          });
          for (const object of page.objects) urls.push(`s3://${bucket}/${object.key}`);
          if (!page.isTruncated) break;
          startAfter = page.nextStartAfter;
        }
      }
      const results: RedeliveryResult[] = [];
      for (const url of urls) {
        results.push(await redeliverOne(stream, url));
      }
      return results;
    },

    metricsOf(name) {
      return get(name).metrics;
    },

    names() {
      return [...streams.keys()].sort();
    },

    async close({ flush = true, timeoutMs = 30_000 } = {}) {
      closed = true;
      clearInterval(freshnessTimer);
      const all = [...streams.values()];
      if (flush) {
        for (const stream of all) stream.worker.flush();
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline && all.some((s) => !s.worker.caughtUp())) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      for (const stream of all) await stream.worker.stop();
      for (const stream of all) await stream.log.close();
    },
  };

  /** Loads one failed manifest again; the ledger key in its metadata keeps it exactly once. */
  async function redeliverOne(stream: OpenStream, url: string): Promise<RedeliveryResult> {
    const { bucket, key } = parseS3Url(url);
    const info = await options.objectStore.headObject(bucket, key);
    if (!info) return { manifest: url, outcome: 'failed', error: `Manifest ${url} does not exist.` };
    const meta = info.metadata ?? {};
    const first = Number(meta['sluice-first-offset']);
    const last = Number(meta['sluice-last-offset']);
    const copyText = meta['sluice-copy']
      ? Buffer.from(meta['sluice-copy'], 'base64').toString('utf8')
      : undefined;
    if (!Number.isInteger(first) || !Number.isInteger(last) || !copyText) {
      return {
        manifest: url,
        outcome: 'failed',
        error: `Manifest ${url} was not written by a Sluice delivery stream.`,
      };
    }
    // The failed manifest is loaded itself; its entries name the batch's data object.
    const copy = copyText.replace(/FROM '[^']*'/, `FROM '${url}'`);
    const redshift = stream.config.redshift!;
    try {
      if (!(await options.warehouse.authenticate(redshift.Username ?? '', redshift.Password ?? ''))) {
        throw new Error(`Password authentication failed for user "${redshift.Username ?? ''}".`);
      }
      const result = await options.warehouse.loadBatch({
        ledger: {
          stream: stream.config.name,
          destinationId: DESTINATION_ID,
          firstOffset: first,
          lastOffset: last,
        },
        copy,
        user: redshift.Username ?? '',
        rejectBadRecords: true,
      });
      try {
        await options.objectStore.deleteObject(bucket, key);
      } catch (error) {
        if (!(error instanceof LakeError)) throw error;
      }
      options.logger.info(
        { stream: stream.config.name, manifest: url, rows: result.rowsLoaded },
        'Redelivered a failed manifest.',
      );
      return {
        manifest: url,
        outcome: result.alreadyLoaded ? 'already-loaded' : 'loaded',
        rows: result.rowsLoaded,
      };
    } catch (error) {
      const message = `${redshiftErrorCode(error)}: ${(error as Error).message}`;
      return { manifest: url, outcome: 'failed', error: message };
    }
  }

  return service;
}
