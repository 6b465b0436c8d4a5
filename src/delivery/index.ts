/**
 * Delivery streams: their configuration (Firehose's own JSON shapes), their durable logs,
 * and the engine that batches records by BufferingHints, writes them to the lake and loads
 * them into the warehouse.
 *
 * The guarantees this stage keeps are written in `guarantees.md` beside this file.
 */

/** Firehose BufferingHints. @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_BufferingHints.html */
export interface BufferingHints {
  readonly SizeInMBs?: number;
  readonly IntervalInSeconds?: number;
}

/** A Firehose processor (only AppendDelimiterToRecord has an effect). */
export interface Processor {
  readonly Type: string;
  readonly Parameters?: readonly { readonly ParameterName: string; readonly ParameterValue: string }[];
}

/** Firehose ProcessingConfiguration. */
export interface ProcessingConfiguration {
  readonly Enabled?: boolean;
  readonly Processors?: readonly Processor[];
}

/** Firehose S3DestinationConfiguration / ExtendedS3DestinationConfiguration (the fields Sluice uses). */
export interface S3DestinationConfiguration {
  readonly RoleARN?: string;
  readonly BucketARN: string;
  readonly Prefix?: string;
  readonly ErrorOutputPrefix?: string;
  readonly BufferingHints?: BufferingHints;
  readonly CompressionFormat?: 'UNCOMPRESSED' | 'GZIP' | 'ZIP' | 'Snappy' | 'HADOOP_SNAPPY';
  readonly ProcessingConfiguration?: ProcessingConfiguration;
  readonly [extra: string]: unknown;
}

/** Firehose CopyCommand. */
export interface CopyCommand {
  readonly DataTableName: string;
  readonly DataTableColumns?: string;
  readonly CopyOptions?: string;
}

/** Firehose RedshiftDestinationConfiguration (the fields Sluice uses). */
export interface RedshiftDestinationConfiguration {
  readonly RoleARN?: string;
  readonly ClusterJDBCURL: string;
  readonly CopyCommand: CopyCommand;
  readonly Username?: string;
  readonly Password?: string;
  readonly RetryOptions?: { readonly DurationInSeconds?: number };
  readonly S3Configuration: S3DestinationConfiguration;
  readonly ProcessingConfiguration?: ProcessingConfiguration;
  readonly [extra: string]: unknown;
}

/** A CreateDeliveryStream request body. @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_CreateDeliveryStream.html */
export interface CreateDeliveryStreamInput {
  readonly DeliveryStreamName: string;
  readonly DeliveryStreamType?: 'DirectPut' | 'KinesisStreamAsSource' | 'MSKAsSource' | 'DatabaseAsSource';
  readonly S3DestinationConfiguration?: S3DestinationConfiguration;
  readonly ExtendedS3DestinationConfiguration?: S3DestinationConfiguration;
  readonly RedshiftDestinationConfiguration?: RedshiftDestinationConfiguration;
  readonly Tags?: readonly Tag[];
  readonly [extra: string]: unknown;
}

/** An UpdateDestination request body. @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_UpdateDestination.html */
export interface UpdateDestinationInput {
  readonly DeliveryStreamName: string;
  readonly CurrentDeliveryStreamVersionId: string;
  readonly DestinationId: string;
  readonly S3DestinationUpdate?: Partial<S3DestinationConfiguration>;
  readonly ExtendedS3DestinationUpdate?: Partial<S3DestinationConfiguration>;
  readonly RedshiftDestinationUpdate?: Partial<Omit<RedshiftDestinationConfiguration, 'S3Configuration'>> & {
    readonly S3Update?: Partial<S3DestinationConfiguration>;
  };
  readonly [extra: string]: unknown;
}

/** A resource tag. */
export interface Tag {
  readonly Key: string;
  readonly Value?: string;
}

export { DeliveryStreamError, type DeliveryStreamErrorKind } from './errors.ts';

/** The outcome of putting records: either every record is durable, or none is. */
export interface PutResult {
  /** Offset of the first record; record i has offset firstOffset + i. */
  readonly firstOffset: number;
  /** Stream-specific prefix for record ids; RecordId = recordIdPrefix + offset in 16 hex digits. */
  readonly recordIdPrefix: string;
}

/** The delivery-stream service that the Firehose API fronts. */
export interface DeliveryStreams {
  /** Creates a stream; returns its ARN. */
  create(input: CreateDeliveryStreamInput): Promise<string>;
  /** The DescribeDeliveryStream `DeliveryStreamDescription` object. */
  describe(name: string): Record<string, unknown>;
  /** ListDeliveryStreams output. */
  list(options: { readonly limit?: number; readonly exclusiveStartName?: string; readonly type?: string }): {
    DeliveryStreamNames: string[];
    HasMoreDeliveryStreams: boolean;
  };
  /** Stops accepting records now; removes the stream once its acknowledged records are delivered. */
  delete(name: string): Promise<void>;
  /** UpdateDestination. */
  updateDestination(input: UpdateDestinationInput): Promise<void>;
  /** TagDeliveryStream. */
  tag(name: string, tags: readonly Tag[]): Promise<void>;
  /** UntagDeliveryStream. */
  untag(name: string, keys: readonly string[]): Promise<void>;
  /** ListTagsForDeliveryStream. */
  listTags(
    name: string,
    options: { readonly exclusiveStartTagKey?: string; readonly limit?: number },
  ): { Tags: Tag[]; HasMoreTags: boolean };
  /**
   * Appends records durably (resolves after fsync). Throws DeliveryStreamError
   * ResourceNotFound for an unknown or deleting stream, and ServiceUnavailable
   * ("Slow down.") when the stream's log is full.
   */
  put(name: string, records: readonly Buffer[]): Promise<PutResult>;
}

export {
  createDeliveryStreams,
  type DeliveryStreamService,
  type DeliveryStreamsOptions,
  type RedeliveryResult,
} from './delivery-streams.ts';
export { FirehoseMetrics, METRIC_NAMES, type MetricName, type StreamMetrics } from './metrics.ts';
export type { DeliveryErrorEntry } from './worker.ts';
