/** Thrown by append() when the log is full (retained bytes, pending bytes or disk). */
export class LogFullError extends Error {
  override readonly name = 'LogFullError';
}
