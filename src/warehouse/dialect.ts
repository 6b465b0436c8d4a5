/**
 * Redshift SQL to DuckDB SQL, in one place.
 *
 * Each statement is tokenized (lexer.ts) and classified by its leading keywords. Statements
 * DuckDB understands as they are pass through with expression rewrites (GETDATE(), SYSDATE,
 * 'now', the stl_load_errors system table, and the functions Redshift spells differently:
 * DATEDIFF / DATEADD / DATE_TRUNC / DATE_PART / EXTRACT with Redshift date parts, NVL,
 * NVL2, DECODE, LISTAGG, PERCENTILE_CONT ... WITHIN GROUP, APPROXIMATE COUNT(DISTINCT),
 * CONVERT_TIMEZONE, TO_CHAR, TO_DATE, ...); Redshift-only statements become plans the
 * session carries out (CREATE TABLE with IDENTITY/DISTKEY/SORTKEY/ENCODE or LIKE, COPY,
 * UNLOAD, SET search_path); anything Sluice does not support fails with SQLSTATE 0A000
 * naming the construct, rather than reaching DuckDB and failing with a confusing message.
 *
 * Function calls are rewritten into built-in DuckDB expressions, not macros, so a view
 * keeps working from any connection and the table of cases shows exactly what runs.
 *
 * Redshift DDL is not valid PostgreSQL, so the PostgreSQL parser (libpg-query) cannot parse
 * it; a tokenizer plus small hand-written recognizers is the tool here.
 *
 * The supported constructs are listed, with their DuckDB output and rows, in
 * dialect-cases.ts, which the tests run against a real DuckDB.
 *
 * @see https://docs.aws.amazon.com/redshift/latest/dg/c_SQL_commands.html
 */
import { SqlError } from './index.ts';
import { SQLSTATE, unsupported } from './errors.ts';
import { quoteIdent, quoteString, tokenize, type Token } from './lexer.ts';
import {
  datePart,
  formatSegments,
  FormatPatternError,
  INTERVAL_FUNCTION,
  isNumericTemplate,
  strftimeFormat,
  type DatePart,
  type FormatSegment,
} from './date-parts.ts';
import { rewriteCatalogToken } from './pg-catalog.ts';
import { MULTI_WORD_TYPES, parseRedshiftType, TypeNameError, type SqlType } from './types.ts';
import { translateUserStatement, type UserPlan } from './privileges.ts';

/** A possibly schema-qualified table name (lower-cased, as Redshift folds identifiers). */
export interface TableName {
  /** Schema, when written. */
  readonly schema?: string;
  /** Table name. */
  readonly name: string;
}

/** One piece of translated SQL and where it came from, for mapping error positions back. */
export interface Piece {
  /** Offset in the translated SQL. */
  readonly out: number;
  /** Offset in the statement text. */
  readonly src: number;
  /** True when the piece is copied unchanged (so offsets inside it map one to one). */
  readonly verbatim: boolean;
}

/** What translating one statement gives. */
export type Plan =
  | QueryPlan
  | CreateTablePlan
  | DropTablePlan
  | DropSchemaPlan
  | CopyPlan
  | UnloadPlan
  | SetPlan
  | ShowPlan
  | TransactionPlan
  | NoopPlan
  | AlterTablePlan
  | UserPlan;

/** True when a plan changes data, the catalog or users (refused in a READ ONLY transaction). */
export function planWrites(plan: Plan): boolean {
  switch (plan.kind) {
    case 'set':
    case 'show':
    case 'transaction':
    case 'noop':
      return false;
    case 'query':
      return !['SELECT', 'SHOW', 'EXPLAIN', 'VALUES', 'TABLE'].includes(plan.command);
    default:
      return true;
  }
}

/** A statement DuckDB runs as translated. */
export interface QueryPlan {
  readonly kind: 'query';
  /** Command tag. */
  readonly command: string;
  /** DuckDB SQL. */
  readonly sql: string;
  /** Position map from `sql` back to the statement. */
  readonly pieces: readonly Piece[];
  /** True for CREATE SCHEMA (the session re-applies its search_path after it). */
  readonly schemaChange?: boolean;
  /** CREATE TABLE ... AS: the new table and the physical design its statement declared. */
  readonly created?: { readonly table: TableName; readonly design: TableDesign };
}

/** One column of CREATE TABLE. */
export interface ColumnDecl {
  /** Column name. */
  readonly name: string;
  /** Declared type. */
  readonly type: SqlType;
  /** NOT NULL. */
  readonly notNull: boolean;
  /** DuckDB default expression (already translated), if any. */
  readonly defaultSql?: string;
  /** IDENTITY(seed, step). */
  readonly identity?: { readonly seed: number; readonly step: number };
  /** COLLATE CASE_INSENSITIVE. */
  readonly caseInsensitive?: boolean;
  /** ENCODE codec, lower case (`raw`, `az64`, `lzo`, ...), when declared. */
  readonly encoding?: string;
}

/**
 * A table's sort key: COMPOUND or INTERLEAVED over columns, AUTO (Redshift's default when
 * none is declared), or NONE (after ALTER SORTKEY NONE).
 */
export interface SortKey {
  /** The sort style. */
  readonly kind: 'compound' | 'interleaved' | 'auto' | 'none';
  /** The columns, in order (empty for AUTO and NONE). */
  readonly columns: readonly string[];
}

/**
 * Redshift's physical design of a table. Sluice keeps one copy of the data on one machine, so
 * none of it changes how rows are stored; it is recorded so that pg_table_def and
 * svv_table_info report what the user declared.
 *
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_TABLE_NEW.html
 */
export interface TableDesign {
  /** DISTSTYLE, when declared (a DISTKEY without it means KEY). */
  readonly diststyle?: 'auto' | 'even' | 'key' | 'all';
  /** The distribution key column. */
  readonly distkey?: string;
  /** The sort key, when declared. */
  readonly sortkey?: SortKey;
}

/**
 * A PRIMARY KEY, UNIQUE or FOREIGN KEY constraint. Redshift records them for the planner and
 * does not enforce them, so Sluice records them and does not enforce them either.
 *
 * @see https://docs.aws.amazon.com/redshift/latest/dg/t_Defining_constraints.html
 */
export interface KeyConstraint {
  /** p = PRIMARY KEY, u = UNIQUE, f = FOREIGN KEY (pg_constraint.contype). */
  readonly kind: 'p' | 'u' | 'f';
  /** CONSTRAINT name, when written. */
  readonly name?: string;
  /** The constrained columns. */
  readonly columns: readonly string[];
  /** REFERENCES table [(columns)] of a FOREIGN KEY. */
  readonly references?: { readonly table: TableName; readonly columns: readonly string[] };
}

/** An ALTER TABLE that changes what Sluice records about a table (and maybe its DuckDB name). */
export interface AlterTablePlan {
  readonly kind: 'alter-table';
  readonly command: 'ALTER TABLE';
  /** The table. */
  readonly table: TableName;
  /** The change. */
  readonly change: TableChange;
}

/** What an ALTER TABLE changes. */
export type TableChange =
  | {
      readonly what: 'diststyle';
      readonly diststyle: 'auto' | 'even' | 'key' | 'all';
      readonly distkey?: string;
    }
  | { readonly what: 'sortkey'; readonly sortkey: SortKey }
  | { readonly what: 'encode-auto' }
  | { readonly what: 'encode'; readonly column: string; readonly encoding: string }
  | { readonly what: 'add-constraint'; readonly constraint: KeyConstraint }
  | { readonly what: 'drop-constraint'; readonly name: string }
  | { readonly what: 'rename-table'; readonly to: string }
  | { readonly what: 'rename-column'; readonly from: string; readonly to: string }
  | { readonly what: 'drop-column'; readonly column: string }
  | {
      readonly what: 'add-column';
      readonly column: ColumnDecl;
      readonly constraints: readonly KeyConstraint[];
    };

/** CREATE TABLE with Redshift column and table attributes. */
export interface CreateTablePlan {
  readonly kind: 'create-table';
  readonly command: 'CREATE TABLE';
  /** The table. */
  readonly table: TableName;
  /** CREATE TEMP TABLE. */
  readonly temporary: boolean;
  /** IF NOT EXISTS. */
  readonly ifNotExists: boolean;
  /** Columns in order (empty for LIKE until the session reads the parent). */
  readonly columns: readonly ColumnDecl[];
  /** CREATE TABLE ... (LIKE parent [INCLUDING DEFAULTS]). */
  readonly like?: { readonly table: TableName; readonly includingDefaults: boolean };
  /** DISTSTYLE, DISTKEY and SORTKEY, from the column and table attributes. */
  readonly design: TableDesign;
  /** PRIMARY KEY, UNIQUE and FOREIGN KEY constraints (recorded, not enforced). */
  readonly constraints: readonly KeyConstraint[];
}

/** DROP TABLE. */
export interface DropTablePlan {
  readonly kind: 'drop-table';
  readonly command: 'DROP TABLE';
  /** The tables. */
  readonly tables: readonly TableName[];
  /** IF EXISTS. */
  readonly ifExists: boolean;
}

/** DROP SCHEMA. */
export interface DropSchemaPlan {
  readonly kind: 'drop-schema';
  readonly command: 'DROP SCHEMA';
  /** The schemas. */
  readonly schemas: readonly string[];
  /** IF EXISTS. */
  readonly ifExists: boolean;
  /** CASCADE. */
  readonly cascade: boolean;
}

/** Redshift COPY from S3. */
export interface CopyPlan {
  readonly kind: 'copy';
  readonly command: 'COPY';
  /** The parsed statement. */
  readonly copy: CopyStatement;
}

/** Redshift UNLOAD to S3. */
export interface UnloadPlan {
  readonly kind: 'unload';
  readonly command: 'UNLOAD';
  /** The parsed statement, its query already translated. */
  readonly unload: UnloadStatement;
}

/**
 * A parsed Redshift UNLOAD.
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_UNLOAD.html
 */
export interface UnloadStatement {
  /** The query as written. */
  readonly query: string;
  /** The query as DuckDB runs it. */
  readonly sql: string;
  /** The s3:// prefix the files' names start with. */
  readonly to: string;
  /** Output format (default: delimited text). */
  readonly format: 'text' | 'csv' | 'parquet' | 'json';
  /** Field delimiter (text and CSV). */
  readonly delimiter: string;
  /** HEADER: a first line naming the columns. */
  readonly header: boolean;
  /** GZIP. */
  readonly gzip: boolean;
  /** MANIFEST [VERBOSE]. */
  readonly manifest: 'none' | 'plain' | 'verbose';
  /** PARALLEL (default on): only the file names differ on one machine. */
  readonly parallel: boolean;
  /** ALLOWOVERWRITE. */
  readonly allowOverwrite: boolean;
  /** ADDQUOTES. */
  readonly addQuotes: boolean;
  /** NULL AS (default: empty). */
  readonly nullAs: string;
  /** EXTENSION, when written. */
  readonly extension?: string;
}

/** SET / RESET of a session setting. */
export interface SetPlan {
  readonly kind: 'set';
  /** Command tag (SET or RESET). */
  readonly command: 'SET' | 'RESET';
  /** Setting name, lower-case (`all` for RESET ALL). */
  readonly name: string;
  /** Values as written (identifiers lower-cased, strings unquoted); empty for DEFAULT/RESET. */
  readonly values: readonly string[];
}

/** SHOW of a session setting. */
export interface ShowPlan {
  readonly kind: 'show';
  readonly command: 'SHOW';
  /** Setting name, lower-case. */
  readonly name: string;
}

/** BEGIN / COMMIT / ROLLBACK. */
export interface TransactionPlan {
  readonly kind: 'transaction';
  /** Command tag. */
  readonly command: 'BEGIN' | 'COMMIT' | 'ROLLBACK';
  /** BEGIN READ ONLY: the transaction refuses writes (25006). */
  readonly readOnly?: boolean;
}

/** A statement accepted and not needed on DuckDB (ANALYZE, VACUUM). */
export interface NoopPlan {
  readonly kind: 'noop';
  /** Command tag. */
  readonly command: string;
}

/** The data format of a COPY. */
export type CopyFormat = 'csv' | 'json' | 'text' | 'parquet';

/**
 * A parsed Redshift COPY.
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_COPY.html
 */
export interface CopyStatement {
  /** Target table. */
  readonly table: TableName;
  /** Column list, when written. */
  readonly columns?: readonly string[];
  /** The s3:// URL (prefix or manifest). */
  readonly from: string;
  /** Data format (default: pipe-delimited text). */
  readonly format: CopyFormat;
  /** Field delimiter. */
  readonly delimiter: string;
  /** CSV quote character. */
  readonly quote: string;
  /** JSON 'auto ignorecase'. */
  readonly jsonIgnoreCase: boolean;
  /** JSON 's3://...': the JSONPaths file that maps fields to the columns in order. */
  readonly jsonPaths?: string;
  /** Input is gzip. */
  readonly gzip: boolean;
  /** FROM names a manifest. */
  readonly manifest: boolean;
  /** MAXERROR (default 0). */
  readonly maxError: number;
  /** IGNOREHEADER (default 0). */
  readonly ignoreHeader: number;
  /** TIMEFORMAT, if written. */
  readonly timeFormat?: string;
  /** DATEFORMAT, if written. */
  readonly dateFormat?: string;
  /** NULL AS, if written. */
  readonly nullAs?: string;
  /** EMPTYASNULL. */
  readonly emptyAsNull: boolean;
  /** BLANKSASNULL. */
  readonly blanksAsNull: boolean;
  /** TRUNCATECOLUMNS. */
  readonly truncateColumns: boolean;
  /** ACCEPTINVCHARS replacement character, when given. */
  readonly acceptInvChars?: string;
  /** ROUNDEC (round extra decimal digits instead of truncating). */
  readonly roundDec: boolean;
  /** TRIMBLANKS. */
  readonly trimBlanks: boolean;
  /** ESCAPE (backslash escapes in delimited text). */
  readonly escape: boolean;
  /** REMOVEQUOTES (delimited text). */
  readonly removeQuotes: boolean;
  /** FILLRECORD (missing trailing columns load as NULL). */
  readonly fillRecord: boolean;
  /** EXPLICIT_IDS (identity columns take values from the data). */
  readonly explicitIds: boolean;
  /** IGNOREBLANKLINES. */
  readonly ignoreBlankLines: boolean;
  /** NOLOAD (check the data, load nothing). */
  readonly noLoad: boolean;
  /** REGION, accepted and not used. */
  readonly region?: string;
}

// ---------------------------------------------------------------------------------------
// Token cursor

class Cursor {
  readonly sig: number[] = [];
  pos = 0;
  constructor(readonly tokens: readonly Token[]) {
    tokens.forEach((t, i) => {
      if (t.kind !== 'ws' && t.kind !== 'comment') this.sig.push(i);
    });
  }
  tok(k = this.pos): Token | undefined {
    const i = this.sig[k];
    return i === undefined ? undefined : this.tokens[i];
  }
  done(): boolean {
    return this.pos >= this.sig.length;
  }
  isWord(k: number, ...words: string[]): boolean {
    const t = this.tok(k);
    return t !== undefined && t.kind === 'word' && words.includes(t.value);
  }
  isOp(k: number, op: string): boolean {
    const t = this.tok(k);
    return t !== undefined && t.kind === 'op' && t.value === op;
  }
  atWords(...words: string[]): boolean {
    return words.every((w, j) => this.isWord(this.pos + j, w));
  }
  acceptWords(...words: string[]): boolean {
    if (!this.atWords(...words)) return false;
    this.pos += words.length;
    return true;
  }
  acceptWord(...alternatives: string[]): string | undefined {
    const t = this.tok();
    if (t && t.kind === 'word' && alternatives.includes(t.value)) {
      this.pos++;
      return t.value;
    }
    return undefined;
  }
  expectWords(...words: string[]): void {
    for (const w of words) {
      if (!this.isWord(this.pos, w)) throw this.syntaxError();
      this.pos++;
    }
  }
  acceptOp(op: string): boolean {
    if (!this.isOp(this.pos, op)) return false;
    this.pos++;
    return true;
  }
  expectOp(op: string): void {
    if (!this.acceptOp(op)) throw this.syntaxError();
  }
  /** Reads an identifier; Redshift folds quoted and unquoted names to lower case by default. */
  readIdent(): string {
    const t = this.tok();
    if (!t || (t.kind !== 'word' && t.kind !== 'qident')) throw this.syntaxError();
    this.pos++;
    return t.kind === 'word' ? t.value : t.value.toLowerCase();
  }
  readTableName(): TableName {
    const first = this.readIdent();
    if (this.acceptOp('.')) {
      const second = this.readIdent();
      if (this.acceptOp('.')) {
        // database.schema.table: the database is always dev.
        const third = this.readIdent();
        if (first !== 'dev')
          throw new SqlError(
            `cross-database reference to database "${first}" is not supported`,
            SQLSTATE.featureNotSupported,
          );
        return { schema: second, name: third };
      }
      return { schema: first, name: second };
    }
    return { name: first };
  }
  readString(): string {
    const t = this.tok();
    if (!t || (t.kind !== 'string' && t.kind !== 'dollar')) throw this.syntaxError();
    this.pos++;
    return t.value;
  }
  readInteger(): number {
    let sign = 1;
    if (this.acceptOp('-')) sign = -1;
    else this.acceptOp('+');
    const t = this.tok();
    if (!t || t.kind !== 'number' || !/^\d+$/.test(t.value)) throw this.syntaxError();
    this.pos++;
    return sign * Number(t.value);
  }
  /** Skips a balanced parenthesised group starting at the current `(`. */
  skipGroup(): void {
    if (!this.isOp(this.pos, '(')) throw this.syntaxError();
    let depth = 0;
    while (!this.done()) {
      const t = this.tok() as Token;
      this.pos++;
      if (t.kind === 'op' && t.value === '(') depth++;
      else if (t.kind === 'op' && t.value === ')') {
        depth--;
        if (depth === 0) return;
      }
    }
    throw this.syntaxError();
  }
  syntaxError(): SqlError {
    const t = this.tok();
    if (!t)
      return new SqlError('syntax error at end of input', SQLSTATE.syntaxError, {
        position: this.endPosition(),
      });
    return new SqlError(`syntax error at or near "${t.text}"`, SQLSTATE.syntaxError, {
      position: t.start + 1,
    });
  }
  position(k = this.pos): number {
    const t = this.tok(k);
    return t ? t.start + 1 : this.endPosition();
  }
  endPosition(): number {
    const last = this.tokens[this.tokens.length - 1];
    return (last?.end ?? 0) + 1;
  }
}

// ---------------------------------------------------------------------------------------
// Expression rewrites

/** GETDATE(): the current timestamp in whole seconds, as Redshift returns it. */
export const GETDATE_SQL = "date_trunc('second', timezone('UTC', now()))";
/** VERSION(): a PostgreSQL-style banner that also names Redshift and Sluice, as clients parse the first words. */
export const VERSION_SQL =
  "'PostgreSQL 15.0 on x86_64-pc-linux-gnu, compiled by Sluice; Redshift SQL dialect 1.0; Sluice 0.1.0 on DuckDB ' || library_version FROM pragma_version()";
/** SYSDATE: the transaction's start as TIMESTAMP (UTC), with microseconds. */
export const SYSDATE_SQL = "timezone('UTC', now())";
/** Redshift's special datetime strings. @see https://docs.aws.amazon.com/redshift/latest/dg/r_Date_and_time_literals.html */
const SPECIAL_DATETIME: Readonly<Record<string, string>> = {
  now: 'now()',
  today: 'current_date',
  tomorrow: '(current_date + 1)',
  yesterday: '(current_date - 1)',
};
/** System tables Sluice keeps as real tables in `_sluice`. */
const SYSTEM_TABLES = new Set(['stl_load_errors', 'stl_loaderror_detail']);
const TEXT_TYPES = new Set(['text', 'varchar', 'character', 'bpchar']);
const COMPARISON_OPS = new Set(['=', '<', '>', '<=', '>=', '<>', '!=']);
const DATETIME_TYPE_WORDS = new Set(['timestamp', 'timestamptz', 'date']);

/**
 * NUMERIC/DECIMAL without precision: Redshift's NUMERIC(18,0), where DuckDB's is (18,3).
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_Numeric_types201.html
 */
const REDSHIFT_NUMERIC = 'DECIMAL(18,0)';

/** Whether `k` is a bare NUMERIC/DECIMAL cast target: `x::numeric` or `CAST(x AS decimal)`. */
function isBareNumericCast(c: Cursor, k: number): boolean {
  if (!c.isWord(k, 'numeric', 'decimal') || c.isOp(k + 1, '(') || c.isOp(k - 1, '.')) return false;
  if (c.isOp(k - 1, '::')) return true;
  if (!c.isWord(k - 1, 'as') || !c.isOp(k + 1, ')')) return false;
  let depth = 0;
  for (let j = k; j >= 0; j--) {
    if (c.isOp(j, ')')) depth++;
    else if (c.isOp(j, '(')) {
      if (depth === 0) return c.isWord(j - 1, 'cast', 'try_cast') && !c.isOp(j - 2, '.');
      depth--;
    }
  }
  return false;
}

interface Edit {
  /** Last significant index replaced (inclusive). */
  readonly through: number;
  readonly text: string;
}

/** Finds the rewrites an expression range needs (significant indexes from..to, exclusive). */
function rewriteExpressions(c: Cursor, from: number, to: number, edits: Map<number, Edit>): void {
  for (let k = from; k < to; k++) {
    if (
      c.isWord(k, 'pg_catalog') &&
      c.isOp(k + 1, '.') &&
      c.isWord(k + 2, 'version') &&
      c.isOp(k + 3, '(') &&
      c.isOp(k + 4, ')')
    ) {
      edits.set(k, { through: k + 4, text: `(SELECT ${VERSION_SQL})` });
      k += 4;
      continue;
    }
    const catalogEdit = rewriteCatalogToken(c, k);
    if (catalogEdit) {
      edits.set(catalogEdit.from, { through: catalogEdit.through, text: catalogEdit.text });
      for (const e of catalogEdit.also ?? []) {
        if (e.prepend) {
          const existing = edits.get(e.from);
          edits.set(
            e.from,
            existing
              ? { through: existing.through, text: e.text + existing.text }
              : { through: e.from, text: e.text + (c.tok(e.from) as Token).text },
          );
        } else edits.set(e.from, { through: e.through, text: e.text });
      }
      k = catalogEdit.through;
      continue;
    }
    const t = c.tok(k) as Token;
    const prevDot = c.isOp(k - 1, '.');
    if (t.kind === 'word') {
      if (!prevDot && c.isOp(k + 1, '(') && CALL_REWRITES.has(t.value)) {
        const through = rewriteCall(c, k, to, edits);
        if (through !== undefined) {
          k = through;
          continue;
        }
      }
      if (t.value === 'approximate' && !prevDot && c.isWord(k + 1, 'count') && c.isOp(k + 2, '(')) {
        if (!c.isWord(k + 3, 'distinct'))
          throw unsupported('APPROXIMATE COUNT without DISTINCT', c.position(k));
        edits.set(k, { through: k + 3, text: 'approx_count_distinct(' });
        k += 3;
        continue;
      }
      if (t.value === 'approximate' && !prevDot && c.isWord(k + 1, 'percentile_disc')) {
        // DuckDB computes the exact percentile, which is what an approximation approximates.
        edits.set(k, { through: k, text: '' });
        continue;
      }
      if (isBareNumericCast(c, k)) {
        edits.set(k, { through: k, text: REDSHIFT_NUMERIC });
        continue;
      }
      if (t.value === 'getdate' && !prevDot && c.isOp(k + 1, '(') && c.isOp(k + 2, ')')) {
        edits.set(k, { through: k + 2, text: GETDATE_SQL });
        k += 2;
      } else if (t.value === 'version' && !prevDot && c.isOp(k + 1, '(') && c.isOp(k + 2, ')')) {
        edits.set(k, { through: k + 2, text: `(SELECT ${VERSION_SQL})` });
        k += 2;
      } else if (t.value === 'sysdate' && !prevDot && !c.isOp(k + 1, '(') && !c.isOp(k + 1, '.')) {
        edits.set(k, { through: k, text: SYSDATE_SQL });
      } else if (SYSTEM_TABLES.has(t.value) && !c.isOp(k + 1, '.')) {
        if (!prevDot) edits.set(k, { through: k, text: `_sluice.${t.value}` });
        else if (c.isWord(k - 2, 'pg_catalog')) {
          edits.delete(k - 2);
          edits.set(k - 2, { through: k, text: `_sluice.${t.value}` });
        }
      }
      continue;
    }
    if (t.kind === 'string') {
      const special = SPECIAL_DATETIME[t.value.trim().toLowerCase()];
      if (special === undefined) continue;
      const prev = c.tok(k - 1);
      const next = c.tok(k + 1);
      if (next?.kind === 'op' && next.value === '::') {
        // 'now'::text is only ever written to be cast on to a timestamp; drop the text cast.
        const typeTok = c.tok(k + 2);
        if (typeTok?.kind === 'word' && TEXT_TYPES.has(typeTok.value)) {
          let through = k + 2;
          if (c.isWord(through + 1, 'varying')) through++;
          if (c.isOp(through + 1, '(') && c.isOp(through + 3, ')')) through += 3;
          edits.set(k, { through, text: special });
        } else edits.set(k, { through: k, text: special });
      } else if (prev?.kind === 'word' && DATETIME_TYPE_WORDS.has(prev.value) && !c.isOp(k - 2, '::')) {
        edits.set(k - 1, {
          through: k,
          text: `CAST(${special} AS ${prev.value === 'date' ? 'DATE' : prev.value === 'timestamptz' ? 'TIMESTAMPTZ' : 'TIMESTAMP'})`,
        });
      } else if (
        (prev?.kind === 'word' && prev.value === 'default') ||
        (prev?.kind === 'op' && COMPARISON_OPS.has(prev.value)) ||
        (next?.kind === 'op' && COMPARISON_OPS.has(next.value)) ||
        (prev?.kind === 'op' && prev.value === '(' && c.isWord(k - 2, 'cast'))
      ) {
        edits.set(k, { through: k, text: special });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Function calls Redshift spells differently

/** Functions rewritten as whole calls (arguments translated first). */
const CALL_REWRITES = new Set([
  'datediff',
  'date_diff',
  'dateadd',
  'date_add',
  'date_part',
  'datepart',
  'pgdate_part',
  'date_trunc',
  'extract',
  'nvl',
  'isnull',
  'nvl2',
  'decode',
  'listagg',
  'percentile_cont',
  'percentile_disc',
  'convert_timezone',
  'to_char',
  'to_date',
  'to_timestamp',
  'charindex',
  'strtol',
  'timeofday',
  'add_months',
  'regexp_replace',
  'regexp_substr',
  'regexp_count',
  'btrim',
  'replicate',
  'space',
  'convert',
  'trunc',
  'avg',
]);

/** One argument of a call: its significant token range. */
interface Arg {
  readonly from: number;
  readonly to: number;
}

/** The index of the `)` matching the `(` at `open`, or undefined. */
function matchingParen(c: Cursor, open: number, limit: number): number | undefined {
  let depth = 0;
  for (let k = open; k < limit; k++) {
    if (c.isOp(k, '(')) depth++;
    else if (c.isOp(k, ')')) {
      depth--;
      if (depth === 0) return k;
    }
  }
  return undefined;
}

/** Splits open+1..close at top-level commas. */
function splitArgs(c: Cursor, open: number, close: number): Arg[] {
  if (close === open + 1) return [];
  const args: Arg[] = [];
  let depth = 0;
  let start = open + 1;
  for (let k = open + 1; k < close; k++) {
    if (c.isOp(k, '(') || c.isOp(k, '[')) depth++;
    else if (c.isOp(k, ')') || c.isOp(k, ']')) depth--;
    else if (depth === 0 && c.isOp(k, ',')) {
      args.push({ from: start, to: k });
      start = k + 1;
    }
  }
  args.push({ from: start, to: close });
  return args;
}

/** The translated SQL of an argument. */
function argSql(c: Cursor, a: Arg): string {
  if (a.to - a.from === 1) {
    const t = c.tok(a.from) as Token;
    const special = t.kind === 'string' ? SPECIAL_DATETIME[t.value.trim().toLowerCase()] : undefined;
    if (special) return special;
  }
  const edits = new Map<number, Edit>();
  rewriteExpressions(c, a.from, a.to, edits);
  return render(c, a.from, a.to, edits, []).trim();
}

/** The string literal an argument is, if it is one. */
function argString(c: Cursor, a: Arg | undefined): string | undefined {
  if (!a || a.to - a.from !== 1) return undefined;
  const t = c.tok(a.from) as Token;
  return t.kind === 'string' ? t.value : undefined;
}

/** An argument as a timestamp: string literals are cast, so DuckDB need not guess their type. */
function argTimestamp(c: Cursor, a: Arg): string {
  const sql = argSql(c, a);
  return argString(c, a) !== undefined || sql === 'now()' ? `CAST(${sql} AS TIMESTAMP)` : sql;
}

/** The date part an argument names (bare or quoted), or a 0A000 naming what was written. */
function argDatePart(c: Cursor, a: Arg | undefined, fn: string): DatePart {
  const t = a && a.to - a.from === 1 ? (c.tok(a.from) as Token) : undefined;
  const part =
    t && (t.kind === 'word' || t.kind === 'string' || t.kind === 'qident') ? datePart(t.value) : undefined;
  if (part === undefined) {
    const written = a
      ? c.tokens
          .slice(c.sig[a.from], (c.sig[a.to - 1] ?? 0) + 1)
          .map((x) => x.text)
          .join('')
      : '';
    throw unsupported(
      `${fn.toUpperCase()} date part ${written || '(missing)'}`,
      a ? c.position(a.from) : undefined,
    );
  }
  return part;
}

function wrongArgs(fn: string, k: number, c: Cursor): SqlError {
  return new SqlError(`function ${fn} has the wrong number of arguments`, '42883', {
    position: c.position(k),
  });
}

/**
 * Rewrites the call whose name is at `k`; returns the last significant index it replaced,
 * or undefined to leave the call to DuckDB as written.
 */
function rewriteCall(c: Cursor, k: number, limit: number, edits: Map<number, Edit>): number | undefined {
  const fn = (c.tok(k) as Token).value;
  const close = matchingParen(c, k + 1, limit);
  if (close === undefined) return undefined;
  const args = splitArgs(c, k + 1, close);
  const a = (i: number): Arg => {
    const arg = args[i];
    if (!arg) throw wrongArgs(fn, k, c);
    return arg;
  };
  let through = close;
  let text: string;
  const singleNumber = (x: Arg): boolean => x.to - x.from === 1 && c.tok(x.from)?.kind === 'number';
  const singleToken = (x: Arg): boolean => {
    const kind = x.to - x.from === 1 ? c.tok(x.from)?.kind : undefined;
    return kind === 'word' || kind === 'string' || kind === 'qident';
  };
  switch (fn) {
    case 'extract': {
      // EXTRACT(part FROM x): only the part needs a DuckDB spelling.
      if (!c.isWord(k + 3, 'from')) return undefined;
      const part = argDatePart(c, { from: k + 2, to: k + 3 }, fn);
      edits.set(k + 2, { through: k + 2, text: part });
      return k + 2;
    }
    case 'datediff':
    case 'date_diff': {
      if (args.length !== 3) throw wrongArgs(fn, k, c);
      // A date part computed at run time (a parameter) is DuckDB's to read.
      if (fn === 'date_diff' && !singleToken(a(0))) return undefined;
      const part = argDatePart(c, a(0), 'DATEDIFF');
      const from = argTimestamp(c, a(1));
      const to = argTimestamp(c, a(2));
      // Redshift counts Monday boundaries crossed; DuckDB counts whole weeks elapsed, which
      // is the same count once both ends are moved back to their Mondays.
      text =
        part === 'week'
          ? `date_diff('week', date_trunc('week', ${from}), date_trunc('week', ${to}))`
          : `date_diff('${part}', ${from}, ${to})`;
      break;
    }
    case 'dateadd':
    case 'date_add': {
      if (fn === 'date_add' && args.length === 2) return undefined;
      if (args.length !== 3) throw wrongArgs(fn, k, c);
      const part = argDatePart(c, a(0), 'DATEADD');
      const make = INTERVAL_FUNCTION[part];
      if (!make) throw unsupported(`DATEADD date part ${part}`, c.position(a(0).from));
      // date_add() rather than `+`, so the result column is named date_add, as in Redshift.
      text = `date_add(${argTimestamp(c, a(2))}, ${make}(${argSql(c, a(1))}))`;
      break;
    }
    case 'add_months':
      if (args.length !== 2) throw wrongArgs(fn, k, c);
      text = `date_add(${argTimestamp(c, a(0))}, to_months(${argSql(c, a(1))}))`;
      break;
    case 'date_part':
    case 'datepart':
    case 'pgdate_part':
      if (args.length !== 2) throw wrongArgs(fn, k, c);
      if (fn === 'date_part' && !singleToken(a(0))) return undefined;
      text = `date_part('${argDatePart(c, a(0), 'DATE_PART')}', ${argTimestamp(c, a(1))})`;
      break;
    case 'date_trunc':
      if (args.length !== 2) throw wrongArgs(fn, k, c);
      if (!singleToken(a(0))) return undefined;
      text = `date_trunc('${argDatePart(c, a(0), 'DATE_TRUNC')}', ${argTimestamp(c, a(1))})`;
      break;
    case 'nvl':
    case 'isnull':
      if (args.length < 2) throw wrongArgs(fn, k, c);
      text = `coalesce(${args.map((x) => argSql(c, x)).join(', ')})`;
      break;
    case 'nvl2':
      if (args.length !== 3) throw wrongArgs(fn, k, c);
      text = `CASE WHEN (${argSql(c, a(0))}) IS NOT NULL THEN ${argSql(c, a(1))} ELSE ${argSql(c, a(2))} END`;
      break;
    case 'decode': {
      // DECODE(expr, search, result [, search, result]... [, default]); two arguments is DuckDB's blob decode.
      if (args.length < 3) return undefined;
      // A NULL search value matches a NULL expression, as DECODE does (a CASE never would).
      const isNull = (x: Arg): boolean => x.to - x.from === 1 && c.isWord(x.from, 'null');
      const searched = args.some((x, j) => j % 2 === 1 && j + 1 < args.length && isNull(x));
      const subject = argSql(c, a(0));
      const parts = [searched ? 'CASE' : `CASE ${subject}`];
      let i = 1;
      for (; i + 1 < args.length; i += 2) {
        const when = !searched
          ? argSql(c, a(i))
          : isNull(a(i))
            ? `(${subject}) IS NULL`
            : `(${subject}) = ${argSql(c, a(i))}`;
        parts.push(`WHEN ${when} THEN ${argSql(c, a(i + 1))}`);
      }
      if (i < args.length) parts.push(`ELSE ${argSql(c, a(i))}`);
      parts.push('END');
      text = parts.join(' ');
      break;
    }
    case 'listagg': {
      if (args.length < 1 || args.length > 2) throw wrongArgs(fn, k, c);
      let value = a(0);
      let distinct = '';
      if (c.isWord(value.from, 'distinct')) {
        distinct = 'DISTINCT ';
        value = { from: value.from + 1, to: value.to };
      }
      const delimiter = args[1] ? argSql(c, args[1]) : "''";
      const order = withinGroup(c, close, limit);
      if (order) through = order.through;
      const cast = `CAST(${argSql(c, value)} AS VARCHAR)`;
      // With DISTINCT, DuckDB (like Redshift) orders by the aggregated value itself.
      const orderBy = order
        ? distinct
          ? `${cast}${order.descending ? ' DESC' : ''}`
          : order.sql
        : undefined;
      text = `string_agg(${distinct}${cast}, ${delimiter}${orderBy ? ` ORDER BY ${orderBy}` : ''})`;
      break;
    }
    case 'percentile_cont':
    case 'percentile_disc': {
      if (args.length !== 1) throw wrongArgs(fn, k, c);
      const order = withinGroup(c, close, limit);
      if (!order) throw unsupported(`${fn.toUpperCase()} without WITHIN GROUP`, c.position(k));
      through = order.through;
      const p = argSql(c, a(0));
      const quantile = fn === 'percentile_cont' ? 'quantile_cont' : 'quantile_disc';
      // Works as an aggregate and as a window function, which DuckDB's WITHIN GROUP form does not.
      // Descending: the continuous percentile mirrors (1 - p); the discrete one is the
      // ascending pick over the negated values, as its rank rounds the other way.
      text = !order.descending
        ? `${quantile}(${order.single}, ${p})`
        : fn === 'percentile_cont'
          ? `${quantile}(${order.single}, 1 - (${p}))`
          : `(-${quantile}(-(${order.single}), ${p}))`;
      break;
    }
    case 'convert_timezone': {
      if (args.length !== 2 && args.length !== 3) throw wrongArgs(fn, k, c);
      const source = args.length === 3 ? argSql(c, a(0)) : "'UTC'";
      const target = argSql(c, a(args.length - 2));
      text = `timezone(${target}, timezone(${source}, ${argTimestampPlain(c, a(args.length - 1))}))`;
      break;
    }
    case 'to_char': {
      if (args.length !== 2) throw wrongArgs(fn, k, c);
      const template = argString(c, a(1));
      if (template === undefined)
        throw unsupported('TO_CHAR with a format that is not a literal', c.position(k));
      if (isNumericTemplate(template)) text = numericToChar(argSql(c, a(0)), template, c.position(a(1).from));
      else text = datetimeToChar(argTimestampPlain(c, a(0)), template, c.position(a(1).from));
      break;
    }
    case 'to_date':
    case 'to_timestamp': {
      if (fn === 'to_timestamp' && args.length === 1) return undefined;
      if (args.length !== 2) throw wrongArgs(fn, k, c);
      const template = argString(c, a(1));
      if (template === undefined)
        throw unsupported(`${fn.toUpperCase()} with a format that is not a literal`, c.position(k));
      const parsed = `strptime(CAST(${argSql(c, a(0))} AS VARCHAR), ${quoteString(templateFormat(template, c.position(a(1).from)))})`;
      text = `CAST(${parsed} AS ${fn === 'to_date' ? 'DATE' : 'TIMESTAMPTZ'})`;
      break;
    }
    case 'charindex':
      if (args.length !== 2) throw wrongArgs(fn, k, c);
      text = `strpos(${argSql(c, a(1))}, ${argSql(c, a(0))})`;
      break;
    case 'strtol': {
      if (args.length !== 2) throw wrongArgs(fn, k, c);
      text = strtolSql(argSql(c, a(0)), argSql(c, a(1)));
      break;
    }
    case 'timeofday':
      if (args.length !== 0) throw wrongArgs(fn, k, c);
      text = TIMEOFDAY_SQL;
      break;
    case 'trunc': {
      // TRUNC(timestamp) is the date; TRUNC(number) stays DuckDB's. Only a visibly
      // datetime argument is told apart here (GETDATE(), SYSDATE, a literal, a cast).
      if (args.length !== 1) return undefined;
      const value = argSql(c, a(0));
      const datetime =
        value.includes(SYSDATE_SQL) ||
        c.isWord(a(0).from, 'timestamp', 'timestamptz', 'date') ||
        (c.isOp(a(0).to - 2, '::') && c.isWord(a(0).to - 1, 'timestamp', 'timestamptz', 'date'));
      if (!datetime) return undefined;
      text = `CAST(${value} AS DATE)`;
      break;
    }
    case 'regexp_replace':
      // Redshift replaces every match; DuckDB only the first unless told 'g'.
      if (args.length === 2) text = `regexp_replace(${argSql(c, a(0))}, ${argSql(c, a(1))}, '', 'g')`;
      else if (
        args.length === 3 ||
        (args.length === 4 && c.tok(a(3).from)?.text === '1' && singleNumber(a(3)))
      )
        text = `regexp_replace(${argSql(c, a(0))}, ${argSql(c, a(1))}, ${argSql(c, a(2))}, 'g')`;
      // PostgreSQL's form, regexp_replace(s, pattern, replacement, 'flags'), as clients send it.
      else if (args.length === 4 && argString(c, a(3)) !== undefined) return undefined;
      else throw unsupported('REGEXP_REPLACE with a position or parameters', c.position(k));
      break;
    case 'regexp_substr':
      if (args.length !== 2)
        throw unsupported('REGEXP_SUBSTR with a position, occurrence or parameters', c.position(k));
      text = `regexp_extract(${argSql(c, a(0))}, ${argSql(c, a(1))})`;
      break;
    case 'regexp_count':
      if (args.length !== 2) throw unsupported('REGEXP_COUNT with a position or parameters', c.position(k));
      text = `len(regexp_extract_all(${argSql(c, a(0))}, ${argSql(c, a(1))}))`;
      break;
    case 'btrim':
      text = `trim(${args.map((x) => argSql(c, x)).join(', ')})`;
      break;
    case 'replicate':
      if (args.length !== 2) throw wrongArgs(fn, k, c);
      text = `repeat(${argSql(c, a(0))}, ${argSql(c, a(1))})`;
      break;
    case 'space':
      if (args.length !== 1) throw wrongArgs(fn, k, c);
      text = `repeat(' ', ${argSql(c, a(0))})`;
      break;
    case 'convert': {
      // CONVERT(type, expression); PostgreSQL's three-argument CONVERT is left alone.
      if (args.length !== 2) return undefined;
      const typeText = c.tokens
        .slice(c.sig[a(0).from], (c.sig[a(0).to - 1] as number) + 1)
        .map((x) => x.text)
        .join('');
      const bare = /^(numeric|decimal)$/i.test(typeText.trim());
      text = `CAST(${argSql(c, a(1))} AS ${bare ? REDSHIFT_NUMERIC : typeText})`;
      break;
    }
    case 'avg': {
      if (args.length !== 1 || c.isWord(close + 1, 'filter')) return undefined;
      let value = a(0);
      let distinct = '';
      if (c.isWord(value.from, 'distinct', 'all')) {
        if (c.isWord(value.from, 'distinct')) distinct = 'DISTINCT ';
        value = { from: value.from + 1, to: value.to };
      }
      let over = '';
      if (c.isWord(close + 1, 'over')) {
        const end = c.isOp(close + 2, '(') ? matchingParen(c, close + 2, limit) : close + 2;
        if (end === undefined || end >= limit) return undefined;
        over = ` ${argSql(c, { from: close + 1, to: end + 1 })}`;
        through = end;
      }
      text = avgSql(argSql(c, value), distinct, over);
      break;
    }
    default:
      return undefined;
  }
  edits.set(k, { through, text });
  return through;
}

/**
 * AVG with Redshift's result types: BIGINT (truncated) for integers, DECIMAL(38,s) for
 * DECIMAL(p,s), DOUBLE PRECISION for DOUBLE. DuckDB's avg is DOUBLE for all, and the
 * argument's type is not known here, so the type comes from DuckDB's own typing: `//`
 * divides integers exactly (truncating) and other types as DOUBLE, and
 * `(min(x) + count(x)) * count(x)` is BIGINT for integers, DECIMAL(38,s) for DECIMAL(p,s)
 * and DOUBLE for DOUBLE (REAL stays REAL). cast_to_type takes only the latter's type.
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_AVG.html
 */
function avgSql(value: string, distinct: string, over: string): string {
  const agg = (fn: string): string => `${fn}(${distinct}${value})${over}`;
  return `cast_to_type(${agg('sum')} // ${agg('count')}, (${agg('min')} + ${agg('count')}) * ${agg('count')})`;
}

/** TIMEOFDAY(): the wall-clock time as text, `Thu Sep 19 22:53:50.333525 2013 UTC`. */
const TIMEOFDAY_SQL = "strftime(timezone('UTC', now()), '%a %b %d %H:%M:%S.%f %Y UTC')";

/** A timestamp argument without converting a TIMESTAMPTZ through the session zone twice. */
function argTimestampPlain(c: Cursor, a: Arg): string {
  const sql = argSql(c, a);
  return argString(c, a) !== undefined ? `CAST(${sql} AS TIMESTAMP)` : sql === 'now()' ? SYSDATE_SQL : sql;
}

/** TO_CHAR(datetime, template): strftime, with day and month names padded and cased as Redshift does. */
function datetimeToChar(value: string, template: string, position: number): string {
  let segments: FormatSegment[];
  try {
    segments = formatSegments(template);
  } catch (error) {
    if (error instanceof FormatPatternError)
      throw unsupported(`datetime format pattern "${error.message}"`, position);
    throw error;
  }
  if (segments.length === 0) return "''";
  const parts = segments.map((seg) => {
    let sql = `strftime(${value}, ${quoteString(seg.fmt)})`;
    if (seg.pad !== undefined) sql = `rpad(${sql}, ${seg.pad}, ' ')`;
    if (seg.case) sql = `${seg.case}(${sql})`;
    return sql;
  });
  return parts.length === 1 ? (parts[0] as string) : `(${parts.join(' || ')})`;
}

function templateFormat(template: string, position: number): string {
  try {
    return strftimeFormat(template);
  } catch (error) {
    if (error instanceof FormatPatternError)
      throw unsupported(`datetime format pattern "${error.message}"`, position);
    throw error;
  }
}

/** TO_CHAR(number, '999D99'): digits with the template's decimals, commas when it groups. */
function numericToChar(value: string, template: string, position: number): string {
  const body = template.replace(/^FM/i, '');
  if (/[SLPRMI$]/i.test(body)) throw unsupported(`TO_CHAR numeric format "${template}"`, position);
  const dot = body.search(/[.D]/i);
  const decimals = dot < 0 ? 0 : body.length - dot - 1;
  const grouped = /[,G]/i.test(body);
  const fmt = `{:${grouped ? ',' : ''}.${decimals}f}`;
  const digits = body.replace(/[^90]/g, '').length;
  const printed = `format('${fmt}', CAST(${value} AS DOUBLE))`;
  // Without FM, PostgreSQL pads to the template's width, with a leading space for the sign.
  return /^FM/i.test(template) || digits === 0 ? printed : `lpad(${printed}, ${body.length + 1}, ' ')`;
}

/** STRTOL(text, base): the digits 0-9a-z of the text read in the base. */
function strtolSql(text: string, base: string): string {
  const s = `lower(trim(CAST(${text} AS VARCHAR)))`;
  const digits = `regexp_replace(${s}, '^[-+]?(0x)?', '')`;
  const value = `list_reduce(list_transform(string_split(${digits}, ''), lambda ch: CAST(instr('0123456789abcdefghijklmnopqrstuvwxyz', ch) - 1 AS BIGINT)), lambda acc, d: acc * (${base}) + d, CAST(0 AS BIGINT))`;
  return `(CASE WHEN starts_with(${s}, '-') THEN -1 ELSE 1 END * ${value})`;
}

/** WITHIN GROUP (ORDER BY ...) after the call's `)` at `close`. */
function withinGroup(
  c: Cursor,
  close: number,
  limit: number,
): { sql: string; single: string; descending: boolean; through: number } | undefined {
  if (!c.isWord(close + 1, 'within') || !c.isWord(close + 2, 'group') || !c.isOp(close + 3, '('))
    return undefined;
  const end = matchingParen(c, close + 3, limit);
  if (end === undefined || !c.isWord(close + 4, 'order') || !c.isWord(close + 5, 'by')) throw c.syntaxError();
  const range = { from: close + 6, to: end };
  let last = end - 1;
  let descending = false;
  if (c.isWord(last, 'desc')) {
    descending = true;
    last--;
  } else if (c.isWord(last, 'asc')) last--;
  return {
    sql: argSql(c, range),
    single: argSql(c, { from: range.from, to: last + 1 }),
    descending,
    through: end,
  };
}

/** Renders significant range from..to (exclusive) with edits, keeping whitespace and comments. */
function render(
  c: Cursor,
  from: number,
  to: number,
  edits: ReadonlyMap<number, Edit>,
  pieces: Piece[],
  outStart = 0,
): string {
  if (from >= to) return '';
  const startTok = c.sig[from] as number;
  const endTok = c.sig[to - 1] as number;
  let out = '';
  const sigIndexOf = new Map<number, number>();
  for (let k = from; k < to; k++) sigIndexOf.set(c.sig[k] as number, k);
  for (let i = startTok; i <= endTok; i++) {
    const token = c.tokens[i] as Token;
    const k = sigIndexOf.get(i);
    const edit = k !== undefined ? edits.get(k) : undefined;
    if (edit) {
      pieces.push({ out: outStart + out.length, src: token.start, verbatim: false });
      out += edit.text;
      i = c.sig[edit.through] as number;
      const after = c.tokens[i + 1];
      if (after) pieces.push({ out: outStart + out.length, src: after.start, verbatim: true });
      continue;
    }
    if (pieces.length === 0 || out.length === 0)
      pieces.push({ out: outStart + out.length, src: token.start, verbatim: true });
    out += token.text;
  }
  return out;
}

/** Maps an offset in translated SQL back to the statement text. */
export function sourceOffset(pieces: readonly Piece[], outOffset: number): number | undefined {
  let best: Piece | undefined;
  for (const p of pieces) {
    if (p.out <= outOffset) best = p;
    else break;
  }
  if (!best) return undefined;
  return best.verbatim ? best.src + (outOffset - best.out) : best.src;
}

/** The schema that holds Sluice's own metadata; statements may read it but not change it. */
const META_SCHEMA_NAME = '_sluice';

/** Refuses a statement that changes anything in the metadata schema. */
function refuseMetadataWrites(c: Cursor, from: number, to: number): void {
  for (let k = from; k < to; k++) {
    const t = c.tok(k) as Token;
    if ((t.kind === 'word' || t.kind === 'qident') && t.value.toLowerCase() === META_SCHEMA_NAME) {
      throw new SqlError(`permission denied for schema ${META_SCHEMA_NAME}`, '42501', {
        position: t.start + 1,
      });
    }
  }
}

function passthrough(
  c: Cursor,
  command: string,
  extra: { from?: number; prefix?: string; schemaChange?: boolean; to?: number } = {},
): QueryPlan {
  const edits = new Map<number, Edit>();
  const from = extra.from ?? 0;
  const to = extra.to ?? c.sig.length;
  if (command !== 'SELECT' && command !== 'EXPLAIN') refuseMetadataWrites(c, 0, to);
  rewriteExpressions(c, from, to, edits);
  const pieces: Piece[] = [];
  const prefix = extra.prefix ?? '';
  if (prefix) pieces.push({ out: 0, src: c.tok(from)?.start ?? 0, verbatim: false });
  const sql = prefix + render(c, from, to, edits, pieces, prefix.length);
  return { kind: 'query', command, sql, pieces, ...(extra.schemaChange ? { schemaChange: true } : {}) };
}

/** Translates an expression (a DEFAULT) on its own. */
function translateExpression(c: Cursor, from: number, to: number): string {
  if (to - from === 1) {
    const t = c.tok(from) as Token;
    const special = t.kind === 'string' ? SPECIAL_DATETIME[t.value.trim().toLowerCase()] : undefined;
    if (special) return special;
  }
  const edits = new Map<number, Edit>();
  rewriteExpressions(c, from, to, edits);
  return render(c, from, to, edits, []);
}

// ---------------------------------------------------------------------------------------
// Statements

/** DuckDB statements with no Redshift meaning; refused so users cannot reach DuckDB internals. */
const DUCKDB_ONLY = new Set([
  'pragma',
  'attach',
  'detach',
  'install',
  'load',
  'export',
  'import',
  'use',
  'checkpoint',
  'force',
  'summarize',
  'describe',
  'pivot',
  'unpivot',
  'from',
  'macro',
  'update_extensions',
]);
const UNSUPPORTED_LEADERS = new Set([
  'grant',
  'revoke',
  'call',
  'prepare',
  'execute',
  'deallocate',
  'declare',
  'fetch',
  'close',
  'lock',
  'cancel',
  'refresh',
  'savepoint',
  'release',
  'merge',
  'listen',
  'notify',
  'unlisten',
  'discard',
  'reindex',
  'cluster',
]);

/**
 * Translates one statement (no trailing `;`). Throws SqlError (positions 1-based in the
 * statement) for syntax errors and 0A000 for unsupported constructs.
 */
export function translate(statement: string): Plan {
  const userPlan = translateUserStatement(statement);
  if (userPlan) return userPlan;
  const c = new Cursor(tokenize(statement));
  const first = c.tok();
  if (!first) return { kind: 'noop', command: 'EMPTY' };
  if (first.kind === 'op' && first.value === '(') return passthrough(c, 'SELECT');
  if (first.kind !== 'word') throw c.syntaxError();
  switch (first.value) {
    case 'select': {
      const into = selectInto(c);
      return into ?? passthrough(c, 'SELECT');
    }
    case 'with':
    case 'values':
    case 'table':
      return passthrough(c, 'SELECT');
    case 'insert':
      return passthrough(c, 'INSERT');
    case 'update':
      return passthrough(c, 'UPDATE');
    case 'delete':
      // Redshift allows DELETE t WHERE ...; DuckDB wants FROM.
      if (!c.isWord(1, 'from')) return passthrough(c, 'DELETE', { from: 1, prefix: 'DELETE FROM ' });
      return passthrough(c, 'DELETE');
    case 'create':
      return translateCreate(c);
    case 'drop':
      return translateDrop(c);
    case 'alter':
      return translateAlter(c);
    case 'truncate': {
      c.pos = 1;
      c.acceptWord('table');
      refuseMetadataWrites(c, c.pos, c.sig.length);
      const table = c.readTableName();
      if (!c.done()) throw c.syntaxError();
      return {
        kind: 'query',
        command: 'TRUNCATE TABLE',
        sql: `TRUNCATE ${renderTableName(table)}`,
        pieces: [{ out: 0, src: 0, verbatim: false }],
      };
    }
    case 'copy':
      return { kind: 'copy', command: 'COPY', copy: parseCopy(c) };
    case 'unload':
      return { kind: 'unload', command: 'UNLOAD', unload: parseUnload(statement) };
    case 'set':
      return parseSet(c);
    case 'reset': {
      c.pos = 1;
      const name = c.readIdent();
      if (!c.done()) throw c.syntaxError();
      return { kind: 'set', command: 'RESET', name, values: [] };
    }
    case 'show': {
      c.pos = 1;
      const name = c.acceptWords('time', 'zone')
        ? 'timezone'
        : c.acceptWords('transaction', 'isolation', 'level')
          ? 'transaction_isolation'
          : c.readIdent();
      if (!c.done()) throw c.syntaxError();
      return { kind: 'show', command: 'SHOW', name };
    }
    case 'begin':
    case 'start':
      c.pos = 1;
      if (first.value === 'start') c.expectWords('transaction');
      else c.acceptWord('transaction', 'work');
      // Isolation levels are accepted: DuckDB transactions are snapshot isolated, Redshift's serializable.
      return skipTransactionModes(c)
        ? { kind: 'transaction', command: 'BEGIN', readOnly: true }
        : { kind: 'transaction', command: 'BEGIN' };
    case 'commit':
    case 'end':
      c.pos = 1;
      c.acceptWord('transaction', 'work');
      if (!c.done()) throw c.syntaxError();
      return { kind: 'transaction', command: 'COMMIT' };
    case 'rollback':
    case 'abort':
      c.pos = 1;
      c.acceptWord('transaction', 'work');
      if (c.isWord(c.pos, 'to')) throw unsupported('ROLLBACK TO SAVEPOINT', c.position());
      if (!c.done()) throw c.syntaxError();
      return { kind: 'transaction', command: 'ROLLBACK' };
    case 'analyze':
    case 'vacuum':
      // DuckDB keeps its own statistics and compacts on checkpoint; these are maintenance no-ops.
      return { kind: 'noop', command: first.value.toUpperCase() };
    case 'explain':
      return passthrough(c, 'EXPLAIN');
    case 'comment':
      return passthrough(c, 'COMMENT');
    default:
      if (DUCKDB_ONLY.has(first.value) || UNSUPPORTED_LEADERS.has(first.value))
        throw unsupported(first.value.toUpperCase(), first.start + 1);
      throw c.syntaxError();
  }
}

/**
 * SELECT ... INTO [TEMP] [TABLE] t FROM ...: Redshift's other way to create a table from a
 * query, run as CREATE TABLE t AS SELECT ... FROM ....
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_SELECT_INTO.html
 */
function selectInto(c: Cursor): Plan | undefined {
  let depth = 0;
  let at = -1;
  for (let k = 1; k < c.sig.length; k++) {
    if (c.isOp(k, '(')) depth++;
    else if (c.isOp(k, ')')) depth--;
    else if (depth === 0 && c.isWord(k, 'from', 'union', 'intersect', 'except', 'where')) return undefined;
    else if (depth === 0 && c.isWord(k, 'into')) {
      at = k;
      break;
    }
  }
  if (at < 0) return undefined;
  c.pos = at + 1;
  const temporary = c.acceptWord('temp', 'temporary') !== undefined;
  if (!temporary) c.acceptWord('unlogged');
  c.acceptWord('table');
  const table = c.readTableName();
  const after = c.pos;
  refuseMetadataWrites(c, at, after);
  const head = `CREATE ${temporary ? 'TEMP ' : ''}TABLE ${renderTableName(table)} AS `;
  const edits = new Map<number, Edit>();
  rewriteExpressions(c, 0, c.sig.length, edits);
  // The INTO clause drops out of the query.
  edits.set(at, { through: after - 1, text: '' });
  const pieces: Piece[] = [{ out: 0, src: 0, verbatim: false }];
  const sql = head + render(c, 0, c.sig.length, edits, pieces, head.length);
  return { kind: 'query', command: 'CREATE TABLE', sql, pieces };
}

/** Reads BEGIN's transaction modes; true for READ ONLY. */
function skipTransactionModes(c: Cursor): boolean {
  let readOnly = false;
  while (!c.done()) {
    if (c.acceptWords('isolation', 'level')) {
      if (
        !c.acceptWords('serializable') &&
        !c.acceptWords('repeatable', 'read') &&
        !c.acceptWords('read', 'committed') &&
        !c.acceptWords('read', 'uncommitted')
      )
        throw c.syntaxError();
    } else if (c.acceptWords('read', 'write')) {
      // Default.
      readOnly = false;
    } else if (c.acceptWords('read', 'only')) {
      // pgjdbc's setReadOnly(true) begins every transaction so (DBeaver's and DataGrip's read-only mode).
      readOnly = true;
    } else if (!c.acceptOp(',')) throw c.syntaxError();
  }
  return readOnly;
}

/** Renders a table name for DuckDB (quoted; unqualified names resolve through search_path). */
export function renderTableName(t: TableName): string {
  return t.schema ? `${quoteIdent(t.schema)}.${quoteIdent(t.name)}` : quoteIdent(t.name);
}

function translateCreate(c: Cursor): Plan {
  c.pos = 1;
  const orReplace = c.acceptWords('or', 'replace');
  const local = c.acceptWord('local') !== undefined;
  const temp = c.acceptWord('temp', 'temporary') !== undefined;
  if (local && !temp) throw c.syntaxError();
  const kind = c.tok();
  if (!kind || kind.kind !== 'word') throw c.syntaxError();
  if (kind.value === 'table' && !orReplace) return translateCreateTable(c, temp);
  if (kind.value === 'view' && !temp) {
    // Redshift's late-binding views: DuckDB views bind late anyway.
    let to = c.sig.length;
    if (
      c.isWord(to - 4, 'with') &&
      c.isWord(to - 3, 'no') &&
      c.isWord(to - 2, 'schema') &&
      c.isWord(to - 1, 'binding')
    )
      to -= 4;
    return passthrough(c, 'CREATE VIEW', { to });
  }
  if (kind.value === 'schema' && !temp && !orReplace) {
    c.pos++;
    const ifNotExists = c.acceptWords('if', 'not', 'exists');
    const name = c.readIdent();
    // AUTHORIZATION and QUOTA have no DuckDB counterpart; ownership arrives with GRANTs.
    if (c.acceptWord('authorization')) c.readIdent();
    if (c.acceptWord('quota')) {
      if (!c.acceptWord('unlimited')) {
        c.readInteger();
        c.acceptWord('mb', 'gb', 'tb');
      }
    }
    if (!c.done()) throw c.syntaxError();
    return {
      kind: 'query',
      command: 'CREATE SCHEMA',
      sql: `CREATE SCHEMA ${ifNotExists ? 'IF NOT EXISTS ' : ''}${quoteIdent(name)}`,
      pieces: [{ out: 0, src: 0, verbatim: false }],
      schemaChange: true,
    };
  }
  if (kind.value === 'materialized') throw unsupported('CREATE MATERIALIZED VIEW', c.position());
  if (kind.value === 'external') {
    const what = c.tok(c.pos + 1);
    throw unsupported(
      `CREATE EXTERNAL ${what?.kind === 'word' ? what.value.toUpperCase() : ''}`.trim(),
      c.position(),
    );
  }
  throw unsupported(`CREATE ${orReplace ? 'OR REPLACE ' : ''}${kind.value.toUpperCase()}`, c.position());
}

const COLUMN_ATTRIBUTE_WORDS = new Set([
  'identity',
  'generated',
  'encode',
  'distkey',
  'sortkey',
  'collate',
  'not',
  'null',
  'unique',
  'primary',
  'references',
  'constraint',
  'default',
]);

/** The compression encodings ENCODE accepts. @see https://docs.aws.amazon.com/redshift/latest/dg/c_Compression_encodings.html */
const ENCODINGS: ReadonlySet<string> = new Set([
  'raw',
  'az64',
  'bytedict',
  'delta',
  'delta32k',
  'lzo',
  'mostly8',
  'mostly16',
  'mostly32',
  'runlength',
  'text255',
  'text32k',
  'zstd',
]);

/** ENCODE codec; undefined for AUTO (Redshift chooses, as when no ENCODE is written). */
function readEncoding(c: Cursor): string | undefined {
  const at = c.pos;
  const codec = c.readIdent();
  if (codec === 'auto') return undefined;
  if (!ENCODINGS.has(codec))
    throw new SqlError(`invalid encoding type "${codec}"`, SQLSTATE.undefinedObject, {
      position: c.position(at),
    });
  return codec;
}

/** Reads `(a, b, ...)`. */
function readColumnList(c: Cursor): string[] {
  c.expectOp('(');
  const names = [c.readIdent()];
  while (c.acceptOp(',')) names.push(c.readIdent());
  c.expectOp(')');
  return names;
}

/** Column-level DISTKEY, SORTKEY and constraints, gathered while the columns are read. */
interface ColumnKeys {
  distkeys: string[];
  sortkeys: string[];
  constraints: KeyConstraint[];
}

function translateCreateTable(c: Cursor, temporary: boolean): Plan {
  c.pos++; // TABLE
  const ifNotExists = c.acceptWords('if', 'not', 'exists');
  const nameAt = c.pos;
  const table = c.readTableName();
  if (temporary && table.schema)
    throw new SqlError('cannot create temporary relation in non-temporary schema', '42P16', {
      position: c.position(nameAt),
    });
  if (!c.isOp(c.pos, '(')) {
    // CREATE TABLE t [attributes] AS query
    const design = parseTableAttributes(c);
    if (!c.acceptWord('as')) throw c.syntaxError();
    refuseMetadataWrites(c, 0, c.pos);
    const head = `CREATE ${temporary ? 'TEMP ' : ''}TABLE ${ifNotExists ? 'IF NOT EXISTS ' : ''}${renderTableName(table)} AS `;
    return { ...passthrough(c, 'CREATE TABLE', { from: c.pos, prefix: head }), created: { table, design } };
  }
  c.expectOp('(');
  if (c.acceptWord('like')) {
    // CREATE TABLE t (LIKE parent [INCLUDING | EXCLUDING DEFAULTS]): the session reads the parent's columns.
    const parent = c.readTableName();
    let includingDefaults = false;
    if (c.acceptWords('including', 'defaults')) includingDefaults = true;
    else c.acceptWords('excluding', 'defaults');
    c.expectOp(')');
    const design = parseTableAttributes(c);
    if (!c.done()) throw c.syntaxError();
    return {
      kind: 'create-table',
      command: 'CREATE TABLE',
      table,
      temporary,
      ifNotExists,
      columns: [],
      like: { table: parent, includingDefaults },
      design,
      constraints: [],
    };
  }
  const first = c.tok();
  if (
    first &&
    (first.kind === 'word' || first.kind === 'qident') &&
    (c.isOp(c.pos + 1, ',') || c.isOp(c.pos + 1, ')'))
  ) {
    // CREATE TABLE t (a, b) [attributes] AS query: the names rename the query's columns.
    const names = [c.readIdent()];
    while (c.acceptOp(',')) names.push(c.readIdent());
    c.expectOp(')');
    const design = parseTableAttributes(c);
    if (!c.acceptWord('as')) throw c.syntaxError();
    refuseMetadataWrites(c, 0, c.pos);
    const head = `CREATE ${temporary ? 'TEMP ' : ''}TABLE ${ifNotExists ? 'IF NOT EXISTS ' : ''}${renderTableName(table)} AS SELECT * FROM (`;
    const plan = passthrough(c, 'CREATE TABLE', { from: c.pos, prefix: head });
    return {
      ...plan,
      sql: `${plan.sql}) AS ctas(${names.map(quoteIdent).join(', ')})`,
      created: { table, design },
    };
  }
  const columns: ColumnDecl[] = [];
  const keys: ColumnKeys = { distkeys: [], sortkeys: [], constraints: [] };
  for (;;) {
    const name = c.acceptWord('constraint') ? c.readIdent() : undefined;
    if (c.atWords('primary', 'key') || c.atWords('unique') || c.atWords('foreign', 'key')) {
      // Redshift does not enforce PRIMARY KEY, UNIQUE or FOREIGN KEY; DuckDB would, and
      // reject data Redshift accepts (duplicate ids), so they are only recorded.
      keys.constraints.push(parseTableConstraint(c, name));
    } else if (c.atWords('check')) {
      throw unsupported('CHECK constraint', c.position());
    } else if (c.atWords('like')) {
      throw unsupported('CREATE TABLE ... LIKE', c.position());
    } else if (name !== undefined) {
      throw c.syntaxError();
    } else {
      columns.push(parseColumn(c, keys));
    }
    if (c.acceptOp(',')) continue;
    c.expectOp(')');
    break;
  }
  const attributes = parseTableAttributes(c);
  if (c.atWords('as')) throw unsupported('CREATE TABLE with a column list AS query', c.position());
  if (!c.done()) throw c.syntaxError();
  const seen = new Set<string>();
  for (const col of columns) {
    if (seen.has(col.name))
      throw new SqlError(`column "${col.name}" specified more than once`, SQLSTATE.duplicateColumn);
    seen.add(col.name);
  }
  const design = mergeDesign(keys, attributes);
  const named = (what: string, col: string): void => {
    if (!seen.has(col))
      throw new SqlError(`column "${col}" named in ${what} does not exist`, SQLSTATE.undefinedColumn);
  };
  if (design.distkey !== undefined) named('DISTKEY', design.distkey);
  for (const col of design.sortkey?.columns ?? []) named('SORTKEY', col);
  for (const k of keys.constraints) for (const col of k.columns) named('key', col);
  return {
    kind: 'create-table',
    command: 'CREATE TABLE',
    table,
    temporary,
    ifNotExists,
    columns,
    design,
    constraints: keys.constraints,
  };
}

/** Column DISTKEY / SORTKEY and the table attributes, as one design (Redshift allows one DISTKEY). */
function mergeDesign(keys: ColumnKeys, attributes: TableDesign): TableDesign {
  const distkeys = [...keys.distkeys, ...(attributes.distkey !== undefined ? [attributes.distkey] : [])];
  if (new Set(distkeys).size > 1)
    throw new SqlError('a table can have only one DISTKEY column', SQLSTATE.syntaxError);
  // A DISTKEY means DISTSTYLE KEY, unless the statement names another style (EVEN, ALL), which wins.
  const style = attributes.diststyle;
  const distkey = style === undefined || style === 'key' || style === 'auto' ? distkeys[0] : undefined;
  if (style === 'key' && distkey === undefined)
    throw new SqlError('DISTSTYLE KEY needs a DISTKEY column', SQLSTATE.syntaxError);
  let sortkey = attributes.sortkey;
  if (keys.sortkeys.length > 0) {
    if (sortkey && sortkey.kind !== 'auto')
      throw new SqlError(
        'a table can have a column SORTKEY or a table SORTKEY, not both',
        SQLSTATE.syntaxError,
      );
    // A column SORTKEY is explicit and wins over SORTKEY AUTO.
    sortkey = { kind: 'compound', columns: keys.sortkeys };
  }
  return {
    ...(distkey !== undefined ? { diststyle: 'key' as const, distkey } : style ? { diststyle: style } : {}),
    ...(sortkey ? { sortkey } : {}),
  };
}

/** [CONSTRAINT name] PRIMARY KEY (cols) | UNIQUE (cols) | FOREIGN KEY (cols) REFERENCES t [(cols)]. */
function parseTableConstraint(c: Cursor, name: string | undefined): KeyConstraint {
  const named = name !== undefined ? { name } : {};
  if (c.acceptWords('primary', 'key')) return { kind: 'p', ...named, columns: readColumnList(c) };
  if (c.acceptWord('unique')) return { kind: 'u', ...named, columns: readColumnList(c) };
  c.expectWords('foreign', 'key');
  const columns = readColumnList(c);
  c.expectWords('references');
  const table = c.readTableName();
  const refColumns = c.isOp(c.pos, '(') ? readColumnList(c) : [];
  return { kind: 'f', ...named, columns, references: { table, columns: refColumns } };
}

function parseColumn(c: Cursor, keys: ColumnKeys): ColumnDecl {
  const name = c.readIdent();
  const typeAt = c.pos;
  const type = parseType(c);
  let notNull = false;
  let defaultSql: string | undefined;
  let identity: { seed: number; step: number } | undefined;
  let caseInsensitive = false;
  let encoding: string | undefined;
  let constraintName: string | undefined;
  const named = (): { name?: string } => {
    const n = constraintName;
    constraintName = undefined;
    return n !== undefined ? { name: n } : {};
  };
  while (!c.done() && !c.isOp(c.pos, ',') && !c.isOp(c.pos, ')')) {
    if (c.acceptWord('default')) {
      const from = c.pos;
      let depth = 0;
      while (!c.done()) {
        const t = c.tok() as Token;
        if (t.kind === 'op' && t.value === '(') depth++;
        else if (t.kind === 'op' && t.value === ')') {
          if (depth === 0) break;
          depth--;
        } else if (depth === 0 && t.kind === 'op' && t.value === ',') break;
        else if (depth === 0 && c.pos > from && t.kind === 'word' && COLUMN_ATTRIBUTE_WORDS.has(t.value))
          break;
        c.pos++;
      }
      if (c.pos === from) throw c.syntaxError();
      defaultSql = translateExpression(c, from, c.pos);
    } else if (c.acceptWord('identity')) {
      identity = parseIdentityArgs(c);
    } else if (c.acceptWords('generated', 'by', 'default', 'as', 'identity')) {
      identity = parseIdentityArgs(c);
    } else if (c.atWords('generated', 'always')) {
      throw unsupported('GENERATED ALWAYS', c.position());
    } else if (c.acceptWord('encode')) {
      encoding = readEncoding(c);
    } else if (c.acceptWord('distkey')) {
      keys.distkeys.push(name);
    } else if (c.acceptWord('sortkey')) {
      keys.sortkeys.push(name);
    } else if (c.acceptWord('collate')) {
      const how = c.readIdent();
      if (how === 'case_insensitive') caseInsensitive = true;
      else if (how !== 'case_sensitive') throw c.syntaxError();
    } else if (c.acceptWords('not', 'null')) {
      notNull = true;
    } else if (c.acceptWord('null')) {
      notNull = false;
    } else if (c.acceptWord('unique')) {
      keys.constraints.push({ kind: 'u', ...named(), columns: [name] });
    } else if (c.acceptWords('primary', 'key')) {
      keys.constraints.push({ kind: 'p', ...named(), columns: [name] });
    } else if (c.acceptWord('references')) {
      const table = c.readTableName();
      const refColumns = c.isOp(c.pos, '(') ? readColumnList(c) : [];
      keys.constraints.push({
        kind: 'f',
        ...named(),
        columns: [name],
        references: { table, columns: refColumns },
      });
    } else if (c.acceptWord('constraint')) {
      constraintName = c.readIdent();
    } else if (c.atWords('check')) {
      throw unsupported('CHECK constraint', c.position());
    } else {
      throw c.syntaxError();
    }
  }
  if (identity) {
    if (type.base !== 'integer' && type.base !== 'bigint')
      throw new SqlError(`IDENTITY column "${name}" must be INT or BIGINT`, '42804', {
        position: c.position(typeAt),
      });
    if (defaultSql !== undefined)
      throw new SqlError(`both default and identity specified for column "${name}"`, SQLSTATE.syntaxError);
    if (identity.step === 0)
      throw new SqlError('IDENTITY step cannot be zero', SQLSTATE.invalidParameterValue);
  }
  return {
    name,
    type,
    notNull,
    ...(defaultSql !== undefined ? { defaultSql } : {}),
    ...(identity ? { identity } : {}),
    ...(caseInsensitive ? { caseInsensitive } : {}),
    ...(encoding !== undefined ? { encoding } : {}),
  };
}

function parseIdentityArgs(c: Cursor): { seed: number; step: number } {
  c.expectOp('(');
  const seed = c.readInteger();
  c.expectOp(',');
  const step = c.readInteger();
  c.expectOp(')');
  return { seed, step };
}

function parseType(c: Cursor): SqlType {
  const at = c.pos;
  const t = c.tok();
  if (!t || t.kind !== 'word') throw c.syntaxError();
  let words: string[] = [t.value];
  for (const multi of MULTI_WORD_TYPES) {
    if (multi.every((w, j) => c.isWord(at + j, w))) {
      words = [...multi];
      break;
    }
  }
  c.pos = at + words.length;
  const args: string[] = [];
  if (c.acceptOp('(')) {
    for (;;) {
      const a = c.tok();
      if (!a || (a.kind !== 'number' && !(a.kind === 'word' && a.value === 'max'))) throw c.syntaxError();
      args.push(a.value);
      c.pos++;
      if (c.acceptOp(',')) continue;
      c.expectOp(')');
      break;
    }
  }
  try {
    return parseRedshiftType(words, args);
  } catch (error) {
    if (error instanceof TypeNameError) {
      if (error.unsupported) throw unsupported(`column ${error.message}`, c.position(at));
      throw new SqlError(
        error.message,
        error.message.includes('does not exist') ? SQLSTATE.undefinedObject : SQLSTATE.invalidParameterValue,
        {
          position: c.position(at),
        },
      );
    }
    throw error;
  }
}

/**
 * Reads Redshift table attributes: BACKUP, DISTSTYLE, DISTKEY(), [COMPOUND|INTERLEAVED]
 * SORTKEY(), SORTKEY AUTO, ENCODE AUTO. BACKUP and ENCODE AUTO (the default) are dropped.
 */
function parseTableAttributes(c: Cursor): TableDesign {
  let diststyle: TableDesign['diststyle'];
  let distkey: string | undefined;
  let sortkey: SortKey | undefined;
  for (;;) {
    if (c.acceptWord('backup')) {
      if (!c.acceptWord('yes', 'no')) throw c.syntaxError();
    } else if (c.acceptWord('diststyle')) {
      const style = c.acceptWord('auto', 'even', 'key', 'all');
      if (!style) throw c.syntaxError();
      diststyle = style as TableDesign['diststyle'];
    } else if (c.acceptWord('distkey')) {
      c.expectOp('(');
      distkey = c.readIdent();
      c.expectOp(')');
    } else if (c.atWords('compound', 'sortkey') || c.atWords('interleaved', 'sortkey')) {
      const kind = c.acceptWord('compound', 'interleaved') as 'compound' | 'interleaved';
      c.pos++; // SORTKEY
      sortkey = { kind, columns: readColumnList(c) };
    } else if (c.acceptWord('sortkey')) {
      sortkey = c.acceptWord('auto')
        ? { kind: 'auto', columns: [] }
        : { kind: 'compound', columns: readColumnList(c) };
    } else if (c.acceptWords('encode', 'auto')) {
      // The default.
    } else
      return {
        ...(diststyle ? { diststyle } : {}),
        ...(distkey !== undefined ? { distkey } : {}),
        ...(sortkey ? { sortkey } : {}),
      };
  }
}

/**
 * ALTER TABLE ... ADD COLUMN for DuckDB (no IDENTITY), on a resolved table name. DuckDB adds
 * no column with a constraint, so NOT NULL follows as SET NOT NULL (after the default filled
 * the existing rows).
 */
export function renderAddColumn(target: string, col: ColumnDecl): string[] {
  let def = `${quoteIdent(col.name)} ${col.type.duck}`;
  if (col.caseInsensitive) def += ' COLLATE NOCASE';
  if (col.defaultSql !== undefined) def += ` DEFAULT ${col.defaultSql}`;
  const statements = [`ALTER TABLE ${target} ADD COLUMN ${def}`];
  if (col.notNull) statements.push(`ALTER TABLE ${target} ALTER COLUMN ${quoteIdent(col.name)} SET NOT NULL`);
  return statements;
}

/** Renders CREATE SEQUENCE + CREATE TABLE for DuckDB; the schema must be resolved. */
export function renderCreateTable(
  plan: CreateTablePlan,
  schema: string | undefined,
): { sequences: Map<string, string>; statements: string[] } {
  const statements: string[] = [];
  const sequences = new Map<string, string>();
  const qualify = (name: string): string =>
    schema ? `${quoteIdent(schema)}.${quoteIdent(name)}` : quoteIdent(name);
  const cols: string[] = [];
  for (const col of plan.columns) {
    let def = `${quoteIdent(col.name)} ${col.type.duck}`;
    if (col.caseInsensitive) def += ' COLLATE NOCASE';
    if (col.identity) {
      const seqName = `${plan.table.name}_${col.name}_seq`;
      const { seed, step } = col.identity;
      const bounds =
        step > 0
          ? `MINVALUE ${Math.min(seed, 1)} MAXVALUE 9223372036854775807`
          : `MINVALUE -9223372036854775808 MAXVALUE ${Math.max(seed, -1)}`;
      statements.push(
        `CREATE OR REPLACE ${plan.temporary ? 'TEMP ' : ''}SEQUENCE ${qualify(seqName)} INCREMENT BY ${step} ${bounds} START WITH ${seed}`,
      );
      sequences.set(col.name, schema ? `${schema}.${seqName}` : seqName);
      const ref = schema ? `${quoteIdent(schema)}.${quoteIdent(seqName)}` : quoteIdent(seqName);
      def += ` DEFAULT nextval('${ref.replace(/'/g, "''")}')`;
    } else if (col.defaultSql !== undefined) {
      def += ` DEFAULT ${col.defaultSql}`;
    }
    if (col.notNull) def += ' NOT NULL';
    cols.push(def);
  }
  statements.push(
    `CREATE ${plan.temporary ? 'TEMP ' : ''}TABLE ${plan.ifNotExists ? 'IF NOT EXISTS ' : ''}${qualify(plan.table.name)} (${cols.join(', ')})`,
  );
  return { sequences, statements };
}

function translateDrop(c: Cursor): Plan {
  c.pos = 1;
  const what = c.acceptWord('table', 'schema', 'view');
  if (!what) {
    const t = c.tok();
    throw unsupported(`DROP ${t?.kind === 'word' ? t.value.toUpperCase() : ''}`.trim(), c.position());
  }
  const ifExists = c.acceptWords('if', 'exists');
  if (what === 'schema') {
    const schemas = [c.readIdent()];
    while (c.acceptOp(',')) schemas.push(c.readIdent());
    const cascade = c.acceptWord('cascade') !== undefined;
    if (!cascade) c.acceptWord('restrict');
    if (!c.done()) throw c.syntaxError();
    return { kind: 'drop-schema', command: 'DROP SCHEMA', schemas, ifExists, cascade };
  }
  const tables = [c.readTableName()];
  while (c.acceptOp(',')) tables.push(c.readTableName());
  // DuckDB does not track what depends on a table; CASCADE and RESTRICT change nothing.
  c.acceptWord('cascade', 'restrict');
  if (!c.done()) throw c.syntaxError();
  if (what === 'table') return { kind: 'drop-table', command: 'DROP TABLE', tables, ifExists };
  if (tables.length > 1) throw unsupported('DROP VIEW of several views in one statement', c.position(0));
  return {
    kind: 'query',
    command: 'DROP VIEW',
    sql: `DROP VIEW ${ifExists ? 'IF EXISTS ' : ''}${renderTableName(tables[0] as TableName)}`,
    pieces: [{ out: 0, src: 0, verbatim: false }],
  };
}

function translateAlter(c: Cursor): Plan {
  c.pos = 1;
  if (!c.acceptWord('table')) {
    const t = c.tok();
    throw unsupported(`ALTER ${t?.kind === 'word' ? t.value.toUpperCase() : ''}`.trim(), c.position());
  }
  const table = c.readTableName();
  const alter = (change: TableChange): AlterTablePlan => {
    if (!c.done()) throw c.syntaxError();
    return { kind: 'alter-table', command: 'ALTER TABLE', table, change };
  };
  const t = c.tok();
  if (c.atWords('append')) throw unsupported('ALTER TABLE APPEND', c.position());
  if (c.atWords('owner')) throw unsupported('ALTER TABLE OWNER TO', c.position());
  // Distribution, sort key and encodings: recorded (see TableDesign).
  // @see https://docs.aws.amazon.com/redshift/latest/dg/r_ALTER_TABLE.html
  if (c.acceptWords('alter', 'diststyle')) {
    const style = c.acceptWord('auto', 'even', 'key', 'all') as TableDesign['diststyle'];
    if (!style) throw c.syntaxError();
    if (style !== 'key') return alter({ what: 'diststyle', diststyle: style });
    c.expectWords('distkey');
    return alter({ what: 'diststyle', diststyle: 'key', distkey: c.readIdent() });
  }
  if (c.acceptWords('alter', 'distkey'))
    return alter({ what: 'diststyle', diststyle: 'key', distkey: c.readIdent() });
  if (c.atWords('alter', 'compound', 'sortkey') || c.atWords('alter', 'sortkey')) {
    c.pos++;
    c.acceptWord('compound');
    c.expectWords('sortkey');
    if (c.acceptWord('auto')) return alter({ what: 'sortkey', sortkey: { kind: 'auto', columns: [] } });
    if (c.acceptWord('none')) return alter({ what: 'sortkey', sortkey: { kind: 'none', columns: [] } });
    return alter({ what: 'sortkey', sortkey: { kind: 'compound', columns: readColumnList(c) } });
  }
  if (c.atWords('alter', 'interleaved', 'sortkey'))
    throw unsupported('ALTER TABLE ALTER INTERLEAVED SORTKEY', c.position());
  if (c.acceptWords('alter', 'encode', 'auto')) return alter({ what: 'encode-auto' });
  if (c.atWords('alter', 'column') && c.isWord(c.pos + 3, 'encode')) {
    c.pos += 2;
    const column = c.readIdent();
    c.pos++; // ENCODE
    const encoding = readEncoding(c);
    if (encoding === undefined)
      throw unsupported('ALTER COLUMN ... ENCODE AUTO (use ALTER ENCODE AUTO)', c.position(c.pos - 1));
    return alter({ what: 'encode', column, encoding });
  }
  if (c.acceptWords('rename', 'to')) return alter({ what: 'rename-table', to: c.readIdent() });
  if (c.acceptWords('rename', 'column')) {
    const from = c.readIdent();
    c.expectWords('to');
    return alter({ what: 'rename-column', from, to: c.readIdent() });
  }
  if (
    c.atWords('add', 'constraint') ||
    c.atWords('add', 'primary', 'key') ||
    c.atWords('add', 'unique') ||
    c.atWords('add', 'foreign', 'key')
  ) {
    c.pos++;
    const name = c.acceptWord('constraint') ? c.readIdent() : undefined;
    if (c.atWords('check')) throw unsupported('CHECK constraint', c.position());
    return alter({ what: 'add-constraint', constraint: parseTableConstraint(c, name) });
  }
  if (c.atWords('drop', 'column') || (c.atWords('drop') && !c.isWord(c.pos + 1, 'constraint'))) {
    c.pos++;
    c.acceptWord('column');
    const column = c.readIdent();
    // DuckDB keeps no dependencies: CASCADE and RESTRICT change nothing; the column's keys go with it.
    c.acceptWord('cascade', 'restrict');
    return alter({ what: 'drop-column', column });
  }
  if (c.atWords('add') && !c.isWord(c.pos + 1, 'constraint', 'primary', 'unique', 'foreign')) {
    // ADD [COLUMN] name type [DEFAULT, ENCODE, NOT NULL, COLLATE, informational keys].
    c.pos++;
    c.acceptWord('column');
    const keys: ColumnKeys = { distkeys: [], sortkeys: [], constraints: [] };
    const at = c.pos;
    const column = parseColumn(c, keys);
    if (column.identity) throw unsupported('ALTER TABLE ADD COLUMN with IDENTITY', c.position(at));
    if (keys.distkeys.length > 0 || keys.sortkeys.length > 0)
      throw unsupported('ALTER TABLE ADD COLUMN with DISTKEY or SORTKEY', c.position(at));
    return alter({ what: 'add-column', column, constraints: keys.constraints });
  }
  if (c.acceptWords('drop', 'constraint')) {
    const name = c.readIdent();
    c.acceptWord('cascade', 'restrict');
    return alter({ what: 'drop-constraint', name });
  }
  if (
    t &&
    t.kind === 'word' &&
    (t.value === 'add' || t.value === 'drop' || t.value === 'rename' || t.value === 'alter')
  ) {
    return passthrough(c, 'ALTER TABLE');
  }
  throw c.syntaxError();
}

// ---------------------------------------------------------------------------------------
// SET / SHOW

function parseSet(c: Cursor): SetPlan | NoopPlan {
  c.pos = 1;
  if (c.acceptWords('session', 'characteristics', 'as', 'transaction')) {
    // pgjdbc's setReadOnly and setTransactionIsolation; every transaction is serializable anyway.
    while (!c.done()) {
      if (c.acceptWords('isolation', 'level')) {
        if (
          !c.acceptWords('serializable') &&
          !c.acceptWords('repeatable', 'read') &&
          !c.acceptWords('read', 'committed') &&
          !c.acceptWords('read', 'uncommitted')
        )
          throw c.syntaxError();
      } else if (!c.acceptWords('read', 'write') && !c.acceptWords('read', 'only') && !c.acceptOp(','))
        throw c.syntaxError();
    }
    return { kind: 'noop', command: 'SET' };
  }
  c.acceptWord('session');
  if (c.isWord(c.pos, 'local')) throw unsupported('SET LOCAL', c.position());
  let name: string;
  if (c.acceptWords('time', 'zone')) name = 'timezone';
  else {
    name = c.readIdent();
    if (!c.acceptWord('to') && !c.acceptOp('=')) throw c.syntaxError();
  }
  const values: string[] = [];
  if (c.acceptWord('default')) {
    if (!c.done()) throw c.syntaxError();
    return { kind: 'set', command: 'SET', name, values };
  }
  for (;;) {
    const t = c.tok();
    if (!t) throw c.syntaxError();
    if (t.kind === 'string' || t.kind === 'number') values.push(t.value);
    else if (t.kind === 'word') values.push(t.value);
    else if (t.kind === 'qident') values.push(t.value.toLowerCase());
    else if (t.kind === 'op' && t.value === '$' && c.isWord(c.pos + 1, 'user')) {
      c.pos++;
      values.push('$user');
    } else if (t.kind === 'op' && t.value === '-' && c.tok(c.pos + 1)?.kind === 'number') {
      c.pos++;
      values.push(`-${(c.tok() as Token).value}`);
    } else throw c.syntaxError();
    c.pos++;
    if (c.acceptOp(',')) continue;
    if (!c.done()) throw c.syntaxError();
    break;
  }
  return { kind: 'set', command: 'SET', name, values };
}

// ---------------------------------------------------------------------------------------
// COPY

/** Interprets Redshift's DELIMITER value: one character, or an escape like '\t' or '\001'. */
function delimiterValue(raw: string, position: number): string {
  if (raw.length === 1) return raw;
  const simple: Record<string, string> = { '\\t': '\t', '\\n': '\n', '\\r': '\r', '\\\\': '\\', '\\|': '|' };
  if (raw in simple) return simple[raw] as string;
  const octal = /^\\([0-7]{3})$/.exec(raw);
  if (octal) return String.fromCharCode(parseInt(octal[1] as string, 8));
  throw new SqlError(
    `COPY delimiter must be a single character, got '${raw}'`,
    SQLSTATE.invalidParameterValue,
    { position },
  );
}

/**
 * Parses a Redshift COPY statement (the cursor at COPY).
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_COPY.html
 */
function parseCopy(c: Cursor): CopyStatement {
  c.pos = 1;
  const table = c.readTableName();
  let columns: string[] | undefined;
  if (c.acceptOp('(')) {
    columns = [c.readIdent()];
    while (c.acceptOp(',')) columns.push(c.readIdent());
    c.expectOp(')');
  }
  if (c.atWords('to')) throw unsupported('COPY TO (use UNLOAD)', c.position());
  c.expectWords('from');
  if (c.atWords('stdin')) throw unsupported('COPY FROM STDIN', c.position());
  const fromAt = c.position();
  const from = c.readString();
  const scheme = /^([a-z0-9]+):\/\//i.exec(from)?.[1]?.toLowerCase();
  if (scheme !== 's3')
    throw unsupported(
      `COPY FROM '${scheme ?? from}${scheme ? '://' : ''}'${scheme ? '' : ' (only s3:// URLs)'}`,
      fromAt,
    );
  const opts: {
    -readonly [K in keyof CopyStatement]?: CopyStatement[K];
  } = {};
  let format: CopyFormat = 'text';
  let delimiter: string | undefined;
  let authSeen: string | undefined;
  const auth = (what: string): void => {
    if (authSeen && authSeen !== what)
      throw new SqlError(
        `conflicting or redundant options: ${authSeen.toUpperCase()} and ${what.toUpperCase()} cannot be combined`,
        SQLSTATE.syntaxError,
        { position: c.position() },
      );
    authSeen = what;
  };
  const optionalAs = (): void => {
    c.acceptWord('as');
  };
  while (!c.done()) {
    const at = c.position();
    const t = c.tok() as Token;
    if (t.kind !== 'word') throw c.syntaxError();
    c.pos++;
    switch (t.value) {
      case 'with':
        break;
      case 'credentials':
        auth('credentials');
        optionalAs();
        c.readString();
        break;
      case 'iam_role':
        auth('iam_role');
        if (!c.acceptWord('default')) c.readString();
        break;
      case 'access_key_id':
      case 'secret_access_key':
      case 'session_token':
        auth('access keys');
        optionalAs();
        c.readString();
        break;
      case 'region':
        optionalAs();
        opts.region = c.readString();
        break;
      case 'manifest':
        opts.manifest = true;
        break;
      case 'format':
        optionalAs();
        if (c.acceptWord('csv')) format = parseCsvArgs(c, opts);
        else if (c.acceptWord('json')) format = parseJsonArgs(c, opts);
        else if (c.acceptWord('parquet')) format = 'parquet';
        else {
          const f = c.tok();
          throw unsupported(`COPY FORMAT ${f?.kind === 'word' ? f.value.toUpperCase() : '?'}`, c.position());
        }
        break;
      case 'csv':
        format = parseCsvArgs(c, opts);
        break;
      case 'json':
        format = parseJsonArgs(c, opts);
        break;
      case 'delimiter':
        optionalAs();
        delimiter = delimiterValue(c.readString(), c.position(c.pos - 1));
        break;
      case 'gzip':
        opts.gzip = true;
        break;
      case 'ignoreheader':
        optionalAs();
        opts.ignoreHeader = c.readInteger();
        if (opts.ignoreHeader < 0)
          throw new SqlError('IGNOREHEADER must not be negative', SQLSTATE.invalidParameterValue, {
            position: at,
          });
        break;
      case 'maxerror':
        optionalAs();
        opts.maxError = c.readInteger();
        if (opts.maxError < 0 || opts.maxError > 100000)
          throw new SqlError('MAXERROR must be between 0 and 100000', SQLSTATE.invalidParameterValue, {
            position: at,
          });
        break;
      case 'timeformat':
        optionalAs();
        opts.timeFormat = c.readString();
        break;
      case 'dateformat':
        optionalAs();
        opts.dateFormat = c.readString();
        break;
      case 'null':
        optionalAs();
        opts.nullAs = c.readString();
        break;
      case 'emptyasnull':
        opts.emptyAsNull = true;
        break;
      case 'blanksasnull':
        opts.blanksAsNull = true;
        break;
      case 'truncatecolumns':
        opts.truncateColumns = true;
        break;
      case 'acceptinvchars': {
        optionalAs();
        const r = c.tok();
        opts.acceptInvChars = r?.kind === 'string' ? c.readString() : '?';
        break;
      }
      case 'acceptanydate':
        break;
      case 'roundec':
        opts.roundDec = true;
        break;
      case 'trimblanks':
        opts.trimBlanks = true;
        break;
      case 'escape':
        opts.escape = true;
        break;
      case 'removequotes':
        opts.removeQuotes = true;
        break;
      case 'fillrecord':
        opts.fillRecord = true;
        break;
      case 'explicit_ids':
        opts.explicitIds = true;
        break;
      case 'ignoreblanklines':
        opts.ignoreBlankLines = true;
        break;
      case 'noload':
        opts.noLoad = true;
        break;
      case 'compupdate':
      case 'statupdate':
        // Compression and statistics are DuckDB's business.
        c.acceptWord('on', 'off', 'true', 'false', 'preset');
        break;
      case 'comprows':
        optionalAs();
        c.readInteger();
        break;
      case 'encoding':
        optionalAs();
        if (!c.acceptWord('utf8')) throw unsupported('COPY ENCODING other than UTF8', c.position());
        break;
      case 'parquet':
        format = 'parquet';
        break;
      case 'fixedwidth':
      case 'avro':
      case 'orc':
      case 'shapefile':
      case 'bzip2':
      case 'lzop':
      case 'zstd':
      case 'ssh':
      case 'encrypted':
      case 'master_symmetric_key':
      case 'readratio':
      case 'jsonpaths':
        throw unsupported(`COPY option ${t.value.toUpperCase()}`, at);
      default:
        throw new SqlError(`syntax error at or near "${t.text}"`, SQLSTATE.syntaxError, { position: at });
    }
  }
  if (format === 'json' && delimiter !== undefined)
    throw new SqlError('DELIMITER is not supported with JSON', SQLSTATE.invalidParameterValue);
  if (format === 'parquet' && (delimiter !== undefined || opts.gzip || opts.ignoreHeader))
    throw new SqlError(
      'DELIMITER, GZIP and IGNOREHEADER are not supported with PARQUET',
      SQLSTATE.invalidParameterValue,
    );
  return {
    table,
    ...(columns ? { columns } : {}),
    from,
    format,
    delimiter: delimiter ?? (format === 'csv' ? ',' : '|'),
    quote: opts.quote ?? '"',
    jsonIgnoreCase: opts.jsonIgnoreCase ?? false,
    ...(opts.jsonPaths !== undefined ? { jsonPaths: opts.jsonPaths } : {}),
    gzip: opts.gzip ?? false,
    manifest: opts.manifest ?? false,
    maxError: opts.maxError ?? 0,
    ignoreHeader: opts.ignoreHeader ?? 0,
    ...(opts.timeFormat !== undefined ? { timeFormat: opts.timeFormat } : {}),
    ...(opts.dateFormat !== undefined ? { dateFormat: opts.dateFormat } : {}),
    ...(opts.nullAs !== undefined ? { nullAs: opts.nullAs } : {}),
    emptyAsNull: opts.emptyAsNull ?? false,
    blanksAsNull: opts.blanksAsNull ?? false,
    truncateColumns: opts.truncateColumns ?? false,
    ...(opts.acceptInvChars !== undefined ? { acceptInvChars: opts.acceptInvChars } : {}),
    roundDec: opts.roundDec ?? false,
    trimBlanks: opts.trimBlanks ?? false,
    escape: opts.escape ?? false,
    removeQuotes: opts.removeQuotes ?? false,
    fillRecord: opts.fillRecord ?? false,
    explicitIds: opts.explicitIds ?? false,
    ignoreBlankLines: opts.ignoreBlankLines ?? false,
    noLoad: opts.noLoad ?? false,
    ...(opts.region !== undefined ? { region: opts.region } : {}),
  };
}

function parseCsvArgs(c: Cursor, opts: { quote?: string }): CopyFormat {
  if (c.acceptWord('quote')) {
    c.acceptWord('as');
    const q = c.readString();
    if (q.length !== 1)
      throw new SqlError('CSV QUOTE must be a single character', SQLSTATE.invalidParameterValue, {
        position: c.position(c.pos - 1),
      });
    opts.quote = q;
  }
  return 'csv';
}

function parseJsonArgs(c: Cursor, opts: { jsonIgnoreCase?: boolean; jsonPaths?: string }): CopyFormat {
  c.acceptWord('as');
  const t = c.tok();
  if (t?.kind !== 'string') return 'json';
  const arg = c.readString();
  const norm = arg.trim().toLowerCase().replace(/\s+/g, ' ');
  if (norm === 'auto') return 'json';
  if (norm === 'auto ignorecase') {
    opts.jsonIgnoreCase = true;
    return 'json';
  }
  if (norm === 'noshred') throw unsupported("JSON 'noshred'", t.start + 1);
  if (/^s3:\/\//i.test(arg.trim())) {
    opts.jsonPaths = arg.trim();
    return 'json';
  }
  throw unsupported(`JSON '${arg}' (only 'auto', 'auto ignorecase' or an s3:// JSONPaths file)`, t.start + 1);
}

// ---------------------------------------------------------------------------------------
// UNLOAD

/**
 * Reads UNLOAD's quoted query. Redshift lets quotes inside it be written `\'` as well as
 * `''`, which the standard-conforming lexer would misread, so this scan comes first.
 */
function unloadQuery(statement: string): { query: string; rest: number; at: number } {
  const m = /^\s*unload\s*\(\s*/i.exec(statement);
  const open = m ? m[0].length : -1;
  if (!m || statement[open] !== "'")
    throw new SqlError('syntax error at or near "UNLOAD": expected (\'query\')', SQLSTATE.syntaxError, {
      position: 1,
    });
  let query = '';
  let i = open + 1;
  for (;;) {
    const ch = statement[i];
    if (ch === undefined)
      throw new SqlError('unterminated quoted string in UNLOAD', SQLSTATE.syntaxError, {
        position: open + 1,
      });
    if (ch === '\\' && i + 1 < statement.length) {
      query += statement[i + 1];
      i += 2;
    } else if (ch === "'" && statement[i + 1] === "'") {
      query += "'";
      i += 2;
    } else if (ch === "'") {
      i++;
      break;
    } else {
      query += ch;
      i++;
    }
  }
  const close = /^\s*\)/.exec(statement.slice(i));
  if (!close)
    throw new SqlError('syntax error in UNLOAD: expected ")" after the query', SQLSTATE.syntaxError, {
      position: i + 1,
    });
  return { query, rest: i + close[0].length, at: open + 2 };
}

/**
 * Parses UNLOAD ('query') TO 's3://...' [options].
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_UNLOAD.html
 */
function parseUnload(statement: string): UnloadStatement {
  const { query, rest, at } = unloadQuery(statement);
  const inner = translate(query.trim().replace(/;\s*$/, ''));
  if (inner.kind !== 'query' || inner.command !== 'SELECT')
    throw new SqlError('UNLOAD needs a SELECT query', SQLSTATE.syntaxError, { position: at });
  // The options are tokenized in place, so positions point into the statement.
  const c = new Cursor(tokenize(' '.repeat(rest) + statement.slice(rest)));
  c.expectWords('to');
  const toAt = c.position();
  const to = c.readString();
  if (!/^s3:\/\/[^/]+\//i.test(to)) throw unsupported(`UNLOAD TO '${to}' (only s3://bucket/prefix)`, toAt);
  let format: UnloadStatement['format'] = 'text';
  let delimiter: string | undefined;
  const opts: { -readonly [K in keyof UnloadStatement]?: UnloadStatement[K] } = {};
  while (!c.done()) {
    const at = c.position();
    const t = c.tok() as Token;
    if (t.kind !== 'word') throw c.syntaxError();
    c.pos++;
    switch (t.value) {
      case 'with':
        break;
      case 'iam_role':
        if (!c.acceptWord('default')) c.readString();
        break;
      case 'credentials':
      case 'access_key_id':
      case 'secret_access_key':
      case 'session_token':
      case 'region':
        c.acceptWord('as');
        c.readString();
        break;
      case 'format':
        c.acceptWord('as');
        {
          const f = c.acceptWord('csv', 'parquet', 'json');
          if (!f) {
            const w = c.tok();
            throw unsupported(
              `UNLOAD FORMAT ${w?.kind === 'word' ? w.value.toUpperCase() : '?'}`,
              c.position(),
            );
          }
          format = f as UnloadStatement['format'];
        }
        break;
      case 'csv':
      case 'parquet':
      case 'json':
        format = t.value;
        break;
      case 'delimiter':
        c.acceptWord('as');
        delimiter = delimiterValue(c.readString(), c.position(c.pos - 1));
        break;
      case 'header':
        opts.header = true;
        break;
      case 'gzip':
        opts.gzip = true;
        break;
      case 'manifest':
        opts.manifest = c.acceptWord('verbose') ? 'verbose' : 'plain';
        break;
      case 'parallel': {
        const v = c.acceptWord('on', 'off', 'true', 'false');
        if (!v) throw c.syntaxError();
        opts.parallel = v === 'on' || v === 'true';
        break;
      }
      case 'allowoverwrite':
        opts.allowOverwrite = true;
        break;
      case 'addquotes':
        opts.addQuotes = true;
        break;
      case 'null':
        c.acceptWord('as');
        opts.nullAs = c.readString();
        break;
      case 'extension':
        c.acceptWord('as');
        opts.extension = c.readString().replace(/^\./, '');
        break;
      case 'maxfilesize':
        // One file is written however large; the size cap is accepted.
        c.acceptWord('as');
        c.readInteger();
        c.acceptWord('mb', 'gb');
        break;
      case 'rowgroupsize':
        c.acceptWord('as');
        c.readInteger();
        c.acceptWord('mb', 'gb');
        break;
      case 'bzip2':
      case 'zstd':
      case 'fixedwidth':
      case 'escape':
      case 'encrypted':
      case 'kms_key_id':
      case 'master_symmetric_key':
      case 'partition':
      case 'cleanpath':
        throw unsupported(`UNLOAD option ${t.value.toUpperCase()}`, at);
      default:
        throw new SqlError(`syntax error at or near "${t.text}"`, SQLSTATE.syntaxError, { position: at });
    }
  }
  if (format === 'parquet' && (opts.gzip || opts.header || delimiter !== undefined || opts.addQuotes))
    throw new SqlError(
      'PARQUET cannot be combined with GZIP, HEADER, DELIMITER or ADDQUOTES',
      SQLSTATE.invalidParameterValue,
    );
  if (format === 'json' && (opts.header || delimiter !== undefined || opts.addQuotes))
    throw new SqlError(
      'JSON cannot be combined with HEADER, DELIMITER or ADDQUOTES',
      SQLSTATE.invalidParameterValue,
    );
  return {
    query,
    sql: inner.sql,
    to,
    format,
    delimiter: delimiter ?? (format === 'csv' ? ',' : '|'),
    header: opts.header ?? false,
    gzip: opts.gzip ?? false,
    manifest: opts.manifest ?? 'none',
    parallel: opts.parallel ?? true,
    allowOverwrite: opts.allowOverwrite ?? false,
    addQuotes: opts.addQuotes ?? false,
    nullAs: opts.nullAs ?? '',
    ...(opts.extension !== undefined ? { extension: opts.extension } : {}),
  };
}

/** The DuckDB COPY ... TO options an UNLOAD writes its file with. */
export function unloadCopyOptions(u: UnloadStatement): string {
  if (u.format === 'parquet') return 'FORMAT parquet';
  const gzip = u.gzip ? ', COMPRESSION gzip' : ', COMPRESSION none';
  if (u.format === 'json') return `FORMAT json${gzip}`;
  const quote = u.format === 'csv' || u.addQuotes ? `QUOTE '"'` : "QUOTE ''";
  return (
    [
      'FORMAT csv',
      `DELIMITER ${quoteString(u.delimiter)}`,
      `HEADER ${u.header ? 'true' : 'false'}`,
      `NULLSTR ${quoteString(u.nullAs)}`,
      quote,
      ...(u.addQuotes ? ['FORCE_QUOTE *'] : []),
    ].join(', ') + gzip
  );
}

/** The key of an UNLOAD's (only) data file: `<prefix>0000_part_00`, or `<prefix>000` with PARALLEL OFF. */
export function unloadFileKey(u: UnloadStatement, prefixKey: string): string {
  const ext = u.extension ? `.${u.extension}` : u.format === 'parquet' ? '.parquet' : '';
  const gz = u.gzip && u.format !== 'parquet' && u.extension === undefined ? '.gz' : '';
  return `${prefixKey}${u.parallel ? '0000_part_00' : '000'}${ext}${gz}`;
}

// ---------------------------------------------------------------------------------------
// What runs on DuckDB, for the table of supported constructs (dialect-cases.ts)

/** The DuckDB SQL a plan runs, for display (unqualified tables assumed in `currentSchema`). */
export function describePlan(plan: Plan, currentSchema = 'public'): string {
  switch (plan.kind) {
    case 'query':
      return plan.sql;
    case 'create-table':
      if (plan.like)
        return `-- the columns of ${renderTableName(plan.like.table)}${plan.like.includingDefaults ? ' with their defaults' : ''}, then\nCREATE ${plan.temporary ? 'TEMP ' : ''}TABLE ${renderTableName(plan.temporary ? plan.table : { schema: plan.table.schema ?? currentSchema, name: plan.table.name })} (...)`;
      return renderCreateTable(
        plan,
        plan.temporary ? undefined : (plan.table.schema ?? currentSchema),
      ).statements.join(';\n');
    case 'drop-table':
      return plan.tables
        .map(
          (t) =>
            `DROP TABLE ${plan.ifExists ? 'IF EXISTS ' : ''}${renderTableName({ schema: t.schema ?? currentSchema, name: t.name })}`,
        )
        .join(';\n');
    case 'drop-schema':
      return plan.schemas
        .map(
          (s) =>
            `DROP SCHEMA ${plan.ifExists ? 'IF EXISTS ' : ''}${quoteIdent(s)}${plan.cascade ? ' CASCADE' : ''}`,
        )
        .join(';\n');
    case 'copy': {
      const t = renderTableName({
        schema: plan.copy.table.schema ?? currentSchema,
        name: plan.copy.table.name,
      });
      const cols = plan.copy.columns ? ` (${plan.copy.columns.map(quoteIdent).join(', ')})` : '';
      return `-- ${plan.copy.format.toUpperCase()} records appended to a TEMP staging table, then\nINSERT INTO ${t}${cols} SELECT ... FROM staging`;
    }
    case 'unload':
      return `COPY (${plan.unload.sql}) TO 'staging file' (${unloadCopyOptions(plan.unload)});\n-- then PUT ${plan.unload.to}${unloadFileKey(plan.unload, '')}${plan.unload.manifest !== 'none' ? ` and ${plan.unload.to}manifest` : ''}`;
    case 'set':
      if (plan.name === 'search_path') {
        const schemas = plan.values.length > 0 ? plan.values : ['$user', 'public'];
        return `SET search_path = '${schemas
          .filter((s) => s !== '$user')
          .map((s) => `dev.${quoteIdent(s)}`)
          .join(',')}'`;
      }
      return `-- session setting ${plan.name}`;
    case 'show':
      return `-- session setting ${plan.name}`;
    case 'transaction':
      return plan.command;
    case 'noop':
      return `-- ${plan.command}: nothing to do on DuckDB`;
    case 'alter-table':
      return describeAlter(plan, currentSchema);
    case 'user':
      return `-- ${plan.command}: kept in the warehouse's user and privilege tables`;
  }
}

function describeAlter(plan: AlterTablePlan, currentSchema: string): string {
  const t = renderTableName({ schema: plan.table.schema ?? currentSchema, name: plan.table.name });
  switch (plan.change.what) {
    case 'rename-table':
      return `ALTER TABLE ${t} RENAME TO ${quoteIdent(plan.change.to)};\n-- and the table's recorded design follows it`;
    case 'rename-column':
      return `ALTER TABLE ${t} RENAME COLUMN ${quoteIdent(plan.change.from)} TO ${quoteIdent(plan.change.to)};\n-- and the column's recorded design follows it`;
    case 'add-column':
      return `${renderAddColumn(t, plan.change.column).join(';\n')};\n-- and the column's declared type and encoding are recorded`;
    case 'drop-column':
      return `ALTER TABLE ${t} DROP COLUMN ${quoteIdent(plan.change.column)};\n-- and the column leaves the recorded design and keys`;
    default:
      return `-- ALTER TABLE ${t}: ${plan.change.what} recorded in the warehouse's metadata`;
  }
}
