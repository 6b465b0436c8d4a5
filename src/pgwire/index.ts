/**
 * The SQL port: a PostgreSQL wire protocol (v3) server over the warehouse, so psql, drivers
 * and BI tools that speak to Redshift can connect.
 *
 * CONTRACT
 * - TLS when a certificate is configured: an SSLRequest is answered 'S' and the connection
 *   continues over TLS; without one, 'N'. A GSSENCRequest is always answered 'N'. With
 *   `requireTls`, a sign-in without TLS fails with FATAL 28000 (pg_hba's `hostssl`).
 * - Sign-in is SCRAM-SHA-256 against the warehouse's stored verifier (default); `md5`
 *   against the stored md5(password || user) (a user without one falls back to SCRAM, as in
 *   PostgreSQL); or a cleartext password checked with `Warehouse.authenticate`. An unknown
 *   user and a wrong password fail alike with FATAL 28P01; a database other than `dev`
 *   fails with 3D000.
 * - Each connection has its own WarehouseSession; ReadyForQuery reports its transaction
 *   status. A CancelRequest carrying a connection's BackendKeyData cancels its statement.
 * - Repeated failed sign-ins from one address are answered ever more slowly (up to 5 s).
 * - Simple query: every statement's result is sent in order; the first error is sent as an
 *   ErrorResponse and the rest of the string is skipped. Several statements without their
 *   own BEGIN / COMMIT run in one implicit transaction, so an error rolls back the ones
 *   before it, as in PostgreSQL (a string holding a COPY with client data runs each
 *   statement in its own transaction). `COPY ... FROM STDIN` and
 *   `COPY ... TO STDOUT` move their data in CopyData messages (text and CSV formats); a COPY
 *   FROM STDIN loads all of its rows or none.
 * - Extended query: text parameters are substituted into the SQL as quoted literals (never
 *   spliced as SQL); after an error, messages are discarded until Sync.
 *
 * @see https://www.postgresql.org/docs/15/protocol.html
 */
import type { Warehouse } from '../warehouse/index.ts';
import type { Logger } from '../util/logger.ts';
import type { AuthMethod } from './connection.ts';

export type { AuthMethod } from './connection.ts';

/** Options for the SQL port. */
export interface PgServerOptions {
  /** The warehouse the sessions run on. */
  readonly warehouse: Warehouse;
  /** Logger. */
  readonly logger?: Logger;
  /** Reported as server_version (default '15.0'). */
  readonly serverVersion?: string;
  /** Sign-in method (default 'scram-sha-256'); md5 and cleartext only for old clients. */
  readonly auth?: AuthMethod;
  /** Certificate and key (PEM) for TLS; without them SSLRequest is answered 'N'. */
  readonly tls?: { readonly cert: Buffer | string; readonly key: Buffer | string };
  /** Refuse sign-in without TLS (needs `tls`). */
  readonly requireTls?: boolean;
}

/** A running SQL port. */
export interface PgServer {
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number>;
  /** Stops listening, drops every connection and closes their sessions. */
  close(): Promise<void>;
}

export { createPgServer } from './server.ts';
