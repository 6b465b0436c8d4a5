/**
 * The warehouse: Redshift SQL on an embedded DuckDB file (`<data-dir>/warehouse/dev.duckdb`,
 * database `dev`), running in UTC with a memory limit, a thread budget, a spill directory
 * and a statement timeout.
 *
 * CONTRACT
 * - `session.execute(sql)` runs one statement or several (split on top-level `;`), in order;
 *   the first error stops the rest and is thrown as SqlError carrying the results before it.
 *   Each statement is translated from the Redshift dialect in one place (`dialect.ts`); a
 *   construct that is not supported fails with SQLSTATE 0A000 naming the construct.
 * - Every statement runs with the session user's privileges: a superuser may do anything;
 *   others need what GRANT gave them (rules in `privileges.ts`), else SQLSTATE 42501.
 *   CREATE / ALTER / DROP USER, groups, GRANT and REVOKE are kept in `_sluice`.
 * - `loadBatch()` loads one delivery batch EXACTLY ONCE: the rows and the ledger row
 *   (stream, destination, firstOffset, lastOffset) are committed in ONE warehouse
 *   transaction, and a batch whose ledger row exists is not loaded again (alreadyLoaded).
 * - With `rejectBadRecords`, a record that cannot be loaded (bad JSON, wrong type, too long)
 *   is returned in `rejected` and written to stl_load_errors in the same transaction; the
 *   rest of the batch loads. `beforeCommit` runs before the commit so the caller can write
 *   rejected records somewhere durable first.
 * - A user COPY follows Redshift: MAXERROR (default 0) decides whether it fails as a whole;
 *   failures are recorded in stl_load_errors either way.
 */
import type { ObjectStore } from '../lake/index.ts';
import type { Logger } from '../util/logger.ts';
import type { ConnectionLogEntry } from './system-tables.ts';
import type { CopyRows, StdioCopy } from './copy-stdio.ts';

/** One column of a result. */
export interface ColumnInfo {
  /** Column name as the client sees it. */
  readonly name: string;
  /** PostgreSQL/Redshift type name, e.g. `bigint`, `numeric(5,2)`, `character varying`, `timestamp without time zone`, `boolean`. */
  readonly type: string;
}

/** The result of one statement. */
export interface QueryResult {
  /** Command tag word(s): SELECT, INSERT, UPDATE, DELETE, COPY, CREATE TABLE, SET, ... */
  readonly command: string;
  /** Result columns (empty for statements without rows). */
  readonly columns: readonly ColumnInfo[];
  /**
   * Rows as JSON-ready values: null, boolean, number (integers within 2^53 and floats),
   * string (everything else: bigints past 2^53 and numerics as decimal text, timestamps as
   * `YYYY-MM-DD HH:MM:SS[.ffffff]`, dates as `YYYY-MM-DD`).
   */
  readonly rows: readonly (readonly unknown[])[];
  /** Rows returned, or rows affected (INSERT/UPDATE/DELETE/COPY). */
  readonly rowCount: number;
  /** Notices the statement raised (sent as NoticeResponse), e.g. `table "t" does not exist, skipping`. */
  readonly notices?: readonly string[];
}

/** A SQL failure with a real PostgreSQL SQLSTATE. */
export class SqlError extends Error {
  override readonly name = 'SqlError';
  /** Creates an error; `position` is 1-based in the text passed to execute() (the whole script, as PostgreSQL reports it for a query string). */
  constructor(
    message: string,
    readonly sqlstate: string,
    readonly options: {
      readonly position?: number;
      readonly detail?: string;
      readonly hint?: string;
      /** Where it happened (PostgreSQL's CONTEXT), e.g. `COPY t, line 3, column id: "x"`. */
      readonly where?: string;
      /** Results of the statements that ran before this one in the same script. */
      readonly results?: readonly QueryResult[];
      /** Index of the failing statement in the script. */
      readonly statementIndex?: number;
    } = {},
  ) {
    super(message);
  }
}

/** A COPY FROM STDIN under way: rows are staged as they arrive and loaded together at the end. */
export interface CopyInProgress {
  /** The columns each row fills, in order. */
  readonly columns: readonly string[];
  /**
   * Stages more rows. `decode` runs inside the statement, so a malformed row fails it (and an
   * open transaction) like any error; after an error the COPY is over.
   */
  append(decode: () => CopyRows): Promise<void>;
  /** Loads the staged rows: all of them, or none and a SqlError. */
  finish(): Promise<QueryResult>;
  /** Drops the staged rows (CopyFail or a protocol error); the COPY fails its transaction. */
  abort(): Promise<void>;
}

/** One connection's worth of state: user, search_path, transaction. */
export interface WarehouseSession {
  /** The signed-in user. */
  readonly user: string;
  /** Runs a script of one or more statements; see the contract above. */
  execute(sql: string, options?: { readonly signal?: AbortSignal }): Promise<QueryResult[]>;
  /** Transaction state for ReadyForQuery: idle, in a transaction block, or in a failed one. */
  readonly transactionStatus: 'idle' | 'open' | 'failed';
  /**
   * Starts a COPY FROM STDIN, checked before the client sends its data (the table exists,
   * INSERT is allowed, the session is not in a failed transaction). Until it finishes or is
   * aborted, the session runs nothing else.
   */
  copyIn(copy: StdioCopy): Promise<CopyInProgress>;
  /** Cancels the statement running now, if any (its execute rejects with SQLSTATE 57014). */
  cancel(): void;
  /** Tells the session the process id its client sees (pg_backend_pid(), stl_query.pid). */
  setClient?(client: { readonly pid: number }): void;
  /** Closes the session (rolling back an open transaction). */
  close(): Promise<void>;
}

/** Identifies one delivery batch in the load ledger. */
export interface LedgerKey {
  /** Delivery stream name. */
  readonly stream: string;
  /** Destination id, e.g. `destinationId-000000000001`. */
  readonly destinationId: string;
  /** First log offset in the batch. */
  readonly firstOffset: number;
  /** Last log offset in the batch (inclusive). */
  readonly lastOffset: number;
}

/** A record COPY could not load. */
export interface RejectedRecord {
  /** The s3:// URL of the file it came from. */
  readonly file: string;
  /** 1-based line (for JSON, the last line of the bad object); for concatenated records the record's ordinal. */
  readonly lineNumber: number;
  /** The record's raw text. */
  readonly raw: string;
  /** Column concerned, if one. */
  readonly column?: string;
  /** Redshift load error code (e.g. 1204 string too long, 1207 invalid digit, 1210 boolean, 1216 bad JSON). */
  readonly errCode: number;
  /** Reason text, as in stl_load_errors.err_reason. */
  readonly reason: string;
}

/** One delivery batch to load. */
export interface BatchLoad {
  /** The ledger entry committed with the rows. */
  readonly ledger: LedgerKey;
  /** The full COPY statement, e.g. `COPY sensor.message (guid, ts, temp) FROM 's3://b/manifests/...' MANIFEST JSON 'auto' GZIP`. */
  readonly copy: string;
  /** Warehouse user that runs the COPY (must have been authenticated by the caller). */
  readonly user: string;
  /** Per-record errors reject only that record (delivery); otherwise Redshift's MAXERROR rules. */
  readonly rejectBadRecords: boolean;
  /** Runs after loading and before the commit, with the rejected records. If it throws, nothing commits. */
  readonly beforeCommit?: (rejected: readonly RejectedRecord[]) => Promise<void>;
}

/** What loadBatch did. */
export interface BatchLoadResult {
  /** True when the ledger already held this batch; nothing was loaded. */
  readonly alreadyLoaded: boolean;
  /** Rows inserted. */
  readonly rowsLoaded: number;
  /** Records rejected (only with rejectBadRecords). */
  readonly rejected: readonly RejectedRecord[];
  /** Which reader loaded it: DuckDB's own JSON reader (clean batches) or the record-by-record path. */
  readonly reader?: 'native' | 'records';
}

/**
 * A stored SCRAM-SHA-256 verifier (what the server keeps instead of the password).
 * @see https://www.rfc-editor.org/rfc/rfc5802#section-3
 */
export interface ScramVerifier {
  /** The salt. */
  readonly salt: Buffer;
  /** PBKDF2 iteration count. */
  readonly iterations: number;
  /** StoredKey := H(HMAC(SaltedPassword, "Client Key")). */
  readonly storedKey: Buffer;
  /** ServerKey := HMAC(SaltedPassword, "Server Key"). */
  readonly serverKey: Buffer;
}

/**
 * Called after data commits, with the tables written (`schema.table`; empty when not known)
 * and, after a script, the command tags of its statements (a COMMIT's tag stands for its
 * whole transaction).
 */
export type CommitListener = (tables: readonly string[], commands?: readonly string[]) => void;

/** A document the console keeps in the warehouse's metadata (a dashboard, a saved query). */
export interface ConsoleDocument {
  /** What it is, e.g. `dashboard` or `query`. */
  readonly kind: string;
  /** Its id, unique within the kind. */
  readonly id: string;
  /** Its name as shown. */
  readonly name: string;
  /** Its content (JSON text). */
  readonly body: string;
  /** Last save, ISO 8601 UTC. */
  readonly updated: string;
}

/** The warehouse role. */
export interface Warehouse {
  /** True when the user exists and the password is right. */
  authenticate(user: string, password: string): Promise<boolean>;
  /** The user's SCRAM-SHA-256 verifier (for the SQL port's SCRAM exchange), or undefined when there is no such user. */
  getScramVerifier(user: string): Promise<ScramVerifier | undefined>;
  /**
   * What the SQL port needs to check a password it never sees: the SCRAM verifier and the
   * md5 hash (either may be missing), or undefined when there is no such user.
   */
  getPasswordSecrets(
    user: string,
  ): Promise<
    { readonly scram?: ScramVerifier; readonly md5?: string; readonly superuser: boolean } | undefined
  >;
  /** Creates the user, or sets its password when it exists (superuser when `superuser`). */
  ensureUser(user: string, password: string, options?: { readonly superuser?: boolean }): Promise<void>;
  /** Opens a session for a user that has been authenticated. */
  openSession(user: string): Promise<WarehouseSession>;
  /** Loads one delivery batch exactly once (see the contract). */
  loadBatch(load: BatchLoad): Promise<BatchLoadResult>;
  /** The highest lastOffset the ledger holds for a stream's destination, or -1. */
  loadedThrough(stream: string, destinationId: string): Promise<number>;
  /** Calls `listener` after a delivery batch or a writing statement commits; returns the unsubscribe. */
  onCommit(listener: CommitListener): () => void;
  /** The console's documents of one kind (`_sluice.console_documents`). */
  listDocuments(kind: string): Promise<ConsoleDocument[]>;
  /** Creates or replaces a console document. */
  saveDocument(document: Omit<ConsoleDocument, 'updated'>): Promise<void>;
  /** Deletes a console document (no error when missing). */
  deleteDocument(kind: string, id: string): Promise<void>;
  /** Records a connection event in stl_connection_log (in the background; never throws). */
  recordConnection?(entry: ConnectionLogEntry): void;
  /** Closes every session and the database file. */
  close(): Promise<void>;
}

/** Options for the embedded DuckDB warehouse. */
export interface DuckDbWarehouseOptions {
  /** Folder for the database file and the spill directory. */
  readonly dir: string;
  /** Where COPY reads s3:// URLs and UNLOAD writes. */
  readonly objectStore: ObjectStore;
  /** DuckDB memory_limit (default '2GB'). */
  readonly memoryLimit?: string;
  /** DuckDB threads (default: cores - 1, at least 1). */
  readonly threads?: number;
  /** Statement timeout in ms for user statements (default 300000; 0 = none). */
  readonly statementTimeoutMs?: number;
  /** Logger. */
  readonly logger?: Logger;
}

export type { ConnectionLogEntry } from './system-tables.ts';
export { createDuckDbWarehouse } from './duckdb-warehouse.ts';
export { splitStatements, type ScriptStatement } from './split.ts';
export { parseStdioCopy, type CopyRows, type StdioCopy } from './copy-stdio.ts';
export { createScramVerifier, verifyScramClientProof, scramServerSignature, saslPrep } from './users.ts';
