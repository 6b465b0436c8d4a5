/**
 * The one place the simulator touches the AWS SDK: PutRecord and PutRecordBatch on a
 * FirehoseClient, behind a two-method interface that a test can fake in a few lines.
 * @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecord.html
 * @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
 */
import { FirehoseClient, PutRecordBatchCommand, PutRecordCommand } from '@aws-sdk/client-firehose';

/** AWS access keys. */
export interface AwsCredentials {
  /** Access key id. */
  readonly accessKeyId: string;
  /** Secret access key. */
  readonly secretAccessKey: string;
  /** Session token of temporary credentials. */
  readonly sessionToken?: string;
}

/** How to reach a Firehose endpoint (Sluice or AWS). */
export interface FirehoseConnectionOptions {
  /** Endpoint URL such as http://127.0.0.1:4566; omitted means real AWS. */
  readonly endpoint?: string | undefined;
  /** AWS region (default us-east-1). */
  readonly region?: string | undefined;
  /** Access keys; see `resolveCredentials` for the defaults. */
  readonly credentials?: AwsCredentials | undefined;
}

/** What happened to each record of a PutRecordBatch call. */
export interface BatchOutcome {
  /** Indexes (into the records sent) that the service reported as failed. */
  readonly failed: readonly number[];
  /** The error code of the first failed record, for logs. */
  readonly firstError?: string;
}

/** Sends records to a delivery stream. */
export interface RecordSender {
  /** PutRecord; resolves with the RecordId. */
  putRecord(streamName: string, data: Uint8Array): Promise<string>;
  /** PutRecordBatch; resolves with the records the service did not take. */
  putRecordBatch(streamName: string, records: readonly Uint8Array[]): Promise<BatchOutcome>;
  /** Closes the client's sockets. */
  destroy(): void;
}

/**
 * The credentials to sign with: the given ones; else whatever the SDK finds when
 * AWS_ACCESS_KEY_ID is set; else SLUICE_ACCESS_KEY_ID / SLUICE_SECRET_ACCESS_KEY (the keys a
 * Sluice server is configured with); else, with an endpoint, the dummy keys sluice/sluice
 * (a Sluice without keys accepts any well-formed signature on loopback); else undefined,
 * which lets the SDK's default chain find keys for real AWS.
 */
export function resolveCredentials(
  options: FirehoseConnectionOptions,
  env: NodeJS.ProcessEnv = process.env,
): AwsCredentials | undefined {
  if (options.credentials !== undefined) return options.credentials;
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) return undefined;
  if (env.SLUICE_ACCESS_KEY_ID && env.SLUICE_SECRET_ACCESS_KEY) {
    return { accessKeyId: env.SLUICE_ACCESS_KEY_ID, secretAccessKey: env.SLUICE_SECRET_ACCESS_KEY };
  }
  if (options.endpoint !== undefined) return { accessKeyId: 'sluice', secretAccessKey: 'sluice' };
  return undefined;
}

/** A RecordSender over the AWS SDK's FirehoseClient. */
export function createFirehoseSender(options: FirehoseConnectionOptions): RecordSender {
  const credentials = resolveCredentials(options);
  const client = new FirehoseClient({
    region: options.region ?? 'us-east-1',
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
  });
  return {
    async putRecord(streamName, data) {
      const out = await client.send(
        new PutRecordCommand({ DeliveryStreamName: streamName, Record: { Data: data } }),
      );
      return out.RecordId ?? '';
    },
    async putRecordBatch(streamName, records) {
      const out = await client.send(
        new PutRecordBatchCommand({
          DeliveryStreamName: streamName,
          Records: records.map((Data) => ({ Data })),
        }),
      );
      const failed: number[] = [];
      let firstError: string | undefined;
      (out.RequestResponses ?? []).forEach((entry, i) => {
        if (entry.ErrorCode !== undefined && entry.ErrorCode !== null) {
          failed.push(i);
          firstError ??= `${entry.ErrorCode}: ${entry.ErrorMessage ?? ''}`;
        }
      });
      // A response that reports failures without saying which: treat the whole batch as failed.
      if (failed.length === 0 && (out.FailedPutCount ?? 0) > 0) {
        return { failed: records.map((_, i) => i), firstError: 'FailedPutCount without per-record errors' };
      }
      return { failed, ...(firstError !== undefined ? { firstError } : {}) };
    },
    destroy() {
      client.destroy();
    },
  };
}
