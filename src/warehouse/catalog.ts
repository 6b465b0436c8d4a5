/**
 * Sluice's own metadata, kept in schema `_sluice` of the same DuckDB file as the data so it
 * commits with the rows it describes:
 * - `_sluice.users`: users and their SCRAM verifiers (users.ts);
 * - `_sluice.load_ledger`: one row per delivery batch loaded (exactly-once loads);
 * - `_sluice.columns`: the declared Redshift type of every column created through Sluice
 *   (DuckDB forgets VARCHAR lengths), with IDENTITY seed/step and sequence, and its ENCODE;
 * - `_sluice.tables`: each table's declared DISTSTYLE, DISTKEY and SORTKEY, and whether
 *   it is ENCODE AUTO (what pg_table_def and svv_table_info report);
 * - `_sluice.constraints`: PRIMARY KEY, UNIQUE and FOREIGN KEY constraints, recorded and,
 *   as in Redshift, not enforced (what pg_constraint and pg_index report);
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
import type { ColumnDecl, KeyConstraint, SortKey, TableChange, TableDesign, TableName } from './dialect.ts';
import { SqlError } from './index.ts';
import { SQLSTATE } from './errors.ts';
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
  // Schema public starts usable and writable by everyone, as in Redshift; REVOKE can take that back.
  `INSERT INTO ${META_SCHEMA}.privileges SELECT 'public', 'schema', 'public', '', p FROM (VALUES ('usage'), ('create')) v(p)
     WHERE NOT EXISTS (SELECT 1 FROM ${META_SCHEMA}.meta WHERE key = 'public_schema_grants')`,
  `INSERT INTO ${META_SCHEMA}.meta SELECT 'public_schema_grants', 'granted'
     WHERE NOT EXISTS (SELECT 1 FROM ${META_SCHEMA}.meta WHERE key = 'public_schema_grants')`,
  `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.load_ledger (stream VARCHAR NOT NULL, destination_id VARCHAR NOT NULL,
     first_offset BIGINT NOT NULL, last_offset BIGINT NOT NULL, manifest VARCHAR, rows_loaded BIGINT NOT NULL,
     rows_rejected BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL, PRIMARY KEY (stream, destination_id, first_offset))`,
  `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.columns (schema_name VARCHAR NOT NULL, table_name VARCHAR NOT NULL,
     column_name VARCHAR NOT NULL, ordinal INTEGER NOT NULL, declared_type VARCHAR NOT NULL,
     identity_seed BIGINT, identity_step BIGINT, sequence_name VARCHAR)`,
  // ENCODE as declared; NULL means the encoding Redshift assigns (system-tables.ts).
  `ALTER TABLE ${META_SCHEMA}.columns ADD COLUMN IF NOT EXISTS encoding VARCHAR`,
  `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.tables (schema_name VARCHAR NOT NULL, table_name VARCHAR NOT NULL,
     diststyle VARCHAR, distkey VARCHAR, sortkey_kind VARCHAR, sortkey VARCHAR[] NOT NULL, encode_auto BOOLEAN NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${META_SCHEMA}.constraints (schema_name VARCHAR NOT NULL, table_name VARCHAR NOT NULL,
     constraint_name VARCHAR NOT NULL, contype VARCHAR NOT NULL, columns VARCHAR[] NOT NULL,
     ref_schema VARCHAR, ref_table VARCHAR, ref_columns VARCHAR[])`,
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
      `INSERT INTO ${META_SCHEMA}.columns (schema_name, table_name, column_name, ordinal, declared_type, identity_seed, identity_step, sequence_name, encoding)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        schema,
        table,
        col.name,
        ordinal++,
        col.type.pg,
        col.identity?.seed ?? null,
        col.identity?.step ?? null,
        sequences.get(col.name) ?? null,
        col.encoding ?? null,
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
  for (const meta of ['columns', 'tables', 'constraints'])
    await q(`DELETE FROM ${META_SCHEMA}.${meta} WHERE schema_name = $1 AND table_name = $2`, [schema, table]);
  // Foreign keys that referenced it go with it, as DROP TABLE ... CASCADE drops them.
  await q(`DELETE FROM ${META_SCHEMA}.constraints WHERE ref_schema = $1 AND ref_table = $2`, [schema, table]);
  return rows.map((r) => String(r[0]));
}

/** Forgets every table of a dropped schema. */
export async function forgetSchema(q: Query, schema: string): Promise<void> {
  for (const meta of ['columns', 'tables', 'constraints'])
    await q(`DELETE FROM ${META_SCHEMA}.${meta} WHERE schema_name = $1`, [schema]);
  await q(`DELETE FROM ${META_SCHEMA}.constraints WHERE ref_schema = $1`, [schema]);
}

/** A VARCHAR[] parameter, sent as JSON text (DuckDB cannot type an empty list parameter). */
const LIST_PARAM = (p: string): string => `from_json(${p}::VARCHAR, '["VARCHAR"]')`;

/** A VARCHAR[] read back as JSON text. */
function stringList(json: unknown): string[] {
  return (JSON.parse(String(json)) as unknown[]).map(String);
}

/** The name PostgreSQL (and Redshift) gives a constraint written without CONSTRAINT name. */
function constraintName(table: string, k: KeyConstraint): string {
  if (k.name !== undefined) return k.name;
  if (k.kind === 'p') return `${table}_pkey`;
  return `${table}_${k.columns.join('_')}_${k.kind === 'u' ? 'key' : 'fkey'}`;
}

/** Records a constraint; a FOREIGN KEY without columns references the parent's primary key. */
async function insertConstraint(q: Query, schema: string, table: string, k: KeyConstraint): Promise<void> {
  let refSchema: string | null = null;
  // Always a list: DuckDB cannot type a NULL list parameter. ref_table says whether it is a foreign key.
  let refColumns: string[] = [];
  if (k.references) {
    refSchema = k.references.table.schema ?? schema;
    refColumns = [...k.references.columns];
    if (refColumns.length === 0) {
      const pk = await q(
        `SELECT to_json(columns)::VARCHAR FROM ${META_SCHEMA}.constraints WHERE schema_name = $1 AND table_name = $2 AND contype = 'p'`,
        [refSchema, k.references.table.name],
      );
      refColumns = pk[0] ? stringList(pk[0][0]) : [];
    }
  }
  await q(
    `INSERT INTO ${META_SCHEMA}.constraints VALUES ($1, $2, $3, $4, ${LIST_PARAM('$5')}, $6, $7, ${LIST_PARAM('$8')})`,
    [
      schema,
      table,
      constraintName(table, k),
      k.kind,
      JSON.stringify(k.columns),
      refSchema,
      k.references?.table.name ?? null,
      JSON.stringify(refColumns),
    ],
  );
}

/**
 * Records a new table's physical design and constraints (replacing older rows). `encodeAuto`
 * is false when a column declared an ENCODE, as Redshift then stops managing encodings.
 */
export async function recordDesign(
  q: Query,
  schema: string,
  table: string,
  design: TableDesign,
  constraints: readonly KeyConstraint[],
  encodeAuto: boolean,
): Promise<void> {
  await q(`DELETE FROM ${META_SCHEMA}.tables WHERE schema_name = $1 AND table_name = $2`, [schema, table]);
  await q(`DELETE FROM ${META_SCHEMA}.constraints WHERE schema_name = $1 AND table_name = $2`, [
    schema,
    table,
  ]);
  await q(`INSERT INTO ${META_SCHEMA}.tables VALUES ($1, $2, $3, $4, $5, ${LIST_PARAM('$6')}, $7)`, [
    schema,
    table,
    design.diststyle ?? null,
    design.distkey ?? null,
    design.sortkey?.kind ?? null,
    JSON.stringify(design.sortkey?.columns ?? []),
    encodeAuto,
  ]);
  for (const k of constraints) await insertConstraint(q, schema, table, k);
}

/** A table's recorded design and column encodings (for CREATE TABLE ... LIKE). */
export async function readDesign(
  q: Query,
  schema: string,
  table: string,
): Promise<{ design: TableDesign; encodings: Map<string, string>; encodeAuto: boolean }> {
  const rows = await q(
    `SELECT diststyle, distkey, sortkey_kind, to_json(sortkey)::VARCHAR, encode_auto FROM ${META_SCHEMA}.tables WHERE schema_name = $1 AND table_name = $2`,
    [schema, table],
  );
  const encodings = new Map(
    (
      await q(
        `SELECT column_name, encoding FROM ${META_SCHEMA}.columns WHERE schema_name = $1 AND table_name = $2 AND encoding IS NOT NULL`,
        [schema, table],
      )
    ).map((r) => [String(r[0]), String(r[1])]),
  );
  const r = rows[0];
  if (!r) return { design: {}, encodings, encodeAuto: encodings.size === 0 };
  const design: TableDesign = {
    ...(r[0] !== null ? { diststyle: String(r[0]) as NonNullable<TableDesign['diststyle']> } : {}),
    ...(r[1] !== null ? { distkey: String(r[1]) } : {}),
    ...(r[2] !== null
      ? { sortkey: { kind: String(r[2]) as SortKey['kind'], columns: stringList(r[3]) } }
      : {}),
  };
  return { design, encodings, encodeAuto: r[4] === true };
}

/** Makes sure a table has its row in `_sluice.tables` (a CREATE TABLE AS, or one made before it was kept). */
async function ensureTableRow(q: Query, info: TableInfo): Promise<void> {
  const have = await q(`SELECT 1 FROM ${META_SCHEMA}.tables WHERE schema_name = $1 AND table_name = $2`, [
    info.schema,
    info.name,
  ]);
  if (have.length === 0) await recordDesign(q, info.schema, info.name, {}, [], true);
}

/** Checks that each column exists in the table. */
function checkColumns(info: TableInfo, columns: readonly string[]): void {
  for (const col of columns)
    if (!info.columns.some((c) => c.name === col))
      throw new SqlError(
        `column "${col}" of relation "${info.name}" does not exist`,
        SQLSTATE.undefinedColumn,
      );
}

/**
 * Records the design of a table made by CREATE TABLE ... AS, checking that its DISTKEY and
 * SORTKEY name columns the query produced.
 */
export async function recordCreatedDesign(q: Query, info: TableInfo, design: TableDesign): Promise<void> {
  checkColumns(info, [
    ...(design.distkey !== undefined ? [design.distkey] : []),
    ...(design.sortkey?.columns ?? []),
  ]);
  await recordDesign(q, info.schema, info.name, design, [], true);
}

/**
 * Applies an ALTER TABLE to the recorded design of a (non-temporary) table. Renames move the
 * table's rows in every metadata table, and foreign keys that reference it follow.
 *
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_ALTER_TABLE.html
 */
export async function alterDesign(q: Query, info: TableInfo, change: TableChange): Promise<void> {
  const { schema, name } = info;
  const where = 'WHERE schema_name = $1 AND table_name = $2';
  switch (change.what) {
    case 'diststyle':
      if (change.distkey !== undefined) checkColumns(info, [change.distkey]);
      await ensureTableRow(q, info);
      await q(`UPDATE ${META_SCHEMA}.tables SET diststyle = $3, distkey = $4 ${where}`, [
        schema,
        name,
        change.diststyle,
        change.distkey ?? null,
      ]);
      return;
    case 'sortkey':
      checkColumns(info, change.sortkey.columns);
      await ensureTableRow(q, info);
      await q(`UPDATE ${META_SCHEMA}.tables SET sortkey_kind = $3, sortkey = ${LIST_PARAM('$4')} ${where}`, [
        schema,
        name,
        change.sortkey.kind,
        JSON.stringify(change.sortkey.columns),
      ]);
      return;
    case 'encode-auto':
      await ensureTableRow(q, info);
      // Redshift manages every column's encoding again.
      await q(`UPDATE ${META_SCHEMA}.columns SET encoding = NULL ${where}`, [schema, name]);
      await q(`UPDATE ${META_SCHEMA}.tables SET encode_auto = true ${where}`, [schema, name]);
      return;
    case 'encode': {
      checkColumns(info, [change.column]);
      await ensureTableRow(q, info);
      const have = await q(`SELECT count(*) FROM ${META_SCHEMA}.columns ${where}`, [schema, name]);
      if (Number(have[0]?.[0]) === 0)
        await recordColumns(
          q,
          schema,
          name,
          info.columns.map((c) => ({ name: c.name, type: c.type, notNull: c.notNull })),
          new Map(),
        );
      await q(`UPDATE ${META_SCHEMA}.columns SET encoding = $3 ${where} AND column_name = $4`, [
        schema,
        name,
        change.encoding,
        change.column,
      ]);
      await q(`UPDATE ${META_SCHEMA}.tables SET encode_auto = false ${where}`, [schema, name]);
      return;
    }
    case 'add-constraint':
      checkColumns(info, change.constraint.columns);
      if (change.constraint.kind === 'p') {
        const pk = await q(`SELECT 1 FROM ${META_SCHEMA}.constraints ${where} AND contype = 'p'`, [
          schema,
          name,
        ]);
        if (pk.length > 0)
          throw new SqlError(`multiple primary keys for table "${name}" are not allowed`, '42P16');
      }
      await insertConstraint(q, schema, name, change.constraint);
      return;
    case 'drop-constraint': {
      const gone = await q(
        `DELETE FROM ${META_SCHEMA}.constraints ${where} AND constraint_name = $3 RETURNING 1`,
        [schema, name, change.name],
      );
      if (gone.length === 0)
        throw new SqlError(
          `constraint "${change.name}" of relation "${name}" does not exist`,
          SQLSTATE.undefinedObject,
        );
      return;
    }
    case 'rename-table':
      for (const meta of ['columns', 'tables', 'constraints'])
        await q(`UPDATE ${META_SCHEMA}.${meta} SET table_name = $3 ${where}`, [schema, name, change.to]);
      await q(
        `UPDATE ${META_SCHEMA}.constraints SET ref_table = $3 WHERE ref_schema = $1 AND ref_table = $2`,
        [schema, name, change.to],
      );
      return;
    case 'add-column': {
      await ensureTableRow(q, info);
      const have = await q(`SELECT count(*) FROM ${META_SCHEMA}.columns ${where}`, [schema, name]);
      // A table created without recorded columns (CREATE TABLE AS) gets them now, the new one last.
      const existing =
        Number(have[0]?.[0]) === 0
          ? info.columns.map((c) => ({ name: c.name, type: c.type, notNull: c.notNull }))
          : [];
      if (existing.length > 0) await recordColumns(q, schema, name, existing, new Map());
      const next = await q(`SELECT coalesce(max(ordinal), 0) + 1 FROM ${META_SCHEMA}.columns ${where}`, [
        schema,
        name,
      ]);
      const col = change.column;
      await q(
        `INSERT INTO ${META_SCHEMA}.columns (schema_name, table_name, column_name, ordinal, declared_type, encoding)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [schema, name, col.name, Number(next[0]?.[0]), col.type.pg, col.encoding ?? null],
      );
      if (col.encoding !== undefined)
        await q(`UPDATE ${META_SCHEMA}.tables SET encode_auto = false ${where}`, [schema, name]);
      for (const k of change.constraints) await insertConstraint(q, schema, name, k);
      return;
    }
    case 'drop-column': {
      const args = [schema, name, change.column];
      await q(`DELETE FROM ${META_SCHEMA}.columns ${where} AND column_name = $3`, args);
      // Renumber the remaining columns, as DuckDB does.
      await q(
        `UPDATE ${META_SCHEMA}.columns AS c SET ordinal = n.ordinal FROM (
           SELECT column_name, CAST(row_number() OVER (ORDER BY ordinal) AS INTEGER) AS ordinal
             FROM ${META_SCHEMA}.columns ${where}) n
          WHERE c.schema_name = $1 AND c.table_name = $2 AND c.column_name = n.column_name`,
        [schema, name],
      );
      await q(
        `UPDATE ${META_SCHEMA}.tables SET distkey = CASE WHEN distkey = $3 THEN NULL ELSE distkey END,
           diststyle = CASE WHEN distkey = $3 THEN NULL ELSE diststyle END,
           sortkey = list_filter(sortkey, c -> c <> $3),
           sortkey_kind = CASE WHEN list_contains(sortkey, $3) AND len(sortkey) = 1 THEN NULL ELSE sortkey_kind END ${where}`,
        args,
      );
      await q(`DELETE FROM ${META_SCHEMA}.constraints ${where} AND list_contains(columns, $3)`, args);
      await q(
        `DELETE FROM ${META_SCHEMA}.constraints WHERE ref_schema = $1 AND ref_table = $2 AND list_contains(ref_columns, $3)`,
        args,
      );
      return;
    }
    case 'rename-column': {
      const swap = (list: string): string =>
        `list_transform(${list}, c -> CASE WHEN c = $3 THEN $4 ELSE c END)`;
      const args = [schema, name, change.from, change.to];
      await q(`UPDATE ${META_SCHEMA}.columns SET column_name = $4 ${where} AND column_name = $3`, args);
      await q(
        `UPDATE ${META_SCHEMA}.tables SET distkey = CASE WHEN distkey = $3 THEN $4 ELSE distkey END,
           sortkey = ${swap('sortkey')} ${where}`,
        args,
      );
      await q(`UPDATE ${META_SCHEMA}.constraints SET columns = ${swap('columns')} ${where}`, args);
      await q(
        `UPDATE ${META_SCHEMA}.constraints SET ref_columns = ${swap('ref_columns')} WHERE ref_schema = $1 AND ref_table = $2`,
        args,
      );
      return;
    }
  }
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
