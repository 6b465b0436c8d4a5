/**
 * The one table that maps every failure of the Firehose API to its AWS JSON error: the
 * `__type` the SDKs turn into an exception class, the HTTP status and the default message.
 *
 * Body: `{"__type":"ResourceNotFoundException","message":"..."}` with headers
 * `Content-Type: application/x-amz-json-1.1`, `x-amzn-RequestId` and `X-Amzn-ErrorType`.
 *
 * @see https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html#operation-error-serialization
 * @see https://docs.aws.amazon.com/firehose/latest/APIReference/CommonErrors.html
 */
import { DeliveryStreamError } from '../delivery/index.ts';
import type { DeliveryStreamErrorKind } from '../delivery/index.ts';
import type { SigV4Failure } from './sigv4.ts';

/** Every `__type` this API answers with. */
export type FirehoseErrorType =
  | 'ResourceNotFoundException'
  | 'ResourceInUseException'
  | 'InvalidArgumentException'
  | 'LimitExceededException'
  | 'ConcurrentModificationException'
  | 'ServiceUnavailableException'
  | 'InternalFailure'
  | 'SerializationException'
  | 'UnknownOperationException'
  | 'ValidationException'
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'InvalidSignatureException'
  | 'UnrecognizedClientException';

/** HTTP status and default message of each error type. */
export const FIREHOSE_ERRORS: Readonly<Record<FirehoseErrorType, { status: number; message: string }>> = {
  ResourceNotFoundException: { status: 400, message: 'Delivery stream not found.' },
  ResourceInUseException: { status: 400, message: 'The resource is in use.' },
  InvalidArgumentException: { status: 400, message: 'Invalid argument.' },
  LimitExceededException: { status: 400, message: 'Limit exceeded.' },
  ConcurrentModificationException: { status: 400, message: 'Another modification has already happened.' },
  ServiceUnavailableException: { status: 500, message: 'Slow down.' },
  InternalFailure: { status: 500, message: 'An internal error occurred.' },
  SerializationException: { status: 400, message: 'The request body could not be parsed.' },
  UnknownOperationException: { status: 400, message: 'Unknown operation.' },
  ValidationException: { status: 400, message: 'Validation failed.' },
  MissingAuthenticationTokenException: { status: 403, message: 'Missing Authentication Token' },
  IncompleteSignatureException: { status: 400, message: 'The request signature is incomplete.' },
  InvalidSignatureException: {
    status: 400,
    message:
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  },
  UnrecognizedClientException: {
    status: 400,
    message: 'The security token included in the request is invalid.',
  },
};

/** Which Firehose exception each delivery-stream failure becomes. */
export const KIND_TO_TYPE: Readonly<Record<DeliveryStreamErrorKind, FirehoseErrorType>> = {
  ResourceNotFound: 'ResourceNotFoundException',
  ResourceInUse: 'ResourceInUseException',
  InvalidArgument: 'InvalidArgumentException',
  LimitExceeded: 'LimitExceededException',
  ConcurrentModification: 'ConcurrentModificationException',
  ServiceUnavailable: 'ServiceUnavailableException',
  InternalFailure: 'InternalFailure',
};

/** Which Firehose exception each SigV4 failure becomes (AWS JSON services answer these). */
export const SIGV4_TO_TYPE: Readonly<Record<SigV4Failure, FirehoseErrorType>> = {
  MissingAuthentication: 'MissingAuthenticationTokenException',
  IncompleteSignature: 'IncompleteSignatureException',
  ScopeMismatch: 'InvalidSignatureException',
  UnknownAccessKey: 'UnrecognizedClientException',
  SignatureMismatch: 'InvalidSignatureException',
  ClockSkew: 'InvalidSignatureException',
  PresignedExpired: 'InvalidSignatureException',
  PayloadHashMismatch: 'InvalidSignatureException',
};

/** A failure that the API answers as an AWS JSON error. */
export class FirehoseApiError extends Error {
  override readonly name = 'FirehoseApiError';
  /** HTTP status to answer with. */
  readonly status: number;
  /** Creates an error of a type; the status comes from the table unless given. */
  constructor(
    readonly type: FirehoseErrorType,
    message: string = FIREHOSE_ERRORS[type].message,
    status?: number,
  ) {
    super(message);
    this.status = status ?? FIREHOSE_ERRORS[type].status;
  }
}

/** The context a delivery-stream error is reported in. */
export interface ErrorContext {
  /** The DeliveryStreamName of the request, when it has one. */
  readonly streamName?: string;
  /** The account id named in messages. */
  readonly accountId: string;
}

/**
 * Turns anything thrown while serving a request into the error the client sees, or undefined
 * when it is unexpected (a bug), which the caller answers as InternalFailure and logs.
 */
export function toFirehoseApiError(err: unknown, context: ErrorContext): FirehoseApiError | undefined {
  if (err instanceof FirehoseApiError) return err;
  if (err instanceof DeliveryStreamError) {
    const type = KIND_TO_TYPE[err.kind];
    if (type === 'ResourceNotFoundException' && context.streamName !== undefined) {
      // AWS's own text; the stream stage knows names, the API knows the account.
      return new FirehoseApiError(
        type,
        `Firehose ${context.streamName} under account ${context.accountId} not found.`,
      );
    }
    if (type === 'ServiceUnavailableException')
      return new FirehoseApiError(type, FIREHOSE_ERRORS[type].message);
    return new FirehoseApiError(type, err.message === '' ? FIREHOSE_ERRORS[type].message : err.message);
  }
  return undefined;
}

/** The JSON body of an error answer. */
export function errorBody(type: FirehoseErrorType, message: string): string {
  return JSON.stringify({ __type: type, message });
}
