/**
 * The Firehose API: AWS JSON 1.1 over HTTP, signed with SigV4, served as a node:http request
 * handler in front of the delivery streams.
 *
 * CONTRACT
 * - Every operation is `POST /` with `X-Amz-Target: Firehose_20150804.<Operation>`; an empty body
 *   means `{}`. Answers carry `Content-Type: application/x-amz-json-1.1` and `x-amzn-RequestId`.
 * - Errors are `{"__type":"<Exception>","message":"..."}` with `X-Amzn-ErrorType`, mapped in one
 *   table (`errors.ts`). A malformed request fails as a whole with AWS's own error
 *   (SerializationException, ValidationException, InvalidArgumentException); an unexpected
 *   exception is answered 500 InternalFailure and logged; nothing a client sends crashes the server.
 * - PutRecordBatch acknowledges records only after `DeliveryStreams.put` resolved (they are
 *   durable). When the stream is full (`ServiceUnavailable`) or fails internally, the answer is
 *   HTTP 200 with every record failed (`FailedPutCount` = n, per-record `ErrorCode`), as
 *   Firehose reports throttling; PutRecord answers the same cases with a 500 error.
 * - RecordId = `PutResult.recordIdPrefix` + the record's offset as 16 hex digits.
 * - With credentials configured, a request must carry a valid SigV4 signature by one of them
 *   (header or presigned query), signed for service `firehose` in any region, within 5 minutes
 *   of now. With none configured, any well-formed signature is accepted.
 *
 * @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_Operations.html
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DeliveryStreams } from '../delivery/index.ts';
import type { Logger } from '../util/logger.ts';

/** An AWS access key that may sign requests. */
export interface AccessKey {
  /** The access key id (`AKID...`). */
  readonly accessKeyId: string;
  /** Its secret. */
  readonly secretAccessKey: string;
}

/** Options of the Firehose API. */
export interface FirehoseApiOptions {
  /** The delivery streams this API fronts. */
  readonly streams: DeliveryStreams;
  /** Keys that may sign; undefined or empty accepts any well-formed SigV4 signature. */
  readonly credentials?: readonly AccessKey[];
  /** The region this endpoint reports in logs (default us-east-1); requests signed for any region are accepted. */
  readonly region?: string;
  /** Account id named in messages such as `Firehose x under account 000000000000 not found.` */
  readonly accountId?: string;
  /** Where failures are logged (default: nowhere). */
  readonly logger?: Logger;
  /** Largest request body in bytes (default 6 MiB: a full 4 MiB batch in base64 fits). */
  readonly maxBodyBytes?: number;
  /** Largest accepted clock difference of a signed request (default 5 minutes, as Firehose). */
  readonly maxClockSkewMs?: number;
}

/** The Firehose API as a request handler. */
export interface FirehoseApi {
  /** Serves one request; never throws, always answers (unless the client went away). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** True when the request is for Firehose (X-Amz-Target starts with `Firehose_20150804.`). */
  isFirehoseRequest(req: IncomingMessage): boolean;
}

export { createFirehoseApi, FIREHOSE_TARGET_PREFIX } from './firehose-api.ts';
export {
  verifySigV4,
  sha256Hex,
  parseAuthorizationHeader,
  parsePresignedQuery,
  type SigV4RequestParts,
  type SigV4VerifyOptions,
  type SigV4Result,
  type SigV4Success,
  type SigV4Rejection,
  type SigV4Failure,
  type ParsedSigV4,
} from './sigv4.ts';
