/**
 * Redshift COPY from the lake: which objects a COPY reads (a key prefix, or a manifest),
 * how their records are parsed (CSV, JSON 'auto', delimited text) and converted to the
 * declared column types, and how the rows reach the table.
 *
 * Rows are appended with the DuckDB appender into a temporary staging table holding just
 * the listed columns, then moved with one `INSERT INTO target (cols) SELECT ... FROM
 * staging`, so DuckDB fills the other columns' defaults (IDENTITY, load time). The caller
 * owns the transaction: it commits the rows together with stl_load_errors and, for
 * deliveries, the ledger row.
 *
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_COPY.html
 * @see https://docs.aws.amazon.com/redshift/latest/dg/loading-data-files-using-manifest.html
 */
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip as gunzipCb } from 'node:zlib';
import { parse as parseCsv, type Options as CsvOptions } from 'csv-parse/sync';
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { formatS3Url, listAllObjects, parseS3Url, type ObjectStore } from '../lake/index.ts';
import type { LoadErrorRow, TableColumn, TableInfo } from './catalog.ts';
import {
  LoadErrorCode,
  LoadFailure,
  loadErrorColLength,
  loadErrorTypeName,
  makeCoercer,
  stagingType,
  type Coercer,
  type StagingType,
} from './coerce.ts';
import type { CopyStatement } from './dialect.ts';
import { SQLSTATE } from './errors.ts';
import { SqlError } from './index.ts';
import { JsonRecordScanner, ValueKind } from './json-scan.ts';
import { quoteIdent } from './lexer.ts';

const gunzip = promisify(gunzipCb);

/** One record COPY could not load (becomes a RejectedRecord and an stl_load_errors row). */
export type LoadError = LoadErrorRow;

/** What running a COPY gave. */
export interface CopyOutcome {
  /** Rows inserted into the table. */
  readonly rowsLoaded: number;
  /** Records that could not be loaded. */
  readonly errors: readonly LoadError[];
  /** True when MAXERROR was reached: nothing was inserted and the COPY must fail. */
  readonly failed: boolean;
  /** True when DuckDB's own JSON reader loaded it. */
  readonly native?: boolean;
}

/** What a COPY runs with. */
export interface CopyEnv {
  /** The connection (inside the caller's transaction). */
  readonly conn: DuckDBConnection;
  /** The lake. */
  readonly store: ObjectStore;
  /** Name for the temporary staging table (unique per connection). */
  readonly stagingName: string;
  /** Throws when the statement was cancelled or timed out. */
  readonly checkCancelled: () => void;
  /** Every bad record is rejected and the rest load (deliveries); otherwise MAXERROR rules. */
  readonly rejectAll: boolean;
  /** A folder DuckDB may read, for the formats only DuckDB's own readers parse (Parquet). */
  readonly scratchDir?: string;
  /**
   * For the native JSON path: a folder DuckDB may read and write, and a second connection
   * (outside the caller's transaction, so a failed attempt leaves it usable). Without
   * them every COPY takes the JS path.
   */
  readonly native?: { readonly scratchDir: string; readonly conn: DuckDBConnection };
}

/** An s3:// location. */
interface S3Object {
  readonly bucket: string;
  readonly key: string;
  readonly url: string;
}

function parseUrl(url: string): { bucket: string; key: string } {
  try {
    return parseS3Url(url);
  } catch {
    throw new SqlError(`Invalid S3 URL '${url}'`, SQLSTATE.invalidParameterValue);
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'NoSuchKey' || code === 'NoSuchBucket';
}

function loadFailed(message: string): SqlError {
  return new SqlError(message, SQLSTATE.internalError);
}

/** Lists every key that starts with the prefix (Redshift: a prefix, not a folder). */
async function listPrefix(store: ObjectStore, bucket: string, prefix: string): Promise<S3Object[]> {
  const out: S3Object[] = [];
  try {
    for await (const o of listAllObjects(store, bucket, prefix))
      out.push({ bucket, key: o.key, url: formatS3Url(bucket, o.key) });
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  return out;
}

/** The objects a COPY reads, in order. */
export async function resolveFiles(store: ObjectStore, copy: CopyStatement): Promise<S3Object[]> {
  const { bucket, key } = parseUrl(copy.from);
  if (!copy.manifest) {
    const files = await listPrefix(store, bucket, key);
    if (files.length === 0) throw loadFailed(`The specified S3 prefix '${key}' does not exist`);
    return files;
  }
  let body: Buffer;
  try {
    body = await store.getObject(bucket, key);
  } catch (error) {
    if (isMissing(error)) throw loadFailed(`Manifest file '${copy.from}' does not exist`);
    throw error;
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw loadFailed(`Manifest file '${copy.from}' is not valid JSON: ${(error as Error).message}`);
  }
  const entries = (manifest as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(entries)) throw loadFailed(`Manifest file '${copy.from}' has no "entries" array`);
  const files: S3Object[] = [];
  for (const entry of entries as unknown[]) {
    const url = (entry as { url?: unknown } | null)?.url;
    if (typeof url !== 'string')
      throw loadFailed(`Manifest file '${copy.from}' has an entry without a "url"`);
    const mandatory = (entry as { mandatory?: unknown }).mandatory === true;
    const loc = parseUrl(url);
    const head = await store.headObject(loc.bucket, loc.key).catch((error: unknown) => {
      if (isMissing(error)) return undefined;
      throw error;
    });
    if (!head) {
      if (mandatory) throw loadFailed(`Manifest file '${copy.from}': mandatory file '${url}' does not exist`);
      continue;
    }
    files.push({ ...loc, url });
  }
  if (files.length === 0) throw loadFailed(`Manifest file '${copy.from}' lists no files that exist`);
  return files;
}

/** Marks an unquoted empty field (CSV/text). */
const EMPTY = Symbol('empty');
/** Marks a field that matched NULL AS. */
const NULL = Symbol('null');
type Field = string | typeof EMPTY | typeof NULL;

/** One column being loaded. */
interface LoadColumn {
  readonly column: TableColumn;
  readonly coerce: Coercer;
  readonly staging: StagingType;
  /** Has a default that applies when a JSON record lacks the field. */
  readonly defaultWhenMissing: boolean;
}

/** A record's converted values, ready to append; `undefined` means "missing: use the default". */
type RowValues = unknown[];

/** Which columns a COPY loads: the list, or every column but IDENTITY ones (unless EXPLICIT_IDS). */
export function copyColumns(copy: CopyStatement, table: TableInfo): TableColumn[] {
  if (!copy.columns) return table.columns.filter((c) => copy.explicitIds || !c.identity);
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  const seen = new Set<string>();
  return copy.columns.map((name) => {
    const col = byName.get(name);
    if (!col)
      throw new SqlError(
        `column "${name}" of relation "${table.name}" does not exist`,
        SQLSTATE.undefinedColumn,
      );
    if (seen.has(name))
      throw new SqlError(`column "${name}" specified more than once`, SQLSTATE.duplicateColumn);
    if (col.identity && !copy.explicitIds)
      throw new SqlError(`cannot set an identity column "${name}" to a value (use EXPLICIT_IDS)`, '428C9');
    seen.add(name);
    return col;
  });
}

/**
 * Runs a COPY inside the caller's transaction. Returns the rows loaded and the bad records;
 * with MAXERROR reached, `failed` is set and nothing is inserted.
 */
export async function runCopy(env: CopyEnv, copy: CopyStatement, table: TableInfo): Promise<CopyOutcome> {
  const targets = copyColumns(copy, table);
  const cols: LoadColumn[] = targets.map((column) => ({
    column,
    coerce: makeCoercer(column.type, copy),
    staging: stagingType(column.type),
    defaultWhenMissing: copy.format === 'json' && column.defaultSql !== undefined,
  }));
  const files = await resolveFiles(env.store, copy);
  if (copy.format === 'parquet') return copyParquet(env, copy, table, targets, files);
  const paths =
    copy.jsonPaths !== undefined ? await readJsonPaths(env.store, copy.jsonPaths, cols.length) : undefined;
  env.checkCancelled();
  if (env.native && !paths && nativeJsonEligible(copy, cols)) {
    const outcome = await tryNativeJson(env, env.native, copy, table, cols, files);
    if (outcome) return outcome;
  }
  const limit = env.rejectAll ? Infinity : Math.max(1, copy.maxError);
  const errors: LoadError[] = [];
  const stage = quoteIdent(env.stagingName);
  const stagingCols = cols
    .map((c, i) => `c${i} ${c.staging}`)
    .concat(cols.flatMap((c, i) => (c.defaultWhenMissing ? [`m${i} BOOLEAN`] : [])));
  await env.conn.run(`CREATE OR REPLACE TEMP TABLE ${stage} (${stagingCols.join(', ')})`);
  let appender: DuckDBAppender | undefined = await env.conn.createAppender(env.stagingName, 'main', 'temp');
  let appended = 0;
  const append = makeRowAppender(cols);
  try {
    for (const file of files) {
      env.checkCancelled();
      const text = await readText(env.store, file, copy.gzip);
      const fileErrors: LoadError[] = [];
      const sink = {
        row: (values: RowValues): void => {
          append(appender as DuckDBAppender, values);
          appended++;
        },
        error: (e: LoadError): boolean => {
          fileErrors.push(e);
          return errors.length + fileErrors.length < limit;
        },
        room: (): number => limit - errors.length - fileErrors.length,
      };
      let keepGoing: boolean;
      if (copy.format === 'json')
        keepGoing = await loadJson(text, file.url, cols, copy, sink, env.checkCancelled, paths);
      else keepGoing = await loadDelimited(text, file.url, cols, copy, sink, env.checkCancelled);
      errors.push(...fileErrors);
      if (!keepGoing || errors.length >= limit) {
        appender.closeSync();
        appender = undefined;
        await env.conn.run(`DROP TABLE IF EXISTS temp.main.${stage}`);
        return { rowsLoaded: 0, errors, failed: true };
      }
    }
    appender.closeSync();
    appender = undefined;
    env.checkCancelled();
    let rowsLoaded = 0;
    if (appended > 0 && !copy.noLoad) {
      const selects = cols.map((c, i) => {
        const value = `CAST(c${i} AS ${c.column.type.duck})`;
        return c.defaultWhenMissing
          ? `CASE WHEN m${i} THEN ${c.column.defaultSql as string} ELSE ${value} END`
          : value;
      });
      const target = `${quoteIdent(table.catalog)}.${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
      const result = await env.conn.run(
        `INSERT INTO ${target} (${cols.map((c) => quoteIdent(c.column.name)).join(', ')}) SELECT ${selects.join(', ')} FROM temp.main.${stage}`,
      );
      rowsLoaded = result.rowsChanged;
    }
    await env.conn.run(`DROP TABLE IF EXISTS temp.main.${stage}`);
    return { rowsLoaded, errors, failed: false };
  } finally {
    appender?.closeSync();
  }
}

/**
 * COPY FORMAT AS PARQUET: DuckDB reads the files; columns map by position, as in Redshift.
 * A value that does not convert fails the whole COPY (Parquet data is typed, so this is a
 * schema mismatch rather than a bad record).
 * @see https://docs.aws.amazon.com/redshift/latest/dg/copy-usage_notes-copy-from-columnar.html
 */
async function copyParquet(
  env: CopyEnv,
  copy: CopyStatement,
  table: TableInfo,
  targets: readonly TableColumn[],
  files: readonly S3Object[],
): Promise<CopyOutcome> {
  if (env.scratchDir === undefined)
    throw new SqlError('COPY FORMAT AS PARQUET is not supported here', SQLSTATE.featureNotSupported);
  const id = randomUUID();
  const paths: string[] = [];
  const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;
  try {
    for (const file of files) {
      let body: Buffer;
      try {
        body = await env.store.getObject(file.bucket, file.key);
      } catch (error) {
        if (isMissing(error)) throw loadFailed(`S3 object '${file.url}' does not exist`);
        throw error;
      }
      const path = join(env.scratchDir, `copy-${id}-${paths.length}.parquet`);
      await writeFile(path, body);
      paths.push(path);
      env.checkCancelled();
    }
    const source = `read_parquet([${paths.map(literal).join(', ')}])`;
    const described = await env.conn.runAndReadAll(`SELECT * FROM ${source} LIMIT 0`);
    const width = described.columnCount;
    if (width !== targets.length)
      throw loadFailed(
        `Parquet files have ${width} columns, the COPY loads ${targets.length}: columns map by position`,
      );
    if (copy.noLoad) return { rowsLoaded: 0, errors: [], failed: false };
    const selects = targets.map((c, i) => `CAST(#${i + 1} AS ${c.type.duck})`);
    const target = `${quoteIdent(table.catalog)}.${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
    try {
      const result = await env.conn.run(
        `INSERT INTO ${target} (${targets.map((c) => quoteIdent(c.name)).join(', ')}) SELECT ${selects.join(', ')} FROM ${source}`,
      );
      return { rowsLoaded: result.rowsChanged, errors: [], failed: false };
    } catch (error) {
      throw loadFailed(
        `Parquet data does not fit table "${table.name}": ${(error as Error).message.split('\n')[0] ?? ''}`,
      );
    }
  } finally {
    await Promise.all(paths.map((p) => rm(p, { force: true })));
  }
}

/** Column types whose checks the native JSON path repeats exactly (anything else takes the JS path). */
const NATIVE_BASES = new Set([
  'smallint',
  'integer',
  'bigint',
  'numeric',
  'real',
  'double',
  'boolean',
  'char',
  'varchar',
]);

/** True when a COPY is plain `JSON 'auto'` into simple columns, so DuckDB's own reader may load it. */
function nativeJsonEligible(copy: CopyStatement, cols: readonly LoadColumn[]): boolean {
  return (
    copy.format === 'json' &&
    !copy.jsonIgnoreCase &&
    !copy.noLoad &&
    !copy.truncateColumns &&
    !copy.roundDec &&
    !copy.emptyAsNull &&
    !copy.blanksAsNull &&
    !copy.trimBlanks &&
    copy.nullAs === undefined &&
    copy.acceptInvChars === undefined &&
    cols.every((c) => !c.defaultWhenMissing && NATIVE_BASES.has(c.column.type.base))
  );
}

/** A SQL predicate that holds when a text value converts to a column exactly as the JS path would. */
function nativeCheck(name: string, col: TableColumn): string {
  const t = col.type;
  let ok: string;
  switch (t.base) {
    case 'char':
    case 'varchar':
      ok = t.length === undefined ? 'true' : `strlen(${name}) <= ${t.length}`;
      break;
    case 'smallint':
    case 'integer':
    case 'bigint':
      ok = `regexp_full_match(${name}, '-?[0-9]{1,19}') AND TRY_CAST(${name} AS ${t.duck}) IS NOT NULL`;
      break;
    case 'numeric':
      ok =
        `regexp_full_match(${name}, '-?[0-9]{1,38}(\\.[0-9]{0,${t.scale ?? 0}})?') ` +
        `AND TRY_CAST(${name} AS ${t.duck}) IS NOT NULL`;
      break;
    case 'real':
    case 'double':
      ok = `TRY_CAST(${name} AS DOUBLE) IS NOT NULL`;
      break;
    case 'boolean':
      ok = `${name} IN ('true', 'false')`;
      break;
    default:
      ok = 'false';
  }
  return col.notNull ? `(${name} IS NOT NULL AND ${ok})` : `(${name} IS NULL OR (${ok}))`;
}

/**
 * Loads a clean `JSON 'auto'` COPY with DuckDB's own JSON reader, off the JavaScript thread.
 * On the side connection the files are staged as text columns and every value is checked
 * with the rules the JS path applies; only when all pass are the converted rows written to
 * a Parquet file that the caller's transaction inserts (which cannot fail on the data).
 * Returns undefined, having changed nothing in the caller's transaction, when anything is
 * unusual, so the JS path loads the COPY and reports each bad record precisely.
 */
async function tryNativeJson(
  env: CopyEnv,
  native: { readonly scratchDir: string; readonly conn: DuckDBConnection },
  copy: CopyStatement,
  table: TableInfo,
  cols: readonly LoadColumn[],
  files: readonly S3Object[],
): Promise<CopyOutcome | undefined> {
  const paths: string[] = [];
  const id = randomUUID();
  const parquet = join(native.scratchDir, `copy-${id}.parquet`);
  const stage = quoteIdent(`native_${id.replace(/-/g, '')}`);
  const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;
  try {
    for (const file of files) {
      let body: Buffer;
      try {
        body = await env.store.getObject(file.bucket, file.key);
      } catch (error) {
        if (isMissing(error)) throw loadFailed(`S3 object '${file.url}' does not exist`);
        throw error;
      }
      const path = join(native.scratchDir, `copy-${id}-${paths.length}.json${copy.gzip ? '.gz' : ''}`);
      await writeFile(path, body);
      paths.push(path);
    }
    env.checkCancelled();
    if (paths.length === 0) return { rowsLoaded: 0, errors: [], failed: false };
    const names = cols.map((_, i) => `c${i}`);
    const columns = cols.map((c) => `${literal(c.column.name)}: 'VARCHAR'`).join(', ');
    try {
      await native.conn.run(
        `CREATE OR REPLACE TEMP TABLE ${stage} AS SELECT ${cols
          .map((c, i) => `${quoteIdent(c.column.name)} AS ${names[i]}`)
          .join(', ')} FROM read_json([${paths.map(literal).join(', ')}], format = 'unstructured', ` +
          `records = true, compression = '${copy.gzip ? 'gzip' : 'none'}', columns = {${columns}}, ` +
          `maximum_object_size = 16777216)`,
      );
      env.checkCancelled();
      const checks = cols.map((c, i) => nativeCheck(names[i]!, c.column)).join(' AND ');
      const verdict = await native.conn.runAndReadAll(
        `SELECT count(*) FILTER (WHERE NOT (${checks}))::BIGINT FROM temp.main.${stage}`,
      );
      if (Number(verdict.getRows()[0]?.[0] ?? 1) !== 0) return undefined;
      await native.conn.run(
        `COPY (SELECT ${cols.map((c, i) => `CAST(${names[i]} AS ${c.column.type.duck}) AS ${names[i]}`).join(', ')} ` +
          `FROM temp.main.${stage}) TO ${literal(parquet)} (FORMAT parquet)`,
      );
    } catch {
      return undefined;
    }
    env.checkCancelled();
    const target = `${quoteIdent(table.catalog)}.${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
    const result = await env.conn.run(
      `INSERT INTO ${target} (${cols.map((c) => quoteIdent(c.column.name)).join(', ')}) ` +
        `SELECT ${names.join(', ')} FROM read_parquet(${literal(parquet)})`,
    );
    return { rowsLoaded: result.rowsChanged, errors: [], failed: false, native: true };
  } finally {
    await native.conn.run(`DROP TABLE IF EXISTS temp.main.${stage}`).catch(() => undefined);
    await Promise.all([...paths, parquet].map((p) => rm(p, { force: true })));
  }
}

async function readText(store: ObjectStore, file: S3Object, gzip: boolean): Promise<string> {
  let body: Buffer;
  try {
    body = await store.getObject(file.bucket, file.key);
  } catch (error) {
    if (isMissing(error)) throw loadFailed(`S3 object '${file.url}' does not exist`);
    throw error;
  }
  if (gzip && body.length > 0) {
    try {
      body = await gunzip(body);
    } catch (error) {
      throw loadFailed(`gzip: ${file.url}: ${(error as Error).message}`);
    }
  }
  let text = body.toString('utf8');
  // A byte-order mark is not data: a header line after it is still the first line.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text;
}

/** Builds the function that appends one row of converted values to the staging table. */
function makeRowAppender(cols: readonly LoadColumn[]): (app: DuckDBAppender, values: RowValues) => void {
  const n = cols.length;
  const kinds = cols.map((c) => c.staging);
  const flags = cols.map((c) => c.defaultWhenMissing);
  const anyFlags = flags.some(Boolean);
  return (app, values) => {
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null || v === undefined) {
        app.appendNull();
        continue;
      }
      switch (kinds[i]) {
        case 'VARCHAR':
          app.appendVarchar(v as string);
          break;
        case 'INTEGER':
          app.appendInteger(v as number);
          break;
        case 'BIGINT':
          app.appendBigInt(v as bigint);
          break;
        case 'DOUBLE':
          app.appendDouble(v as number);
          break;
        case 'BOOLEAN':
          app.appendBoolean(v as boolean);
          break;
      }
    }
    if (anyFlags) for (let i = 0; i < n; i++) if (flags[i]) app.appendBoolean(values[i] === undefined);
    app.endRow();
  };
}

interface Sink {
  /** Takes a converted row. */
  row(values: RowValues): void;
  /** How many more errors are allowed before MAXERROR stops the load. */
  room(): number;
  /** Takes a bad record; returns false when the load must stop (MAXERROR reached). */
  error(e: LoadError): boolean;
}

/** How often (records) a long load yields to the event loop so timeouts and cancels can fire. */
const YIELD_EVERY = 16384;

function yieldNow(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Converts one record's fields; returns the values or the error. */
function convert(
  cols: readonly LoadColumn[],
  kinds: ArrayLike<number>,
  texts: readonly string[],
  values: RowValues,
  file: string,
  line: number,
  raw: string,
): LoadError | undefined {
  for (let i = 0; i < cols.length; i++) {
    const col = cols[i] as LoadColumn;
    const kind = kinds[i] as number;
    if (kind === ValueKind.missing && col.defaultWhenMissing) {
      values[i] = undefined;
      continue;
    }
    let v: unknown;
    try {
      v = col.coerce(kind, texts[i] as string);
    } catch (error) {
      if (!(error instanceof LoadFailure)) throw error;
      return fieldError(col, i, file, line, raw, texts[i] ?? '', error.code, error.message);
    }
    if (v === null && col.column.notNull) {
      return fieldError(
        col,
        i,
        file,
        line,
        raw,
        kind === ValueKind.missing ? '' : (texts[i] ?? ''),
        LoadErrorCode.notNull,
        'Missing data for not-null field',
      );
    }
    values[i] = v;
  }
  return undefined;
}

function fieldError(
  col: LoadColumn,
  field: number,
  file: string,
  line: number,
  raw: string,
  value: string,
  code: number,
  reason: string,
): LoadError {
  return {
    file,
    line,
    raw,
    column: col.column.name,
    type: loadErrorTypeName(col.column.type),
    colLength: loadErrorColLength(col.column.type),
    field,
    fieldValue: value,
    code,
    reason,
  };
}

/** One step of a JSONPath expression: an object member or an array element. */
type JsonPath = readonly (string | number)[];

/**
 * Parses a JSONPath expression as Redshift COPY accepts it: `$.a.b`, `$['a']["b"]`, `$.a[0]`.
 * @see https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-format.html#copy-json-jsonpaths
 */
export function parseJsonPath(expr: string): JsonPath {
  const bad = (): SqlError =>
    new SqlError(`Invalid JSONPath expression: ${expr}`, SQLSTATE.invalidParameterValue);
  if (!expr.startsWith('$')) throw bad();
  const steps: (string | number)[] = [];
  let i = 1;
  while (i < expr.length) {
    const ch = expr[i];
    if (ch === '.') {
      const m = /^[^.[\]]+/.exec(expr.slice(i + 1));
      if (!m) throw bad();
      steps.push(m[0]);
      i += 1 + m[0].length;
    } else if (ch === '[') {
      const m = /^\[\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(\d+))\s*\]/.exec(expr.slice(i));
      if (!m) throw bad();
      steps.push(m[3] !== undefined ? Number(m[3]) : (m[1] ?? m[2] ?? '').replace(/\\(.)/g, '$1'));
      i += m[0].length;
    } else throw bad();
  }
  if (steps.length === 0) throw bad();
  return steps;
}

/** Reads a JSONPaths file; it must name one path per loaded column. */
async function readJsonPaths(store: ObjectStore, url: string, columns: number): Promise<JsonPath[]> {
  const { bucket, key } = parseUrl(url);
  let body: Buffer;
  try {
    body = await store.getObject(bucket, key);
  } catch (error) {
    if (isMissing(error)) throw loadFailed(`JSONPaths file '${url}' does not exist`);
    throw error;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8').replace(/^\uFEFF/, ''));
  } catch (error) {
    throw loadFailed(`JSONPaths file '${url}' is not valid JSON: ${(error as Error).message}`);
  }
  const list = (doc as { jsonpaths?: unknown } | null)?.jsonpaths;
  if (!Array.isArray(list) || !list.every((p) => typeof p === 'string'))
    throw loadFailed(`JSONPaths file '${url}' has no "jsonpaths" array of strings`);
  if (list.length !== columns)
    throw loadFailed(
      `Number of jsonpaths and the number of columns should match. JSONPath size: ${list.length}, Number of columns in table or column list: ${columns}`,
    );
  return (list as string[]).map(parseJsonPath);
}

/** The value a path selects in a record, as the scanner would report it. */
function jsonPathValue(record: unknown, path: JsonPath): [number, string] {
  let v: unknown = record;
  for (const step of path) {
    if (v === null || typeof v !== 'object') return [ValueKind.missing, ''];
    if (typeof step === 'number') {
      if (!Array.isArray(v)) return [ValueKind.missing, ''];
      v = v[step];
    } else {
      if (Array.isArray(v) || !Object.prototype.hasOwnProperty.call(v, step)) return [ValueKind.missing, ''];
      v = (v as Record<string, unknown>)[step];
    }
  }
  if (v === undefined) return [ValueKind.missing, ''];
  if (v === null) return [ValueKind.null, ''];
  if (typeof v === 'string') return [ValueKind.string, v];
  if (typeof v === 'number') return [ValueKind.number, String(v)];
  if (typeof v === 'boolean') return [v ? ValueKind.true : ValueKind.false, String(v)];
  return [ValueKind.nested, JSON.stringify(v)];
}

/** Loads JSON 'auto' records; returns false when MAXERROR stopped it. */
async function loadJson(
  text: string,
  file: string,
  cols: readonly LoadColumn[],
  copy: CopyStatement,
  sink: Sink,
  checkCancelled: () => void,
  paths?: readonly JsonPath[],
): Promise<boolean> {
  const keys = new Map<string, number>();
  if (!paths)
    cols.forEach((c, i) => keys.set(copy.jsonIgnoreCase ? c.column.name.toLowerCase() : c.column.name, i));
  // With JSONPaths the scanner only finds the records; the paths pick the values.
  const scanner = new JsonRecordScanner(text, keys, paths ? 0 : cols.length, copy.jsonIgnoreCase);
  const pathKinds = new Uint8Array(cols.length);
  const pathTexts = new Array<string>(cols.length).fill('');
  const values: RowValues = new Array(cols.length);
  // Errors are held to the end of the file: only then is it known whether objects share
  // lines (concatenated records are numbered by ordinal instead of line).
  const pending: { e: LoadError; ordinal: number }[] = [];
  const room = sink.room();
  let count = 0;
  for (;;) {
    const r = scanner.next();
    if (r === 'end') break;
    // With JSON, IGNOREHEADER counts lines.
    if (scanner.line <= copy.ignoreHeader) continue;
    if (++count % YIELD_EVERY === 0) {
      await yieldNow();
      checkCancelled();
    }
    let e: LoadError | undefined;
    if (r === 'error')
      e = { file, line: scanner.line, raw: '', code: LoadErrorCode.invalidInput, reason: scanner.error };
    else if (paths) {
      const record: unknown = JSON.parse(text.slice(scanner.recordStart, scanner.recordEnd));
      paths.forEach((path, i) => {
        const [kind, value] = jsonPathValue(record, path);
        pathKinds[i] = kind;
        pathTexts[i] = value;
      });
      e = convert(cols, pathKinds, pathTexts, values, file, scanner.line, '');
    } else e = convert(cols, scanner.kinds, scanner.texts, values, file, scanner.line, '');
    if (!e) {
      sink.row(values);
      continue;
    }
    pending.push({
      e: { ...e, raw: text.slice(scanner.recordStart, scanner.recordEnd) },
      ordinal: scanner.ordinal,
    });
    if (pending.length >= room) break;
  }
  for (const { e, ordinal } of pending) {
    if (!sink.error(scanner.sharedLine ? { ...e, line: ordinal } : e)) return false;
  }
  return true;
}

/** Loads CSV or delimited text records; returns false when MAXERROR stopped it. */
async function loadDelimited(
  text: string,
  file: string,
  cols: readonly LoadColumn[],
  copy: CopyStatement,
  sink: Sink,
  checkCancelled: () => void,
): Promise<boolean> {
  const n = cols.length;
  const kinds = new Uint8Array(n);
  const texts: string[] = new Array<string>(n).fill('');
  const values: RowValues = new Array(n);
  let count = 0;
  const records = copy.format === 'csv' ? csvRecords(text, copy) : textRecords(text, copy);
  for (const rec of records) {
    if (++count % YIELD_EVERY === 0) {
      await yieldNow();
      checkCancelled();
    }
    if ('error' in rec) {
      if (
        !sink.error({
          file,
          line: rec.line,
          raw: rec.raw,
          code: LoadErrorCode.invalidInput,
          reason: rec.error,
        })
      )
        return false;
      continue;
    }
    const fields = rec.fields;
    if (fields.length > n) {
      if (
        !sink.error({
          file,
          line: rec.line,
          raw: rec.raw,
          code: LoadErrorCode.extraColumns,
          reason: 'Extra column(s) found',
        })
      )
        return false;
      continue;
    }
    if (fields.length < n && !copy.fillRecord) {
      const col = cols[fields.length] as LoadColumn;
      if (
        !sink.error(
          fieldError(
            col,
            fields.length,
            file,
            rec.line,
            rec.raw,
            '',
            LoadErrorCode.delimiterNotFound,
            'Delimiter not found',
          ),
        )
      )
        return false;
      continue;
    }
    for (let i = 0; i < n; i++) {
      const f = fields[i];
      if (f === undefined || f === NULL) {
        kinds[i] = ValueKind.null;
        texts[i] = '';
      } else if (f === EMPTY) {
        kinds[i] = ValueKind.empty;
        texts[i] = '';
      } else {
        kinds[i] = ValueKind.string;
        texts[i] = f;
      }
    }
    const err = convert(cols, kinds, texts, values, file, rec.line, rec.raw);
    if (err) {
      if (!sink.error(err)) return false;
      continue;
    }
    sink.row(values);
  }
  return true;
}

type DelimitedRecord =
  { fields: Field[]; line: number; raw: string } | { error: string; line: number; raw: string };

function stripLineEnd(s: string): string {
  return s.replace(/\r?\n$/, '').replace(/\r$/, '');
}

/**
 * CSV records via csv-parse (quotes, doubled quotes, CRLF, a missing final newline). A
 * malformed record is one error; parsing resumes on the line after it.
 */
function csvRecords(text: string, copy: CopyStatement): DelimitedRecord[] {
  const out: DelimitedRecord[] = [];
  const nullAs = copy.nullAs ?? '\\N';
  let rest = Buffer.from(text, 'utf8');
  let lineBase = 0;
  let fromLine = copy.ignoreHeader + 1;
  while (rest.length > 0) {
    let lastLine = 0;
    try {
      parseCsv(rest, {
        delimiter: copy.delimiter,
        quote: copy.quote,
        escape: copy.quote,
        relax_column_count: true,
        relax_quotes: true,
        skip_empty_lines: true,
        from_line: fromLine,
        raw: true,
        info: true,
        cast: (value: string, ctx: { quoting: boolean }) =>
          ctx.quoting ? value : value === '' ? EMPTY : value === nullAs ? NULL : value,
        on_record: (rec: { record: Field[]; raw: string; info: { lines: number } }) => {
          out.push({ fields: rec.record, line: lineBase + rec.info.lines, raw: stripLineEnd(rec.raw) });
          lastLine = rec.info.lines;
          return undefined;
        },
      } as unknown as CsvOptions);
      return out;
    } catch (error) {
      const e = error as { code?: string; lines?: number; bytes_records?: number; message: string };
      if (typeof e.code !== 'string' || !e.code.startsWith('CSV_') || e.lines === undefined) throw error;
      // Resume after the line where parsing broke; the bad record spans from the end of the
      // last good record to there.
      const startByte = e.bytes_records ?? 0;
      let endByte = startByte;
      let linesToSkip = Math.max(1, e.lines - Math.max(lastLine, fromLine - 1));
      while (endByte < rest.length && linesToSkip > 0) {
        const nl = rest.indexOf(10, endByte);
        if (nl < 0) {
          endByte = rest.length;
          break;
        }
        endByte = nl + 1;
        linesToSkip--;
      }
      out.push({
        error: e.message.replace(/ at line \d+.*$/s, ''),
        line: lineBase + e.lines,
        raw: stripLineEnd(rest.subarray(startByte, endByte).toString('utf8')),
      });
      lineBase += e.lines;
      rest = rest.subarray(endByte);
      fromLine = 1;
    }
  }
  return out;
}

/**
 * Delimited text (Redshift's default format): one record per line, fields split on the
 * delimiter; ESCAPE makes a backslash quote the next character (delimiter, newline,
 * backslash); REMOVEQUOTES strips surrounding double quotes and keeps delimiters inside.
 */
function textRecords(text: string, copy: CopyStatement): DelimitedRecord[] {
  const out: DelimitedRecord[] = [];
  const nullAs = copy.nullAs ?? '\\N';
  const delim = copy.delimiter;
  let line = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const startLine = line + 1;
    const fields: Field[] = [];
    let field = '';
    let quoted = false;
    let inQuotes = false;
    const rawStart = i;
    for (;;) {
      if (i >= n) break;
      const ch = text[i] as string;
      if (copy.escape && ch === '\\' && i + 1 < n) {
        const next = text[i + 1] as string;
        if (next === '\n') line++;
        field += next === 'n' ? '\n' : next === 't' ? '\t' : next;
        i += 2;
        continue;
      }
      if (copy.removeQuotes && ch === '"' && (field === '' || inQuotes)) {
        if (!inQuotes && field === '') {
          inQuotes = true;
          quoted = true;
          i++;
          continue;
        }
        if (inQuotes) {
          inQuotes = false;
          i++;
          continue;
        }
      }
      if (ch === '\n' && !inQuotes) break;
      if (ch === delim && !inQuotes) {
        fields.push(quoted ? field : field === '' ? EMPTY : field === nullAs ? NULL : field);
        field = '';
        quoted = false;
        i++;
        continue;
      }
      if (ch === '\n') line++;
      field += ch;
      i++;
    }
    const raw = stripLineEnd(text.slice(rawStart, i));
    i++; // the newline
    line++;
    if (field.endsWith('\r') && !quoted) field = field.slice(0, -1);
    if (startLine <= copy.ignoreHeader) continue;
    if (raw === '' && fields.length === 0) {
      if (copy.ignoreBlankLines || i >= n) continue;
      out.push({ error: 'Input line contained no data', line: startLine, raw });
      continue;
    }
    fields.push(quoted ? field : field === '' ? EMPTY : field === nullAs ? NULL : field);
    out.push({ fields, line: startLine, raw });
  }
  return out;
}
