/**
 * COPY between a table and the client: `COPY t [(cols)] FROM STDIN` and
 * `COPY t [(cols)] | (query) TO STDOUT`, with PostgreSQL's options (the parenthesized list
 * and the older `WITH CSV HEADER DELIMITER 'x' NULL 'x'` words) and Redshift's (`CSV`,
 * `DELIMITER ','`, `IGNOREHEADER 1`, `NULL AS`, `FORMAT AS CSV`).
 *
 * The SQL port moves the data (CopyData messages) and decodes it into rows of text; this
 * module parses the statement and loads the rows: appended in batches, as they arrive, to a
 * temporary staging table of text columns (so memory stays bounded however much is sent),
 * then every value is checked against its column type (the first bad one fails the whole
 * COPY with 22P02 and its line) and all rows are inserted in one statement, so a COPY loads
 * all of its rows or none.
 *
 * @see https://www.postgresql.org/docs/15/sql-copy.html
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_COPY.html
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { SqlError } from './index.ts';
import { SQLSTATE, unsupported } from './errors.ts';
import { quoteIdent, tokenize, type Token } from './lexer.ts';
import type { TableColumn, TableInfo } from './catalog.ts';

/** A parsed COPY FROM STDIN or TO STDOUT. */
export interface StdioCopy {
  /** `in`: FROM STDIN; `out`: TO STDOUT. */
  readonly direction: 'in' | 'out';
  /** The table (absent for `COPY (query) TO STDOUT`). */
  readonly table?: { readonly schema?: string; readonly name: string };
  /** The column list, when written. */
  readonly columns?: readonly string[];
  /** For TO STDOUT: the Redshift SQL whose rows are sent. */
  readonly query?: string;
  /** For `COPY (query) TO STDOUT`: where the query starts in the statement (0-based). */
  readonly queryOffset?: number;
  /** Data format. */
  readonly format: 'text' | 'csv';
  /** Field delimiter (tab for text, comma for CSV by default). */
  readonly delimiter: string;
  /** The string that means NULL (`\N` for text, empty for CSV by default). */
  readonly null: string;
  /** CSV quote character. */
  readonly quote: string;
  /** CSV escape character (the quote by default). */
  readonly escape: string;
  /** Header lines: skipped on input (IGNOREHEADER n or HEADER), written on output (HEADER). */
  readonly header: number;
}

const WORD_OPTIONS = new Set([
  'format',
  'header',
  'delimiter',
  'null',
  'quote',
  'escape',
  'encoding',
  'freeze',
  'ignoreheader',
  'csv',
  'binary',
  'force_quote',
  'force_not_null',
  'force_null',
]);

/** Parses `COPY ... FROM STDIN` / `COPY ... TO STDOUT`; undefined for any other statement. */
export function parseStdioCopy(statement: string): StdioCopy | undefined {
  const toks = tokenize(statement).filter((t) => t.kind !== 'ws' && t.kind !== 'comment');
  const word = (i: number): string | undefined => (toks[i]?.kind === 'word' ? toks[i]?.value : undefined);
  if (word(0) !== 'copy') return undefined;
  let pos = 1;
  const syntaxError = (): SqlError => {
    const t = toks[pos];
    return new SqlError(
      t ? `syntax error at or near "${t.text}"` : 'syntax error at end of input',
      SQLSTATE.syntaxError,
      { position: (t ? t.start : statement.length) + 1 },
    );
  };
  const ident = (): string => {
    const t = toks[pos];
    if (t?.kind !== 'word' && t?.kind !== 'qident') throw syntaxError();
    pos++;
    return t.kind === 'word' ? t.value : t.value.toLowerCase();
  };
  const op = (v: string): boolean => {
    if (toks[pos]?.kind === 'op' && toks[pos]?.value === v) {
      pos++;
      return true;
    }
    return false;
  };
  let table: StdioCopy['table'];
  let query: string | undefined;
  let queryOffset: number | undefined;
  let columns: string[] | undefined;
  if (toks[pos]?.kind === 'op' && toks[pos]?.value === '(') {
    // COPY (query) TO STDOUT: find the matching parenthesis.
    const open = toks[pos] as Token;
    let depth = 0;
    let close: Token | undefined;
    for (; pos < toks.length; pos++) {
      const t = toks[pos] as Token;
      if (t.kind === 'op' && t.value === '(') depth++;
      if (t.kind === 'op' && t.value === ')' && --depth === 0) {
        close = t;
        pos++;
        break;
      }
    }
    if (!close) throw syntaxError();
    const inner = statement.slice(open.end, close.start);
    query = inner.trim();
    queryOffset = open.end + (inner.length - inner.trimStart().length);
  } else {
    const first = ident();
    table = op('.') ? { schema: first, name: ident() } : { name: first };
    if (op('(')) {
      columns = [ident()];
      while (op(',')) columns.push(ident());
      if (!op(')')) throw syntaxError();
    }
  }
  const dir = word(pos);
  const target = word(pos + 1);
  if (!((dir === 'from' && target === 'stdin') || (dir === 'to' && target === 'stdout'))) {
    if (query !== undefined)
      throw unsupported('COPY (query) other than TO STDOUT', (toks[pos]?.start ?? 0) + 1);
    return undefined;
  }
  const direction = dir === 'from' ? 'in' : 'out';
  if (direction === 'in' && query !== undefined) throw syntaxError();
  pos += 2;
  const opts: {
    format?: 'text' | 'csv';
    delimiter?: string;
    null?: string;
    quote?: string;
    escape?: string;
    header: number;
  } = {
    header: 0,
  };
  const str = (): string => {
    op('=');
    if (word(pos) === 'as') pos++;
    const t = toks[pos];
    if (t?.kind !== 'string') throw syntaxError();
    pos++;
    return t.value;
  };
  const bool = (): boolean => {
    const t = toks[pos];
    if (t?.kind === 'word' && ['true', 'on', 'false', 'off'].includes(t.value)) {
      pos++;
      return t.value === 'true' || t.value === 'on';
    }
    if (t?.kind === 'number') {
      pos++;
      return t.value !== '0';
    }
    if (t?.kind === 'word' && t.value === 'match') throw unsupported('HEADER MATCH', t.start + 1);
    return true;
  };
  const option = (name: string, inList: boolean): void => {
    const at = (toks[pos - 1]?.start ?? 0) + 1;
    switch (name) {
      case 'format': {
        if (word(pos) === 'as') pos++;
        const f = word(pos) ?? (toks[pos]?.kind === 'string' ? toks[pos]?.value.toLowerCase() : undefined);
        if (f === 'binary') throw unsupported('COPY FORMAT BINARY', at);
        if (f !== 'csv' && f !== 'text') throw unsupported(`COPY FORMAT ${String(f).toUpperCase()}`, at);
        pos++;
        opts.format = f;
        return;
      }
      case 'csv':
        opts.format = 'csv';
        return;
      case 'binary':
        throw unsupported('COPY BINARY', at);
      case 'header':
        opts.header = (inList ? bool() : true) ? 1 : 0;
        return;
      case 'ignoreheader': {
        if (word(pos) === 'as') pos++;
        const t = toks[pos];
        if (t?.kind !== 'number') throw syntaxError();
        pos++;
        opts.header = Number(t.value);
        return;
      }
      case 'delimiter':
        opts.delimiter = str();
        if (opts.delimiter === '\\t') opts.delimiter = '\t';
        if (opts.delimiter.length !== 1)
          throw new SqlError(
            'COPY delimiter must be a single one-byte character',
            SQLSTATE.featureNotSupported,
          );
        return;
      case 'null':
        opts.null = str();
        return;
      case 'quote':
        opts.quote = str();
        return;
      case 'escape':
        opts.escape = str();
        return;
      case 'encoding': {
        const e = str().toLowerCase().replace(/[-_]/g, '');
        if (e !== 'utf8') throw unsupported(`COPY ENCODING '${e}'`, at);
        return;
      }
      case 'freeze':
        if (inList) bool();
        return;
      default:
        throw unsupported(`COPY option ${name.toUpperCase()}`, at);
    }
  };
  if (word(pos) === 'with') pos++;
  if (op('(')) {
    for (;;) {
      const name = ident();
      option(name, true);
      if (op(')')) break;
      if (!op(',')) throw syntaxError();
    }
  } else {
    while (pos < toks.length) {
      const name = word(pos);
      if (!name) throw syntaxError();
      pos++;
      if (!WORD_OPTIONS.has(name))
        throw unsupported(`COPY option ${name.toUpperCase()}`, (toks[pos - 1]?.start ?? 0) + 1);
      option(name, false);
    }
  }
  if (pos < toks.length) throw syntaxError();
  const format = opts.format ?? 'text';
  const quote = opts.quote ?? '"';
  return {
    direction,
    ...(table ? { table } : {}),
    ...(columns ? { columns } : {}),
    ...(query !== undefined
      ? { query, ...(queryOffset !== undefined ? { queryOffset } : {}) }
      : table
        ? {
            query: `SELECT ${columns ? columns.map(quoteIdent).join(', ') : '*'} FROM ${table.schema ? `${quoteIdent(table.schema)}.` : ''}${quoteIdent(table.name)}`,
          }
        : {}),
    format,
    delimiter: opts.delimiter ?? (format === 'csv' ? ',' : '\t'),
    null: opts.null ?? (format === 'csv' ? '' : '\\N'),
    quote,
    escape: opts.escape ?? quote,
    header: opts.header,
  };
}

/** The columns a COPY FROM STDIN fills, in order (42703 for an unknown one). */
export function copyTargetColumns(copy: StdioCopy, table: TableInfo): TableColumn[] {
  if (!copy.columns) return table.columns.filter((c) => !c.identity);
  return copy.columns.map((name) => {
    const col = table.columns.find((c) => c.name === name);
    if (!col)
      throw new SqlError(
        `column "${name}" of relation "${table.name}" does not exist`,
        SQLSTATE.undefinedColumn,
      );
    return col;
  });
}

/** Rows decoded from COPY data: text values (null for NULL) and each row's line number. */
export interface CopyRows {
  /** Values per row, one per target column. */
  readonly rows: readonly (readonly (string | null)[])[];
  /** 1-based input line of each row. */
  readonly lines: readonly number[];
}

/** PostgreSQL's type word for an error message. */
function typeWord(col: TableColumn): string {
  return col.type.pg.replace(/\(.*$/, '');
}

/** Creates the text staging table of a COPY FROM STDIN (temporary, this connection only). */
export async function createCopyStage(
  conn: DuckDBConnection,
  stagingName: string,
  columnCount: number,
): Promise<void> {
  await conn.run(
    `CREATE TEMP TABLE ${quoteIdent(stagingName)} (line BIGINT, ${Array.from({ length: columnCount }, (_, i) => `c${i} VARCHAR`).join(', ')})`,
  );
}

/** Appends decoded rows to the staging table. */
export async function appendCopyStage(
  conn: DuckDBConnection,
  stagingName: string,
  data: CopyRows,
): Promise<void> {
  if (data.rows.length === 0) return;
  const appender = await conn.createAppender(stagingName, 'main', 'temp');
  try {
    data.rows.forEach((row, r) => {
      appender.appendBigInt(BigInt(data.lines[r] ?? r + 1));
      for (const v of row) {
        if (v === null) appender.appendNull();
        else appender.appendVarchar(v);
      }
      appender.endRow();
    });
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

/** Drops the staging table. */
export async function dropCopyStage(conn: DuckDBConnection, stagingName: string): Promise<void> {
  await conn.run(`DROP TABLE IF EXISTS temp.main.${quoteIdent(stagingName)}`).catch(() => undefined);
}

/**
 * Loads the staged rows into the table in the caller's transaction: checks every value casts
 * to its column type (the first bad one, by line, fails the COPY), then inserts them all in
 * one statement.
 */
export async function loadCopyStage(
  conn: DuckDBConnection,
  stagingName: string,
  table: TableInfo,
  columns: readonly TableColumn[],
): Promise<number> {
  const stage = quoteIdent(stagingName);
  const isText = (c: TableColumn): boolean => c.type.base === 'varchar' || c.type.base === 'char';
  for (const [i, col] of columns.entries()) {
    if (isText(col)) continue;
    const bad = await conn.runAndReadAll(
      `SELECT line, c${i} FROM ${stage} WHERE c${i} IS NOT NULL AND TRY_CAST(c${i} AS ${col.type.duck}) IS NULL ORDER BY line LIMIT 1`,
    );
    const row = bad.getRows()[0];
    if (row) {
      const value = String(row[1]);
      throw new SqlError(
        `invalid input syntax for type ${typeWord(col)}: "${value}"`,
        SQLSTATE.invalidTextRepresentation,
        {
          where: `COPY ${table.name}, line ${String(row[0])}, column ${col.name}: "${value}"`,
        },
      );
    }
  }
  for (const [i, col] of columns.entries()) {
    // Redshift lengths count bytes.
    if (!isText(col) || col.type.length === undefined) continue;
    const long = await conn.runAndReadAll(
      `SELECT line, c${i} FROM ${stage} WHERE octet_length(encode(c${i})) > ${col.type.length} ORDER BY line LIMIT 1`,
    );
    const row = long.getRows()[0];
    if (row)
      throw new SqlError(`value too long for type ${col.type.pg}`, '22001', {
        where: `COPY ${table.name}, line ${String(row[0])}, column ${col.name}: "${String(row[1])}"`,
      });
  }
  const target = `${quoteIdent(table.catalog)}.${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
  const reader = await conn.runAndReadAll(
    `INSERT INTO ${target} (${columns.map((c) => quoteIdent(c.name)).join(', ')})
     SELECT ${columns.map((c, i) => (isText(c) ? `c${i}` : `CAST(c${i} AS ${c.type.duck})`)).join(', ')}
     FROM ${stage} ORDER BY line`,
  );
  return reader.rowsChanged;
}
