/**
 * Per-stream delivery metrics with the names Firehose publishes to CloudWatch (namespace
 * AWS/Firehose, dimension DeliveryStreamName), exposed in Prometheus format and as
 * one-minute series over the last hour for the console.
 *
 * @see https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html
 */
import { Counter, Gauge, Registry } from 'prom-client';

/** The Firehose metric names Sluice publishes. */
export const METRIC_NAMES = [
  'IncomingRecords',
  'IncomingBytes',
  'IncomingPutRequests',
  'ThrottledRecords',
  'DeliveryToS3.Records',
  'DeliveryToS3.Bytes',
  'DeliveryToS3.Success',
  'DeliveryToS3.DataFreshness',
  'DeliveryToRedshift.Records',
  'DeliveryToRedshift.Bytes',
  'DeliveryToRedshift.Success',
] as const;

/** One Firehose metric name. */
export type MetricName = (typeof METRIC_NAMES)[number];

/** How a metric's per-minute value is formed. */
const KIND: Record<MetricName, 'sum' | 'ratio' | 'max'> = {
  IncomingRecords: 'sum',
  IncomingBytes: 'sum',
  IncomingPutRequests: 'sum',
  ThrottledRecords: 'sum',
  'DeliveryToS3.Records': 'sum',
  'DeliveryToS3.Bytes': 'sum',
  'DeliveryToS3.Success': 'ratio',
  'DeliveryToS3.DataFreshness': 'max',
  'DeliveryToRedshift.Records': 'sum',
  'DeliveryToRedshift.Bytes': 'sum',
  'DeliveryToRedshift.Success': 'ratio',
};

const MINUTES = 60;

/** A one-hour ring of per-minute values. */
class MinuteSeries {
  private readonly minutes = new Float64Array(MINUTES).fill(-1);
  private readonly values = new Float64Array(MINUTES);
  private readonly counts = new Float64Array(MINUTES);

  /** Adds a sample to the minute of `nowMs`. */
  add(nowMs: number, value: number, kind: 'sum' | 'ratio' | 'max'): void {
    const minute = Math.floor(nowMs / 60000);
    const slot = minute % MINUTES;
    if (this.minutes[slot] !== minute) {
      this.minutes[slot] = minute;
      this.values[slot] = 0;
      this.counts[slot] = 0;
    }
    if (kind === 'max') this.values[slot] = Math.max(this.values[slot]!, value);
    else this.values[slot]! += value;
    this.counts[slot]! += 1;
  }

  /** Points of the last hour, oldest first; ratios are averaged over their samples. */
  points(nowMs: number, kind: 'sum' | 'ratio' | 'max'): { t: number; v: number }[] {
    const current = Math.floor(nowMs / 60000);
    const out: { t: number; v: number }[] = [];
    for (let minute = current - MINUTES + 1; minute <= current; minute++) {
      const slot = minute % MINUTES;
      if (this.minutes[slot] !== minute) continue;
      const v = kind === 'ratio' ? this.values[slot]! / Math.max(1, this.counts[slot]!) : this.values[slot]!;
      out.push({ t: minute * 60000, v });
    }
    return out;
  }
}

/** Metrics of one delivery stream. */
export class StreamMetrics {
  private readonly series = new Map<MetricName, MinuteSeries>();
  /** Totals since start, for the console and tests. */
  readonly totals: Record<MetricName, number> = Object.fromEntries(METRIC_NAMES.map((n) => [n, 0])) as Record<
    MetricName,
    number
  >;

  /** Creates the metrics of a stream; `freshness` returns the age in seconds of the oldest undelivered record. */
  constructor(
    private readonly registry: FirehoseMetrics,
    readonly stream: string,
    readonly freshness: () => number,
  ) {}

  private record(name: MetricName, value: number): void {
    let series = this.series.get(name);
    if (!series) {
      series = new MinuteSeries();
      this.series.set(name, series);
    }
    series.add(Date.now(), value, KIND[name]);
    if (KIND[name] === 'sum') this.totals[name] += value;
    else this.totals[name] = value;
  }

  /** Counts accepted records of one put request. */
  incoming(records: number, bytes: number): void {
    this.record('IncomingRecords', records);
    this.record('IncomingBytes', bytes);
    this.record('IncomingPutRequests', 1);
    this.registry.incomingRecords.inc({ stream: this.stream }, records);
    this.registry.incomingBytes.inc({ stream: this.stream }, bytes);
  }

  /** Counts records refused because the stream was full. */
  throttled(records: number): void {
    this.record('ThrottledRecords', records);
    this.registry.throttledRecords.inc({ stream: this.stream }, records);
  }

  /** Counts one attempt to write an object to the lake. */
  s3Delivery(success: boolean, records: number, bytes: number): void {
    this.record('DeliveryToS3.Success', success ? 1 : 0);
    this.registry.deliveryAttempts.inc({
      stream: this.stream,
      destination: 's3',
      outcome: success ? 'success' : 'failure',
    });
    if (!success) return;
    this.record('DeliveryToS3.Records', records);
    this.record('DeliveryToS3.Bytes', bytes);
    this.registry.deliveryRecords.inc({ stream: this.stream, destination: 's3' }, records);
    this.registry.deliveryBytes.inc({ stream: this.stream, destination: 's3' }, bytes);
  }

  /** Counts one COPY attempt into the warehouse. */
  redshiftDelivery(success: boolean, records: number, bytes: number): void {
    this.record('DeliveryToRedshift.Success', success ? 1 : 0);
    this.registry.deliveryAttempts.inc({
      stream: this.stream,
      destination: 'redshift',
      outcome: success ? 'success' : 'failure',
    });
    if (!success) return;
    this.record('DeliveryToRedshift.Records', records);
    this.record('DeliveryToRedshift.Bytes', bytes);
    this.registry.deliveryRecords.inc({ stream: this.stream, destination: 'redshift' }, records);
    this.registry.deliveryBytes.inc({ stream: this.stream, destination: 'redshift' }, bytes);
  }

  /** Samples DataFreshness into its series (called once a second by the engine). */
  sampleFreshness(): void {
    this.record('DeliveryToS3.DataFreshness', this.freshness());
  }

  /** The last hour per metric, one point a minute. */
  snapshot(): Record<MetricName, { t: number; v: number }[]> {
    const now = Date.now();
    return Object.fromEntries(
      METRIC_NAMES.map((name) => [name, this.series.get(name)?.points(now, KIND[name]) ?? []]),
    ) as Record<MetricName, { t: number; v: number }[]>;
  }
}

/** The Prometheus registry of all streams' metrics. */
export class FirehoseMetrics {
  /** The registry `/metrics` renders. */
  readonly registry = new Registry();
  private readonly streams = new Map<string, StreamMetrics>();
  readonly incomingRecords = new Counter({
    name: 'sluice_firehose_incoming_records_total',
    help: 'IncomingRecords: records accepted by PutRecord and PutRecordBatch.',
    labelNames: ['stream'],
    registers: [this.registry],
  });
  readonly incomingBytes = new Counter({
    name: 'sluice_firehose_incoming_bytes_total',
    help: 'IncomingBytes: bytes of records accepted.',
    labelNames: ['stream'],
    registers: [this.registry],
  });
  readonly throttledRecords = new Counter({
    name: 'sluice_firehose_throttled_records_total',
    help: 'ThrottledRecords: records refused with ServiceUnavailableException because the stream was full.',
    labelNames: ['stream'],
    registers: [this.registry],
  });
  readonly deliveryAttempts = new Counter({
    name: 'sluice_firehose_delivery_attempts_total',
    help: 'DeliveryToS3.Success / DeliveryToRedshift.Success: delivery attempts by outcome.',
    labelNames: ['stream', 'destination', 'outcome'],
    registers: [this.registry],
  });
  readonly deliveryRecords = new Counter({
    name: 'sluice_firehose_delivery_records_total',
    help: 'DeliveryToS3.Records / DeliveryToRedshift.Records: records delivered.',
    labelNames: ['stream', 'destination'],
    registers: [this.registry],
  });
  readonly deliveryBytes = new Counter({
    name: 'sluice_firehose_delivery_bytes_total',
    help: 'DeliveryToS3.Bytes / DeliveryToRedshift.Bytes: bytes delivered.',
    labelNames: ['stream', 'destination'],
    registers: [this.registry],
  });

  constructor() {
    const streams = this.streams;
    new Gauge({
      name: 'sluice_firehose_data_freshness_seconds',
      help: 'DeliveryToS3.DataFreshness: age of the oldest record not yet delivered.',
      labelNames: ['stream'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const metrics of streams.values()) this.set({ stream: metrics.stream }, metrics.freshness());
      },
    });
  }

  /** The metrics of a stream, created on first use. */
  forStream(stream: string, freshness: () => number): StreamMetrics {
    let metrics = this.streams.get(stream);
    if (!metrics) {
      metrics = new StreamMetrics(this, stream, freshness);
      this.streams.set(stream, metrics);
    }
    return metrics;
  }

  /** Forgets a deleted stream's series. */
  remove(stream: string): void {
    this.streams.delete(stream);
    for (const metric of [this.incomingRecords, this.incomingBytes, this.throttledRecords]) {
      metric.remove({ stream });
    }
  }

  /** Every stream's metrics. */
  all(): StreamMetrics[] {
    return [...this.streams.values()];
  }
}
