/**
 * Redshift's system tables and views, filled with Sluice's own data:
 * - `stl_query`: one row per query a session ran (kept to the last `QUERY_LOG_LIMIT` rows);
 *   a superuser sees every row, another user only their own, as on Redshift;
 * - `stl_connection_log`: connections, sign-ins and disconnections on the SQL port (visible
 *   to superusers only, as on Redshift);
 * - `svv_table_info`: one row per non-empty user table, with its size, row count, distribution
 *   style and sort key;
 * - `pg_table_def`: the columns of the tables in the session's search_path, with Redshift
 *   types, encodings, DISTKEY, SORTKEY position and NOT NULL.
 * Distribution, sort keys and encodings are what CREATE / ALTER TABLE declared
 * (`_sluice.tables`, `_sluice.columns`), or what Redshift assigns when nothing is declared.
 * (`stl_load_errors` and `stl_loaderror_detail` are written by COPY; see catalog.ts.)
 *
 * Statements are recorded in memory and appended to `_sluice.query_log` in batches (DuckDB's
 * appender; a multi-row INSERT cost about 0.12 ms per statement, the appender a few µs) every
 * `FLUSH_EVERY` statements, or before anyone reads stl_query, so the hot path costs an array
 * push and a reader still sees every statement before its own.
 *
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_STL_QUERY.html
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_STL_CONNECTION_LOG.html
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_SVV_TABLE_INFO.html
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_PG_TABLE_DEF.html
 */
import { timestampValue, type DuckDBAppender } from '@duckdb/node-api';
import { quoteString } from './lexer.ts';

const S = '_sluice';

/** How many stl_query rows are kept. */
export const QUERY_LOG_LIMIT = 100_000;
/** Pending statements that trigger a write. */
const FLUSH_EVERY = 500;
/** Redshift keeps the first 4000 characters of a query's text. */
const QUERYTXT_WIDTH = 4000;

/** stl_query columns with their Redshift types. */
export const STL_QUERY_COLUMNS: readonly (readonly [string, string])[] = [
  ['userid', 'integer'],
  ['query', 'integer'],
  ['label', 'character(320)'],
  ['xid', 'bigint'],
  ['pid', 'integer'],
  ['database', 'character(32)'],
  ['querytxt', 'character(4000)'],
  ['starttime', 'timestamp'],
  ['endtime', 'timestamp'],
  ['aborted', 'integer'],
  ['insert_pristine', 'integer'],
  ['concurrency_scaling_status', 'integer'],
];

/** stl_connection_log columns with their Redshift types. */
export const STL_CONNECTION_LOG_COLUMNS: readonly (readonly [string, string])[] = [
  ['event', 'character(50)'],
  ['recordtime', 'timestamp'],
  ['remotehost', 'character(45)'],
  ['remoteport', 'character(32)'],
  ['pid', 'integer'],
  ['dbname', 'character(50)'],
  ['username', 'character(50)'],
  ['authmethod', 'character(32)'],
  ['duration', 'integer'],
  ['sslversion', 'character(50)'],
  ['sslcipher', 'character(128)'],
  ['mtu', 'integer'],
  ['sslcompression', 'character(64)'],
  ['sslexpansion', 'character(64)'],
  ['iamauthguid', 'character(36)'],
  ['application_name', 'character(250)'],
  ['os_version', 'character(64)'],
  ['driver_version', 'character(64)'],
  ['plugin_name', 'character(32)'],
  ['protocol_version', 'integer'],
  ['sessionid', 'character(36)'],
  ['compression', 'character(64)'],
];

/** One statement for stl_query. */
export interface QueryLogEntry {
  /** usesysid of the user. */
  readonly userId: number;
  /** Query id. */
  readonly query: number;
  /** Transaction id. */
  readonly xid: number;
  /** Process id of the session. */
  readonly pid: number;
  /** Statement text. */
  readonly text: string;
  /** Start. */
  readonly start: Date;
  /** End. */
  readonly end: Date;
  /** True when the statement failed or was cancelled. */
  readonly aborted: boolean;
  /** query_group the session set, or 'default'. */
  readonly label: string;
}

/** An event of stl_connection_log. */
export interface ConnectionLogEntry {
  /** `initiating session`, `authenticated`, `authentication failure`, `disconnecting session`. */
  readonly event: string;
  /** When. */
  readonly time: Date;
  /** Client address. */
  readonly remoteHost: string;
  /** Client port. */
  readonly remotePort: number;
  /** Process id of the connection. */
  readonly pid: number;
  /** Database asked for. */
  readonly database: string;
  /** User name given. */
  readonly user: string;
  /** `password`, `md5`, `scram-sha-256` or '' before authentication. */
  readonly authMethod: string;
  /** For `disconnecting session`: the session's length in microseconds. */
  readonly durationMicros?: number;
  /** TLS version when the connection is encrypted. */
  readonly sslVersion?: string;
  /** Application name the client gave. */
  readonly applicationName?: string;
}

function ts(d: Date): string {
  return `TIMESTAMP ${quoteString(d.toISOString().replace('T', ' ').replace('Z', ''))}`;
}

/** The INSERT for connection log events. */
export function connectionLogInsertSql(entries: readonly ConnectionLogEntry[]): string {
  const rows = entries.map(
    (e) =>
      `(${[
        quoteString(e.event.slice(0, 50)),
        ts(e.time),
        quoteString(e.remoteHost.slice(0, 45)),
        quoteString(String(e.remotePort)),
        String(Math.trunc(e.pid)),
        quoteString(e.database.slice(0, 50)),
        quoteString(e.user.slice(0, 50)),
        quoteString(e.authMethod.slice(0, 32)),
        String(Math.trunc(e.durationMicros ?? 0)),
        quoteString(e.sslVersion ?? ''),
        "''",
        '0',
        "''",
        "''",
        "''",
        quoteString((e.applicationName ?? '').slice(0, 250)),
        "''",
        "''",
        "''",
        '3',
        "''",
        "'off'",
      ].join(', ')})`,
  );
  return `INSERT INTO ${S}.connection_log VALUES ${rows.join(', ')}`;
}

/** Where QueryLog writes: `append` adds rows to stl_query, `run` executes SQL (the trim). */
export interface QueryLogStore {
  /** Appends rows to `_sluice.query_log`. */
  append(entries: readonly QueryLogEntry[]): Promise<void>;
  /** Runs one SQL statement. */
  run(sql: string): Promise<unknown>;
}

/** Buffers stl_query rows and writes them in batches, keeping the table bounded. */
export class QueryLog {
  private pending: QueryLogEntry[] = [];
  private chain: Promise<void> = Promise.resolve();
  private writtenSinceTrim = 0;

  /** Writes go to `store`; failures to write are reported to `onError` (the rows are lost). */
  constructor(
    private readonly store: QueryLogStore,
    private readonly onError: (error: unknown) => void,
    private readonly limit = QUERY_LOG_LIMIT,
  ) {}

  /** Records a statement; written with the next batch. */
  record(entry: QueryLogEntry): void {
    this.pending.push(entry);
    if (this.pending.length >= FLUSH_EVERY) void this.flush().catch(this.onError);
  }

  /** Writes what is pending; resolves when every statement recorded before the call is in the table. */
  flush(): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (this.pending.length === 0) return;
      const batch = this.pending;
      this.pending = [];
      await this.store.append(batch);
      this.writtenSinceTrim += batch.length;
      if (this.writtenSinceTrim >= Math.max(1000, this.limit / 10)) {
        this.writtenSinceTrim = 0;
        await this.store.run(
          `DELETE FROM ${S}.query_log WHERE query <= (SELECT max(query) FROM ${S}.query_log) - ${this.limit}`,
        );
      }
    });
    const done = this.chain;
    this.chain = this.chain.catch((error: unknown) => this.onError(error));
    return done;
  }
}

function micros(d: Date): bigint {
  return BigInt(d.getTime()) * 1000n;
}

/** Appends stl_query rows with DuckDB's appender (column order as STL_QUERY_COLUMNS). */
export function appendQueryLogRows(appender: DuckDBAppender, entries: readonly QueryLogEntry[]): void {
  for (const e of entries) {
    appender.appendInteger(Math.trunc(e.userId));
    appender.appendInteger(Math.trunc(e.query));
    appender.appendVarchar(e.label.slice(0, 320));
    appender.appendBigInt(BigInt(Math.trunc(e.xid)));
    appender.appendInteger(Math.trunc(e.pid));
    appender.appendVarchar('dev');
    appender.appendVarchar(e.text.slice(0, QUERYTXT_WIDTH));
    appender.appendTimestamp(timestampValue(micros(e.start)));
    appender.appendTimestamp(timestampValue(micros(e.end)));
    appender.appendInteger(e.aborted ? 1 : 0);
    appender.appendInteger(0);
    appender.appendInteger(0);
    appender.endRow();
  }
}

/** The INSERT for a batch of stl_query rows. */
export function queryLogInsertSql(entries: readonly QueryLogEntry[]): string {
  const rows = entries.map(
    (e) =>
      `(${[
        String(Math.trunc(e.userId)),
        String(Math.trunc(e.query)),
        quoteString(e.label.slice(0, 320)),
        String(Math.trunc(e.xid)),
        String(Math.trunc(e.pid)),
        "'dev'",
        quoteString(e.text.slice(0, QUERYTXT_WIDTH)),
        ts(e.start),
        ts(e.end),
        e.aborted ? '1' : '0',
        '0',
        '0',
      ].join(', ')})`,
  );
  return `INSERT INTO ${S}.query_log VALUES ${rows.join(', ')}`;
}

/**
 * Views over the catalog emulation (installed after it): svv_table_info and pg_table_def.
 * Redshift's default encodings when a column has no ENCODE: RAW (shown as `none`) for sort
 * key columns, AZ64 for integers, decimals, dates and timestamps, LZO for character types,
 * RAW otherwise. pg_table_def.sortkey is the column's 1-based place in a compound sort key;
 * in an interleaved one the places alternate in sign, starting negative; 0 outside the key.
 * A table that declared nothing is DISTSTYLE AUTO (`AUTO(EVEN)`), SORTKEY AUTO and ENCODE AUTO.
 * @see https://docs.aws.amazon.com/redshift/latest/dg/c_Compression_encodings.html
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_PG_TABLE_DEF.html
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_SVV_TABLE_INFO.html
 */
export const SYSTEM_VIEWS_SQL: readonly string[] = [
  `CREATE OR REPLACE MACRO ${S}.session_is_superuser() AS
     coalesce((SELECT usesuper FROM ${S}.users WHERE usename = ${S}.session_user_name()), false)`,
  `CREATE OR REPLACE VIEW ${S}.stl_query AS
     SELECT * FROM ${S}.query_log
      WHERE ${S}.session_is_superuser()
         OR userid = (SELECT usesysid FROM ${S}.users WHERE usename = ${S}.session_user_name())`,
  `CREATE OR REPLACE VIEW ${S}.stl_connection_log AS
     SELECT * FROM ${S}.connection_log WHERE ${S}.session_is_superuser()`,
  `CREATE OR REPLACE MACRO ${S}.default_encoding(pgtype) AS CASE
     WHEN pgtype IN ('smallint', 'integer', 'bigint', 'date', 'timestamp without time zone', 'timestamp with time zone')
       OR pgtype LIKE 'numeric%' THEN 'az64'
     WHEN pgtype LIKE 'character%' THEN 'lzo'
     ELSE 'none' END`,
  // Every user table column with its design, whatever the search_path.
  `CREATE OR REPLACE VIEW ${S}.table_design AS
     SELECT a.attrelid, a.nspname, a.relname, a.attnum, a.attname, a.pgtype, a.attnotnull,
            coalesce(CASE d.encoding WHEN 'raw' THEN 'none' ELSE d.encoding END,
                     CASE WHEN list_contains(coalesce(t.sortkey, []), a.attname) THEN 'none'
                          ELSE ${S}.default_encoding(a.pgtype) END) AS encoding,
            coalesce(t.distkey = a.attname, false) AS distkey,
            CAST(coalesce(CASE WHEN t.sortkey_kind = 'interleaved' AND list_position(t.sortkey, a.attname) % 2 = 1
                               THEN -list_position(t.sortkey, a.attname)
                               ELSE list_position(t.sortkey, a.attname) END, 0) AS INTEGER) AS sortkey
       FROM ${S}.catalog_attributes a
       LEFT JOIN ${S}.tables t ON t.schema_name = a.nspname AND t.table_name = a.relname
       LEFT JOIN ${S}.columns d ON d.schema_name = a.nspname AND d.table_name = a.relname AND d.column_name = a.attname
      WHERE a.relkind = 'r' AND a.nspname NOT IN ('pg_catalog', 'information_schema')`,
  `CREATE OR REPLACE VIEW ${S}.svv_table_info AS
     SELECT 'dev' AS database, r.nspname AS schema, r.oid AS table_id, r.relname AS "table",
            CASE WHEN coalesce(t.encode_auto, true) THEN 'Y, AUTO(ENCODE)'
                 WHEN EXISTS (SELECT 1 FROM ${S}.table_design e WHERE e.attrelid = r.oid AND e.encoding <> 'none') THEN 'Y'
                 ELSE 'N' END AS encoded,
            CASE t.diststyle WHEN 'key' THEN 'KEY(' || t.distkey || ')' WHEN 'even' THEN 'EVEN' WHEN 'all' THEN 'ALL'
                 ELSE 'AUTO(EVEN)' END AS diststyle,
            CASE WHEN t.sortkey_kind IN ('compound', 'interleaved') THEN t.sortkey[1]
                 WHEN t.sortkey_kind = 'none' THEN NULL ELSE 'AUTO(SORTKEY)' END AS sortkey1,
            CAST(coalesce((SELECT max(CASE WHEN pgtype LIKE 'character%(%' THEN CAST(regexp_extract(pgtype, '\\((\\d+)\\)', 1) AS INTEGER) END)
                      FROM ${S}.catalog_attributes a WHERE a.attrelid = r.oid), 0) AS INTEGER) AS max_varchar,
            CASE WHEN t.sortkey_kind IN ('compound', 'interleaved')
                 THEN (SELECT e.encoding FROM ${S}.table_design e WHERE e.attrelid = r.oid AND e.attname = t.sortkey[1]) END AS sortkey1_enc,
            CAST(CASE WHEN t.sortkey_kind IN ('compound', 'interleaved') THEN len(t.sortkey) ELSE 0 END AS INTEGER) AS sortkey_num,
            CAST(greatest(1, ceil(r.reltuples * r.relnatts * 8 / 1048576.0)) AS BIGINT) AS size,
            CAST(0 AS DECIMAL(10,4)) AS pct_used, CAST(0 AS BIGINT) AS empty,
            CAST(0 AS DECIMAL(5,2)) AS unsorted, CAST(0 AS DECIMAL(5,2)) AS stats_off,
            CAST(r.reltuples AS DECIMAL(38,0)) AS tbl_rows, NULL::DECIMAL(19,2) AS skew_sortkey1,
            CAST(1 AS DECIMAL(19,2)) AS skew_rows, CAST(r.reltuples AS DECIMAL(38,0)) AS estimated_visible_rows,
            NULL::VARCHAR AS risk_event, NULL::DECIMAL(12,2) AS vacuum_sort_benefit,
            NULL::TIMESTAMP AS create_time
       FROM ${S}.catalog_relations r
       LEFT JOIN ${S}.tables t ON t.schema_name = r.nspname AND t.table_name = r.relname
      WHERE r.relkind = 'r' AND r.nspname NOT IN ('pg_catalog', 'information_schema') AND r.reltuples > 0`,
  `CREATE OR REPLACE VIEW ${S}.pg_table_def AS
     SELECT nspname AS schemaname, relname AS tablename, attname AS "column", pgtype AS type,
            encoding, distkey, sortkey, attnotnull AS notnull
       FROM ${S}.table_design
      WHERE list_contains(${S}.current_schemas(true), nspname)
      ORDER BY nspname, relname, attnum`,
];
