/**
 * PostgreSQL catalog emulation, so that psql, pgjdbc (DataGrip, DBeaver), psycopg2 and BI
 * tools (Metabase, Grafana) can introspect the warehouse as they introspect PostgreSQL or
 * Redshift.
 *
 * DuckDB has a `pg_catalog` and an `information_schema` of its own, but their oids change
 * between runs, their relkinds, types and functions are DuckDB's, they show DuckDB's internal
 * schemas, and they forget the declared Redshift types (VARCHAR(36) becomes VARCHAR). So
 * Sluice keeps its own: views and macros in schema `_sluice`, built from DuckDB's
 * `duckdb_*()` functions and `_sluice.columns`, installed when the warehouse opens. The
 * dialect layer sends every catalog name a client writes (`pg_class`,
 * `pg_catalog.pg_class`, `information_schema.columns`, `format_type(...)`,
 * `'sensor.message'::regclass`, `OPERATOR(pg_catalog.~)`, ...) to them through
 * `rewriteCatalogToken`.
 *
 * Invariants:
 * - An object's oid is a hash of its kind, schema and name, so it is the same in every
 *   session and after a restart (psql reads an oid in one query and uses it in the next).
 *   Well-known objects keep PostgreSQL's oids (pg_catalog 11, public 2200, pg_class 1259,
 *   the built-in types).
 * - Sluice's own schema and DuckDB's `main` are never shown; `pg_catalog`,
 *   `information_schema`, `public` and the user's schemas are, as on Redshift.
 * - Session state (user, search_path, settings, process id) reaches the macros through
 *   DuckDB variables the session sets (`sessionVariablesSql`), since each session has its
 *   own DuckDB connection.
 *
 * @see https://www.postgresql.org/docs/15/catalogs.html
 * @see https://www.postgresql.org/docs/15/information-schema.html
 * @see https://docs.aws.amazon.com/redshift/latest/dg/c_intro_catalog_views.html
 */
import type { Token } from './lexer.ts';
import { quoteString } from './lexer.ts';
import { SYSTEM_VIEWS_SQL } from './system-tables.ts';

const S = '_sluice';

/** The database every client connects to. */
export const DATABASE_NAME = 'dev';
/** The oid pg_database gives `dev`. */
const DATABASE_OID = 16384;

/** One built-in type: oid, name, what format_type prints, typlen, category, array oid, input function. */
interface PgTypeRow {
  readonly oid: number;
  readonly name: string;
  readonly format: string;
  readonly len: number;
  readonly category: string;
  readonly array: number;
  readonly input: string;
  readonly collatable?: boolean;
}

/** The types Sluice's columns and results can have, with PostgreSQL's oids. @see https://github.com/postgres/postgres/blob/REL_15_STABLE/src/include/catalog/pg_type.dat */
const TYPES: readonly PgTypeRow[] = [
  { oid: 16, name: 'bool', format: 'boolean', len: 1, category: 'B', array: 1000, input: 'boolin' },
  { oid: 17, name: 'bytea', format: 'bytea', len: -1, category: 'U', array: 1001, input: 'byteain' },
  { oid: 18, name: 'char', format: '"char"', len: 1, category: 'Z', array: 1002, input: 'charin' },
  { oid: 19, name: 'name', format: 'name', len: 64, category: 'S', array: 1003, input: 'namein' },
  { oid: 20, name: 'int8', format: 'bigint', len: 8, category: 'N', array: 1016, input: 'int8in' },
  { oid: 21, name: 'int2', format: 'smallint', len: 2, category: 'N', array: 1005, input: 'int2in' },
  {
    oid: 22,
    name: 'int2vector',
    format: 'int2vector',
    len: -1,
    category: 'A',
    array: 1006,
    input: 'int2vectorin',
  },
  { oid: 23, name: 'int4', format: 'integer', len: 4, category: 'N', array: 1007, input: 'int4in' },
  { oid: 24, name: 'regproc', format: 'regproc', len: 4, category: 'N', array: 1008, input: 'regprocin' },
  {
    oid: 25,
    name: 'text',
    format: 'text',
    len: -1,
    category: 'S',
    array: 1009,
    input: 'textin',
    collatable: true,
  },
  { oid: 26, name: 'oid', format: 'oid', len: 4, category: 'N', array: 1028, input: 'oidin' },
  {
    oid: 30,
    name: 'oidvector',
    format: 'oidvector',
    len: -1,
    category: 'A',
    array: 1013,
    input: 'oidvectorin',
  },
  { oid: 114, name: 'json', format: 'json', len: -1, category: 'U', array: 199, input: 'json_in' },
  { oid: 700, name: 'float4', format: 'real', len: 4, category: 'N', array: 1021, input: 'float4in' },
  {
    oid: 701,
    name: 'float8',
    format: 'double precision',
    len: 8,
    category: 'N',
    array: 1022,
    input: 'float8in',
  },
  {
    oid: 1042,
    name: 'bpchar',
    format: 'character',
    len: -1,
    category: 'S',
    array: 1014,
    input: 'bpcharin',
    collatable: true,
  },
  {
    oid: 1043,
    name: 'varchar',
    format: 'character varying',
    len: -1,
    category: 'S',
    array: 1015,
    input: 'varcharin',
    collatable: true,
  },
  { oid: 1082, name: 'date', format: 'date', len: 4, category: 'D', array: 1182, input: 'date_in' },
  {
    oid: 1083,
    name: 'time',
    format: 'time without time zone',
    len: 8,
    category: 'D',
    array: 1183,
    input: 'time_in',
  },
  {
    oid: 1114,
    name: 'timestamp',
    format: 'timestamp without time zone',
    len: 8,
    category: 'D',
    array: 1115,
    input: 'timestamp_in',
  },
  {
    oid: 1184,
    name: 'timestamptz',
    format: 'timestamp with time zone',
    len: 8,
    category: 'D',
    array: 1185,
    input: 'timestamptz_in',
  },
  {
    oid: 1186,
    name: 'interval',
    format: 'interval',
    len: 16,
    category: 'T',
    array: 1187,
    input: 'interval_in',
  },
  {
    oid: 1266,
    name: 'timetz',
    format: 'time with time zone',
    len: 12,
    category: 'D',
    array: 1270,
    input: 'timetz_in',
  },
  { oid: 1700, name: 'numeric', format: 'numeric', len: -1, category: 'N', array: 1231, input: 'numeric_in' },
  {
    oid: 2205,
    name: 'regclass',
    format: 'regclass',
    len: 4,
    category: 'N',
    array: 2210,
    input: 'regclassin',
  },
  { oid: 2206, name: 'regtype', format: 'regtype', len: 4, category: 'N', array: 2211, input: 'regtypein' },
  { oid: 2950, name: 'uuid', format: 'uuid', len: 16, category: 'U', array: 2951, input: 'uuid_in' },
  { oid: 3802, name: 'jsonb', format: 'jsonb', len: -1, category: 'U', array: 3807, input: 'jsonb_in' },
];

/** The catalog relations Sluice emulates in pg_catalog, with PostgreSQL's oid where it has a well-known one. */
const PG_CATALOG_RELATIONS: ReadonlyMap<string, { readonly oid?: number; readonly kind: 'r' | 'v' }> =
  new Map([
    ['pg_namespace', { oid: 2615, kind: 'r' }],
    ['pg_class', { oid: 1259, kind: 'r' }],
    ['pg_attribute', { oid: 1249, kind: 'r' }],
    ['pg_type', { oid: 1247, kind: 'r' }],
    ['pg_proc', { oid: 1255, kind: 'r' }],
    ['pg_database', { oid: 1262, kind: 'r' }],
    ['pg_description', { oid: 2609, kind: 'r' }],
    ['pg_shdescription', { oid: 2396, kind: 'r' }],
    ['pg_attrdef', { oid: 2604, kind: 'r' }],
    ['pg_constraint', { oid: 2606, kind: 'r' }],
    ['pg_index', { oid: 2610, kind: 'r' }],
    ['pg_inherits', { oid: 2611, kind: 'r' }],
    ['pg_am', { oid: 2601, kind: 'r' }],
    ['pg_collation', { oid: 3456, kind: 'r' }],
    ['pg_auth_members', { oid: 1261, kind: 'r' }],
    ['pg_policy', { oid: 3256, kind: 'r' }],
    ['pg_statistic_ext', { oid: 3381, kind: 'r' }],
    ['pg_publication', { oid: 6104, kind: 'r' }],
    ['pg_publication_namespace', { oid: 6237, kind: 'r' }],
    ['pg_publication_rel', { oid: 6106, kind: 'r' }],
    ['pg_tablespace', { oid: 1213, kind: 'r' }],
    ['pg_extension', { oid: 3079, kind: 'r' }],
    ['pg_enum', { oid: 3501, kind: 'r' }],
    ['pg_range', { oid: 3541, kind: 'r' }],
    ['pg_trigger', { oid: 2620, kind: 'r' }],
    ['pg_rewrite', { oid: 2618, kind: 'r' }],
    ['pg_depend', { oid: 2608, kind: 'r' }],
    ['pg_sequence', { oid: 2224, kind: 'r' }],
    ['pg_operator', { oid: 2617, kind: 'r' }],
    ['pg_language', { oid: 2612, kind: 'r' }],
    ['pg_event_trigger', { oid: 3466, kind: 'r' }],
    ['pg_default_acl', { oid: 826, kind: 'r' }],
    ['pg_db_role_setting', { oid: 2964, kind: 'r' }],
    ['pg_cast', { oid: 2605, kind: 'r' }],
    ['pg_foreign_server', { oid: 1417, kind: 'r' }],
    ['pg_foreign_data_wrapper', { oid: 2328, kind: 'r' }],
    ['pg_roles', { kind: 'v' }],
    ['pg_user', { kind: 'v' }],
    ['pg_settings', { kind: 'v' }],
    ['pg_tables', { kind: 'v' }],
    ['pg_views', { kind: 'v' }],
    ['pg_matviews', { kind: 'v' }],
    ['pg_indexes', { kind: 'v' }],
    ['pg_stat_user_tables', { kind: 'v' }],
    ['pg_stat_all_tables', { kind: 'v' }],
    ['pg_statio_user_tables', { kind: 'v' }],
    ['pg_stat_activity', { kind: 'v' }],
    // Redshift's system tables and views.
    ['pg_table_def', { kind: 'v' }],
    ['stl_load_errors', { kind: 'v' }],
    ['stl_loaderror_detail', { kind: 'v' }],
    ['stl_connection_log', { kind: 'v' }],
    ['stl_query', { kind: 'v' }],
    ['svv_table_info', { kind: 'v' }],
  ]);

/** information_schema views Sluice emulates (as `_sluice.information_schema_<name>`). */
const INFORMATION_SCHEMA_VIEWS: ReadonlySet<string> = new Set([
  'schemata',
  'tables',
  'columns',
  'views',
  'table_constraints',
  'key_column_usage',
  'referential_constraints',
  'constraint_column_usage',
  'routines',
  'parameters',
  'table_privileges',
  'column_privileges',
]);

/** Functions Sluice defines as macros in `_sluice` (a call to `[pg_catalog.]name(` goes there). */
const CATALOG_FUNCTIONS: ReadonlySet<string> = new Set([
  'format_type',
  'pg_get_userbyid',
  'pg_table_is_visible',
  'pg_type_is_visible',
  'pg_operator_is_visible',
  'pg_function_is_visible',
  'obj_description',
  'col_description',
  'shobj_description',
  'pg_get_expr',
  'current_schemas',
  'current_schema',
  'current_database',
  'current_setting',
  'has_schema_privilege',
  'has_table_privilege',
  'has_database_privilege',
  'has_column_privilege',
  'has_any_column_privilege',
  'pg_has_role',
  'pg_encoding_to_char',
  'pg_get_function_result',
  'pg_get_function_arguments',
  'pg_get_function_identity_arguments',
  'pg_get_indexdef',
  'pg_get_constraintdef',
  'pg_partition_ancestors',
  'pg_get_viewdef',
  'pg_get_triggerdef',
  'pg_get_partkeydef',
  'pg_relation_is_publishable',
  'pg_get_statisticsobjdef_columns',
  'pg_total_relation_size',
  'pg_relation_size',
  'pg_table_size',
  'pg_indexes_size',
  'pg_size_pretty',
  'pg_backend_pid',
  'pg_is_in_recovery',
  'pg_stat_get_numscans',
  'pg_postmaster_start_time',
  'pg_tablespace_location',
  'txid_current',
  'array_upper',
  'array_lower',
  'array_remove',
  'pg_get_ruledef',
  'pg_database_size',
  'pg_tablespace_size',
  'quote_ident',
  'to_regclass',
  'pg_get_keywords',
  'to_regtype',
  'inet_server_addr',
  'inet_server_port',
  'inet_client_addr',
  'pg_get_serial_sequence',
  'string_to_array',
]);

/** PostgreSQL functions DuckDB has under another name. */
const RENAMED_FUNCTIONS: Readonly<Record<string, string>> = {
  json_build_object: 'json_object',
  jsonb_build_object: 'json_object',
  json_build_array: 'json_array',
  jsonb_build_array: 'json_array',
};

/** Words that name the session user in PostgreSQL without parentheses. */
const USER_WORDS: ReadonlySet<string> = new Set(['current_user', 'session_user', 'user', 'current_role']);

/** Casts PostgreSQL has and DuckDB lacks, to the DuckDB type that behaves alike. */
const CAST_TYPES: Readonly<Record<string, string>> = {
  name: 'VARCHAR',
  int2vector: 'SMALLINT[]',
  oidvector: 'INTEGER[]',
  oid: 'BIGINT',
  regclass: 'BIGINT',
  regtype: 'BIGINT',
  regproc: 'BIGINT',
  regprocedure: 'BIGINT',
  regnamespace: 'BIGINT',
  regrole: 'BIGINT',
  xid: 'BIGINT',
};

/** The part of the dialect layer's token cursor the catalog rewrite needs. */
export interface CatalogCursor {
  /** The k-th significant token. */
  tok(k: number): Token | undefined;
  /** True when the k-th significant token is the operator `op`. */
  isOp(k: number, op: string): boolean;
  /** True when the k-th significant token is one of the words. */
  isWord(k: number, ...words: string[]): boolean;
}

/** A rewrite of significant tokens from..through (inclusive) to `text`. */
export interface CatalogEdit {
  /** First significant index replaced. */
  readonly from: number;
  /** Last significant index replaced (inclusive). */
  readonly through: number;
  /** Replacement SQL. */
  readonly text: string;
  /** Further rewrites elsewhere in the statement that belong with this one. */
  readonly also?: readonly CatalogEdit[];
  /** Insert `text` before token `from` (keeping it and any rewrite of it) instead of replacing. */
  readonly prepend?: boolean;
}

function wordOrQuoted(t: Token | undefined): string | undefined {
  if (!t) return undefined;
  if (t.kind === 'word') return t.value;
  if (t.kind === 'qident') return t.value.toLowerCase();
  return undefined;
}

/**
 * The catalog rewrite at significant token k, if there is one: catalog relations and
 * functions (bare or `pg_catalog.`/`information_schema.`-qualified), regclass and other
 * PostgreSQL-only casts, `OPERATOR(pg_catalog.op)`, `COLLATE pg_catalog.default`, `~*`, and
 * the session-user words. Returns undefined when token k is not one.
 */
export function rewriteCatalogToken(c: CatalogCursor, k: number): CatalogEdit | undefined {
  const t = c.tok(k);
  if (!t) return undefined;
  if (t.kind === 'op') return rewriteOperator(c, k, t);
  if (t.kind === 'string') return rewriteRegLiteral(c, k, t);
  if (t.kind === 'qident' && t.value === 'char' && c.isOp(k - 1, '::'))
    return { from: k, through: k, text: 'VARCHAR' };
  if (t.kind !== 'word') return undefined;
  const prevDot = c.isOp(k - 1, '.');
  if (prevDot) return undefined;
  const callAt = (j: number): boolean => c.isOp(j, '(');
  const nextDot = c.isOp(k + 1, '.');
  if ((t.value === 'pg_catalog' || t.value === 'information_schema') && nextDot) {
    const name = wordOrQuoted(c.tok(k + 2));
    if (name === undefined) return undefined;
    // pg_catalog.pg_namespace.nspname: a column of a catalog relation named in full.
    if (c.isOp(k + 3, '.'))
      return t.value === 'pg_catalog' && PG_CATALOG_RELATIONS.has(name)
        ? { from: k, through: k + 2, text: `${S}.${name}` }
        : undefined;
    if (t.value === 'information_schema') {
      if (name === '_pg_expandarray' && callAt(k + 3))
        return { from: k, through: k + 2, text: `${S}._pg_expandarray` };
      if (INFORMATION_SCHEMA_VIEWS.has(name))
        return { from: k, through: k + 2, text: `${S}.information_schema_${name}` };
      return undefined;
    }
    if (callAt(k + 3)) {
      return {
        from: k,
        through: k + 2,
        text: CATALOG_FUNCTIONS.has(name) ? `${S}.${name}` : (RENAMED_FUNCTIONS[name] ?? name),
      };
    }
    if (c.isOp(k - 1, '::') && (name === 'regclass' || name === 'regtype'))
      return regCast(c, k - 1, k + 2, name) ?? { from: k, through: k + 2, text: 'BIGINT' };
    if (c.isOp(k - 1, '::') || (c.isWord(k - 1, 'as') && insideCast(c, k - 1)))
      return { from: k, through: k + 2, text: CAST_TYPES[name] ?? name };
    if (PG_CATALOG_RELATIONS.has(name)) return { from: k, through: k + 2, text: `${S}.${name}` };
    return undefined;
  }
  if (nextDot && !PG_CATALOG_RELATIONS.has(t.value)) return undefined;
  if (c.isOp(k - 1, '::')) {
    const vectorText = vectorAsText(c, k);
    if (vectorText) return vectorText;
    if (t.value === 'regclass' || t.value === 'regtype') {
      const edit = regCast(c, k - 1, k, t.value);
      if (edit) return edit;
    }
    const mapped = CAST_TYPES[t.value];
    return mapped ? { from: k, through: k, text: mapped } : undefined;
  }
  if (t.value === 'operator' && callAt(k + 1)) {
    // OPERATOR(pg_catalog.~) is written by psql to pin the operator; DuckDB's is the same.
    let j = k + 2;
    if (c.isWord(j, 'pg_catalog') && c.isOp(j + 1, '.')) j += 2;
    const op = c.tok(j);
    if (op?.kind !== 'op' || !c.isOp(j + 1, ')')) return undefined;
    return regexMatch(op.value, c.tok(j + 2), k, j + 1) ?? { from: k, through: j + 1, text: op.value };
  }
  if (callAt(k + 1)) {
    if (t.value === 'cast') return castToReg(c, k);
    if (CATALOG_FUNCTIONS.has(t.value)) return { from: k, through: k, text: `${S}.${t.value}` };
    const renamed = RENAMED_FUNCTIONS[t.value];
    return renamed ? { from: k, through: k, text: renamed } : undefined;
  }
  const castType = CAST_TYPES[t.value];
  if (castType !== undefined && c.isWord(k - 1, 'as') && insideCast(c, k - 1))
    return { from: k, through: k, text: castType };
  const alias = functionAlias(c, k);
  if (alias) return alias;
  if (USER_WORDS.has(t.value)) return { from: k, through: k, text: `${S}.session_user_name()` };
  if (t.value === 'current_schema') return { from: k, through: k, text: `${S}.current_schema()` };
  if (t.value === 'current_catalog') return { from: k, through: k, text: quoteString(DATABASE_NAME) };
  if (t.value === 'collate') {
    // COLLATE pg_catalog.default / COLLATE "default": DuckDB's default collation is the same.
    if (c.isWord(k + 1, 'pg_catalog') && c.isOp(k + 2, '.') && wordOrQuoted(c.tok(k + 3)) === 'default')
      return { from: k, through: k + 3, text: '' };
    if (wordOrQuoted(c.tok(k + 1)) === 'default') return { from: k, through: k + 1, text: '' };
    if (wordOrQuoted(c.tok(k + 1)) === 'c') return { from: k, through: k + 1, text: '' };
    return undefined;
  }
  if (PG_CATALOG_RELATIONS.has(t.value) && !isColumnContext(c, k))
    return { from: k, through: k, text: `${S}.${t.value}` };
  return undefined;
}

/** Set-returning functions whose single column PostgreSQL names after the table alias. */
const SINGLE_COLUMN_SRFS: ReadonlySet<string> = new Set([
  'generate_series',
  'unnest',
  'generate_subscripts',
  'string_to_array',
]);

/**
 * `FROM generate_series(...) s`: in PostgreSQL `s` is also the name of the one column; in
 * DuckDB it would be the whole row, so the column alias is written out (`s(s)`).
 */
function functionAlias(c: CatalogCursor, k: number): CatalogEdit | undefined {
  const close = c.isWord(k - 1, 'as') ? k - 2 : k - 1;
  if (!c.isOp(close, ')') || c.isOp(k + 1, '(')) return undefined;
  const t = c.tok(k) as Token;
  if (
    [
      'as',
      'on',
      'where',
      'join',
      'left',
      'right',
      'inner',
      'cross',
      'full',
      'group',
      'order',
      'limit',
      'union',
    ].includes(t.value)
  )
    return undefined;
  let depth = 0;
  let j = close;
  for (; j >= 0; j--) {
    if (c.isOp(j, ')')) depth++;
    else if (c.isOp(j, '(')) {
      depth--;
      if (depth === 0) break;
    }
  }
  const fn = c.tok(j - 1);
  if (j < 1 || fn?.kind !== 'word' || !SINGLE_COLUMN_SRFS.has(fn.value)) return undefined;
  let before = j - 2;
  if (c.isOp(before, '.') && c.isWord(before - 1, 'pg_catalog')) before -= 2;
  if (!c.isWord(before, 'from', 'join') && !(c.isOp(before, ',') && inFromList(c, before))) return undefined;
  return { from: k, through: k, text: `${t.text}(${t.text})` };
}

/** True when the comma at k separates FROM items (not select-list items, as in `SELECT f(x) a, g(y) b`). */
function inFromList(c: CatalogCursor, k: number): boolean {
  let depth = 0;
  for (let j = k - 1; j >= 0; j--) {
    if (c.isOp(j, ')')) depth++;
    else if (c.isOp(j, '(')) {
      if (depth === 0) return false;
      depth--;
    } else if (depth === 0 && c.isWord(j, 'from')) return true;
    else if (
      depth === 0 &&
      c.isWord(j, 'select', 'where', 'on', 'by', 'having', 'set', 'values', 'returning')
    )
      return false;
  }
  return false;
}

/** The index of the `(` that encloses significant token k, if any. */
function enclosingParen(c: CatalogCursor, k: number): number | undefined {
  let depth = 0;
  for (let j = k - 1; j >= 0; j--) {
    if (c.isOp(j, ')')) depth++;
    else if (c.isOp(j, '(')) {
      if (depth === 0) return j;
      depth--;
    }
  }
  return undefined;
}

function insideCast(c: CatalogCursor, k: number): boolean {
  const open = enclosingParen(c, k);
  return open !== undefined && c.isWord(open - 1, 'cast');
}

/** `CAST(expr AS regclass)`: the name in expr looked up, as `_sluice.regclass(expr)`. */
function castToReg(c: CatalogCursor, k: number): CatalogEdit | undefined {
  let depth = 0;
  for (let j = k + 1; c.tok(j) !== undefined; j++) {
    if (c.isOp(j, '(')) depth++;
    else if (c.isOp(j, ')')) {
      depth--;
      if (depth === 0) return undefined;
    } else if (depth === 1 && c.isWord(j, 'as')) {
      let ty = j + 1;
      if (c.isWord(ty, 'pg_catalog') && c.isOp(ty + 1, '.')) ty += 2;
      const fn = c.isWord(ty, 'regclass') ? 'regclass' : c.isWord(ty, 'regtype') ? 'regtype' : undefined;
      if (!fn || !c.isOp(ty + 1, ')')) return undefined;
      return { from: k, through: k, text: `${S}.${fn}`, also: [{ from: j, through: ty, text: '' }] };
    }
  }
  return undefined;
}

const COMPARISONS: ReadonlySet<string> = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);
/** Words before `(` that do not name a function. */
const NOT_CALLS: ReadonlySet<string> = new Set([
  'select',
  'where',
  'and',
  'or',
  'not',
  'on',
  'when',
  'then',
  'else',
  'case',
  'in',
  'by',
  'as',
  'from',
  'having',
  'distinct',
  'all',
  'any',
  'exists',
  'join',
  'using',
  'values',
  'is',
  'between',
  'like',
  'return',
]);
const TEXT_CAST_TYPES: ReadonlySet<string> = new Set(['text', 'varchar', 'name', 'bpchar']);

/** The first significant index of the operand that ends at `end` (what a `::` cast applies to). */
function operandStart(c: CatalogCursor, end: number): number | undefined {
  let j = end;
  for (;;) {
    if (c.isOp(j, ')') || c.isOp(j, ']')) {
      const close = c.isOp(j, ')') ? ')' : ']';
      const open = close === ')' ? '(' : '[';
      let depth = 0;
      for (; j >= 0; j--) {
        if (c.isOp(j, close)) depth++;
        else if (c.isOp(j, open) && --depth === 0) break;
      }
      if (j < 0) return undefined;
      // A call's name, or what is subscripted.
      const before = c.tok(j - 1);
      if (
        before &&
        ((before.kind === 'word' && !NOT_CALLS.has(before.value)) ||
          before.kind === 'qident' ||
          (open === '[' && c.isOp(j - 1, ')')))
      )
        j--;
      if (c.isOp(j, ')')) continue;
    } else {
      const t = c.tok(j);
      if (!t || !['word', 'qident', 'string', 'number', 'param'].includes(t.kind)) return undefined;
    }
    // Qualified names (c.oid, pg_catalog.f(...)) and earlier casts (x::oid::regclass).
    if ((c.isOp(j - 1, '.') || c.isOp(j - 1, '::')) && c.tok(j - 2)) {
      j -= 2;
      continue;
    }
    return j;
  }
}

/**
 * True when a regclass value at start..through is compared or passed to a catalog function,
 * where PostgreSQL uses its oid; elsewhere (a select list, `::text`) it shows as a name.
 */
function regclassWantsOid(c: CatalogCursor, start: number, through: number): boolean {
  if (c.isOp(through + 1, '::')) {
    let ty = through + 2;
    if (c.isWord(ty, 'pg_catalog') && c.isOp(ty + 1, '.')) ty += 2;
    return !TEXT_CAST_TYPES.has(wordOrQuoted(c.tok(ty)) ?? '');
  }
  const prev = c.tok(start - 1);
  const next = c.tok(through + 1);
  if (prev?.kind === 'op' && COMPARISONS.has(prev.value)) return true;
  if (next?.kind === 'op' && COMPARISONS.has(next.value)) return true;
  if (c.isWord(start - 1, 'in', 'any', 'all') || c.isWord(through + 1, 'in', 'between')) return true;
  const open = enclosingParen(c, start);
  if (open !== undefined) {
    if (c.isWord(open - 1, 'in', 'any', 'all')) return true;
    const fn = wordOrQuoted(c.tok(open - 1));
    if (fn && (CATALOG_FUNCTIONS.has(fn) || fn.startsWith('pg_') || fn.startsWith('has_'))) return true;
  }
  return false;
}

/**
 * `expr::regclass` (and regtype): its oid where it is compared, its name where it is shown,
 * as PostgreSQL's regclass output function does (schema-qualified when not on the path).
 */
function regCast(c: CatalogCursor, cast: number, through: number, type: string): CatalogEdit | undefined {
  const start = operandStart(c, cast - 1);
  if (start === undefined) return undefined;
  if (regclassWantsOid(c, start, through)) return undefined;
  const first = c.tok(start) as Token;
  const open = `${S}.${type}_name(`;
  // A literal name operand is looked up first ('sensor.message'::regclass).
  if (start === cast - 1 && first.kind === 'string' && !/^\d+$/.test(first.value))
    return { from: start, through, text: `${open}${S}.${type}(${quoteString(first.value)}))` };
  return {
    from: cast,
    through,
    text: ')',
    also: [{ from: start, through: start, text: open, prepend: true }],
  };
}

/** Catalog columns PostgreSQL types int2vector or oidvector, whose text is space-separated. */
const VECTOR_COLUMNS: ReadonlySet<string> = new Set([
  'indkey',
  'indoption',
  'indclass',
  'indcollation',
  'proargtypes',
  'stxkeys',
]);

/** `ix.indkey::varchar` reads `1 2` in PostgreSQL (SQLAlchemy splits it on spaces), not a list. */
function vectorAsText(c: CatalogCursor, k: number): CatalogEdit | undefined {
  if (!TEXT_CAST_TYPES.has(wordOrQuoted(c.tok(k)) ?? '') && !c.isWord(k, 'character')) return undefined;
  const column = wordOrQuoted(c.tok(k - 2));
  if (!column || !VECTOR_COLUMNS.has(column)) return undefined;
  const start = operandStart(c, k - 2);
  if (start === undefined) return undefined;
  let through = k;
  if (c.isWord(k, 'character') && c.isWord(k + 1, 'varying')) through++;
  return {
    from: k - 1,
    through,
    text: ", ' ')",
    also: [{ from: start, through: start, text: 'array_to_string(', prepend: true }],
  };
}

/** A bare catalog name right after AS or inside a column list is a column alias, not a relation. */
function isColumnContext(c: CatalogCursor, k: number): boolean {
  return c.isWord(k - 1, 'as');
}

const REGEX_OPS: ReadonlySet<string> = new Set(['~', '!~', '~*', '!~*']);

/**
 * PostgreSQL's `~` finds the pattern anywhere in the string; DuckDB's must match all of it.
 * A literal pattern is wrapped so the two agree; `~*` becomes `~` with RE2's (?i) flag.
 */
function regexMatch(
  op: string,
  pattern: Token | undefined,
  from: number,
  through: number,
): CatalogEdit | undefined {
  if (!REGEX_OPS.has(op)) return undefined;
  const negated = op.startsWith('!');
  const flags = op.endsWith('*') ? '(?is)' : '(?s)';
  const duckOp = negated ? '!~' : '~';
  if (pattern?.kind === 'string')
    return {
      from,
      through: through + 1,
      text: `${duckOp} ${quoteString(`${flags}.*(?:${pattern.value}).*`)}`,
    };
  return undefined;
}

function rewriteOperator(c: CatalogCursor, k: number, t: Token): CatalogEdit | undefined {
  if (t.value === '=' && c.isWord(k + 1, 'any') && c.isOp(k + 2, '(')) return anyOfList(c, k);
  return regexMatch(t.value, c.tok(k + 1), k, k);
}

/**
 * `x = ANY(list)` as `list_contains`: DuckDB plans ANY over a list as a subquery, which it
 * cannot put in an outer join's ON (`LEFT JOIN pg_attribute a ON a.attnum = ANY(ix.indkey)`).
 */
function anyOfList(c: CatalogCursor, k: number): CatalogEdit | undefined {
  if (c.isWord(k + 3, 'select', 'values', 'with')) return undefined;
  const start = operandStart(c, k - 1);
  if (start === undefined) return undefined;
  let depth = 0;
  let close = k + 2;
  for (; c.tok(close) !== undefined; close++) {
    if (c.isOp(close, '(')) depth++;
    else if (c.isOp(close, ')') && --depth === 0) break;
  }
  if (c.tok(close) === undefined) return undefined;
  return {
    from: k,
    through: k + 2,
    text: ', (',
    also: [
      { from: start, through: start, text: `${S}.any_eq(`, prepend: true },
      { from: close, through: close, text: '))' },
    ],
  };
}

/** The elements of a one-dimensional array literal (`{a,"b c",NULL}`); undefined for anything else. */
export function arrayLiteralItems(text: string): (string | null)[] | undefined {
  if (!text.startsWith('{') || !text.endsWith('}')) return undefined;
  const body = text.slice(1, -1);
  const items: (string | null)[] = [];
  if (body.trim() === '') return items;
  let i = 0;
  for (;;) {
    while (body[i] === ' ') i++;
    if (body[i] === '{') return undefined;
    if (body[i] === '"') {
      let v = '';
      for (i++; i < body.length && body[i] !== '"'; i++) {
        if (body[i] === '\\') i++;
        v += body[i] ?? '';
      }
      if (body[i] !== '"') return undefined;
      i++;
      items.push(v);
    } else {
      const end = body.indexOf(',', i);
      const v = body.slice(i, end < 0 ? body.length : end).trim();
      items.push(/^null$/i.test(v) ? null : v);
      i = end < 0 ? body.length : end;
    }
    while (body[i] === ' ') i++;
    if (i >= body.length) return items;
    if (body[i] !== ',') return undefined;
    i++;
  }
}

/** `'sensor.message'::regclass` and friends: a name looked up to its oid, as PostgreSQL does. */
function rewriteRegLiteral(c: CatalogCursor, k: number, t: Token): CatalogEdit | undefined {
  if (!c.isOp(k + 1, '::')) return undefined;
  let j = k + 2;
  if (c.isWord(j, 'pg_catalog') && c.isOp(j + 1, '.')) j += 2;
  const type = c.tok(j);
  if (type?.kind !== 'word') return undefined;
  const lit = quoteString(t.value);
  if (c.isOp(j + 1, '[') && c.isOp(j + 2, ']') && t.value.trim().startsWith('{')) {
    // '{a,b}'::text[]: an array literal, written as a list.
    const items = arrayLiteralItems(t.value.trim());
    if (items === undefined) return undefined;
    const element = CAST_TYPES[type.value] ?? type.value;
    return {
      from: k,
      through: j + 2,
      text: `CAST([${items.map((v) => (v === null ? 'NULL' : quoteString(v))).join(', ')}] AS ${element}[])`,
    };
  }
  // '16404'::regclass is the oid itself, as in PostgreSQL (psql writes it).
  if (/^\d+$/.test(t.value) && ['regclass', 'regtype', 'regnamespace'].includes(type.value))
    return { from: k, through: j, text: t.value };
  switch (type.value) {
    case 'regclass':
    case 'regtype':
      return regCast(c, k + 1, j, type.value) ?? { from: k, through: j, text: `${S}.${type.value}(${lit})` };
    case 'regnamespace':
      return { from: k, through: j, text: `${S}.regnamespace(${lit})` };
    case 'regproc':
    case 'regprocedure':
      // psql's \sf and \ef look the function up ('f'::regproc::oid); there are none to find.
      if (c.isOp(j + 1, '::'))
        return {
          from: k,
          through: j,
          text: `${S}.regproc_oid(${quoteString(t.value.replace(/\(.*$/, ''))})`,
        };
      // pg_type.typinput and friends are function names here, not oids.
      return { from: k, through: j, text: quoteString(t.value.replace(/^pg_catalog\./, '')) };
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------
// Session state

/** What the catalog macros need to know about a session. */
export interface CatalogSessionState {
  /** Signed-in user. */
  readonly user: string;
  /** Process id clients see (pg_backend_pid(), stl_query.pid). */
  readonly pid: number;
  /** search_path as the user set it (`$user, public`). */
  readonly searchPath: readonly string[];
  /** The schemas of search_path that exist, in order. */
  readonly schemas: readonly string[];
  /** Settings shown by current_setting() and pg_settings. */
  readonly settings: ReadonlyMap<string, string>;
}

function listLiteral(values: readonly string[]): string {
  return values.length === 0 ? '[]::VARCHAR[]' : `[${values.map(quoteString).join(', ')}]`;
}

/** One SQL statement that makes a session's state visible to the catalog macros. */
export function sessionVariablesSql(state: CatalogSessionState): string[] {
  const settings = new Map(state.settings);
  settings.set('search_path', state.searchPath.join(', '));
  const keys = [...settings.keys()];
  const map =
    keys.length === 0
      ? 'MAP {}::MAP(VARCHAR, VARCHAR)'
      : `MAP {${keys.map((k) => `${quoteString(k)}: ${quoteString(settings.get(k) ?? '')}`).join(', ')}}`;
  return [
    `SET VARIABLE sluice_user = ${quoteString(state.user)}`,
    `SET VARIABLE sluice_pid = ${Math.trunc(state.pid)}`,
    `SET VARIABLE sluice_schemas = ${listLiteral(state.schemas)}`,
    `SET VARIABLE sluice_settings = ${map}`,
  ];
}

/** A key that changes whenever sessionVariablesSql would give something else. */
export function sessionStateKey(state: CatalogSessionState): string {
  return JSON.stringify([state.user, state.pid, state.searchPath, state.schemas, [...state.settings]]);
}

/** True when translated SQL reads the emulated catalog (so the session's variables must be current). */
export function usesCatalog(sql: string): boolean {
  return sql.includes(`${S}.`);
}

// ---------------------------------------------------------------------------------------
// The catalog itself

/** Settings every session reports unless it set them (current_setting, pg_settings, SHOW). */
export const STATIC_SETTINGS: Readonly<Record<string, string>> = {
  server_version: '15.0',
  server_version_num: '150000',
  server_encoding: 'UTF8',
  client_encoding: 'UTF8',
  datestyle: 'ISO, MDY',
  timezone: 'UTC',
  intervalstyle: 'postgres',
  integer_datetimes: 'on',
  standard_conforming_strings: 'on',
  max_index_keys: '32',
  max_identifier_length: '127',
  block_size: '8192',
  lc_collate: 'C',
  lc_ctype: 'C',
  default_transaction_isolation: 'serializable',
  transaction_isolation: 'serializable',
  default_transaction_read_only: 'off',
  transaction_read_only: 'off',
  is_superuser: 'on',
  application_name: '',
  extra_float_digits: '0',
  statement_timeout: '0',
  max_connections: '500',
  search_path: '$user, public',
  datcollate: 'C',
};

const typeOidCase = (expr: string): string =>
  `CASE
    WHEN ${expr} LIKE 'character varying%' OR ${expr} = 'varchar' THEN 1043
    WHEN ${expr} LIKE 'character%' OR ${expr} LIKE 'bpchar%' THEN 1042
    WHEN ${expr} LIKE 'numeric%' OR ${expr} LIKE 'decimal%' THEN 1700
    ${TYPES.map((ty) => `WHEN ${expr} = ${quoteString(ty.format)} OR ${expr} = ${quoteString(ty.name)} THEN ${ty.oid}`).join('\n    ')}
    ELSE 25 END`;

const DUCK_TO_PG = `CASE
    WHEN dt = 'VARCHAR' THEN 'character varying'
    WHEN dt IN ('INTEGER', 'USMALLINT') THEN 'integer'
    WHEN dt IN ('BIGINT', 'UINTEGER') THEN 'bigint'
    WHEN dt IN ('SMALLINT', 'TINYINT', 'UTINYINT') THEN 'smallint'
    WHEN dt IN ('HUGEINT', 'UBIGINT', 'UHUGEINT') THEN 'numeric(38,0)'
    WHEN dt = 'DOUBLE' THEN 'double precision'
    WHEN dt = 'FLOAT' THEN 'real'
    WHEN dt = 'BOOLEAN' THEN 'boolean'
    WHEN dt = 'DATE' THEN 'date'
    WHEN dt IN ('TIMESTAMP', 'TIMESTAMP_NS', 'TIMESTAMP_MS', 'TIMESTAMP_S') THEN 'timestamp without time zone'
    WHEN dt = 'TIMESTAMP WITH TIME ZONE' THEN 'timestamp with time zone'
    WHEN dt = 'TIME' THEN 'time without time zone'
    WHEN dt = 'TIME WITH TIME ZONE' THEN 'time with time zone'
    WHEN dt = 'INTERVAL' THEN 'interval'
    WHEN dt = 'BLOB' THEN 'bytea'
    WHEN dt = 'UUID' THEN 'uuid'
    WHEN dt = 'JSON' THEN 'json'
    WHEN dt LIKE 'DECIMAL(%' THEN 'numeric' || replace(substr(dt, 8), ' ', '')
    ELSE 'character varying' END`;

const FORMAT_TYPE = `CASE
    WHEN typid IS NULL THEN NULL
    WHEN typid = 1043 THEN 'character varying' || CASE WHEN typmod >= 4 THEN '(' || (typmod - 4) || ')' ELSE '' END
    WHEN typid = 1042 THEN 'character' || CASE WHEN typmod >= 4 THEN '(' || (typmod - 4) || ')' ELSE '' END
    WHEN typid = 1700 THEN 'numeric' || CASE WHEN typmod >= 4 THEN '(' || ((typmod - 4) >> 16) || ',' || ((typmod - 4) & 65535) || ')' ELSE '' END
    ${TYPES.map((ty) => `WHEN typid = ${ty.oid} THEN ${quoteString(ty.format)}`).join('\n    ')}
    ${TYPES.map((ty) => `WHEN typid = ${ty.array} THEN ${quoteString(`${ty.format}[]`)}`).join('\n    ')}
    ELSE '???' END`;

/** The schema a session's temporary tables show in (one per session, as each sees only its own). */
const TEMP_SCHEMA = 'pg_temp_1';

/** Schemas a client may see (DuckDB's `main` and Sluice's own are not shown). */
const HIDDEN_SCHEMAS = `('main', '${S}', 'pg_catalog', 'information_schema')`;

const RELATION_ROWS = [...PG_CATALOG_RELATIONS]
  .map(
    ([name, r]) =>
      `(${quoteString(name)}, '${r.kind}', ${r.oid ?? `${S}.stable_oid('c', 'pg_catalog', ${quoteString(name)})`})`,
  )
  .join(', ');

const INFO_ROWS = [...INFORMATION_SCHEMA_VIEWS].map((n) => `(${quoteString(n)})`).join(', ');

const TYPE_ROWS = TYPES.flatMap((ty) => [
  `(${ty.oid}, ${quoteString(ty.name)}, ${ty.len}, 'b', ${quoteString(ty.category)}, 0, ${ty.array}, ${quoteString(ty.input)}, ${ty.collatable ? 100 : 0})`,
  `(${ty.array}, ${quoteString(`_${ty.name}`)}, -1, 'b', 'A', ${ty.oid}, 0, 'array_in', ${ty.collatable ? 100 : 0})`,
]).join(',\n  ');

const EMPTY = 'WHERE false';

const INDEXDEF = `(SELECT 'CREATE UNIQUE INDEX ' || conname || ' ON ' || nspname || '.' || relname
      || ' USING btree (' || array_to_string(colnames, ', ') || ')' FROM ${S}.pg_constraint WHERE conindid = i AND contype <> 'f')`;

const TOTAL_SIZE = `CAST(coalesce((SELECT size FROM ${S}.svv_table_info WHERE table_id = r), 0) * 1048576 AS BIGINT)`;

const CURRENT_SETTING = `coalesce(getvariable('sluice_settings')[lower(name)], CASE lower(name)
       ${Object.entries(STATIC_SETTINGS)
         .map(([k, v]) => `WHEN ${quoteString(k)} THEN ${quoteString(v)}`)
         .join(' ')} END)`;

/**
 * The statements that install the catalog (idempotent: CREATE OR REPLACE), run when the
 * warehouse opens.
 */
export const CATALOG_SQL: readonly string[] = [
  // ---- building blocks ----
  `CREATE OR REPLACE MACRO ${S}.stable_oid(kind, nsp, name) AS
     CAST(16385 + hash(kind || ':' || nsp || '.' || name) % 2000000000 AS INTEGER)`,
  `CREATE OR REPLACE MACRO ${S}.nsp_oid(name) AS
     CASE name WHEN 'pg_catalog' THEN 11 WHEN 'public' THEN 2200 ELSE ${S}.stable_oid('n', '', name) END`,
  `CREATE OR REPLACE MACRO ${S}.owner_id() AS
     coalesce((SELECT min(usesysid) FROM ${S}.users WHERE usesuper), 100)`,
  `CREATE OR REPLACE MACRO ${S}.pg_type_of_duck(dt) AS ${DUCK_TO_PG}`,
  `CREATE OR REPLACE MACRO ${S}.type_oid(t) AS ${typeOidCase('t')}`,
  `CREATE OR REPLACE MACRO ${S}.type_mod(t) AS CASE
     WHEN regexp_matches(t, '^(character varying|character|varchar|bpchar)\\(\\d+\\)$')
       THEN CAST(regexp_extract(t, '\\((\\d+)\\)', 1) AS INTEGER) + 4
     WHEN regexp_matches(t, '^(numeric|decimal)\\(\\d+,\\s*\\d+\\)$')
       THEN (CAST(regexp_extract(t, '\\((\\d+),', 1) AS INTEGER) << 16)
            + CAST(regexp_extract(t, ',\\s*(\\d+)\\)', 1) AS INTEGER) + 4
     ELSE -1 END`,
  `CREATE OR REPLACE MACRO ${S}.type_len(typid) AS CASE typid
     ${TYPES.map((ty) => `WHEN ${ty.oid} THEN ${ty.len}`).join(' ')} ELSE -1 END`,
  // ---- the objects a client can see ----
  `CREATE OR REPLACE VIEW ${S}.catalog_schemas AS
     SELECT 'pg_catalog' AS nspname, 11 AS oid
     UNION ALL SELECT 'information_schema', ${S}.nsp_oid('information_schema')
     UNION ALL SELECT schema_name, ${S}.nsp_oid(schema_name) FROM duckdb_schemas()
       WHERE database_name = '${DATABASE_NAME}' AND schema_name NOT IN ${HIDDEN_SCHEMAS}
     UNION ALL SELECT '${TEMP_SCHEMA}', ${S}.nsp_oid('${TEMP_SCHEMA}')
       WHERE EXISTS (SELECT 1 FROM duckdb_tables() WHERE database_name = 'temp')`,
  // PRIMARY KEY and UNIQUE constraints, each with the index PostgreSQL would create for it,
  // and FOREIGN KEYs (no index). Those of user tables are recorded, not enforced, as in
  // Redshift (_sluice.constraints); indkey and confkey are attnums, so they follow renames.
  `CREATE OR REPLACE VIEW ${S}.catalog_keys AS
     WITH table_columns AS (
       SELECT schema_name, table_name, list(column_name ORDER BY column_index) AS names
         FROM duckdb_columns() WHERE database_name = '${DATABASE_NAME}' GROUP BY schema_name, table_name
     ), keys AS (
     SELECT schema_name AS nspname, table_name AS relname,
            CASE constraint_type WHEN 'PRIMARY KEY' THEN 'p' ELSE 'u' END AS contype,
            CASE constraint_type WHEN 'PRIMARY KEY' THEN table_name || '_pkey'
                 ELSE table_name || '_' || array_to_string(constraint_column_names, '_') || '_key' END AS keyname,
            list_transform(constraint_column_indexes, i -> CAST(i + 1 AS SMALLINT)) AS indkey,
            constraint_column_names AS colnames, NULL::VARCHAR AS ref_nspname, NULL::VARCHAR AS ref_relname,
            NULL::SMALLINT[] AS confkey, NULL::VARCHAR[] AS ref_colnames
       FROM duckdb_constraints()
      WHERE database_name = '${DATABASE_NAME}' AND schema_name NOT IN ${HIDDEN_SCHEMAS}
        AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')
     UNION ALL
     SELECT k.schema_name, k.table_name, k.contype, k.constraint_name,
            list_transform(k.columns, x -> CAST(coalesce(list_position(c.names, x), 0) AS SMALLINT)),
            k.columns, k.ref_schema, k.ref_table,
            CASE WHEN k.contype = 'f'
                 THEN list_transform(k.ref_columns, x -> CAST(coalesce(list_position(rc.names, x), 0) AS SMALLINT)) END,
            CASE WHEN k.contype = 'f' THEN k.ref_columns END
       FROM ${S}.constraints k
       JOIN table_columns c ON c.schema_name = k.schema_name AND c.table_name = k.table_name
       LEFT JOIN table_columns rc ON rc.schema_name = k.ref_schema AND rc.table_name = k.ref_table
     )
     -- A foreign key's conindid is the referenced table's key with the referenced columns.
     SELECT f.*, (SELECT min(u.keyname) FROM keys u WHERE u.contype IN ('p', 'u') AND u.nspname = f.ref_nspname
                    AND u.relname = f.ref_relname AND u.colnames = f.ref_colnames) AS ref_keyname
       FROM keys f`,
  // One row per relation: what the client sees (nspname, relname) and where DuckDB keeps it.
  `CREATE OR REPLACE VIEW ${S}.catalog_relations AS
     WITH identity_sequences AS (
       SELECT DISTINCT sequence_name FROM ${S}.columns WHERE sequence_name IS NOT NULL
     ), rels AS (
       SELECT schema_name AS nspname, table_name AS relname, 'r' AS relkind, NULL::INTEGER AS fixed_oid,
              database_name AS duck_db, schema_name AS duck_schema, table_name AS duck_name, comment, estimated_size AS reltuples,
              column_count AS relnatts,
              has_primary_key OR schema_name || '.' || table_name IN (
                SELECT schema_name || '.' || table_name FROM ${S}.constraints WHERE contype IN ('p', 'u')) AS relhasindex,
              NULL AS definition
         FROM duckdb_tables() WHERE database_name = '${DATABASE_NAME}' AND schema_name NOT IN ${HIDDEN_SCHEMAS}
       UNION ALL
       SELECT schema_name, view_name, 'v', NULL, database_name, schema_name, view_name, comment, 0, column_count, false,
              -- PostgreSQL keeps a view's query, not the statement that created it.
              regexp_replace(regexp_replace(sql, '^\\s*CREATE\\s+(OR\\s+REPLACE\\s+)?VIEW\\s+.+?\\s+AS\\s+', '', 'is'), ';\\s*$', '')
         FROM duckdb_views() WHERE database_name = '${DATABASE_NAME}' AND NOT internal
          AND schema_name NOT IN ${HIDDEN_SCHEMAS}
       UNION ALL
       SELECT schema_name, sequence_name, 'S', NULL, database_name, schema_name, sequence_name, comment, 1, 3, false, NULL
         FROM duckdb_sequences() WHERE database_name = '${DATABASE_NAME}' AND schema_name NOT IN ${HIDDEN_SCHEMAS}
          AND schema_name || '.' || sequence_name NOT IN (SELECT sequence_name FROM identity_sequences)
          AND sequence_name NOT IN (SELECT sequence_name FROM identity_sequences)
       UNION ALL
       SELECT nspname, keyname, 'i', NULL, NULL, NULL, NULL, NULL, 0, len(indkey), false, NULL FROM ${S}.catalog_keys
        WHERE contype <> 'f'
       UNION ALL
       -- A session's temporary tables, in its own pg_temp schema as in PostgreSQL.
       SELECT '${TEMP_SCHEMA}', table_name, 'r', NULL, database_name, schema_name, table_name, comment, estimated_size,
              column_count, has_primary_key, NULL
         FROM duckdb_tables() WHERE database_name = 'temp'
       UNION ALL
       SELECT 'pg_catalog', r.name, r.kind, r.oid, '${DATABASE_NAME}', '${S}', CASE r.name WHEN 'pg_class' THEN 'pg_class' ELSE r.name END,
              NULL, 0, 0, false, NULL
         FROM (VALUES ${RELATION_ROWS}) r(name, kind, oid)
       UNION ALL
       SELECT 'information_schema', i.name, 'v', NULL, '${DATABASE_NAME}', '${S}', 'information_schema_' || i.name, NULL, 0, 0, false, NULL
         FROM (VALUES ${INFO_ROWS}) i(name)
     )
     SELECT CAST(coalesce(fixed_oid, ${S}.stable_oid('c', nspname, relname)) AS INTEGER) AS oid,
            nspname, ${S}.nsp_oid(nspname) AS nspoid, relname, relkind, duck_db, duck_schema, duck_name, comment,
            reltuples, relnatts, relhasindex, definition
       FROM rels`,
  `CREATE OR REPLACE VIEW ${S}.catalog_attributes AS
     SELECT *, CAST(${S}.type_oid(pgtype) AS INTEGER) AS typid, CAST(${S}.type_mod(pgtype) AS INTEGER) AS typmod
       FROM (SELECT r.oid AS attrelid, r.nspname, r.relname, r.relkind, CAST(c.column_index AS SMALLINT) AS attnum,
            c.column_name AS attname,
            coalesce(d.declared_type, ${S}.pg_type_of_duck(c.data_type)) AS pgtype,
            NOT c.is_nullable OR d.identity_seed IS NOT NULL
              OR EXISTS (SELECT 1 FROM ${S}.catalog_keys k WHERE k.contype = 'p' AND k.nspname = r.nspname
                           AND k.relname = r.relname AND list_contains(k.colnames, c.column_name)) AS attnotnull,
            CASE WHEN d.identity_seed IS NOT NULL
                 THEN '"identity"(' || r.oid || ', ' || (c.column_index - 1) || ', ''' || d.identity_seed || ',' || d.identity_step || '''::text)'
                 WHEN c.column_default IS NULL THEN NULL
                 WHEN regexp_matches(c.column_default, '^(CAST\\()?(now\\(\\)|current_timestamp|get_current_timestamp\\(\\))', 'i')
                   THEN '(''now''::text)::timestamp with time zone'
                 ELSE c.column_default END AS adsrc,
            c.comment
       FROM duckdb_columns() c
       JOIN ${S}.catalog_relations r
         ON r.duck_db = c.database_name AND r.duck_schema = c.schema_name AND r.duck_name = c.table_name
       LEFT JOIN ${S}.columns d ON d.schema_name = c.schema_name AND d.table_name = c.table_name
         AND d.column_name = c.column_name AND c.database_name = '${DATABASE_NAME}')`,
  // ---- functions ----
  // Empty (no one) until the session says who it is.
  `CREATE OR REPLACE MACRO ${S}.session_user_name() AS coalesce(getvariable('sluice_user'), '')`,
  `CREATE OR REPLACE MACRO ${S}.search_schemas() AS coalesce(getvariable('sluice_schemas'), ['public'])`,
  `CREATE OR REPLACE MACRO ${S}.current_schemas(implicit) AS
     CASE WHEN implicit THEN list_concat(['pg_catalog'], ${S}.search_schemas()) ELSE ${S}.search_schemas() END`,
  `CREATE OR REPLACE MACRO ${S}.current_schema() AS ${S}.search_schemas()[1]`,
  `CREATE OR REPLACE MACRO ${S}.current_database() AS '${DATABASE_NAME}'`,
  `CREATE OR REPLACE MACRO ${S}.current_setting(name) AS ${CURRENT_SETTING}, (name, missing_ok) AS ${CURRENT_SETTING}`,
  `CREATE OR REPLACE MACRO ${S}.pg_backend_pid() AS CAST(coalesce(getvariable('sluice_pid'), 0) AS INTEGER)`,
  `CREATE OR REPLACE MACRO ${S}.format_type(typid, typmod) AS ${FORMAT_TYPE}`,
  `CREATE OR REPLACE MACRO ${S}.pg_get_userbyid(id) AS
     coalesce((SELECT usename FROM ${S}.users WHERE usesysid = id), 'unknown (OID=' || id || ')')`,
  `CREATE OR REPLACE MACRO ${S}.pg_table_is_visible(relid) AS
     coalesce((SELECT list_contains(${S}.current_schemas(true), nspname) OR nspname = '${TEMP_SCHEMA}'
                 FROM ${S}.catalog_relations WHERE oid = relid), false)`,
  `CREATE OR REPLACE MACRO ${S}.pg_type_is_visible(typid) AS true`,
  `CREATE OR REPLACE MACRO ${S}.pg_function_is_visible(fid) AS true`,
  `CREATE OR REPLACE MACRO ${S}.obj_description(id) AS
     (SELECT description FROM ${S}.pg_description WHERE objoid = id AND objsubid = 0 LIMIT 1),
   (id, catalog) AS (SELECT description FROM ${S}.pg_description WHERE objoid = id AND objsubid = 0 LIMIT 1)`,
  `CREATE OR REPLACE MACRO ${S}.col_description(id, attno) AS
     (SELECT description FROM ${S}.pg_description WHERE objoid = id AND objsubid = attno LIMIT 1)`,
  `CREATE OR REPLACE MACRO ${S}.shobj_description(id, catalog) AS NULL::VARCHAR`,
  `CREATE OR REPLACE MACRO ${S}.pg_get_expr(expr, relid) AS CAST(expr AS VARCHAR), (expr, relid, pretty) AS CAST(expr AS VARCHAR)`,
  `CREATE OR REPLACE MACRO ${S}.has_schema_privilege(a, b) AS true, (a, b, c) AS true`,
  `CREATE OR REPLACE MACRO ${S}.has_table_privilege(a, b) AS true, (a, b, c) AS true`,
  `CREATE OR REPLACE MACRO ${S}.has_database_privilege(a, b) AS true, (a, b, c) AS true`,
  `CREATE OR REPLACE MACRO ${S}.has_column_privilege(a, b, c) AS true, (a, b, c, d) AS true`,
  `CREATE OR REPLACE MACRO ${S}.has_any_column_privilege(a, b) AS true, (a, b, c) AS true`,
  `CREATE OR REPLACE MACRO ${S}.pg_has_role(a, b) AS true, (a, b, c) AS true`,
  `CREATE OR REPLACE MACRO ${S}.pg_encoding_to_char(e) AS 'UTF8'`,
  `CREATE OR REPLACE MACRO ${S}.pg_get_function_result(f) AS NULL::VARCHAR`,
  `CREATE OR REPLACE MACRO ${S}.pg_get_function_arguments(f) AS NULL::VARCHAR`,
  `CREATE OR REPLACE MACRO ${S}.pg_get_function_identity_arguments(f) AS NULL::VARCHAR`,
  `CREATE OR REPLACE MACRO ${S}.pg_get_indexdef(i) AS ${INDEXDEF},
   (i, col, pretty) AS CASE WHEN col = 0 THEN ${INDEXDEF}
     ELSE (SELECT colnames[col] FROM ${S}.pg_constraint WHERE conindid = i AND contype <> 'f') END`,
  // The subquery renames oid, so that a caller's bare \`oid\` argument binds to the caller's row.
  `CREATE OR REPLACE MACRO ${S}.pg_get_constraintdef(c) AS
     (SELECT condef FROM (SELECT oid AS con_oid, condef FROM ${S}.pg_constraint) WHERE con_oid = c),
   (c, pretty) AS (SELECT condef FROM (SELECT oid AS con_oid, condef FROM ${S}.pg_constraint) WHERE con_oid = c)`,
  // A table that is not a partition is its own only ancestor. The FROM form carries the
  // ordinality column itself, as DuckDB's WITH ORDINALITY adds none to a table macro (psql's
  // \d asks for it).
  `CREATE OR REPLACE MACRO ${S}.pg_partition_ancestors(r) AS unnest([CAST(r AS BIGINT)])`,
  `CREATE OR REPLACE MACRO ${S}.pg_partition_ancestors(r) AS TABLE SELECT CAST(r AS BIGINT) AS relid, CAST(1 AS BIGINT) AS depth`,
  `CREATE OR REPLACE MACRO ${S}.pg_get_viewdef(v) AS
     (SELECT definition FROM ${S}.catalog_relations WHERE oid = v), (v, pretty) AS (SELECT definition FROM ${S}.catalog_relations WHERE oid = v)`,
  `CREATE OR REPLACE MACRO ${S}.pg_get_triggerdef(t) AS NULL::VARCHAR, (t, pretty) AS NULL::VARCHAR`,
  `CREATE OR REPLACE MACRO ${S}.pg_get_partkeydef(r) AS NULL::VARCHAR`,
  `CREATE OR REPLACE MACRO ${S}.pg_relation_is_publishable(r) AS false`,
  `CREATE OR REPLACE MACRO ${S}.pg_get_statisticsobjdef_columns(o) AS NULL::VARCHAR`,
  `CREATE OR REPLACE MACRO ${S}.pg_get_serial_sequence(t, c) AS NULL::VARCHAR`,
  `CREATE OR REPLACE MACRO ${S}.pg_total_relation_size(r) AS ${TOTAL_SIZE}`,
  `CREATE OR REPLACE MACRO ${S}.pg_relation_size(r) AS ${TOTAL_SIZE}, (r, fork) AS ${TOTAL_SIZE}`,
  `CREATE OR REPLACE MACRO ${S}.pg_table_size(r) AS ${TOTAL_SIZE}`,
  `CREATE OR REPLACE MACRO ${S}.pg_indexes_size(r) AS CAST(0 AS BIGINT)`,
  `CREATE OR REPLACE MACRO ${S}.pg_size_pretty(n) AS
     CASE WHEN n < 10240 THEN n || ' bytes' WHEN n < 10485760 THEN round(n / 1024) || ' kB'
          WHEN n < 10737418240 THEN round(n / 1048576) || ' MB' ELSE round(n / 1073741824) || ' GB' END`,
  `CREATE OR REPLACE MACRO ${S}.pg_is_in_recovery() AS false`,
  `CREATE OR REPLACE MACRO ${S}.pg_stat_get_numscans(id) AS CAST(0 AS BIGINT)`,
  `CREATE OR REPLACE MACRO ${S}.regproc_oid(name) AS coalesce(
     (SELECT p.oid FROM ${S}.pg_proc p WHERE p.proname = lower(name) LIMIT 1),
     error('function "' || name || '" does not exist'))`,
  `CREATE OR REPLACE MACRO ${S}.pg_postmaster_start_time() AS CAST(NULL AS TIMESTAMPTZ)`,
  `CREATE OR REPLACE MACRO ${S}.pg_tablespace_location(t) AS ''`,
  `CREATE OR REPLACE MACRO ${S}.txid_current() AS CAST(epoch_ms(now()) AS BIGINT)`,
  `CREATE OR REPLACE MACRO ${S}.array_upper(arr, dim) AS CASE WHEN len(arr) = 0 THEN NULL ELSE len(arr) END`,
  `CREATE OR REPLACE MACRO ${S}.array_lower(arr, dim) AS CASE WHEN len(arr) = 0 THEN NULL ELSE 1 END`,
  `CREATE OR REPLACE MACRO ${S}.quote_ident(s) AS
     CASE WHEN regexp_matches(s, '^[a-z_][a-z0-9_$]*$') THEN s ELSE '"' || replace(s, '"', '""') || '"' END`,
  `CREATE OR REPLACE MACRO ${S}.string_to_array(s, sep) AS string_split(s, sep), (s, sep, null_string) AS
     list_transform(string_split(s, sep), x -> CASE WHEN x = null_string THEN NULL ELSE x END)`,
  // string_to_array(...) as a FROM item: one row holding the array, as in PostgreSQL.
  `CREATE OR REPLACE MACRO ${S}.string_to_array(s, sep) AS TABLE SELECT string_split(s, sep) AS string_to_array`,
  `CREATE OR REPLACE MACRO ${S}.inet_server_addr() AS '127.0.0.1'`,
  `CREATE OR REPLACE MACRO ${S}.inet_server_port() AS 5439`,
  `CREATE OR REPLACE MACRO ${S}.inet_client_addr() AS '127.0.0.1'`,
  `CREATE OR REPLACE MACRO ${S}._pg_expandarray(arr) AS
     unnest(list_transform(range(1, len(arr) + 1), i -> {'x': arr[i], 'n': CAST(i AS INTEGER)}))`,
  // A name to an oid, resolved like PostgreSQL: qualified, or the first schema of the path that has it.
  `CREATE OR REPLACE MACRO ${S}.regclass(name) AS CASE WHEN name IS NULL THEN NULL ELSE coalesce((
     SELECT r.oid FROM ${S}.catalog_relations r
      WHERE CASE WHEN contains(lower(name), '.')
                 THEN r.nspname = split_part(lower(replace(name, '"', '')), '.', 1) AND r.relname = split_part(lower(replace(name, '"', '')), '.', 2)
                 ELSE r.relname = lower(replace(name, '"', '')) AND list_contains(${S}.current_schemas(true), r.nspname) END
      ORDER BY list_position(${S}.current_schemas(true), r.nspname) LIMIT 1),
     error('relation "' || name || '" does not exist')) END`,
  // regclass output: the name, schema-qualified unless the search path finds it first; the oid when none.
  `CREATE OR REPLACE MACRO ${S}.regclass_name(id) AS coalesce((
     SELECT CASE WHEN r.nspname = (SELECT v.nspname FROM ${S}.catalog_relations v
                                    WHERE v.relname = r.relname AND list_contains(${S}.current_schemas(true), v.nspname)
                                    ORDER BY list_position(${S}.current_schemas(true), v.nspname) LIMIT 1)
                 THEN ${S}.quote_ident(r.relname)
                 ELSE ${S}.quote_ident(r.nspname) || '.' || ${S}.quote_ident(r.relname) END
       FROM ${S}.catalog_relations r
      WHERE r.oid = coalesce(TRY_CAST(id AS BIGINT), ${S}.regclass(CAST(id AS VARCHAR)))), CAST(id AS VARCHAR))`,
  `CREATE OR REPLACE MACRO ${S}.regtype_name(id) AS coalesce(${S}.format_type(TRY_CAST(id AS BIGINT), NULL), CAST(id AS VARCHAR))`,
  `CREATE OR REPLACE MACRO ${S}.any_eq(x, list) AS list_contains(list, x)`,
  `CREATE OR REPLACE MACRO ${S}.pg_get_keywords() AS TABLE
     SELECT keyword_name AS word,
            CASE keyword_category WHEN 'reserved' THEN 'R' WHEN 'unreserved' THEN 'U' WHEN 'type_function' THEN 'T' ELSE 'C' END AS catcode,
            keyword_category <> 'reserved' AS barelabel,
            CASE keyword_category WHEN 'reserved' THEN 'reserved' WHEN 'unreserved' THEN 'unreserved'
                 WHEN 'type_function' THEN 'reserved (can be function or type name)'
                 ELSE 'unreserved (cannot be function or type name)' END AS catdesc,
            CASE WHEN keyword_category <> 'reserved' THEN 'can be bare label' ELSE 'requires AS' END AS baredesc
       FROM duckdb_keywords()`,
  `CREATE OR REPLACE MACRO ${S}.to_regclass(name) AS (
     SELECT r.oid FROM ${S}.catalog_relations r
      WHERE CASE WHEN contains(name, '.')
                 THEN r.nspname = split_part(lower(name), '.', 1) AND r.relname = split_part(lower(name), '.', 2)
                 ELSE r.relname = lower(name) AND list_contains(${S}.current_schemas(true), r.nspname) END
      ORDER BY list_position(${S}.current_schemas(true), r.nspname) LIMIT 1)`,
  `CREATE OR REPLACE MACRO ${S}.regtype(name) AS coalesce(
     (SELECT oid FROM ${S}.pg_type WHERE typname = lower(name) OR ${S}.format_type(oid, -1) = lower(name) LIMIT 1),
     error('type "' || name || '" does not exist'))`,
  `CREATE OR REPLACE MACRO ${S}.to_regtype(name) AS
     (SELECT oid FROM ${S}.pg_type WHERE typname = lower(name) OR ${S}.format_type(oid, -1) = lower(name) LIMIT 1)`,
  `CREATE OR REPLACE MACRO ${S}.regnamespace(name) AS coalesce(
     (SELECT oid FROM ${S}.catalog_schemas WHERE nspname = lower(name)),
     error('schema "' || name || '" does not exist'))`,
  // ---- pg_catalog ----
  `CREATE OR REPLACE VIEW ${S}.pg_namespace AS
     SELECT CAST(oid AS INTEGER) AS oid, nspname, CAST(${S}.owner_id() AS INTEGER) AS nspowner, NULL::VARCHAR[] AS nspacl
       FROM ${S}.catalog_schemas`,
  `CREATE OR REPLACE VIEW ${S}.pg_class AS
     SELECT oid, relname, CAST(nspoid AS INTEGER) AS relnamespace, 0 AS reltype, 0 AS reloftype,
            CAST(${S}.owner_id() AS INTEGER) AS relowner, CASE WHEN relkind IN ('r', 'S') THEN 2 WHEN relkind = 'i' THEN 403 ELSE 0 END AS relam,
            oid AS relfilenode, 0 AS reltablespace, CAST(ceil(reltuples / 100.0) AS INTEGER) AS relpages,
            CAST(reltuples AS REAL) AS reltuples, 0 AS relallvisible, 0 AS reltoastrelid, relhasindex,
            false AS relisshared, CASE WHEN nspname = '${TEMP_SCHEMA}' THEN 't' ELSE 'p' END AS relpersistence, relkind, CAST(relnatts AS SMALLINT) AS relnatts,
            CAST(0 AS SMALLINT) AS relchecks, relkind = 'v' AS relhasrules,
            -- PostgreSQL keeps foreign keys as triggers; psql looks for them only where there are some.
            relkind = 'r' AND nspname || '.' || relname IN (
              SELECT nspname || '.' || relname FROM ${S}.catalog_keys WHERE contype = 'f'
              UNION ALL SELECT ref_nspname || '.' || ref_relname FROM ${S}.catalog_keys WHERE contype = 'f') AS relhastriggers,
            false AS relhassubclass, false AS relrowsecurity, false AS relforcerowsecurity, true AS relispopulated,
            'd' AS relreplident, false AS relispartition, 0 AS relrewrite, 0 AS relfrozenxid, 0 AS relminmxid,
            NULL::VARCHAR[] AS relacl, NULL::VARCHAR[] AS reloptions, NULL::VARCHAR AS relpartbound
       FROM ${S}.catalog_relations`,
  `CREATE OR REPLACE VIEW ${S}.pg_attribute AS
     SELECT attrelid, attname, typid AS atttypid, -1 AS attstattarget,
            CAST(${S}.type_len(typid) AS SMALLINT) AS attlen, attnum, 0 AS attndims, -1 AS attcacheoff,
            typmod AS atttypmod, ${S}.type_len(typid) BETWEEN 1 AND 8 AS attbyval,
            'i' AS attalign, CASE WHEN ${S}.type_len(typid) = -1 THEN 'x' ELSE 'p' END AS attstorage,
            '' AS attcompression, attnotnull, adsrc IS NOT NULL AS atthasdef, false AS atthasmissing,
            -- IDENTITY(seed, step) takes no explicit values: PostgreSQL's GENERATED ALWAYS.
            CASE WHEN starts_with(adsrc, '"identity"(') THEN 'a' ELSE '' END AS attidentity, '' AS attgenerated, false AS attisdropped, true AS attislocal, 0 AS attinhcount,
            CASE WHEN typid IN (25, 1042, 1043) THEN 100 ELSE 0 END AS attcollation,
            NULL::VARCHAR[] AS attacl, NULL::VARCHAR[] AS attoptions, NULL::VARCHAR[] AS attfdwoptions,
            NULL::VARCHAR AS attmissingval
       FROM ${S}.catalog_attributes`,
  `CREATE OR REPLACE VIEW ${S}.pg_attrdef AS
     SELECT ${S}.stable_oid('d', attrelid::VARCHAR, attname) AS oid, attrelid AS adrelid, attnum AS adnum, adsrc AS adbin
       FROM ${S}.catalog_attributes WHERE adsrc IS NOT NULL`,
  `CREATE OR REPLACE VIEW ${S}.pg_type AS
     SELECT CAST(t.oid AS INTEGER) AS oid, t.typname, 11 AS typnamespace, 10 AS typowner, CAST(t.typlen AS SMALLINT) AS typlen,
            t.typlen BETWEEN 1 AND 8 AS typbyval, t.typtype, t.typcategory, false AS typispreferred, true AS typisdefined,
            ',' AS typdelim, 0 AS typrelid, '-' AS typsubscript, CAST(t.typelem AS INTEGER) AS typelem,
            CAST(t.typarray AS INTEGER) AS typarray, t.typinput,
            replace(t.typinput, 'in', 'out') AS typoutput, replace(t.typinput, 'in', 'recv') AS typreceive,
            replace(t.typinput, 'in', 'send') AS typsend, '-' AS typmodin, '-' AS typmodout, '-' AS typanalyze,
            'i' AS typalign, CASE WHEN t.typlen = -1 THEN 'x' ELSE 'p' END AS typstorage, false AS typnotnull,
            0 AS typbasetype, -1 AS typtypmod, CASE WHEN t.typcategory = 'A' THEN 1 ELSE 0 END AS typndims,
            CAST(t.typcollation AS INTEGER) AS typcollation, NULL::VARCHAR AS typdefaultbin, NULL::VARCHAR AS typdefault,
            NULL::VARCHAR[] AS typacl
       FROM (VALUES ${TYPE_ROWS}) t(oid, typname, typlen, typtype, typcategory, typelem, typarray, typinput, typcollation)`,
  `CREATE OR REPLACE VIEW ${S}.pg_proc AS
     SELECT 0 AS oid, ''::VARCHAR AS proname, 0 AS pronamespace, 0 AS proowner, 0 AS prolang, 0.0::REAL AS procost,
            0.0::REAL AS prorows, 0 AS provariadic, '-' AS prosupport, 'f' AS prokind, false AS prosecdef,
            false AS proleakproof, false AS proisstrict, false AS proretset, 'v' AS provolatile, 'u' AS proparallel,
            CAST(0 AS SMALLINT) AS pronargs, CAST(0 AS SMALLINT) AS pronargdefaults, 0 AS prorettype,
            []::INTEGER[] AS proargtypes, NULL::INTEGER[] AS proallargtypes, NULL::VARCHAR[] AS proargmodes,
            NULL::VARCHAR[] AS proargnames, NULL::VARCHAR AS proargdefaults, NULL::INTEGER[] AS protrftypes,
            ''::VARCHAR AS prosrc, NULL::VARCHAR AS probin, NULL::VARCHAR AS prosqlbody, NULL::VARCHAR[] AS proconfig,
            NULL::VARCHAR[] AS proacl ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_database AS
     SELECT ${DATABASE_OID} AS oid, '${DATABASE_NAME}' AS datname, CAST(${S}.owner_id() AS INTEGER) AS datdba, 6 AS encoding,
            'c' AS datlocprovider, false AS datistemplate, true AS datallowconn, -1 AS datconnlimit, 0 AS datfrozenxid,
            0 AS datminmxid, 1663 AS dattablespace, 'C' AS datcollate, 'C' AS datctype, NULL::VARCHAR AS daticulocale,
            NULL::VARCHAR AS datcollversion, NULL::VARCHAR[] AS datacl`,
  `CREATE OR REPLACE VIEW ${S}.pg_description AS
     SELECT oid AS objoid, 1259 AS classoid, 0 AS objsubid, comment AS description
       FROM ${S}.catalog_relations WHERE comment IS NOT NULL AND comment <> ''
     UNION ALL
     SELECT attrelid, 1259, CAST(attnum AS INTEGER), comment FROM ${S}.catalog_attributes
      WHERE comment IS NOT NULL AND comment <> ''`,
  `CREATE OR REPLACE VIEW ${S}.pg_shdescription AS
     SELECT 0 AS objoid, 0 AS classoid, ''::VARCHAR AS description ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_roles AS
     SELECT usename AS rolname, usesuper AS rolsuper, true AS rolinherit, usesuper AS rolcreaterole,
            usesuper AS rolcreatedb, true AS rolcanlogin, false AS rolreplication, -1 AS rolconnlimit,
            '********' AS rolpassword, NULL::TIMESTAMPTZ AS rolvaliduntil, false AS rolbypassrls,
            NULL::VARCHAR[] AS rolconfig, usesysid AS oid
       FROM ${S}.users`,
  `CREATE OR REPLACE VIEW ${S}.pg_user AS
     SELECT usename, usesysid, usesuper AS usecreatedb, usesuper, usesuper AS usecatupd, false AS userepl,
            false AS usebypassrls, '********' AS passwd, NULL::TIMESTAMPTZ AS valuntil, NULL::VARCHAR[] AS useconfig
       FROM ${S}.users`,
  `CREATE OR REPLACE VIEW ${S}.pg_auth_members AS
     SELECT 0 AS oid, 0 AS roleid, 0 AS member, 0 AS grantor, false AS admin_option ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_settings AS
     SELECT name, ${S}.current_setting(name) AS setting, NULL::VARCHAR AS unit, 'Sluice' AS category,
            '' AS short_desc, NULL::VARCHAR AS extra_desc, 'user' AS context, 'string' AS vartype,
            'default' AS source, NULL::VARCHAR AS min_val, NULL::VARCHAR AS max_val, NULL::VARCHAR[] AS enumvals,
            ${S}.current_setting(name) AS boot_val, ${S}.current_setting(name) AS reset_val,
            NULL::VARCHAR AS sourcefile, NULL::INTEGER AS sourceline, false AS pending_restart
       FROM (SELECT unnest(list_distinct(list_concat(
              [${Object.keys(STATIC_SETTINGS).map(quoteString).join(', ')}],
              map_keys(coalesce(getvariable('sluice_settings'), MAP {}::MAP(VARCHAR, VARCHAR)))))) AS name)`,
  `CREATE OR REPLACE VIEW ${S}.pg_index AS
     SELECT ${S}.stable_oid('c', nspname, keyname) AS indexrelid, ${S}.stable_oid('c', nspname, relname) AS indrelid,
            CAST(len(indkey) AS SMALLINT) AS indnatts, CAST(len(indkey) AS SMALLINT) AS indnkeyatts,
            true AS indisunique, false AS indnullsnotdistinct, contype = 'p' AS indisprimary, false AS indisexclusion,
            true AS indimmediate, false AS indisclustered, true AS indisvalid, false AS indcheckxmin,
            true AS indisready, true AS indislive, false AS indisreplident, indkey,
            list_transform(indkey, i -> 0) AS indcollation, list_transform(indkey, i -> 1978) AS indclass,
            list_transform(indkey, i -> CAST(0 AS SMALLINT)) AS indoption,
            NULL::VARCHAR AS indexprs, NULL::VARCHAR AS indpred
       FROM ${S}.catalog_keys WHERE contype <> 'f'`,
  `CREATE OR REPLACE VIEW ${S}.pg_constraint AS
     SELECT ${S}.stable_oid('k', nspname, keyname) AS oid, keyname AS conname, ${S}.nsp_oid(nspname) AS connamespace,
            contype, false AS condeferrable,
            false AS condeferred, true AS convalidated, ${S}.stable_oid('c', nspname, relname) AS conrelid,
            0 AS contypid,
            CASE WHEN contype <> 'f' THEN ${S}.stable_oid('c', nspname, keyname)
                 WHEN ref_keyname IS NOT NULL THEN ${S}.stable_oid('c', ref_nspname, ref_keyname) ELSE 0 END AS conindid,
            0 AS conparentid,
            CASE WHEN contype = 'f' THEN ${S}.stable_oid('c', ref_nspname, ref_relname) ELSE 0 END AS confrelid,
            CASE WHEN contype = 'f' THEN 'a' ELSE ' ' END AS confupdtype,
            CASE WHEN contype = 'f' THEN 'a' ELSE ' ' END AS confdeltype,
            CASE WHEN contype = 'f' THEN 's' ELSE ' ' END AS confmatchtype,
            true AS conislocal, 0 AS coninhcount, true AS connoinherit, indkey AS conkey,
            confkey, NULL::INTEGER[] AS conpfeqop, NULL::INTEGER[] AS conppeqop,
            NULL::INTEGER[] AS conffeqop, NULL::SMALLINT[] AS confdelsetcols, NULL::INTEGER[] AS conexclop,
            NULL::VARCHAR AS conbin,
            CASE contype WHEN 'p' THEN 'PRIMARY KEY' WHEN 'u' THEN 'UNIQUE' ELSE 'FOREIGN KEY' END
              || ' (' || array_to_string(colnames, ', ') || ')'
              || CASE WHEN contype = 'f' THEN ' REFERENCES '
                   || CASE WHEN list_contains(${S}.current_schemas(true), ref_nspname) THEN '' ELSE ref_nspname || '.' END
                   || ref_relname || '(' || array_to_string(ref_colnames, ', ') || ')' ELSE '' END AS condef,
            nspname, relname, colnames
       FROM ${S}.catalog_keys`,
  `CREATE OR REPLACE VIEW ${S}.pg_inherits AS
     SELECT 0 AS inhrelid, 0 AS inhparent, 0 AS inhseqno, false AS inhdetachpending ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_am AS
     SELECT * FROM (VALUES (2, 'heap', 'heap_tableam_handler', 't'), (403, 'btree', 'bthandler', 'i'))
       t(oid, amname, amhandler, amtype)`,
  `CREATE OR REPLACE VIEW ${S}.pg_collation AS
     SELECT 100 AS oid, 'default' AS collname, 11 AS collnamespace, 10 AS collowner, 'd' AS collprovider,
            true AS collisdeterministic, -1 AS collencoding, NULL::VARCHAR AS collcollate, NULL::VARCHAR AS collctype,
            NULL::VARCHAR AS colliculocale, NULL::VARCHAR AS collversion`,
  `CREATE OR REPLACE VIEW ${S}.pg_policy AS
     SELECT 0 AS oid, ''::VARCHAR AS polname, 0 AS polrelid, '' AS polcmd, true AS polpermissive,
            []::INTEGER[] AS polroles, NULL::VARCHAR AS polqual, NULL::VARCHAR AS polwithcheck ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_statistic_ext AS
     SELECT 0 AS oid, 0 AS stxrelid, ''::VARCHAR AS stxname, 0 AS stxnamespace, 0 AS stxowner,
            -1 AS stxstattarget, []::SMALLINT[] AS stxkeys, []::VARCHAR[] AS stxkind, NULL::VARCHAR AS stxexprs ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_publication AS
     SELECT 0 AS oid, ''::VARCHAR AS pubname, 0 AS pubowner, false AS puballtables, false AS pubinsert,
            false AS pubupdate, false AS pubdelete, false AS pubtruncate, false AS pubviaroot ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_publication_namespace AS
     SELECT 0 AS oid, 0 AS pnpubid, 0 AS pnnspid ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_publication_rel AS
     SELECT 0 AS oid, 0 AS prpubid, 0 AS prrelid, NULL::VARCHAR AS prqual, NULL::SMALLINT[] AS prattrs ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_tablespace AS
     SELECT oid, spcname, CAST(${S}.owner_id() AS INTEGER) AS spcowner, NULL::VARCHAR[] AS spcacl, NULL::VARCHAR[] AS spcoptions
       FROM (VALUES (1663, 'pg_default'), (1664, 'pg_global')) t(oid, spcname)`,
  `CREATE OR REPLACE VIEW ${S}.pg_extension AS
     SELECT 0 AS oid, ''::VARCHAR AS extname, 0 AS extowner, 0 AS extnamespace, false AS extrelocatable,
            ''::VARCHAR AS extversion ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_enum AS
     SELECT 0 AS oid, 0 AS enumtypid, 0.0::REAL AS enumsortorder, ''::VARCHAR AS enumlabel ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_range AS
     SELECT 0 AS rngtypid, 0 AS rngsubtype, 0 AS rngmultitypid ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_trigger AS
     SELECT 0 AS oid, 0 AS tgrelid, 0 AS tgparentid, ''::VARCHAR AS tgname, false AS tgisinternal, 'O' AS tgenabled,
            0 AS tgconstraint ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_rewrite AS
     SELECT 0 AS oid, ''::VARCHAR AS rulename, 0 AS ev_class ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_depend AS
     SELECT 0 AS classid, 0 AS objid, 0 AS objsubid, 0 AS refclassid, 0 AS refobjid, 0 AS refobjsubid,
            '' AS deptype ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_sequence AS
     SELECT 0 AS seqrelid, 20 AS seqtypid, CAST(1 AS BIGINT) AS seqstart, CAST(1 AS BIGINT) AS seqincrement,
            CAST(1 AS BIGINT) AS seqmax, CAST(1 AS BIGINT) AS seqmin, CAST(1 AS BIGINT) AS seqcache, false AS seqcycle ${EMPTY}`,
  // No user-defined operators, casts or foreign servers: psql's \do, \dC and \des list none.
  `CREATE OR REPLACE VIEW ${S}.pg_operator AS
     SELECT 0 AS oid, ''::VARCHAR AS oprname, 11 AS oprnamespace, 10 AS oprowner, 'b' AS oprkind, false AS oprcanmerge,
            false AS oprcanhash, 0 AS oprleft, 0 AS oprright, 0 AS oprresult, 0 AS oprcom, 0 AS oprnegate,
            ''::VARCHAR AS oprcode, ''::VARCHAR AS oprrest, ''::VARCHAR AS oprjoin ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_cast AS
     SELECT 0 AS oid, 0 AS castsource, 0 AS casttarget, 0 AS castfunc, 'e' AS castcontext, 'f' AS castmethod ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_foreign_server AS
     SELECT 0 AS oid, ''::VARCHAR AS srvname, 10 AS srvowner, 0 AS srvfdw, NULL::VARCHAR AS srvtype,
            NULL::VARCHAR AS srvversion, NULL::VARCHAR[] AS srvacl, NULL::VARCHAR[] AS srvoptions ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_foreign_data_wrapper AS
     SELECT 0 AS oid, ''::VARCHAR AS fdwname, 10 AS fdwowner, 0 AS fdwhandler, 0 AS fdwvalidator,
            NULL::VARCHAR[] AS fdwacl, NULL::VARCHAR[] AS fdwoptions ${EMPTY}`,
  `CREATE OR REPLACE MACRO ${S}.pg_operator_is_visible(id) AS true`,
  `CREATE OR REPLACE VIEW ${S}.pg_language AS
     SELECT * FROM (VALUES (12, 'internal', 10, false, false, 0, 0, 0, NULL::VARCHAR[], 2612),
                           (13, 'c', 10, false, false, 0, 0, 0, NULL::VARCHAR[], 2612),
                           (14, 'sql', 10, false, true, 0, 0, 0, NULL::VARCHAR[], 2612))
       t(oid, lanname, lanowner, lanispl, lanpltrusted, lanplcallfoid, laninline, lanvalidator, lanacl, tableoid)`,
  `CREATE OR REPLACE VIEW ${S}.pg_event_trigger AS
     SELECT 0 AS oid, ''::VARCHAR AS evtname, ''::VARCHAR AS evtevent, 10 AS evtowner, 0 AS evtfoid, 'O' AS evtenabled,
            NULL::VARCHAR[] AS evttags ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_default_acl AS
     SELECT 0 AS oid, 10 AS defaclrole, 0 AS defaclnamespace, 'r' AS defaclobjtype, NULL::VARCHAR[] AS defaclacl ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_db_role_setting AS
     SELECT 0 AS setdatabase, 0 AS setrole, NULL::VARCHAR[] AS setconfig ${EMPTY}`,
  `CREATE OR REPLACE MACRO ${S}.array_remove(arr, x) AS list_filter(arr, e -> e IS DISTINCT FROM x)`,
  // Views are views, not rules, here: pg_rewrite is empty and there is no rule text to give.
  `CREATE OR REPLACE MACRO ${S}.pg_get_ruledef(id) AS NULL::VARCHAR, (id, pretty) AS NULL::VARCHAR`,
  `CREATE OR REPLACE MACRO ${S}.pg_tablespace_size(t) AS
     CASE WHEN CAST(t AS VARCHAR) IN ('1663', 'pg_default') THEN ${S}.pg_database_size(t) ELSE CAST(0 AS BIGINT) END`,
  `CREATE OR REPLACE MACRO ${S}.pg_database_size(db) AS
     CAST(coalesce((SELECT sum(size) FROM ${S}.svv_table_info), 0) * 1048576 AS BIGINT)`,
  `CREATE OR REPLACE VIEW ${S}.pg_tables AS
     SELECT nspname AS schemaname, relname AS tablename, ${S}.pg_get_userbyid(${S}.owner_id()) AS tableowner,
            NULL::VARCHAR AS tablespace, relhasindex AS hasindexes, false AS hasrules, false AS hastriggers,
            false AS rowsecurity
       FROM ${S}.catalog_relations WHERE relkind = 'r'`,
  `CREATE OR REPLACE VIEW ${S}.pg_views AS
     SELECT nspname AS schemaname, relname AS viewname, ${S}.pg_get_userbyid(${S}.owner_id()) AS viewowner,
            definition
       FROM ${S}.catalog_relations WHERE relkind = 'v'`,
  `CREATE OR REPLACE VIEW ${S}.pg_matviews AS
     SELECT ''::VARCHAR AS schemaname, ''::VARCHAR AS matviewname, ''::VARCHAR AS matviewowner,
            NULL::VARCHAR AS tablespace, false AS hasindexes, true AS ispopulated, ''::VARCHAR AS definition ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_indexes AS
     SELECT ''::VARCHAR AS schemaname, ''::VARCHAR AS tablename, ''::VARCHAR AS indexname,
            NULL::VARCHAR AS tablespace, ''::VARCHAR AS indexdef ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.pg_stat_all_tables AS
     SELECT oid AS relid, nspname AS schemaname, relname, CAST(0 AS BIGINT) AS seq_scan,
            CAST(0 AS BIGINT) AS seq_tup_read, CAST(0 AS BIGINT) AS idx_scan, CAST(0 AS BIGINT) AS idx_tup_fetch,
            CAST(0 AS BIGINT) AS n_tup_ins, CAST(0 AS BIGINT) AS n_tup_upd, CAST(0 AS BIGINT) AS n_tup_del,
            CAST(0 AS BIGINT) AS n_tup_hot_upd, CAST(reltuples AS BIGINT) AS n_live_tup,
            CAST(0 AS BIGINT) AS n_dead_tup, NULL::TIMESTAMPTZ AS last_vacuum, NULL::TIMESTAMPTZ AS last_autovacuum,
            NULL::TIMESTAMPTZ AS last_analyze, NULL::TIMESTAMPTZ AS last_autoanalyze
       FROM ${S}.catalog_relations WHERE relkind = 'r'`,
  `CREATE OR REPLACE VIEW ${S}.pg_stat_user_tables AS
     SELECT * FROM ${S}.pg_stat_all_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
  `CREATE OR REPLACE VIEW ${S}.pg_statio_user_tables AS
     SELECT relid, schemaname, relname, CAST(0 AS BIGINT) AS heap_blks_read, CAST(0 AS BIGINT) AS heap_blks_hit
       FROM ${S}.pg_stat_user_tables`,
  `CREATE OR REPLACE VIEW ${S}.pg_stat_activity AS
     SELECT ${DATABASE_OID} AS datid, '${DATABASE_NAME}' AS datname, ${S}.pg_backend_pid() AS pid,
            ${S}.session_user_name() AS usename, ${S}.current_setting('application_name') AS application_name,
            '127.0.0.1' AS client_addr, 'active' AS state, NULL::VARCHAR AS query`,
  // ---- information_schema ----
  `CREATE OR REPLACE VIEW ${S}.information_schema_schemata AS
     SELECT '${DATABASE_NAME}' AS catalog_name, nspname AS schema_name,
            ${S}.pg_get_userbyid(${S}.owner_id()) AS schema_owner, NULL::VARCHAR AS default_character_set_catalog,
            NULL::VARCHAR AS default_character_set_schema, NULL::VARCHAR AS default_character_set_name,
            NULL::VARCHAR AS sql_path
       FROM ${S}.catalog_schemas`,
  `CREATE OR REPLACE VIEW ${S}.information_schema_tables AS
     SELECT '${DATABASE_NAME}' AS table_catalog, nspname AS table_schema, relname AS table_name,
            CASE WHEN relkind = 'v' AND nspname IN ('pg_catalog', 'information_schema') THEN 'VIEW'
                 WHEN relkind = 'v' THEN 'VIEW' ELSE 'BASE TABLE' END AS table_type,
            NULL::VARCHAR AS self_referencing_column_name, NULL::VARCHAR AS reference_generation,
            NULL::VARCHAR AS user_defined_type_catalog, NULL::VARCHAR AS user_defined_type_schema,
            NULL::VARCHAR AS user_defined_type_name, CASE WHEN relkind = 'r' THEN 'YES' ELSE 'NO' END AS is_insertable_into,
            'NO' AS is_typed, NULL::VARCHAR AS commit_action
       FROM ${S}.catalog_relations WHERE relkind IN ('r', 'v')`,
  `CREATE OR REPLACE VIEW ${S}.information_schema_columns AS
     SELECT '${DATABASE_NAME}' AS table_catalog, a.nspname AS table_schema, a.relname AS table_name,
            a.attname AS column_name, CAST(a.attnum AS INTEGER) AS ordinal_position, a.adsrc AS column_default,
            CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable,
            regexp_replace(a.pgtype, '\\(.*\\)$', '') AS data_type,
            CASE WHEN t.oid IN (1042, 1043) AND t.mod >= 4 THEN t.mod - 4 END AS character_maximum_length,
            CASE WHEN t.oid IN (1042, 1043) AND t.mod >= 4 THEN (t.mod - 4) * 4 END AS character_octet_length,
            CASE WHEN t.oid = 1700 AND t.mod >= 4 THEN (t.mod - 4) >> 16
                 WHEN t.oid = 21 THEN 16 WHEN t.oid = 23 THEN 32 WHEN t.oid = 20 THEN 64
                 WHEN t.oid = 700 THEN 24 WHEN t.oid = 701 THEN 53 END AS numeric_precision,
            CASE WHEN t.oid = 1700 THEN 10 WHEN t.oid IN (20, 21, 23, 700, 701) THEN 2 END AS numeric_precision_radix,
            CASE WHEN t.oid = 1700 AND t.mod >= 4 THEN (t.mod - 4) & 65535 WHEN t.oid IN (20, 21, 23) THEN 0 END AS numeric_scale,
            CASE WHEN t.oid IN (1082, 1083, 1114, 1184, 1266) THEN 6 END AS datetime_precision,
            NULL::VARCHAR AS interval_type, NULL::INTEGER AS interval_precision,
            NULL::VARCHAR AS character_set_catalog, NULL::VARCHAR AS character_set_schema,
            NULL::VARCHAR AS character_set_name, NULL::VARCHAR AS collation_catalog,
            NULL::VARCHAR AS collation_schema, NULL::VARCHAR AS collation_name,
            NULL::VARCHAR AS domain_catalog, NULL::VARCHAR AS domain_schema, NULL::VARCHAR AS domain_name,
            '${DATABASE_NAME}' AS udt_catalog, 'pg_catalog' AS udt_schema,
            (SELECT typname FROM ${S}.pg_type WHERE oid = t.oid) AS udt_name,
            NULL::VARCHAR AS scope_catalog, NULL::VARCHAR AS scope_schema, NULL::VARCHAR AS scope_name,
            NULL::INTEGER AS maximum_cardinality, CAST(a.attnum AS VARCHAR) AS dtd_identifier,
            'NO' AS is_self_referencing, 'NO' AS is_identity, NULL::VARCHAR AS identity_generation,
            NULL::VARCHAR AS identity_start, NULL::VARCHAR AS identity_increment, NULL::VARCHAR AS identity_maximum,
            NULL::VARCHAR AS identity_minimum, NULL::VARCHAR AS identity_cycle, 'NEVER' AS is_generated,
            NULL::VARCHAR AS generation_expression, CASE WHEN a.relkind = 'r' THEN 'YES' ELSE 'NO' END AS is_updatable
       FROM ${S}.catalog_attributes a, LATERAL (SELECT a.typid AS oid, a.typmod AS mod) t`,
  `CREATE OR REPLACE VIEW ${S}.information_schema_views AS
     SELECT '${DATABASE_NAME}' AS table_catalog, nspname AS table_schema, relname AS table_name,
            definition AS view_definition, 'NONE' AS check_option, 'NO' AS is_updatable,
            'NO' AS is_insertable_into, 'NO' AS is_trigger_updatable, 'NO' AS is_trigger_deletable,
            'NO' AS is_trigger_insertable_into
       FROM ${S}.catalog_relations WHERE relkind = 'v' AND nspname NOT IN ('pg_catalog', 'information_schema')`,
  `CREATE OR REPLACE VIEW ${S}.information_schema_table_constraints AS
     SELECT '${DATABASE_NAME}' AS constraint_catalog, nspname AS constraint_schema, keyname AS constraint_name,
            '${DATABASE_NAME}' AS table_catalog, nspname AS table_schema, relname AS table_name,
            CASE contype WHEN 'p' THEN 'PRIMARY KEY' WHEN 'u' THEN 'UNIQUE' ELSE 'FOREIGN KEY' END AS constraint_type,
            'NO' AS is_deferrable,
            'NO' AS initially_deferred, 'YES' AS enforced, NULL::VARCHAR AS nulls_distinct
       FROM ${S}.catalog_keys`,
  `CREATE OR REPLACE VIEW ${S}.information_schema_key_column_usage AS
     SELECT '${DATABASE_NAME}' AS constraint_catalog, nspname AS constraint_schema, keyname AS constraint_name,
            '${DATABASE_NAME}' AS table_catalog, nspname AS table_schema, relname AS table_name,
            u.column_name, CAST(u.ordinal_position AS INTEGER) AS ordinal_position,
            CASE WHEN contype = 'f' THEN CAST(u.ordinal_position AS INTEGER) END AS position_in_unique_constraint
       FROM ${S}.catalog_keys,
            LATERAL (SELECT unnest(colnames) AS column_name, unnest(range(1, len(colnames) + 1)) AS ordinal_position) u`,
  // A key's own columns; for a foreign key, the referenced table's columns.
  `CREATE OR REPLACE VIEW ${S}.information_schema_constraint_column_usage AS
     SELECT '${DATABASE_NAME}' AS table_catalog,
            CASE WHEN contype = 'f' THEN ref_nspname ELSE nspname END AS table_schema,
            CASE WHEN contype = 'f' THEN ref_relname ELSE relname END AS table_name,
            unnest(CASE WHEN contype = 'f' THEN ref_colnames ELSE colnames END) AS column_name,
            '${DATABASE_NAME}' AS constraint_catalog, nspname AS constraint_schema, keyname AS constraint_name
       FROM ${S}.catalog_keys`,
  `CREATE OR REPLACE VIEW ${S}.information_schema_referential_constraints AS
     SELECT '${DATABASE_NAME}' AS constraint_catalog, f.nspname AS constraint_schema, f.keyname AS constraint_name,
            '${DATABASE_NAME}' AS unique_constraint_catalog, f.ref_nspname AS unique_constraint_schema,
            f.ref_keyname AS unique_constraint_name,
            'NONE' AS match_option, 'NO ACTION' AS update_rule, 'NO ACTION' AS delete_rule
       FROM ${S}.catalog_keys f WHERE f.contype = 'f'`,
  `CREATE OR REPLACE VIEW ${S}.information_schema_routines AS
     SELECT '${DATABASE_NAME}' AS specific_catalog, ''::VARCHAR AS specific_schema, ''::VARCHAR AS specific_name,
            '${DATABASE_NAME}' AS routine_catalog, ''::VARCHAR AS routine_schema, ''::VARCHAR AS routine_name,
            ''::VARCHAR AS routine_type, ''::VARCHAR AS data_type, ''::VARCHAR AS routine_definition ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.information_schema_parameters AS
     SELECT '${DATABASE_NAME}' AS specific_catalog, ''::VARCHAR AS specific_schema, ''::VARCHAR AS specific_name,
            0 AS ordinal_position, ''::VARCHAR AS parameter_mode, ''::VARCHAR AS parameter_name,
            ''::VARCHAR AS data_type ${EMPTY}`,
  `CREATE OR REPLACE VIEW ${S}.information_schema_table_privileges AS
     SELECT ${S}.pg_get_userbyid(${S}.owner_id()) AS grantor, ${S}.session_user_name() AS grantee,
            '${DATABASE_NAME}' AS table_catalog, nspname AS table_schema, relname AS table_name,
            p.privilege_type, 'YES' AS is_grantable, 'NO' AS with_hierarchy
       FROM ${S}.catalog_relations, (VALUES ('SELECT'), ('INSERT'), ('UPDATE'), ('DELETE')) p(privilege_type)
      WHERE relkind IN ('r', 'v') AND nspname NOT IN ('pg_catalog', 'information_schema')`,
  `CREATE OR REPLACE VIEW ${S}.information_schema_column_privileges AS
     SELECT ${S}.pg_get_userbyid(${S}.owner_id()) AS grantor, ${S}.session_user_name() AS grantee,
            '${DATABASE_NAME}' AS table_catalog, nspname AS table_schema, relname AS table_name,
            attname AS column_name, 'SELECT' AS privilege_type, 'YES' AS is_grantable
       FROM ${S}.catalog_attributes WHERE nspname NOT IN ('pg_catalog', 'information_schema')`,
];

/**
 * Installs (or refreshes) the catalog views and macros. DuckDB binds a view or a macro's
 * subqueries when it is created, and the objects refer to each other, so statements that
 * fail for want of another are retried until a pass makes no progress.
 */
export async function installCatalog(q: (sql: string) => Promise<unknown[][]>): Promise<void> {
  let pending = [...CATALOG_SQL, ...SYSTEM_VIEWS_SQL];
  while (pending.length > 0) {
    const failed: { sql: string; error: unknown }[] = [];
    for (const sql of pending) {
      try {
        await q(sql);
      } catch (error) {
        failed.push({ sql, error });
      }
    }
    if (failed.length === pending.length) {
      const first = failed[0] as { sql: string; error: unknown };
      const reason = first.error instanceof Error ? first.error.message : String(first.error);
      throw new Error(`Installing the catalog failed at: ${first.sql.slice(0, 200)}: ${reason}`, {
        cause: first.error,
      });
    }
    pending = failed.map((f) => f.sql);
  }
  await recordCatalogTypes(q);
}

/** System tables whose Redshift column types bootstrap records (catalog.ts). */
const DECLARED_ELSEWHERE: ReadonlySet<string> = new Set([
  'stl_load_errors',
  'stl_loaderror_detail',
  'stl_query',
  'stl_connection_log',
]);

/**
 * Records the column types of the catalog's own views in `_sluice.columns`, bound now, so
 * that pg_attribute does not depend on the types DuckDB keeps with a view (which it can
 * leave unresolved).
 */
async function recordCatalogTypes(q: (sql: string) => Promise<unknown[][]>): Promise<void> {
  const names = [
    ...[...PG_CATALOG_RELATIONS.keys()].filter((n) => !DECLARED_ELSEWHERE.has(n)),
    ...[...INFORMATION_SCHEMA_VIEWS].map((n) => `information_schema_${n}`),
  ];
  const rows: string[] = [];
  for (const name of names) {
    const cols = await q(
      `SELECT column_name, ${S}.pg_type_of_duck(column_type) FROM (DESCRIBE SELECT * FROM ${S}.${name})`,
    );
    cols.forEach((c, i) =>
      rows.push(
        `('${S}', ${quoteString(name)}, ${quoteString(String(c[0]))}, ${i + 1}, ${quoteString(String(c[1]))})`,
      ),
    );
  }
  await q(
    `DELETE FROM ${S}.columns WHERE schema_name = '${S}' AND table_name IN (${names.map(quoteString).join(', ')})`,
  );
  await q(
    `INSERT INTO ${S}.columns (schema_name, table_name, column_name, ordinal, declared_type) VALUES ${rows.join(', ')}`,
  );
}
