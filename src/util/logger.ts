/** The logger every stage takes by injection: pino's shape, so a pino logger fits as is. */
export interface Logger {
  /** Logs a fine-grained detail. */
  debug(obj: object, msg?: string): void;
  /** Logs a normal event. */
  info(obj: object, msg?: string): void;
  /** Logs something a user should look at. */
  warn(obj: object, msg?: string): void;
  /** Logs a failure. */
  error(obj: object, msg?: string): void;
  /** Returns a logger that adds these bindings to every line. */
  child(bindings: object): Logger;
}

/** A logger that drops everything; for tests and library defaults. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
