/** Why a delivery-stream operation failed; ingest maps each kind to Firehose's exception in one table. */
export type DeliveryStreamErrorKind =
  | 'ResourceNotFound'
  | 'ResourceInUse'
  | 'InvalidArgument'
  | 'LimitExceeded'
  | 'ConcurrentModification'
  | 'ServiceUnavailable'
  | 'InternalFailure';

/** A failed delivery-stream operation. */
export class DeliveryStreamError extends Error {
  override readonly name = 'DeliveryStreamError';
  /** Creates an error of a kind with the message the client sees. */
  constructor(
    readonly kind: DeliveryStreamErrorKind,
    message: string,
  ) {
    super(message);
  }
}
