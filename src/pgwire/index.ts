/**
 * The SQL port: a PostgreSQL wire protocol (v3) server over the warehouse, so psql, drivers
 * and BI tools that speak to Redshift can connect.
 *
 * CONTRACT
 * - No TLS: an SSLRequest or GSSENCRequest is answered 'N' and the client goes on in clear.
 * - Sign-in is SCRAM-SHA-256 against the warehouse's stored verifier (default), or a
 *   cleartext password checked with `Warehouse.authenticate`. An unknown user and a wrong
 *   password fail alike with FATAL 28P01; a database other than `dev` fails with 3D000.
 * - Each connection has its own WarehouseSession; ReadyForQuery reports its transaction
 *   status. A CancelRequest carrying a connection's BackendKeyData cancels its statement.
 * - Simple query: every statement's result is sent in order; the first error is sent as an
 *   ErrorResponse and the rest of the string is skipped.
 * - Extended query: text parameters are substituted into the SQL as quoted literals (never
 *   spliced as SQL); after an error, messages are discarded until Sync.
 *
 * @see https://www.postgresql.org/docs/15/protocol.html
 */
import type { Warehouse } from '../warehouse/index.ts';
import type { Logger } from '../util/logger.ts';

/** Options for the SQL port. */
export interface PgServerOptions {
  /** The warehouse the sessions run on. */
  readonly warehouse: Warehouse;
  /** Logger. */
  readonly logger?: Logger;
  /** Reported as server_version (default '15.0'). */
  readonly serverVersion?: string;
  /**
   * Sign-in method (default 'scram-sha-256'). MD5 is not offered: it needs MD5(password +
   * user), which the warehouse does not keep (it stores SCRAM verifiers only).
   */
  readonly auth?: 'scram-sha-256' | 'password';
}

/** A running SQL port. */
export interface PgServer {
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number>;
  /** Stops listening, drops every connection and closes their sessions. */
  close(): Promise<void>;
}

export { createPgServer } from './server.ts';
