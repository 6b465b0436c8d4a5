/**
 * Sluice's own metadata, kept in schema `_sluice` of the same DuckDB file as the data so it
 * commits with the rows it describes:
 * - `_sluice.users`: users and their SCRAM verifiers (users.ts);
 * - `_sluice.load_ledger`: one row per delivery batch loaded (exactly-once loads);
 * - `_sluice.columns`: the declared Redshift type of every column created through Sluice
 *   (DuckDB forgets VARCHAR lengths), with IDENTITY seed/step and sequence;
 * - `_sluice.stl_load_errors` / `_sluice.stl_loaderror_detail`: Redshift's load error
 *   tables, which the dialect layer shows as `stl_load_errors` and `pg_catalog.stl_load_errors`;
 * - `_sluice.query_log` / `_sluice.connection_log`: statements and SQL-port connections, shown
 *   as stl_query and stl_connection_log (system-tables.ts); the catalog emulation's views and
 *   macros live beside them (pg-catalog.ts);
 * - `_sluice.console_documents`: the console's dashboards and saved queries (JSON).
 *
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_STL_LOAD_ERRORS.html
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_STL_LOADERROR_DETAIL.html
 */
import type { ColumnDecl, TableName } from './dialect.ts';
import { quoteIdent } from './lexer.ts';
import { declaredTypeMatches, typeFromDuck, typeFromPg, type SqlType } from './types.ts';
import { STL_CONNECTION_LOG_COLUMNS, STL_QUERY_COLUMNS } from './system-tables.ts';

/** The metadata schema. */
export const META_SCHEMA = '_sluice';

/** Version of the metadata layout, stored in `_sluice.meta`. */
export const META_VERSION = '1';

/** Runs SQL with positional ($1) parameters and returns rows as arrays. */
export type Query = (sql: string, params?: readonly unknown[]) => Promise<unknown[][]>;

/** stl_load_errors columns with their Redshift types. */
const STL_LOAD_ERRORS: readonly (readonly [string, string])[] = [
  ['userid', 'integer'],
  ['slice', 'integer'],
  ['tbl', 'integer'],
  ['starttime', 'timestamp'],
  ['session', 'integer'],
  ['query', 'integer'],
  ['filename', 'character(256)'],
  ['line_number', 'bigint'],
  ['colname', 'character(127)'],
  ['type', 'character(10)'],
  ['col_length', 'character(10)'],
  ['position', 'integer'],
  ['raw_line', 'character(1024)'],
  ['raw_field_value', 'character(1024)'],
  ['err_code', 'integer'],
  ['err_reason', 'character(100)'],
];

/** stl_loaderror_detail columns with their Redshift types. */
const STL_LOADERROR_DETAIL: readonly (readonly [string, string])[] = [
  ['userid', 'integer'],
  ['slice', 'integer'],
  ['session', 'integer'],
  ['query', 'integer'],
  ['filename', 'character(256)'],
  ['line_number', 'bigint'],
  ['field', 'integer'],
  ['colname', 'character(1024)'],
  ['value', 'character(1024)'],
  ['is_null', 'integer'],
  ['type', 'character(10)'],
  ['col_length', 'character(10)'],
];

function duckTypeOf(pg: string): string {
  return typeFromPg(pg).duck;
}

function tableDdl(name: string, cols: readonly (readonly [string, string])[]): string {
  return `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.${name} (${cols.map(([c, t]) => `${quoteIdent(c)} ${duckTypeOf(t)}`).join(', ')})`;
}

/** Statements that create the metadata (idempotent). */
export const BOOTSTRAP_SQL: readonly string[] = [
  'CREATE SCHEMA IF NOT EXISTS public',
  `CREATE SCHEMA IF NOT EXISTS ${META_SCHEMA}`,
  `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.meta (key VARCHAR NOT NULL, value VARCHAR NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.users (usesysid INTEGER NOT NULL, usename VARCHAR NOT NULL, usesuper BOOLEAN NOT NULL,
     scram_salt VARCHAR NOT NULL, scram_iterations INTEGER NOT NULL, scram_stored_key VARCHAR NOT NULL, scram_server_key VARCHAR NOT NULL,
     created TIMESTAMP NOT NULL)`,
  // md5(password || user) for md5 sign-in; NULL for users whose password was set before it was kept.
  `ALTER TABLE ${META_SCHEMA}.users ADD COLUMN IF NOT EXISTS md5_password VARCHAR`,
  `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.privileges (grantee VARCHAR NOT NULL, object_type VARCHAR NOT NULL,
     schema_name VARCHAR NOT NULL, object_name VARCHAR NOT NULL, privilege VARCHAR NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.groups (groname VARCHAR NOT NULL PRIMARY KEY, grosysid INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.group_members (groname VARCHAR NOT NULL, usename VARCHAR NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.load_ledger (stream VARCHAR NOT NULL, destination_id VARCHAR NOT NULL,
     first_offset BIGINT NOT NULL, last_offset BIGINT NOT NULL, manifest VARCHAR, rows_loaded BIGINT NOT NULL,
     rows_rejected BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL, PRIMARY KEY (stream, destination_id, first_offset))`,
  `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.columns (schema_name VARCHAR NOT NULL, table_name VARCHAR NOT NULL,
     column_name VARCHAR NOT NULL, ordinal INTEGER NOT NULL, declared_type VARCHAR NOT NULL,
     identity_seed BIGINT, identity_step BIGINT, sequence_name VARCHAR)`,
  tableDdl('stl_load_errors', STL_LOAD_ERRORS),
  tableDdl('stl_loaderror_detail', STL_LOADERROR_DETAIL),
  // Statements and connections (system-tables.ts).
  // Shown, row by row as the user may see them, as the views stl_query and stl_connection_log.
  tableDdl('query_log', STL_QUERY_COLUMNS),
  tableDdl('connection_log', STL_CONNECTION_LOG_COLUMNS),
  // The console's dashboards and saved queries, as JSON documents.
  `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.console_documents (kind VARCHAR NOT NULL, id VARCHAR NOT NULL,
     name VARCHAR NOT NULL, body VARCHAR NOT NULL, updated TIMESTAMP NOT NULL)`,
];

/** Creates the metadata and records the system tables' declared types. */
export async function bootstrap(q: Query): Promise<void> {
  for (const sql of BOOTSTRAP_SQL) await q(sql);
  const version = await q(`SELECT value FROM ${META_SCHEMA}.meta WHERE key = 'version'`);
  if (version.length === 0) await q(`INSERT INTO ${META_SCHEMA}.meta VALUES ('version', $1)`, [META_VERSION]);
  else if (version[0]?.[0] !== META_VERSION)
    throw new Error(
      `The warehouse metadata has version ${String(version[0]?.[0])}; this Sluice reads version ${META_VERSION}.`,
    );
  for (const [table, cols] of [
    ['stl_load_errors', STL_LOAD_ERRORS],
    ['stl_loaderror_detail', STL_LOADERROR_DETAIL],
    ['stl_query', STL_QUERY_COLUMNS],
    ['stl_connection_log', STL_CONNECTION_LOG_COLUMNS],
  ] as const) {
    const have = await q(
      `SELECT count(*) FROM ${META_SCHEMA}.columns WHERE schema_name = $1 AND table_name = $2`,
      [META_SCHEMA, table],
    );
    if (Number(have[0]?.[0]) > 0) continue;
    let ordinal = 1;
    for (const [name, pg] of cols) {
      await q(
        `INSERT INTO ${META_SCHEMA}.columns (schema_name, table_name, column_name, ordinal, declared_type) VALUES ($1, $2, $3, $4, $5)`,
        [META_SCHEMA, table, name, ordinal++, pg],
      );
    }
  }
}

/** One column of a table as COPY sees it. */
export interface TableColumn {
  /** Column name. */
  readonly name: string;
  /** Declared type (from `_sluice.columns`, else from DuckDB). */
  readonly type: SqlType;
  /** NOT NULL. */
  readonly notNull: boolean;
  /** DuckDB default expression, if any. */
  readonly defaultSql?: string;
  /** An IDENTITY column. */
  readonly identity: boolean;
}

/** A table as COPY sees it. */
export interface TableInfo {
  /** DuckDB catalog (`dev`, or `temp` for temporary tables). */
  readonly catalog: string;
  /** Schema. */
  readonly schema: string;
  /** Table name. */
  readonly name: string;
  /** DuckDB table oid (stl_load_errors.tbl). */
  readonly oid: number;
  /** Columns in order. */
  readonly columns: readonly TableColumn[];
}

/** The schemas to search for an unqualified name, in order (temporary objects first, as in PostgreSQL). */
export async function findTable(
  q: Query,
  table: TableName,
  searchPath: readonly string[],
): Promise<TableInfo | undefined> {
  const rows = await q(
    `SELECT database_name, schema_name, table_name, table_oid FROM duckdb_tables()
      WHERE table_name = $1 AND ((database_name = 'dev' AND list_contains($2, schema_name)) OR (database_name = 'temp' AND $3))`,
    [table.name, table.schema ? [table.schema] : [...searchPath], table.schema === undefined],
  );
  const order = (r: unknown[]): number =>
    r[0] === 'temp' ? -1 : (table.schema ? [table.schema] : searchPath).indexOf(String(r[1]));
  rows.sort((a, b) => order(a) - order(b));
  const hit = rows[0];
  if (!hit) return undefined;
  const catalog = String(hit[0]);
  const schema = String(hit[1]);
  const name = String(hit[2]);
  const cols = await q(
    `SELECT column_name, data_type, is_nullable, column_default FROM duckdb_columns()
      WHERE database_name = $1 AND schema_name = $2 AND table_name = $3 ORDER BY column_index`,
    [catalog, schema, name],
  );
  const declared =
    catalog === 'dev' ? await declaredColumns(q, schema, name) : new Map<string, DeclaredColumn>();
  return {
    catalog,
    schema,
    name,
    oid: Number(hit[3]),
    columns: cols.map((c) => {
      const colName = String(c[0]);
      const duck = String(c[1]);
      const d = declared.get(colName);
      const type = d && declaredTypeMatches(d.type, duck) ? d.type : typeFromDuck(duck);
      const defaultSql = c[3] === null ? undefined : String(c[3]);
      return {
        name: colName,
        type,
        notNull: c[2] === false,
        ...(defaultSql !== undefined ? { defaultSql } : {}),
        identity: d?.identity ?? defaultSql?.startsWith('nextval(') === true,
      };
    }),
  };
}

interface DeclaredColumn {
  readonly type: SqlType;
  readonly identity: boolean;
  readonly sequence?: string;
}

async function declaredColumns(
  q: Query,
  schema: string,
  table: string,
): Promise<Map<string, DeclaredColumn>> {
  const rows = await q(
    `SELECT column_name, declared_type, identity_seed, sequence_name FROM ${META_SCHEMA}.columns WHERE schema_name = $1 AND table_name = $2`,
    [schema, table],
  );
  return new Map(
    rows.map((r) => [
      String(r[0]),
      {
        type: typeFromPg(String(r[1])),
        identity: r[2] !== null,
        ...(r[3] !== null ? { sequence: String(r[3]) } : {}),
      },
    ]),
  );
}

/** Records the declared columns of a table created through Sluice (replacing older rows). */
export async function recordColumns(
  q: Query,
  schema: string,
  table: string,
  columns: readonly ColumnDecl[],
  sequences: ReadonlyMap<string, string>,
): Promise<void> {
  await q(`DELETE FROM ${META_SCHEMA}.columns WHERE schema_name = $1 AND table_name = $2`, [schema, table]);
  let ordinal = 1;
  for (const col of columns) {
    await q(
      `INSERT INTO ${META_SCHEMA}.columns (schema_name, table_name, column_name, ordinal, declared_type, identity_seed, identity_step, sequence_name)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        schema,
        table,
        col.name,
        ordinal++,
        col.type.pg,
        col.identity?.seed ?? null,
        col.identity?.step ?? null,
        sequences.get(col.name) ?? null,
      ],
    );
  }
}

/** Forgets a dropped table's columns; returns its sequences (schema.name) to drop. */
export async function forgetTable(q: Query, schema: string, table: string): Promise<string[]> {
  const rows = await q(
    `SELECT sequence_name FROM ${META_SCHEMA}.columns WHERE schema_name = $1 AND table_name = $2 AND sequence_name IS NOT NULL`,
    [schema, table],
  );
  await q(`DELETE FROM ${META_SCHEMA}.columns WHERE schema_name = $1 AND table_name = $2`, [schema, table]);
  return rows.map((r) => String(r[0]));
}

/** Forgets every table of a dropped schema. */
export async function forgetSchema(q: Query, schema: string): Promise<void> {
  await q(`DELETE FROM ${META_SCHEMA}.columns WHERE schema_name = $1`, [schema]);
}

/** All declared types: schema.table → column → type (for naming result column types). */
export async function allDeclaredTypes(q: Query): Promise<Map<string, Map<string, SqlType>>> {
  const rows = await q(
    `SELECT schema_name, table_name, column_name, declared_type FROM ${META_SCHEMA}.columns`,
  );
  const out = new Map<string, Map<string, SqlType>>();
  for (const r of rows) {
    const key = `${String(r[0])}.${String(r[1])}`;
    let cols = out.get(key);
    if (!cols) out.set(key, (cols = new Map()));
    cols.set(String(r[2]), typeFromPg(String(r[3])));
  }
  return out;
}

/** One stl_load_errors row's content (see LoadError in copy.ts). */
export interface LoadErrorRow {
  /** s3:// URL. */
  readonly file: string;
  /** Line number. */
  readonly line: number;
  /** Raw record text. */
  readonly raw: string;
  /** Column. */
  readonly column?: string;
  /** Type name. */
  readonly type?: string;
  /** col_length. */
  readonly colLength?: string;
  /** 0-based field number. */
  readonly field?: number;
  /** Raw field value. */
  readonly fieldValue?: string;
  /** Load error code. */
  readonly code: number;
  /** Reason. */
  readonly reason: string;
}

/** Who and what a batch of stl_load_errors rows belongs to. */
export interface LoadErrorContext {
  /** usesysid of the user who ran the COPY. */
  readonly userId: number;
  /** Session id. */
  readonly session: number;
  /** Query id. */
  readonly query: number;
  /** Table oid. */
  readonly tbl: number;
  /** COPY start time. */
  readonly start: Date;
}

/** Redshift shows raw text with multibyte characters as '.', cut to the column width. */
function redshiftRaw(text: string, width: number): string {
  return text.replace(/[\u{80}-\u{10FFFF}]/gu, '.').slice(0, width);
}

/** Formats a Date as a DuckDB TIMESTAMP literal (UTC). */
export function timestampText(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

/** Inserts stl_load_errors (and stl_loaderror_detail) rows. */
export async function writeLoadErrors(
  q: Query,
  errors: readonly LoadErrorRow[],
  ctx: LoadErrorContext,
): Promise<void> {
  const start = timestampText(ctx.start);
  const CHUNK = 200;
  for (let i = 0; i < errors.length; i += CHUNK) {
    const chunk = errors.slice(i, i + CHUNK);
    const params: unknown[] = [];
    const rows = chunk.map((e) => {
      const base = params.length;
      params.push(
        ctx.userId,
        0,
        ctx.tbl,
        start,
        ctx.session,
        ctx.query,
        e.file.slice(0, 256),
        e.line,
        (e.column ?? '').slice(0, 127),
        (e.type ?? '').slice(0, 10),
        (e.colLength ?? '').slice(0, 10),
        0,
        redshiftRaw(e.raw, 1024),
        redshiftRaw(e.fieldValue ?? '', 1024),
        e.code,
        e.reason.slice(0, 100),
      );
      return `(${Array.from({ length: 16 }, (_, k) => `$${base + k + 1}${k === 3 ? '::TIMESTAMP' : ''}`).join(', ')})`;
    });
    await q(`INSERT INTO ${META_SCHEMA}.stl_load_errors VALUES ${rows.join(', ')}`, params);
    const detailed = chunk.filter((e) => e.column !== undefined);
    if (detailed.length === 0) continue;
    const dparams: unknown[] = [];
    const drows = detailed.map((e) => {
      const base = dparams.length;
      dparams.push(
        ctx.userId,
        0,
        ctx.session,
        ctx.query,
        e.file.slice(0, 256),
        e.line,
        e.field ?? 0,
        e.column ?? '',
        redshiftRaw(e.fieldValue ?? '', 1024),
        e.fieldValue === undefined || e.fieldValue === '' ? 1 : 0,
        (e.type ?? '').slice(0, 10),
        (e.colLength ?? '').slice(0, 10),
      );
      return `(${Array.from({ length: 12 }, (_, k) => `$${base + k + 1}`).join(', ')})`;
    });
    await q(`INSERT INTO ${META_SCHEMA}.stl_loaderror_detail VALUES ${drows.join(', ')}`, dparams);
  }
}
