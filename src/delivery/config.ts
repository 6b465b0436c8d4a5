/**
 * Delivery-stream configuration in Firehose's own JSON shapes: validation of
 * CreateDeliveryStream and UpdateDestination input, the merge rule of UpdateDestination,
 * and the DescribeDeliveryStream rendering. The same shapes arrive by API and in the
 * config file, so CloudFormation and Terraform property values carry over.
 *
 * @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_CreateDeliveryStream.html
 * @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_UpdateDestination.html
 */
import { z } from 'zod';
import { DeliveryStreamError } from './errors.ts';
import type {
  CopyCommand,
  CreateDeliveryStreamInput,
  RedshiftDestinationConfiguration,
  S3DestinationConfiguration,
  Tag,
  UpdateDestinationInput,
} from './index.ts';
import { parsePrefix } from './keys.ts';

/** The destination id Firehose gives a stream's only destination. */
export const DESTINATION_ID = 'destinationId-000000000001';

/** A stream as Sluice stores it (`streams/<name>/stream.json`). */
export interface StoredStream {
  /** On-disk format version of this record. */
  readonly format: 1;
  readonly name: string;
  readonly type: string;
  /** Increases by one with every UpdateDestination; part of object names. */
  readonly version: number;
  readonly createdMs: number;
  readonly updatedMs?: number;
  readonly status: 'ACTIVE' | 'DELETING';
  readonly tags: readonly Tag[];
  /** Exactly one of these is set. */
  readonly s3?: S3DestinationConfiguration;
  readonly redshift?: RedshiftDestinationConfiguration;
}

const bufferingHints = z
  .object({
    SizeInMBs: z.number().int().min(1).max(128).optional(),
    IntervalInSeconds: z.number().int().min(0).max(900).optional(),
  })
  .loose();

const processing = z
  .object({
    Enabled: z.boolean().optional(),
    Processors: z
      .array(
        z
          .object({
            Type: z.string(),
            Parameters: z
              .array(z.object({ ParameterName: z.string(), ParameterValue: z.string() }))
              .optional(),
          })
          .loose(),
      )
      .optional(),
  })
  .loose();

const s3Config = z
  .object({
    RoleARN: z.string().min(1).max(512).optional(),
    BucketARN: z
      .string()
      .regex(/^arn:[^:]*:s3:::[^/]+$/, 'Member must satisfy regular expression pattern: arn:.*:s3:::.+'),
    Prefix: z.string().max(1024).optional(),
    ErrorOutputPrefix: z.string().max(1024).optional(),
    BufferingHints: bufferingHints.optional(),
    CompressionFormat: z.enum(['UNCOMPRESSED', 'GZIP', 'ZIP', 'Snappy', 'HADOOP_SNAPPY']).optional(),
    ProcessingConfiguration: processing.optional(),
  })
  .loose();

const redshiftConfig = z
  .object({
    RoleARN: z.string().min(1).max(512).optional(),
    ClusterJDBCURL: z.string().min(1).max(512),
    CopyCommand: z
      .object({
        DataTableName: z.string().min(1).max(512),
        DataTableColumns: z.string().max(204800).optional(),
        CopyOptions: z.string().max(204800).optional(),
      })
      .loose(),
    Username: z.string().min(1).max(512).optional(),
    Password: z.string().min(6).max(512).optional(),
    RetryOptions: z
      .object({ DurationInSeconds: z.number().int().min(0).max(7200).optional() })
      .loose()
      .optional(),
    S3Configuration: s3Config,
    ProcessingConfiguration: processing.optional(),
  })
  .loose();

const tags = z
  .array(z.object({ Key: z.string().min(1).max(128), Value: z.string().max(256).optional() }))
  .min(1)
  .max(50);

const createInput = z
  .object({
    DeliveryStreamName: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[a-zA-Z0-9_.-]+$/, 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+'),
    DeliveryStreamType: z
      .enum(['DirectPut', 'KinesisStreamAsSource', 'MSKAsSource', 'DatabaseAsSource'])
      .optional(),
    S3DestinationConfiguration: s3Config.optional(),
    ExtendedS3DestinationConfiguration: s3Config.optional(),
    RedshiftDestinationConfiguration: redshiftConfig.optional(),
    Tags: tags.optional(),
  })
  .loose();

/** Turns the first zod issue into Firehose's validation message. */
function validationMessage(error: z.ZodError, input: unknown): string {
  const issue = error.issues[0];
  if (!issue) return 'Invalid request';
  const path = issue.path.map(String);
  let value: unknown = input;
  for (const part of issue.path) {
    value =
      value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[part] : undefined;
  }
  const at = path.map((p, i) => (i === 0 ? p.charAt(0).toLowerCase() + p.slice(1) : p)).join('.');
  let constraint = issue.message;
  if (issue.code === 'too_big')
    constraint = `Member must have ${issue.origin === 'string' ? 'length' : 'value'} less than or equal to ${String(issue.maximum)}`;
  if (issue.code === 'too_small')
    constraint = `Member must have ${issue.origin === 'string' ? 'length' : 'value'} greater than or equal to ${String(issue.minimum)}`;
  if (issue.code === 'invalid_type' && value === undefined) constraint = 'Member must not be null';
  if (issue.code === 'invalid_value')
    constraint = `Member must satisfy enum value set: [${issue.values.map(String).join(', ')}]`;
  return `1 validation error detected: Value '${value === undefined ? 'null' : String(value)}' at '${at}' failed to satisfy constraint: ${constraint}`;
}

/** Parses with zod and throws InvalidArgument in Firehose's wording. */
function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (!result.success)
    throw new DeliveryStreamError('InvalidArgument', validationMessage(result.error, input));
  return result.data;
}

/** The bucket name of `arn:aws:s3:::bucket`. */
export function bucketOf(bucketArn: string): string {
  return bucketArn.slice(bucketArn.lastIndexOf(':') + 1);
}

/** The embedded-warehouse target that a ClusterJDBCURL names. */
export interface JdbcTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

/** Parses `jdbc:redshift://host:port/db` or `jdbc:postgresql://...`. */
export function parseJdbcUrl(url: string): JdbcTarget {
  const match = /^jdbc:(redshift|postgresql):\/\/(\[[^\]]+\]|[^:/?]+)(?::(\d+))?\/([^?;]+)/i.exec(url);
  if (!match) {
    throw new DeliveryStreamError(
      'InvalidArgument',
      `ClusterJDBCURL '${url}' is not a jdbc:redshift:// or jdbc:postgresql:// URL of the form jdbc:redshift://host:port/database.`,
    );
  }
  const scheme = match[1]!.toLowerCase();
  return {
    host: match[2]!.replace(/^\[|\]$/g, ''),
    port: match[3] ? Number(match[3]) : scheme === 'redshift' ? 5439 : 5432,
    database: match[4]!,
  };
}

/** Checks the rules Firehose applies beyond the shape of an S3 configuration. */
function checkS3(s3: S3DestinationConfiguration, where: string, redshift: boolean): void {
  const compression = s3.CompressionFormat ?? 'UNCOMPRESSED';
  if (compression !== 'UNCOMPRESSED' && compression !== 'GZIP') {
    throw new DeliveryStreamError(
      'InvalidArgument',
      redshift
        ? `CompressionFormat ${compression} is not supported for a Redshift destination: COPY reads only GZIP or uncompressed objects.`
        : `CompressionFormat ${compression} is not supported by Sluice; use UNCOMPRESSED or GZIP.`,
    );
  }
  const prefix = parsePrefix(s3.Prefix ?? '', false);
  if (redshift && prefix.hasExpressions) {
    throw new DeliveryStreamError(
      'InvalidArgument',
      `${where}.Prefix must not contain expressions for a Redshift destination.`,
    );
  }
  if (redshift && s3.ErrorOutputPrefix !== undefined && s3.ErrorOutputPrefix !== '') {
    throw new DeliveryStreamError(
      'InvalidArgument',
      `${where}.ErrorOutputPrefix must be null for a Redshift destination.`,
    );
  }
  if (s3.ErrorOutputPrefix) {
    const errorPrefix = parsePrefix(s3.ErrorOutputPrefix, true);
    if (errorPrefix.hasExpressions && !errorPrefix.hasErrorOutputType) {
      throw new DeliveryStreamError(
        'InvalidArgument',
        'ErrorOutputPrefix must contain !{firehose:error-output-type} when it uses expressions.',
      );
    }
  } else if (prefix.hasExpressions) {
    throw new DeliveryStreamError(
      'InvalidArgument',
      'ErrorOutputPrefix cannot be null when Prefix contains expressions.',
    );
  }
  const hints = s3.BufferingHints;
  if (hints && (hints.SizeInMBs === undefined) !== (hints.IntervalInSeconds === undefined)) {
    throw new DeliveryStreamError(
      'InvalidArgument',
      'BufferingHints: if you specify a value for one of SizeInMBs or IntervalInSeconds, you must also specify a value for the other.',
    );
  }
}

/** Validates a CreateDeliveryStream request and returns the stream to store. */
export function validateCreate(input: unknown, nowMs: number): StoredStream {
  const parsed = parse(createInput, input) as CreateDeliveryStreamInput;
  const destinations = [
    parsed.S3DestinationConfiguration,
    parsed.ExtendedS3DestinationConfiguration,
    parsed.RedshiftDestinationConfiguration,
  ].filter((d) => d !== undefined);
  if (destinations.length === 0) {
    throw new DeliveryStreamError(
      'InvalidArgument',
      'A destination configuration is required: ExtendedS3DestinationConfiguration, S3DestinationConfiguration or RedshiftDestinationConfiguration.',
    );
  }
  if (destinations.length > 1) {
    throw new DeliveryStreamError('InvalidArgument', 'Only one destination configuration may be specified.');
  }
  const type = parsed.DeliveryStreamType ?? 'DirectPut';
  if (type !== 'DirectPut') {
    throw new DeliveryStreamError(
      'InvalidArgument',
      `DeliveryStreamType ${type} is not supported by Sluice; use DirectPut.`,
    );
  }
  const redshift = parsed.RedshiftDestinationConfiguration;
  const s3 = parsed.ExtendedS3DestinationConfiguration ?? parsed.S3DestinationConfiguration;
  if (redshift) {
    checkS3(redshift.S3Configuration, 'RedshiftDestinationConfiguration.S3Configuration', true);
    parseJdbcUrl(redshift.ClusterJDBCURL);
  }
  if (s3) checkS3(s3, 'ExtendedS3DestinationConfiguration', false);
  return {
    format: 1,
    name: parsed.DeliveryStreamName,
    type,
    version: 1,
    createdMs: nowMs,
    status: 'ACTIVE',
    tags: parsed.Tags ?? [],
    ...(redshift ? { redshift } : {}),
    ...(s3 ? { s3 } : {}),
  };
}

/** Drops undefined members so a spread merge keeps the old values. */
function defined<T extends object>(value: T | undefined): Partial<T> {
  if (!value) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Applies an UpdateDestination request (merge rule of the API reference) and returns the new stream. */
export function applyUpdate(
  stream: StoredStream,
  input: UpdateDestinationInput,
  nowMs: number,
): StoredStream {
  if (input.CurrentDeliveryStreamVersionId !== String(stream.version)) {
    throw new DeliveryStreamError(
      'ConcurrentModification',
      `Current version ID ${input.CurrentDeliveryStreamVersionId} does not match the stream's version ID ${stream.version}.`,
    );
  }
  if (input.DestinationId !== DESTINATION_ID) {
    throw new DeliveryStreamError(
      'InvalidArgument',
      `Destination ${input.DestinationId} not found in stream ${stream.name}.`,
    );
  }
  const s3Update = input.ExtendedS3DestinationUpdate ?? input.S3DestinationUpdate;
  const redshiftUpdate = input.RedshiftDestinationUpdate;
  let next: StoredStream;
  if (redshiftUpdate) {
    const { S3Update, ...rest } = redshiftUpdate;
    const base = stream.redshift;
    const merged = base
      ? {
          ...base,
          ...defined(rest),
          CopyCommand: {
            ...base.CopyCommand,
            ...defined(rest.CopyCommand as Partial<CopyCommand> | undefined),
          },
          S3Configuration: { ...base.S3Configuration, ...defined(S3Update) },
        }
      : { ...rest, S3Configuration: S3Update };
    const input2 = { DeliveryStreamName: stream.name, RedshiftDestinationConfiguration: merged };
    const checked = validateCreate(input2, stream.createdMs);
    next = { ...stream, redshift: checked.redshift! };
    delete (next as { s3?: unknown }).s3;
  } else if (s3Update) {
    const merged = stream.s3 ? { ...stream.s3, ...defined(s3Update) } : s3Update;
    const checked = validateCreate(
      { DeliveryStreamName: stream.name, ExtendedS3DestinationConfiguration: merged },
      stream.createdMs,
    );
    next = { ...stream, s3: checked.s3! };
    delete (next as { redshift?: unknown }).redshift;
  } else {
    throw new DeliveryStreamError('InvalidArgument', 'UpdateDestination needs one destination update.');
  }
  return { ...next, version: stream.version + 1, updatedMs: nowMs };
}

/** The S3 part of a stream's destination (the intermediate bucket for Redshift). */
export function s3Of(stream: StoredStream): S3DestinationConfiguration {
  return stream.redshift ? stream.redshift.S3Configuration : stream.s3!;
}

/** Buffering hints with Firehose's defaults (5 MiB / 300 s). */
export function hintsOf(stream: StoredStream): { sizeBytes: number; intervalMs: number } {
  const hints = s3Of(stream).BufferingHints;
  return {
    sizeBytes: (hints?.SizeInMBs ?? 5) * 1024 * 1024,
    intervalMs: (hints?.IntervalInSeconds ?? 300) * 1000,
  };
}

/** The delimiter that the AppendDelimiterToRecord processor adds, or undefined. */
export function delimiterOf(stream: StoredStream): Buffer | undefined {
  const processing = stream.redshift?.ProcessingConfiguration ?? s3Of(stream).ProcessingConfiguration;
  if (!processing || processing.Enabled === false) return undefined;
  const processor = processing.Processors?.find((p) => p.Type === 'AppendDelimiterToRecord');
  if (!processor) return undefined;
  const param = processor.Parameters?.find((p) => p.ParameterName === 'Delimiter')?.ParameterValue ?? '\\n';
  // The console and CLI send the delimiter with backslash escapes, as in "\\n".
  return Buffer.from(param.replace(/\\n/g, '\n').replace(/\\t/g, '\t').replace(/\\r/g, '\r'), 'utf8');
}

/** Renders an S3 configuration as an S3DestinationDescription. */
function describeS3(s3: S3DestinationConfiguration): Record<string, unknown> {
  return {
    RoleARN: s3.RoleARN ?? '',
    BucketARN: s3.BucketARN,
    Prefix: s3.Prefix ?? '',
    ...(s3.ErrorOutputPrefix ? { ErrorOutputPrefix: s3.ErrorOutputPrefix } : {}),
    BufferingHints: {
      SizeInMBs: s3.BufferingHints?.SizeInMBs ?? 5,
      IntervalInSeconds: s3.BufferingHints?.IntervalInSeconds ?? 300,
    },
    CompressionFormat: s3.CompressionFormat ?? 'UNCOMPRESSED',
    EncryptionConfiguration: { NoEncryptionConfig: 'NoEncryption' },
    CloudWatchLoggingOptions: { Enabled: false },
  };
}

/** Renders DescribeDeliveryStream's DeliveryStreamDescription (never the password). */
export function describeStream(stream: StoredStream, arn: string): Record<string, unknown> {
  let destination: Record<string, unknown>;
  if (stream.redshift) {
    const r = stream.redshift;
    destination = {
      DestinationId: DESTINATION_ID,
      RedshiftDestinationDescription: {
        RoleARN: r.RoleARN ?? '',
        ClusterJDBCURL: r.ClusterJDBCURL,
        CopyCommand: r.CopyCommand,
        Username: r.Username ?? '',
        RetryOptions: { DurationInSeconds: r.RetryOptions?.DurationInSeconds ?? 3600 },
        S3DestinationDescription: describeS3(r.S3Configuration),
        ...(r.ProcessingConfiguration ? { ProcessingConfiguration: r.ProcessingConfiguration } : {}),
        S3BackupMode: 'Disabled',
        CloudWatchLoggingOptions: { Enabled: false },
      },
    };
  } else {
    const s3 = stream.s3!;
    destination = {
      DestinationId: DESTINATION_ID,
      S3DestinationDescription: describeS3(s3),
      ExtendedS3DestinationDescription: {
        ...describeS3(s3),
        ...(s3.ProcessingConfiguration ? { ProcessingConfiguration: s3.ProcessingConfiguration } : {}),
        S3BackupMode: 'Disabled',
      },
    };
  }
  return {
    DeliveryStreamName: stream.name,
    DeliveryStreamARN: arn,
    DeliveryStreamStatus: stream.status,
    DeliveryStreamEncryptionConfiguration: { Status: 'DISABLED' },
    DeliveryStreamType: stream.type,
    VersionId: String(stream.version),
    CreateTimestamp: stream.createdMs / 1000,
    ...(stream.updatedMs ? { LastUpdateTimestamp: stream.updatedMs / 1000 } : {}),
    Destinations: [destination],
    HasMoreDestinations: false,
  };
}
