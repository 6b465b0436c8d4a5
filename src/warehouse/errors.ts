/**
 * DuckDB errors as PostgreSQL errors: one table from DuckDB's message shapes to real
 * SQLSTATEs and PostgreSQL-style messages, so clients see what they would see from Redshift.
 *
 * @see https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
import { SqlError } from './index.ts';

/** SQLSTATEs Sluice raises itself. */
export const SQLSTATE = {
  featureNotSupported: '0A000',
  syntaxError: '42601',
  undefinedTable: '42P01',
  undefinedColumn: '42703',
  undefinedObject: '42704',
  duplicateColumn: '42701',
  duplicateTable: '42P07',
  duplicateSchema: '42P06',
  invalidSchemaName: '3F000',
  invalidTextRepresentation: '22P02',
  invalidParameterValue: '22023',
  queryCanceled: '57014',
  inFailedTransaction: '25P02',
  invalidAuthorization: '28000',
  invalidPassword: '28P01',
  internalError: 'XX000',
  objectInUse: '55006',
} as const;

interface Rule {
  /** Matches the DuckDB message (without the LINE context). */
  readonly pattern: RegExp;
  /** The SQLSTATE. */
  readonly sqlstate: string;
  /** The PostgreSQL-style message; the DuckDB text (type prefix removed) otherwise. */
  readonly message?: (m: RegExpExecArray) => string;
}

const unq = (s: string | undefined): string => (s ?? '').replace(/^"(.*)"$/, '$1');

/** The mapping, first match wins. */
const RULES: readonly Rule[] = [
  {
    pattern: /^INTERRUPT Error/,
    sqlstate: '57014',
    message: () => 'canceling statement due to user request',
  },
  {
    pattern: /^Catalog Error: Table with name (.+?) does not exist because schema "?(.+?)"? does not exist/,
    sqlstate: '3F000',
    message: (m) => `schema "${unq(m[2])}" does not exist`,
  },
  {
    pattern: /^Catalog Error: (?:Table|View)(?: or view)? with name "?(.+?)"? does not exist/,
    sqlstate: '42P01',
    message: (m) => `relation "${unq(m[1])}" does not exist`,
  },
  {
    pattern: /^Catalog Error: (?:Table|View) with name "?(.+?)"? already exists/,
    sqlstate: '42P07',
    message: (m) => `relation "${unq(m[1])}" already exists`,
  },
  {
    pattern: /^Catalog Error: Schema with name "?(.+?)"? already exists/,
    sqlstate: '42P06',
    message: (m) => `schema "${unq(m[1])}" already exists`,
  },
  {
    pattern: /^Catalog Error: Schema with name "?(.+?)"? does not exist/,
    sqlstate: '3F000',
    message: (m) => `schema "${unq(m[1])}" does not exist`,
  },
  {
    pattern: /^Catalog Error: (?:Scalar|Aggregate|Table) Function with name "?(.+?)"? does not exist/,
    sqlstate: '42883',
    message: (m) => `function ${unq(m[1])} does not exist`,
  },
  {
    pattern: /^Catalog Error: Type with name "?(.+?)"? does not exist/,
    sqlstate: '42704',
    message: (m) => `type "${unq(m[1])}" does not exist`,
  },
  { pattern: /^Catalog Error: .* already exists/, sqlstate: '42710' },
  { pattern: /^Catalog Error: .*does not exist/, sqlstate: '42704' },
  { pattern: /^Catalog Error/, sqlstate: '42000' },
  {
    pattern: /^Binder Error: Referenced column "(.+?)" (?:not found|was not found)/,
    sqlstate: '42703',
    message: (m) => `column "${m[1]}" does not exist`,
  },
  {
    pattern: /^Binder Error: Table "(.+?)" does not have a column (?:named|with name) "(.+?)"/,
    sqlstate: '42703',
    message: (m) => `column "${m[2]}" of relation "${m[1]}" does not exist`,
  },
  {
    pattern: /^Binder Error: Referenced table "(.+?)" not found/,
    sqlstate: '42P01',
    message: (m) => `missing FROM-clause entry for table "${m[1]}"`,
  },
  { pattern: /^Binder Error: Ambiguous reference/, sqlstate: '42702' },
  { pattern: /^Binder Error: .*must appear in the GROUP BY clause/, sqlstate: '42803' },
  { pattern: /^Binder Error: No function matches/, sqlstate: '42883' },
  { pattern: /^Binder Error: Could not choose a best candidate/, sqlstate: '42725' },
  { pattern: /^Binder Error: Cannot (?:compare|mix) values/, sqlstate: '42804' },
  { pattern: /^Binder Error/, sqlstate: '42000' },
  {
    pattern: /^Parser Error: syntax error at end of input/,
    sqlstate: '42601',
    message: () => 'syntax error at end of input',
  },
  {
    pattern: /^Parser Error: syntax error at or near "(.*)"/,
    sqlstate: '42601',
    message: (m) => `syntax error at or near "${m[1]}"`,
  },
  { pattern: /^Parser Error/, sqlstate: '42601' },
  {
    pattern: /^Conversion Error: Could not convert string '(.*)' to (\w+)/,
    sqlstate: '22P02',
    message: (m) => `invalid input syntax for type ${pgTypeWord(m[2])}: "${m[1]}"`,
  },
  { pattern: /^Conversion Error: .*out of range/, sqlstate: '22003' },
  // A number too wide for the DECIMAL it is cast to: PostgreSQL's "numeric field overflow".
  { pattern: /^Conversion Error: Could not cast value -?[\d.]+ to DECIMAL/, sqlstate: '22003' },
  { pattern: /^Conversion Error: (?:invalid|date|timestamp|time).*(?:format|field)/i, sqlstate: '22007' },
  { pattern: /^Conversion Error/, sqlstate: '22P02' },
  { pattern: /division by zero/i, sqlstate: '22012', message: () => 'division by zero' },
  { pattern: /^Out of Range Error/, sqlstate: '22003' },
  {
    pattern: /^Constraint Error: NOT NULL constraint failed: (?:(.+)\.)?(.+)$/m,
    sqlstate: '23502',
    message: (m) =>
      `null value in column "${m[2]}"${m[1] ? ` of relation "${m[1]}"` : ''} violates not-null constraint`,
  },
  { pattern: /^Constraint Error: .*(?:duplicate key|PRIMARY KEY or UNIQUE)/, sqlstate: '23505' },
  { pattern: /^Constraint Error: .*foreign key/i, sqlstate: '23503' },
  { pattern: /^Constraint Error: CHECK constraint/, sqlstate: '23514' },
  { pattern: /^Constraint Error/, sqlstate: '23000' },
  { pattern: /^TransactionContext Error: Current transaction is aborted/, sqlstate: '25P02' },
  { pattern: /^TransactionContext Error: .*(?:[Cc]onflict)/, sqlstate: '40001' },
  { pattern: /^Transaction(?:Context)? Error: .*[Cc]onflict/, sqlstate: '40001' },
  {
    pattern: /^TransactionContext Error: cannot start a transaction within a transaction/,
    sqlstate: '25001',
  },
  {
    pattern: /^TransactionContext Error: cannot (?:commit|rollback) - no transaction is active/,
    sqlstate: '25P01',
  },
  { pattern: /^Transaction(?:Context)? Error/, sqlstate: '25000' },
  { pattern: /^Permission Error/, sqlstate: '42501' },
  { pattern: /^Dependency Error/, sqlstate: '2BP01' },
  { pattern: /^Not implemented Error/, sqlstate: '0A000' },
  { pattern: /^Out of Memory Error/, sqlstate: '53200' },
  { pattern: /No space left on device/, sqlstate: '53100' },
  { pattern: /^IO Error/, sqlstate: '58030' },
  { pattern: /^Sequence Error/, sqlstate: '2200H' },
  { pattern: /^Mismatch Type Error/, sqlstate: '42804' },
  // The catalog's name lookups (`'x'::regclass`, `'x'::regtype`) raise these through error().
  {
    pattern: /^Invalid Input Error: (relation "[^]*" does not exist)$/,
    sqlstate: '42P01',
    message: (m) => m[1] as string,
  },
  {
    pattern: /^Invalid Input Error: (function "[^]*" does not exist)$/,
    sqlstate: '42883',
    message: (m) => m[1] as string,
  },
  {
    pattern: /^Invalid Input Error: ((?:type|schema) "[^]*" does not exist)$/,
    sqlstate: '42704',
    message: (m) => m[1] as string,
  },
  { pattern: /^Invalid Input Error/, sqlstate: '22023' },
  { pattern: /^Invalid type Error/, sqlstate: '42804' },
];

/** DuckDB's physical type names in conversion errors, as PostgreSQL names them. */
function pgTypeWord(duck: string | undefined): string {
  switch (duck) {
    case 'INT8':
    case 'INT16':
      return 'smallint';
    case 'INT32':
      return 'integer';
    case 'INT64':
      return 'bigint';
    case 'DOUBLE':
      return 'double precision';
    case 'FLOAT':
      return 'real';
    case 'BOOL':
      return 'boolean';
    default:
      return (duck ?? '').toLowerCase();
  }
}

/** What a DuckDB error means for PostgreSQL. */
export interface MappedError {
  /** SQLSTATE. */
  readonly sqlstate: string;
  /** PostgreSQL-style message. */
  readonly message: string;
  /** A hint (DuckDB's "Did you mean ..."). */
  readonly hint?: string;
  /** 0-based offset of the error in the SQL DuckDB ran, when DuckDB gave one. */
  readonly offset?: number;
}

/** Maps a DuckDB error message to a SQLSTATE, a message, a hint and an offset in `sql`. */
export function mapDuckDbError(raw: string, sql: string): MappedError {
  const lineAt = raw.search(/\n\s*LINE \d+: /);
  const head = (lineAt >= 0 ? raw.slice(0, lineAt) : raw).trim();
  const context = lineAt >= 0 ? raw.slice(lineAt) : '';
  const hintMatch = /\n\s*(Did you mean .*|Candidate bindings:[^\n]*)/.exec(head);
  // DuckDB suggests its own catalog tables for any missing name; that helps no one.
  const misleadingHint = hintMatch && /"(?:pg_|duckdb_|information_schema|_sluice)/.test(hintMatch[1] ?? '');
  const mainText = (hintMatch ? head.slice(0, hintMatch.index) : head).trim();
  let sqlstate = SQLSTATE.internalError as string;
  let message = mainText.replace(/^[A-Za-z ]+ Error: /, '');
  for (const rule of RULES) {
    const m = rule.pattern.exec(mainText);
    if (m) {
      sqlstate = rule.sqlstate;
      if (rule.message) message = rule.message(m);
      break;
    }
  }
  const offset = context ? offsetFromContext(context, sql) : undefined;
  return {
    sqlstate,
    message,
    ...(hintMatch?.[1] && !misleadingHint ? { hint: hintMatch[1].trim() } : {}),
    ...(offset !== undefined ? { offset } : {}),
  };
}

/**
 * Reads DuckDB's "LINE n: <text>\n<spaces>^" error context into an offset in `sql`.
 * DuckDB shortens long lines with "...", so the shown text is looked up in the line.
 */
function offsetFromContext(context: string, sql: string): number | undefined {
  const m = /LINE (\d+): (.*)\n( *)\^/.exec(context);
  if (!m) return undefined;
  const lineNo = Number(m[1]);
  const prefixLen = `LINE ${m[1]}: `.length;
  let shown = m[2] as string;
  let caret = (m[3] as string).length - prefixLen;
  const lines = sql.split('\n');
  let lineStart = 0;
  for (let i = 0; i < lineNo - 1 && i < lines.length; i++) lineStart += (lines[i] as string).length + 1;
  const line = lines[lineNo - 1] ?? '';
  if (shown.startsWith('...')) {
    shown = shown.slice(3);
    caret -= 3;
  }
  if (shown.endsWith('...')) shown = shown.slice(0, -3);
  const at = line.indexOf(shown);
  const base = at >= 0 ? at : 0;
  const column = Math.max(0, Math.min(base + caret, line.length));
  return lineStart + column;
}

/** Builds a SqlError from a DuckDB error, mapping its offset back to the script. */
export function sqlErrorFromDuckDb(
  error: unknown,
  sql: string,
  toScriptOffset: (duckOffset: number) => number | undefined,
): SqlError {
  const raw = error instanceof Error ? error.message : String(error);
  const mapped = mapDuckDbError(raw, sql);
  const position = mapped.offset !== undefined ? toScriptOffset(mapped.offset) : undefined;
  return new SqlError(mapped.message, mapped.sqlstate, {
    ...(position !== undefined ? { position: position + 1 } : {}),
    ...(mapped.hint ? { hint: mapped.hint } : {}),
  });
}

/** A 0A000 error naming the construct that Sluice does not support. */
export function unsupported(construct: string, position?: number): SqlError {
  return new SqlError(
    `${construct} is not supported`,
    SQLSTATE.featureNotSupported,
    position !== undefined ? { position } : {},
  );
}

/** Copies a SqlError with script-level details added (results so far, statement index). */
export function withScriptContext(
  error: SqlError,
  extra: { results: readonly unknown[]; statementIndex: number },
): SqlError {
  const copy = new SqlError(error.message, error.sqlstate, {
    ...error.options,
    results: extra.results as SqlError['options']['results'],
    statementIndex: extra.statementIndex,
  });
  copy.stack = error.stack;
  return copy;
}
