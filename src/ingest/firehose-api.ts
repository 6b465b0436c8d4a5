/**
 * The Firehose API request handler: reads the body, verifies SigV4, routes on X-Amz-Target,
 * validates, calls the delivery streams and writes AWS JSON 1.1 answers.
 *
 * @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_Operations.html
 * @see https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { DeliveryStreamError } from '../delivery/index.ts';
import type {
  CreateDeliveryStreamInput,
  DeliveryStreams,
  PutResult,
  Tag,
  UpdateDestinationInput,
} from '../delivery/index.ts';
import { silentLogger } from '../util/logger.ts';
import type { Logger } from '../util/logger.ts';
import { errorBody, FIREHOSE_ERRORS, FirehoseApiError, SIGV4_TO_TYPE, toFirehoseApiError } from './errors.ts';
import type { FirehoseApi, FirehoseApiOptions } from './index.ts';
import { scanPutRecordBatch } from './batch-scanner.ts';
import { verifySigV4 } from './sigv4.ts';
import type { SigV4VerifyOptions } from './sigv4.ts';
import { decodePutRecord, decodePutRecordBatch, parseJsonBody, validateInput } from './validate.ts';

/** The X-Amz-Target prefix of every Firehose operation. */
export const FIREHOSE_TARGET_PREFIX = 'Firehose_20150804.';

const DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;
const DEFAULT_ACCOUNT_ID = '000000000000';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** Log a full stream at most this often per stream, so overload does not flood the log. */
const FULL_LOG_INTERVAL_MS = 5000;

/** `offset` as 16 hex digits. */
function hex16(offset: number): string {
  return offset.toString(16).padStart(16, '0');
}

/** What one operation does with a request body; resolves with the JSON answer. */
type Operation = (body: Buffer, ctx: RequestContext) => Promise<string | Buffer> | string | Buffer;

/** What an operation that takes the parsed JSON body does; resolves with the JSON answer. */
type JsonOperation = (input: Record<string, unknown>, ctx: RequestContext) => Promise<string> | string;

/** Parses the body as JSON before running `op`. */
function json(op: JsonOperation): Operation {
  return (body, ctx) => op(parseJsonBody(body), ctx);
}

/** Per-request state an operation fills in for error reporting. */
interface RequestContext {
  streamName?: string;
}

/** Serialises Dates as epoch seconds, the AWS JSON protocol's timestamp format. */
function withEpochSeconds(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  return raw instanceof Date ? raw.getTime() / 1000 : value;
}

function stringOrUndefined(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function numberOrUndefined(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** Applies DescribeDeliveryStream's Limit and ExclusiveStartDestinationId to the destinations. */
function pageDestinations(
  description: Record<string, unknown>,
  limit: number | undefined,
  startAfter: string | undefined,
): Record<string, unknown> {
  const all = description['Destinations'];
  if (!Array.isArray(all) || (limit === undefined && startAfter === undefined)) return description;
  let from = 0;
  if (startAfter !== undefined) {
    const at = all.findIndex(
      (d: unknown) => (d as Record<string, unknown> | null)?.['DestinationId'] === startAfter,
    );
    from = at < 0 ? all.length : at + 1;
  }
  const to = limit === undefined ? all.length : Math.min(all.length, from + limit);
  return { ...description, Destinations: all.slice(from, to), HasMoreDestinations: to < all.length };
}

const BATCH_HEAD = Buffer.from('{"Encrypted":false,"FailedPutCount":0,"RequestResponses":[');
const BATCH_TAIL = Buffer.from(']}');
const COMMA = 0x2c;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_A = 0x61;
const LOWER_F = 0x66;

/**
 * Builds the PutRecordBatch answer for acknowledged records straight into a Buffer: the first
 * entry is written out, every later one is a copy of the one before with its 16 hex digits
 * counted up by one in place.
 */
function batchAnswer(result: PutResult, n: number): Buffer {
  const first = `{"RecordId":${JSON.stringify(result.recordIdPrefix + hex16(result.firstOffset))}}`;
  const entry = Buffer.byteLength(first);
  const out = Buffer.allocUnsafe(BATCH_HEAD.length + n * (entry + 1) - 1 + BATCH_TAIL.length);
  let at = BATCH_HEAD.copy(out, 0);
  at += out.write(first, at);
  // The last hex digit sits before the closing `"}`.
  const lastDigit = entry - 3;
  for (let i = 1; i < n; i++) {
    out[at] = COMMA;
    out.copyWithin(at + 1, at - entry, at);
    at += 1 + entry;
    for (let d = at - entry + lastDigit; ; d--) {
      const c = out[d] as number;
      if (c === LOWER_F) {
        out[d] = ZERO;
        continue;
      }
      out[d] = c === NINE ? LOWER_A : c + 1;
      break;
    }
  }
  BATCH_TAIL.copy(out, at);
  return out;
}

/** The PutRecordBatch answer when every record failed with one error. */
function batchFailure(n: number, code: string, message: string): string {
  const entry = JSON.stringify({ ErrorCode: code, ErrorMessage: message });
  return `{"Encrypted":false,"FailedPutCount":${n},"RequestResponses":[${new Array<string>(n).fill(entry).join(',')}]}`;
}

/** Creates the Firehose API handler. */
export function createFirehoseApi(options: FirehoseApiOptions): FirehoseApi {
  const streams: DeliveryStreams = options.streams;
  const region = options.region ?? 'us-east-1';
  const logger: Logger = (options.logger ?? silentLogger).child({ component: 'firehose-api', region });
  const accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const secrets = new Map<string, string>();
  for (const key of options.credentials ?? []) secrets.set(key.accessKeyId, key.secretAccessKey);
  const verifyOptions: SigV4VerifyOptions = {
    service: 'firehose',
    ...(secrets.size > 0 ? { secretFor: (id: string) => secrets.get(id) } : {}),
    ...(options.maxClockSkewMs === undefined ? {} : { maxClockSkewMs: options.maxClockSkewMs }),
  };
  const lastFullLog = new Map<string, number>();

  function logStreamFull(stream: string, records: number): void {
    const now = Date.now();
    if (now - (lastFullLog.get(stream) ?? 0) < FULL_LOG_INTERVAL_MS) return;
    lastFullLog.set(stream, now);
    logger.warn(
      { stream, records },
      `Stream ${stream} is full; answering ServiceUnavailableException (Slow down.)`,
    );
  }

  const operations: ReadonlyMap<string, Operation> = new Map<string, Operation>([
    [
      'PutRecordBatch',
      async (body, ctx) => {
        // The common body takes the byte scanner; anything else the full decoder, for AWS's errors.
        const batch = scanPutRecordBatch(body) ?? decodePutRecordBatch(parseJsonBody(body), body);
        ctx.streamName = batch.streamName;
        const n = batch.records.length;
        let result: PutResult;
        try {
          result = await streams.put(batch.streamName, batch.records);
        } catch (err) {
          if (err instanceof DeliveryStreamError && err.kind === 'ServiceUnavailable') {
            logStreamFull(batch.streamName, n);
            return batchFailure(
              n,
              'ServiceUnavailableException',
              FIREHOSE_ERRORS.ServiceUnavailableException.message,
            );
          }
          if (err instanceof DeliveryStreamError && err.kind === 'InternalFailure') {
            logger.error(
              { err, stream: batch.streamName, records: n },
              `PutRecordBatch to ${batch.streamName} failed`,
            );
            return batchFailure(
              n,
              'InternalFailure',
              err.message === '' ? 'Internal service failure.' : err.message,
            );
          }
          throw err;
        }
        return batchAnswer(result, n);
      },
    ],
    [
      'PutRecord',
      json(async (input, ctx) => {
        const one = decodePutRecord(input);
        ctx.streamName = one.streamName;
        try {
          const result = await streams.put(one.streamName, one.records);
          return `{"RecordId":${JSON.stringify(result.recordIdPrefix + hex16(result.firstOffset))},"Encrypted":false}`;
        } catch (err) {
          if (err instanceof DeliveryStreamError && err.kind === 'ServiceUnavailable')
            logStreamFull(one.streamName, 1);
          throw err;
        }
      }),
    ],
    [
      'CreateDeliveryStream',
      json(async (input, ctx) => {
        validateInput('CreateDeliveryStream', input);
        ctx.streamName = input['DeliveryStreamName'] as string;
        const arn = await streams.create(input as CreateDeliveryStreamInput);
        return JSON.stringify({ DeliveryStreamARN: arn });
      }),
    ],
    [
      'DescribeDeliveryStream',
      json((input, ctx) => {
        validateInput('DescribeDeliveryStream', input);
        const name = input['DeliveryStreamName'] as string;
        ctx.streamName = name;
        const description = pageDestinations(
          streams.describe(name),
          numberOrUndefined(input['Limit']),
          stringOrUndefined(input['ExclusiveStartDestinationId']),
        );
        return JSON.stringify({ DeliveryStreamDescription: description }, withEpochSeconds);
      }),
    ],
    [
      'ListDeliveryStreams',
      json((input) => {
        validateInput('ListDeliveryStreams', input);
        const page = streams.list({
          limit: numberOrUndefined(input['Limit']) ?? 10,
          exclusiveStartName: stringOrUndefined(input['ExclusiveStartDeliveryStreamName']),
          type: stringOrUndefined(input['DeliveryStreamType']),
        });
        return JSON.stringify(page);
      }),
    ],
    [
      'DeleteDeliveryStream',
      json(async (input, ctx) => {
        validateInput('DeleteDeliveryStream', input);
        ctx.streamName = input['DeliveryStreamName'] as string;
        await streams.delete(ctx.streamName);
        return '{}';
      }),
    ],
    [
      'UpdateDestination',
      json(async (input, ctx) => {
        validateInput('UpdateDestination', input);
        ctx.streamName = input['DeliveryStreamName'] as string;
        await streams.updateDestination(input as UpdateDestinationInput);
        return '{}';
      }),
    ],
    [
      'TagDeliveryStream',
      json(async (input, ctx) => {
        validateInput('TagDeliveryStream', input);
        ctx.streamName = input['DeliveryStreamName'] as string;
        await streams.tag(ctx.streamName, input['Tags'] as Tag[]);
        return '{}';
      }),
    ],
    [
      'UntagDeliveryStream',
      json(async (input, ctx) => {
        validateInput('UntagDeliveryStream', input);
        ctx.streamName = input['DeliveryStreamName'] as string;
        await streams.untag(ctx.streamName, input['TagKeys'] as string[]);
        return '{}';
      }),
    ],
    [
      'ListTagsForDeliveryStream',
      json((input, ctx) => {
        validateInput('ListTagsForDeliveryStream', input);
        const name = input['DeliveryStreamName'] as string;
        ctx.streamName = name;
        const page = streams.listTags(name, {
          exclusiveStartTagKey: stringOrUndefined(input['ExclusiveStartTagKey']),
          limit: numberOrUndefined(input['Limit']),
        });
        return JSON.stringify(page);
      }),
    ],
  ]);

  function send(
    res: ServerResponse,
    status: number,
    body: string | Buffer,
    requestId: string,
    errorType?: string,
    close = false,
  ): void {
    if (res.headersSent || res.destroyed) return;
    const headers: OutgoingHttpHeaders = {
      'Content-Type': CONTENT_TYPE,
      'Content-Length': Buffer.byteLength(body),
      'x-amzn-RequestId': requestId,
    };
    if (errorType !== undefined) headers['X-Amzn-ErrorType'] = errorType;
    // An unread body stays on the socket: closing is cheaper than draining megabytes.
    if (close) headers['Connection'] = 'close';
    res.writeHead(status, headers);
    res.end(body);
  }

  function fail(
    res: ServerResponse,
    requestId: string,
    err: unknown,
    ctx: RequestContext,
    target: string | undefined,
    close = false,
  ): void {
    let apiError = toFirehoseApiError(err, {
      accountId,
      ...(ctx.streamName === undefined ? {} : { streamName: ctx.streamName }),
    });
    if (apiError === undefined) {
      logger.error(
        { err, requestId, target, stream: ctx.streamName },
        'Firehose request failed unexpectedly',
      );
      apiError = new FirehoseApiError('InternalFailure');
    } else if (apiError.status >= 500) {
      logger.debug({ requestId, target, stream: ctx.streamName, type: apiError.type }, apiError.message);
    }
    send(res, apiError.status, errorBody(apiError.type, apiError.message), requestId, apiError.type, close);
  }

  async function serve(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    requestId: string,
  ): Promise<void> {
    const ctx: RequestContext = {};
    const target = req.headers['x-amz-target'];
    const targetName = typeof target === 'string' ? target : undefined;
    try {
      const auth = await verifySigV4(
        { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body },
        verifyOptions,
      );
      if (!auth.ok) throw new FirehoseApiError(SIGV4_TO_TYPE[auth.failure], auth.message);
      const operation =
        targetName !== undefined && targetName.startsWith(FIREHOSE_TARGET_PREFIX)
          ? operations.get(targetName.slice(FIREHOSE_TARGET_PREFIX.length))
          : undefined;
      if (operation === undefined || req.method !== 'POST') {
        throw new FirehoseApiError(
          'UnknownOperationException',
          req.method !== 'POST'
            ? `Firehose operations are POST requests, not ${req.method ?? 'unknown'}.`
            : `Operation ${targetName ?? '(no X-Amz-Target header)'} is not supported.`,
        );
      }
      const answer = await operation(body, ctx);
      send(res, 200, answer, requestId);
    } catch (err) {
      fail(res, requestId, err, ctx, targetName);
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const requestId = randomUUID();
    try {
      const declared = req.headers['content-length'];
      const length = declared === undefined ? undefined : Number(declared);
      if (length !== undefined && length > maxBodyBytes) {
        fail(res, requestId, tooLarge(length, maxBodyBytes), {}, undefined, true);
        return;
      }
      readBody(req, length, maxBodyBytes, (err, body) => {
        if (err !== undefined) {
          if (err instanceof FirehoseApiError) fail(res, requestId, err, {}, undefined, true);
          else logger.debug({ err, requestId }, 'Firehose request body could not be read');
          return;
        }
        serve(req, res, body ?? Buffer.alloc(0), requestId).catch((e: unknown) =>
          fail(res, requestId, e, {}, undefined),
        );
      });
    } catch (err) {
      fail(res, requestId, err, {}, undefined);
    }
  }

  function isFirehoseRequest(req: IncomingMessage): boolean {
    const target = req.headers['x-amz-target'];
    return typeof target === 'string' && target.startsWith(FIREHOSE_TARGET_PREFIX);
  }

  return { handle, isFirehoseRequest };
}

function tooLarge(length: number | undefined, limit: number): FirehoseApiError {
  return new FirehoseApiError(
    'ValidationException',
    `The request body ${length === undefined ? 'exceeds' : `of ${length} bytes exceeds`} the limit of ${limit} bytes.`,
    413,
  );
}

/**
 * Reads a request body into one Buffer (preallocated when Content-Length is known), stopping
 * with a 413 error as soon as it exceeds `limit`.
 */
function readBody(
  req: IncomingMessage,
  length: number | undefined,
  limit: number,
  done: (err: Error | undefined, body?: Buffer) => void,
): void {
  let finished = false;
  const finish = (err: Error | undefined, body?: Buffer): void => {
    if (finished) return;
    finished = true;
    done(err, body);
  };
  if (length !== undefined && Number.isSafeInteger(length) && length >= 0) {
    const buf = Buffer.allocUnsafe(length);
    let off = 0;
    req.on('data', (chunk: Buffer) => {
      // The HTTP parser never delivers more than Content-Length; guard anyway.
      const n = Math.min(chunk.length, length - off);
      chunk.copy(buf, off, 0, n);
      off += n;
    });
    req.on('end', () => finish(undefined, off === length ? buf : buf.subarray(0, off)));
  } else {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) {
        req.off('data', onData);
        finish(tooLarge(undefined, limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => finish(undefined, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total)));
  }
  req.on('error', (err) => finish(err));
}
