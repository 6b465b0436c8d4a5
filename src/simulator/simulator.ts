/**
 * The IoT simulator: six sensors (or any list) sending sine-wave temperature readings to a
 * delivery stream through the Firehose API, as the reference scenario's script did.
 *
 * Scenario mode (the default): sensor i starts at i × staggerMs and sends one PutRecord per
 * interval, 200 × cycles readings in all. A reading that fails is retried with backoff.
 *
 * Load mode (`rate` set): readings from all sensors in turn, sent as PutRecordBatch calls of
 * up to 500 records paced to `rate` records a second overall, for `durationMs` or `count`
 * records (or until aborted). Records a batch reports as failed (FailedPutCount) are sent
 * again with backoff, as the Firehose documentation asks of producers.
 * @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
 */
import { performance } from 'node:perf_hooks';
import { silentLogger, type Logger } from '../util/logger.ts';
import {
  createFirehoseSender,
  type FirehoseConnectionOptions,
  type RecordSender,
} from './firehose-sender.ts';
import {
  encodeReading,
  sensorReading,
  STEPS_PER_CYCLE,
  tempMaxFor,
  testMessage,
  type Sensor,
} from './readings.ts';

/** The reference delivery stream. */
export const DEFAULT_STREAM = 'redshift-delivery-stream';

/** PutRecordBatch takes at most 500 records. */
const MAX_BATCH_RECORDS = 500;
/** Batches in flight at once in load mode, so round-trip time does not cap the rate. */
const MAX_IN_FLIGHT = 4;
const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 5_000;

/** What to simulate and where to send it; the names follow the `sluice simulate` flags. */
export interface SimulatorOptions extends FirehoseConnectionOptions {
  /** Delivery stream (`--stream`, default redshift-delivery-stream). */
  readonly streamName?: string | undefined;
  /** The sensors, in file order (see readSensors). */
  readonly sensors: readonly Sensor[];
  /** Time between two readings of one sensor (`--interval`, reference 60,000 ms; 1 ms at least). */
  readonly intervalMs?: number | undefined;
  /** Sine cycles of 200 readings per sensor (`--cycles`, default 2). */
  readonly cycles?: number | undefined;
  /** Sensor i starts at i × staggerMs (`--stagger`, default 0). */
  readonly staggerMs?: number | undefined;
  /** Load mode: records a second overall (`--rate`); interval and stagger are then ignored. */
  readonly rate?: number | undefined;
  /** Load mode: how long to send (`--duration`). */
  readonly durationMs?: number | undefined;
  /** Load mode: how many records to send (`--count`). */
  readonly count?: number | undefined;
  /** Stops scheduling new readings; requests in flight finish. */
  readonly signal?: AbortSignal | undefined;
  /** Called after each record is done (sent or given up): records done so far, and the total expected. */
  readonly onProgress?: ((sent: number, total: number) => void) | undefined;
  /** Where to log. */
  readonly logger?: Logger | undefined;
  /** Attempts after the first for a failed record (default 5). */
  readonly maxRetries?: number | undefined;
  /** Sends through this instead of a new FirehoseClient (tests, embedding). */
  readonly sender?: RecordSender | undefined;
}

/** What a simulator run did. */
export interface SimulatorResult {
  /** Which mode ran. */
  readonly mode: 'scenario' | 'load';
  /** Records the service accepted. */
  readonly sent: number;
  /** Records given up on after retries. */
  readonly failed: number;
  /** Record sends repeated after a failure. */
  readonly retried: number;
  /** Wall time of the run. */
  readonly elapsedMs: number;
}

/** Options for putTestMessage. */
export interface TestMessageOptions extends FirehoseConnectionOptions {
  /** Delivery stream (default redshift-delivery-stream). */
  readonly streamName?: string | undefined;
  /** Sends through this instead of a new FirehoseClient. */
  readonly sender?: RecordSender | undefined;
}

/** Runs the simulator until every reading is sent (or the signal aborts); never throws for failed records. */
export async function runSimulator(options: SimulatorOptions): Promise<SimulatorResult> {
  if (options.sensors.length === 0) throw new RangeError('The simulator needs at least one sensor.');
  if (options.rate !== undefined && !(options.rate > 0))
    throw new RangeError(`--rate must be a positive number, got ${options.rate}`);
  const sender = options.sender ?? createFirehoseSender(options);
  const run = new Run(options, sender);
  try {
    if (options.rate !== undefined) await run.load(options.rate);
    else await run.scenario();
  } finally {
    if (options.sender === undefined) sender.destroy();
  }
  return run.result();
}

/** Sends the single test reading `{"guid":"test-guid-test-guid-test-guid","ts":<now>,"temp":999.99}`. */
export async function putTestMessage(
  options: TestMessageOptions = {},
): Promise<{ recordId: string; record: string }> {
  const sender = options.sender ?? createFirehoseSender(options);
  try {
    const record = testMessage(Math.floor(Date.now() / 1000));
    const recordId = await sender.putRecord(options.streamName ?? DEFAULT_STREAM, Buffer.from(record));
    return { recordId, record };
  } finally {
    if (options.sender === undefined) sender.destroy();
  }
}

/**
 * Milliseconds from `60s`, `500ms`, `2m`, `1h` or a bare number, which is in `defaultUnit`
 * (milliseconds unless told; pass 's' for flags documented in seconds, such as --duration).
 */
export function parseDuration(text: string | number, defaultUnit: 'ms' | 's' | 'm' | 'h' = 'ms'): number {
  const factors = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  if (typeof text === 'number' && Number.isFinite(text) && text >= 0)
    return Math.round(text * factors[defaultUnit]);
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?\s*$/i.exec(String(text));
  if (match === null) {
    throw new RangeError(
      `Not a duration: ${JSON.stringify(text)} (use e.g. 60s, 500ms, 2m, or a number of ${defaultUnit})`,
    );
  }
  const unit = (match[2]?.toLowerCase() ?? defaultUnit) as keyof typeof factors;
  return Math.round(Number(match[1]) * factors[unit]);
}

/** One simulator run's state and counters. */
class Run {
  #sent = 0;
  #failed = 0;
  #retried = 0;
  #total = 0;
  readonly #started = performance.now();
  readonly #stream: string;
  readonly #signal: AbortSignal | undefined;
  readonly #logger: Logger;
  readonly #maxRetries: number;

  constructor(
    private readonly options: SimulatorOptions,
    private readonly sender: RecordSender,
  ) {
    this.#stream = options.streamName ?? DEFAULT_STREAM;
    this.#signal = options.signal;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'simulator', stream: this.#stream });
    this.#maxRetries = options.maxRetries ?? 5;
  }

  /** One PutRecord per reading; sensor i's step k is due at i × stagger + k × interval. */
  async scenario(): Promise<void> {
    const { sensors } = this.options;
    const intervalMs = Math.max(1, this.options.intervalMs ?? 60_000);
    const staggerMs = Math.max(0, this.options.staggerMs ?? 0);
    const steps = Math.max(0, Math.floor(this.options.cycles ?? 2)) * STEPS_PER_CYCLE;
    this.#total = sensors.length * steps;
    this.#logger.info(
      { sensors: sensors.length, intervalMs, staggerMs, steps },
      `Simulating ${sensors.length} sensors, ${steps} readings each, one every ${intervalMs} ms, into ${this.#stream}.`,
    );
    await Promise.all(
      sensors.map(async (sensor, i) => {
        const tempMax = tempMaxFor(i);
        for (let step = 0; step < steps; step++) {
          await sleepUntil(this.#started + i * staggerMs + step * intervalMs, this.#signal);
          if (this.#signal?.aborted) return;
          const reading = sensorReading(sensor, step, tempMax, Math.floor(Date.now() / 1000));
          await this.#sendOne(Buffer.from(encodeReading(reading)));
        }
      }),
    );
  }

  /** PutRecordBatch calls paced to `rate` records a second. */
  async load(rate: number): Promise<void> {
    const { sensors, count, durationMs } = this.options;
    const limit = count ?? Number.POSITIVE_INFINITY;
    const deadline = durationMs !== undefined ? this.#started + durationMs : Number.POSITIVE_INFINITY;
    this.#total = count ?? (durationMs !== undefined ? Math.round((rate * durationMs) / 1000) : 0);
    const batchSize = Math.max(1, Math.min(MAX_BATCH_RECORDS, Math.round(rate / 20)));
    const steps = Math.max(1, Math.floor(this.options.cycles ?? 2)) * STEPS_PER_CYCLE;
    this.#logger.info(
      { rate, count, durationMs, batchSize },
      `Sending ${rate} records/s in batches of up to ${batchSize} into ${this.#stream}.`,
    );
    const inFlight = new Set<Promise<void>>();
    let next = 0;
    while (next < limit && !this.#signal?.aborted) {
      const due = this.#started + (next / rate) * 1000;
      if (due >= deadline) break;
      await sleepUntil(due, this.#signal);
      if (this.#signal?.aborted) break;
      const n = Math.min(batchSize, limit - next);
      const nowSec = Math.floor(Date.now() / 1000);
      const records: Buffer[] = [];
      for (let j = next; j < next + n; j++) {
        const i = j % sensors.length;
        const sensor = sensors[i] as Sensor;
        const step = Math.floor(j / sensors.length) % steps;
        records.push(Buffer.from(encodeReading(sensorReading(sensor, step, tempMaxFor(i), nowSec))));
      }
      next += n;
      const sending: Promise<void> = this.#sendBatch(records).finally(() => inFlight.delete(sending));
      inFlight.add(sending);
      if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }

  result(): SimulatorResult {
    const result = {
      mode: this.options.rate !== undefined ? ('load' as const) : ('scenario' as const),
      sent: this.#sent,
      failed: this.#failed,
      retried: this.#retried,
      elapsedMs: Math.round(performance.now() - this.#started),
    };
    this.#logger.info(result, `Simulator done: ${result.sent} records sent, ${result.failed} failed.`);
    return result;
  }

  async #sendOne(data: Buffer): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.sender.putRecord(this.#stream, data);
        this.#done(1, 0);
        return;
      } catch (error) {
        this.#logger.warn(
          { err: error, attempt },
          `PutRecord to ${this.#stream} failed: ${(error as Error).message}`,
        );
        if (!(await this.#backoff(attempt))) {
          this.#done(0, 1);
          return;
        }
        this.#retried += 1;
      }
    }
  }

  async #sendBatch(records: readonly Buffer[]): Promise<void> {
    let pending = records;
    for (let attempt = 0; ; attempt++) {
      let failed: readonly number[];
      try {
        const outcome = await this.sender.putRecordBatch(this.#stream, pending);
        failed = outcome.failed;
        if (failed.length > 0) {
          this.#logger.warn(
            { failed: failed.length, attempt, error: outcome.firstError },
            `PutRecordBatch to ${this.#stream}: ${failed.length} of ${pending.length} records failed (${outcome.firstError ?? 'no error code'}).`,
          );
        }
      } catch (error) {
        this.#logger.warn(
          { err: error, attempt },
          `PutRecordBatch to ${this.#stream} failed: ${(error as Error).message}`,
        );
        failed = pending.map((_, i) => i);
      }
      this.#done(pending.length - failed.length, 0);
      if (failed.length === 0) return;
      pending = failed.map((i) => pending[i] as Buffer);
      if (!(await this.#backoff(attempt))) {
        this.#done(0, pending.length);
        return;
      }
      this.#retried += pending.length;
    }
  }

  /** Waits before another attempt; false when attempts are used up or the run is aborted. */
  async #backoff(attempt: number): Promise<boolean> {
    if (attempt >= this.#maxRetries || this.#signal?.aborted) return false;
    const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** attempt);
    // Half fixed, half random, so producers that failed together do not retry together.
    await sleepUntil(performance.now() + ceiling / 2 + Math.random() * (ceiling / 2), this.#signal);
    return !this.#signal?.aborted;
  }

  #done(sent: number, failed: number): void {
    this.#sent += sent;
    this.#failed += failed;
    if (sent + failed > 0)
      this.options.onProgress?.(this.#sent + this.#failed, Math.max(this.#total, this.#sent + this.#failed));
  }
}

/** Resolves at `when` (performance.now() time) or as soon as the signal aborts. */
function sleepUntil(when: number, signal: AbortSignal | undefined): Promise<void> {
  const ms = when - performance.now();
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
