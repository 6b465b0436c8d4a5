/**
 * Helpers for integration tests that drive the Firehose API of a child `sluice`: SDK clients,
 * raw SigV4-signed requests (for bodies the SDK cannot express), stream configurations,
 * buckets and lake reads.
 */
import { FirehoseClient } from '@aws-sdk/client-firehose';
import type { CreateDeliveryStreamCommandInput } from '@aws-sdk/client-firehose';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createLocalObjectStore, LakeError, type ObjectStore } from '../../src/lake/index.ts';
import type { SluiceProcess } from './sluice-process.ts';

/** Credentials that any server without configured keys accepts. */
export const ANY_CREDENTIALS = { accessKeyId: 'AKIDTESTTESTTEST', secretAccessKey: 'test-secret' } as const;

/** The role ARN used in test stream configurations. */
export const ROLE_ARN = 'arn:aws:iam::000000000000:role/sluice-test';

/** A Firehose SDK client for a running child. */
export function firehoseClient(
  s: SluiceProcess,
  credentials: { accessKeyId: string; secretAccessKey: string } = ANY_CREDENTIALS,
): FirehoseClient {
  // No retries: a test must see the first answer, not a retried one.
  return new FirehoseClient({ endpoint: s.awsUrl, region: 'us-east-1', credentials, maxAttempts: 1 });
}

/** The lake of a child's data directory, read and written from the test process. */
export function lakeOf(dataDir: string): ObjectStore {
  return createLocalObjectStore({ root: join(dataDir, 'lake') });
}

/** Creates a bucket in a child's lake (as `sluice lake mb` does); an existing one is fine. */
export async function createBucket(dataDir: string, bucket: string): Promise<void> {
  try {
    await lakeOf(dataDir).createBucket(bucket);
  } catch (error) {
    if (!(error instanceof LakeError && error.code === 'BucketAlreadyOwnedByYou')) throw error;
  }
}

/** Every key in a bucket under a prefix, in order. */
export async function listKeys(dataDir: string, bucket: string, prefix = ''): Promise<string[]> {
  const lake = lakeOf(dataDir);
  const keys: string[] = [];
  let startAfter: string | undefined;
  for (;;) {
    const page = await lake.listObjects(bucket, { prefix, ...(startAfter ? { startAfter } : {}) });
    for (const object of page.objects) keys.push(object.key);
    if (!page.isTruncated) return keys;
    startAfter = page.nextStartAfter;
  }
}

/** Reads an object, gunzipping it when its key ends in `.gz` or it starts with the gzip magic. */
export async function readObject(dataDir: string, bucket: string, key: string): Promise<Buffer> {
  const body = await lakeOf(dataDir).getObject(bucket, key);
  return body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : body;
}

/** A sensor reading as the demo sends it. */
export interface Reading {
  readonly guid: string;
  readonly ts: number;
  readonly temp: number;
}

/** `n` distinct readings whose guids start with `tag`. */
export function readings(tag: string, n: number, from = 0): Reading[] {
  return Array.from({ length: n }, (_, i) => ({
    guid: `${tag}-${String(from + i).padStart(6, '0')}`,
    ts: 1_700_000_000 + from + i,
    temp: Math.round(((from + i) % 500) * 10 + 65) / 100,
  }));
}

/** A reading as record bytes. */
export function recordOf(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value));
}

/** The table DDL of the demo's `message` table under a schema. */
export function messageTableSql(table: string): string {
  const schema = table.includes('.') ? table.split('.')[0] : undefined;
  return (
    (schema ? `CREATE SCHEMA IF NOT EXISTS ${schema}; ` : '') +
    `CREATE TABLE ${table} (id BIGINT IDENTITY(1,1), guid VARCHAR(36) NOT NULL, ts BIGINT NOT NULL, ` +
    `temp NUMERIC(5,2) NOT NULL, created TIMESTAMP DEFAULT ('now'::text)::timestamp with time zone);`
  );
}

/** Options of a test Redshift stream. */
export interface RedshiftStreamOptions {
  readonly name: string;
  readonly bucket: string;
  readonly table: string;
  readonly prefix?: string;
  readonly intervalSeconds?: number;
  readonly sizeInMBs?: number;
  readonly gzip?: boolean;
  readonly retrySeconds?: number;
  readonly password?: string;
}

/** A CreateDeliveryStream request for a demo-like Redshift stream into this child's warehouse. */
export function redshiftStream(s: SluiceProcess, o: RedshiftStreamOptions): CreateDeliveryStreamCommandInput {
  const gzip = o.gzip ?? true;
  return {
    DeliveryStreamName: o.name,
    DeliveryStreamType: 'DirectPut',
    RedshiftDestinationConfiguration: {
      RoleARN: ROLE_ARN,
      ClusterJDBCURL: `jdbc:redshift://127.0.0.1:${s.sqlPort}/dev`,
      CopyCommand: {
        DataTableName: o.table,
        DataTableColumns: 'guid, ts, temp',
        CopyOptions: gzip ? "JSON 'auto' GZIP" : "JSON 'auto'",
      },
      Username: 'awsuser',
      Password: o.password ?? s.password,
      RetryOptions: { DurationInSeconds: o.retrySeconds ?? 3600 },
      S3Configuration: {
        RoleARN: ROLE_ARN,
        BucketARN: `arn:aws:s3:::${o.bucket}`,
        Prefix: o.prefix ?? `${o.name}/`,
        BufferingHints: { SizeInMBs: o.sizeInMBs ?? 1, IntervalInSeconds: o.intervalSeconds ?? 0 },
        CompressionFormat: gzip ? 'GZIP' : 'UNCOMPRESSED',
      },
    },
  };
}

/** The row count of a table. */
export async function countRows(s: SluiceProcess, table: string, where = ''): Promise<number> {
  const [result] = await s.sql(`SELECT count(*) FROM ${table}${where ? ` WHERE ${where}` : ''}`);
  return Number(result!.rows[0]![0]);
}

/** An answer of a raw Firehose request. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed JSON body, or undefined when it is not JSON. */
  readonly json: Record<string, unknown> | undefined;
}

/** Options of a raw Firehose request. */
export interface RawRequestOptions {
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Extra or replacing headers (after signing, so they can break the signature). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Skip signing entirely. */
  readonly unsigned?: boolean;
}

/**
 * Sends one Firehose request with a body given as text or bytes, signed with SigV4 as the SDKs
 * sign it, so a test can send bodies no SDK would produce.
 */
export async function rawFirehose(
  s: SluiceProcess,
  operation: string,
  body: string | Uint8Array,
  options: RawRequestOptions = {},
): Promise<RawAnswer> {
  const url = new URL(s.awsUrl);
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  let headers: Record<string, string> = {
    host: url.host,
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': `Firehose_20150804.${operation}`,
  };
  if (!options.unsigned) {
    const signer = new SignatureV4({
      credentials: options.credentials ?? ANY_CREDENTIALS,
      region: 'us-east-1',
      service: 'firehose',
      sha256: Sha256,
    });
    const signed = await signer.sign(
      new HttpRequest({
        method: 'POST',
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: '/',
        headers,
        body: bytes,
      }),
    );
    headers = signed.headers as Record<string, string>;
  }
  const response = await fetch(`${s.awsUrl}/`, {
    method: 'POST',
    headers: { ...headers, ...options.headers },
    body: bytes,
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** A PutRecordBatch body for records given as bytes. */
export function batchBody(stream: string, records: readonly Uint8Array[]): string {
  return JSON.stringify({
    DeliveryStreamName: stream,
    Records: records.map((r) => ({ Data: Buffer.from(r).toString('base64') })),
  });
}

/** Counts the newline-delimited JSON records in the objects of a bucket prefix, by guid. */
export async function guidsInLake(
  dataDir: string,
  bucket: string,
  prefix: string,
): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (const key of await listKeys(dataDir, bucket, prefix)) {
    if (key.startsWith(`${prefix}errors/`) || key.startsWith(`${prefix}manifests/`)) continue;
    const text = (await readObject(dataDir, bucket, key)).toString('utf8');
    for (const match of text.matchAll(/"guid":"([^"]*)"/g))
      seen.set(match[1]!, (seen.get(match[1]!) ?? 0) + 1);
  }
  return seen;
}
