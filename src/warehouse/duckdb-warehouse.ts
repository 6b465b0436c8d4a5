/**
 * The embedded warehouse: Redshift SQL on a DuckDB file `<dir>/dev.duckdb` (so the
 * catalog is `dev`), in UTC, with a memory limit, a thread budget, a spill directory and a
 * statement timeout.
 *
 * Sessions each own a DuckDB connection. Deliveries load through one loader connection,
 * one batch at a time, each in one transaction with its ledger row (the exactly-once
 * guarantee in index.ts). Metadata lives in schema `_sluice` of the same file (catalog.ts).
 *
 * Choices worth knowing:
 * - The database runs with external access disabled and its configuration locked once
 *   opened, so SQL cannot read or write host files (read_csv('/etc/passwd'), ATTACH).
 * - Integer division truncates (`7/2` is 3), as in Redshift; division by zero gives NULL
 *   (DuckDB's behaviour) rather than an error.
 * - A script of several statements runs them one by one, each in its own transaction
 *   unless the script opens one with BEGIN.
 * - Error positions are 1-based offsets in the whole script passed to execute().
 */
import { mkdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  DuckDBInstance,
  listValue,
  ResultReturnType,
  StatementType,
  type DuckDBConnection,
  type DuckDBValue,
} from '@duckdb/node-api';
import { silentLogger, type Logger } from '../util/logger.ts';
import {
  allDeclaredTypes,
  bootstrap,
  findTable,
  forgetSchema,
  forgetTable,
  META_SCHEMA,
  recordColumns,
  writeLoadErrors,
  type LoadErrorContext,
  type Query,
  type TableInfo,
} from './catalog.ts';
import { runCopy, type LoadError } from './copy.ts';
import {
  renderCreateTable,
  sourceOffset,
  translate,
  type CopyStatement,
  type Plan,
  type QueryPlan,
  type TableName,
} from './dialect.ts';
import { sqlErrorFromDuckDb, SQLSTATE, withScriptContext } from './errors.ts';
import {
  SqlError,
  type BatchLoad,
  type BatchLoadResult,
  type ColumnInfo,
  type DuckDbWarehouseOptions,
  type QueryResult,
  type RejectedRecord,
  type ScramVerifier,
  type Warehouse,
  type WarehouseSession,
} from './index.ts';
import { quoteIdent, quoteString } from './lexer.ts';
import { splitStatements, type ScriptStatement } from './split.ts';
import type { SqlType } from './types.ts';
import { authenticateUser, findUser, upsertUser, type UserDb, type UserRecord } from './users.ts';
import { jsonValue, pgColumnName, pgTypeName } from './values.ts';

/** Runs async jobs one at a time, in order. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job, job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

function toDuckParam(v: unknown): DuckDBValue {
  if (Array.isArray(v)) return listValue(v as DuckDBValue[]);
  return v as DuckDBValue;
}

/** A Query on a connection (rows as DuckDB values: strings, numbers, bigints, booleans). */
function queryOn(conn: DuckDBConnection): Query {
  return async (sql, params) => {
    const reader = await conn.runAndReadAll(sql, params ? params.map(toDuckParam) : undefined);
    return reader.getRows() as unknown[][];
  };
}

/** True for an error DuckDB raised ("Catalog Error: ...", "Constraint Error: ..."). */
function isDuckDbError(error: unknown): boolean {
  return error instanceof Error && !(error instanceof SqlError) && /^[A-Za-z ]+ Error: /.test(error.message);
}

/** The schema Redshift puts unqualified names in by default. */
const DEFAULT_SEARCH_PATH: readonly string[] = ['$user', 'public'];

/** Redshift's message for a COPY that reached MAXERROR. */
function loadFailedError(table: string): SqlError {
  return new SqlError(
    `Load into table '${table}' failed. Check 'stl_load_errors' system table for details.`,
    SQLSTATE.internalError,
  );
}

function toRejected(e: LoadError): RejectedRecord {
  return {
    file: e.file,
    lineNumber: e.line,
    raw: e.raw,
    ...(e.column !== undefined ? { column: e.column } : {}),
    errCode: e.code,
    reason: e.reason,
  };
}

/** What sessions need from the warehouse. */
interface SessionHost {
  readonly options: DuckDbWarehouseOptions;
  readonly logger: Logger;
  catalogVersion: number;
  declaredTypes(): Promise<Map<string, Map<string, SqlType>>>;
  recordLoadErrorsApart(errors: readonly LoadError[], ctx: LoadErrorContext): Promise<void>;
  nextStagingName(): string;
  nextQueryId(): number;
  forget(session: DuckDbSession): void;
}

/** The folder where COPY stages files for DuckDB's own readers (emptied at every start). */
function stagingDir(dir: string): string {
  return join(dir, 'staging');
}

/** Opens the warehouse in `options.dir` (creating it on first use). */
export async function createDuckDbWarehouse(options: DuckDbWarehouseOptions): Promise<Warehouse> {
  const spill = join(options.dir, 'spill');
  await mkdir(spill, { recursive: true });
  await rm(stagingDir(options.dir), { recursive: true, force: true });
  await mkdir(stagingDir(options.dir), { recursive: true });
  const threads = options.threads ?? Math.max(1, availableParallelism() - 1);
  const instance = await DuckDBInstance.create(join(options.dir, 'dev.duckdb'), {
    memory_limit: options.memoryLimit ?? '2GB',
    threads: String(threads),
    temp_directory: spill,
  });
  const system = await instance.connect();
  let queryCounter = 0;
  try {
    await system.run("SET GLOBAL TimeZone = 'UTC'");
    await system.run('SET GLOBAL integer_division = true');
    await bootstrap(queryOn(system));
    const lastQuery = await queryOn(system)(
      `SELECT coalesce(max(query), 0) FROM ${META_SCHEMA}.stl_load_errors`,
    );
    queryCounter = Number(lastQuery[0]?.[0] ?? 0);
    // From here on SQL cannot touch host files, and no one can switch that back.
    // The native COPY path stages files in one folder of the warehouse's own.
    await system.run(`SET allowed_directories = ['${stagingDir(options.dir).replace(/'/g, "''")}/']`);
    await system.run('SET enable_external_access = false');
    await system.run('SET lock_configuration = true');
  } catch (error) {
    system.disconnectSync();
    instance.closeSync();
    throw error;
  }
  return new DuckDbWarehouse(instance, system, options, queryCounter);
}

class DuckDbWarehouse implements Warehouse, SessionHost {
  readonly logger: Logger;
  catalogVersion = 0;
  private readonly sessions = new Set<DuckDbSession>();
  private readonly systemSerial = new Serial();
  private readonly userSerial = new Serial();
  private readonly loaderSerial = new Serial();
  private loader: DuckDBConnection | undefined;
  /** Side connection of the native COPY path (outside the loader's transaction). */
  private loaderSide: DuckDBConnection | undefined;
  private nextSessionId = 1;
  private stagingCounter = 0;
  private declared: { version: number; types: Promise<Map<string, Map<string, SqlType>>> } | undefined;
  private closed = false;
  private readonly userDb: UserDb;
  private readonly users = new Map<string, UserRecord>();
  private readonly tables = new Map<string, { version: number; info: TableInfo }>();

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly system: DuckDBConnection,
    readonly options: DuckDbWarehouseOptions,
    private queryCounter: number,
  ) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'warehouse' });
    this.userDb = { query: (sql, params) => this.sys(sql, params as unknown[] | undefined) };
  }

  /** Runs one statement on the system connection. */
  private sys(sql: string, params?: readonly unknown[]): Promise<unknown[][]> {
    return this.systemSerial.run(() => queryOn(this.system)(sql, params));
  }

  private assertOpen(): void {
    if (this.closed) throw new SqlError('the warehouse is closed', '57P01');
  }

  async authenticate(user: string, password: string): Promise<boolean> {
    this.assertOpen();
    return authenticateUser(this.userDb, user, password);
  }

  async getScramVerifier(user: string): Promise<ScramVerifier | undefined> {
    this.assertOpen();
    return (await findUser(this.userDb, user))?.verifier;
  }

  async ensureUser(
    user: string,
    password: string,
    options: { readonly superuser?: boolean } = {},
  ): Promise<void> {
    this.assertOpen();
    if (!/^[A-Za-z_][A-Za-z0-9_$]{0,126}$/.test(user))
      throw new SqlError(`invalid user name "${user}"`, '42602');
    await this.userSerial.run(async () => {
      await upsertUser(this.userDb, user.toLowerCase(), password, options.superuser);
      this.users.delete(user.toLowerCase());
    });
  }

  async openSession(user: string): Promise<WarehouseSession> {
    this.assertOpen();
    const record = await this.user(user.toLowerCase());
    if (!record) throw new SqlError(`role "${user}" does not exist`, SQLSTATE.invalidAuthorization);
    const conn = await this.instance.connect();
    const session = new DuckDbSession(this, conn, record, this.nextSessionId++);
    this.sessions.add(session);
    return session;
  }

  forget(session: DuckDbSession): void {
    this.sessions.delete(session);
  }

  nextQueryId(): number {
    return ++this.queryCounter;
  }

  /** A user, cached until ensureUser changes it. */
  private async user(name: string): Promise<UserRecord | undefined> {
    const cached = this.users.get(name);
    if (cached) return cached;
    const found = await findUser(this.userDb, name);
    if (found) this.users.set(name, found);
    return found;
  }

  /** A table for the loader, cached until the catalog changes. */
  private async loaderTable(q: Query, table: TableName): Promise<TableInfo | undefined> {
    const key = `${table.schema ?? ''}.${table.name}`;
    const cached = this.tables.get(key);
    if (cached && cached.version === this.catalogVersion) return cached.info;
    const version = this.catalogVersion;
    const info = await findTable(q, table, ['public']);
    if (info) this.tables.set(key, { version, info });
    return info;
  }

  nextStagingName(): string {
    return `_sluice_stage_${++this.stagingCounter}`;
  }

  declaredTypes(): Promise<Map<string, Map<string, SqlType>>> {
    if (!this.declared || this.declared.version !== this.catalogVersion) {
      const types = this.systemSerial.run(() => allDeclaredTypes(queryOn(this.system)));
      this.declared = { version: this.catalogVersion, types };
      types.catch(() => {
        this.declared = undefined;
      });
    }
    return this.declared.types;
  }

  /** Records load errors in their own transaction (after a failed COPY rolled back). */
  async recordLoadErrorsApart(errors: readonly LoadError[], ctx: LoadErrorContext): Promise<void> {
    await this.systemSerial.run(async () => {
      const q = queryOn(this.system);
      await q('BEGIN');
      try {
        await writeLoadErrors(q, errors, ctx);
        await q('COMMIT');
      } catch (error) {
        await q('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  async loadBatch(load: BatchLoad): Promise<BatchLoadResult> {
    this.assertOpen();
    return this.loaderSerial.run(async () => {
      this.assertOpen();
      const statements = splitStatements(load.copy);
      const first = statements[0];
      if (statements.length !== 1 || !first)
        throw new SqlError('loadBatch needs exactly one COPY statement', SQLSTATE.syntaxError);
      const plan = translate(first.text);
      if (plan.kind !== 'copy') throw new SqlError('loadBatch needs a COPY statement', SQLSTATE.syntaxError);
      const user = await this.user(load.user.toLowerCase());
      if (!user) throw new SqlError(`role "${load.user}" does not exist`, SQLSTATE.invalidAuthorization);
      this.loader ??= await this.instance.connect();
      this.loaderSide ??= await this.instance.connect();
      const conn = this.loader;
      const q = queryOn(conn);
      const { ledger } = load;
      await conn.run('BEGIN');
      let open = true;
      try {
        const seen = await q(
          `SELECT 1 FROM ${META_SCHEMA}.load_ledger WHERE stream = $1 AND destination_id = $2 AND first_offset = $3`,
          [ledger.stream, ledger.destinationId, ledger.firstOffset],
        );
        if (seen.length > 0) {
          await conn.run('ROLLBACK');
          open = false;
          return { alreadyLoaded: true, rowsLoaded: 0, rejected: [] };
        }
        const table = await this.loaderTable(q, plan.copy.table);
        if (!table)
          throw new SqlError(`relation "${plan.copy.table.name}" does not exist`, SQLSTATE.undefinedTable);
        const ctx: LoadErrorContext = {
          userId: user.id,
          session: 0,
          query: this.nextQueryId(),
          tbl: table.oid,
          start: new Date(),
        };
        const outcome = await runCopy(
          {
            conn,
            store: this.options.objectStore,
            stagingName: this.nextStagingName(),
            checkCancelled: () => this.assertOpen(),
            rejectAll: load.rejectBadRecords,
            native: { scratchDir: stagingDir(this.options.dir), conn: this.loaderSide },
          },
          plan.copy,
          table,
        );
        if (outcome.failed) {
          await conn.run('ROLLBACK');
          open = false;
          await this.recordLoadErrorsApart(outcome.errors, ctx);
          throw loadFailedError(table.name);
        }
        await writeLoadErrors(q, outcome.errors, ctx);
        const rejected = outcome.errors.map(toRejected);
        if (load.beforeCommit) await load.beforeCommit(rejected);
        await q(
          `INSERT INTO ${META_SCHEMA}.load_ledger (stream, destination_id, first_offset, last_offset, manifest, rows_loaded, rows_rejected, loaded_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, timezone('UTC', now()))`,
          [
            ledger.stream,
            ledger.destinationId,
            ledger.firstOffset,
            ledger.lastOffset,
            plan.copy.from,
            outcome.rowsLoaded,
            rejected.length,
          ],
        );
        await conn.run('COMMIT');
        open = false;
        this.logger.debug(
          {
            stream: ledger.stream,
            firstOffset: ledger.firstOffset,
            lastOffset: ledger.lastOffset,
            rows: outcome.rowsLoaded,
            rejected: rejected.length,
          },
          'Loaded a delivery batch.',
        );
        return {
          alreadyLoaded: false,
          rowsLoaded: outcome.rowsLoaded,
          rejected,
          reader: outcome.native ? 'native' : 'records',
        };
      } catch (error) {
        if (open) await conn.run('ROLLBACK').catch(() => undefined);
        // DuckDB's errors become SqlErrors; the caller's own (from beforeCommit) pass unchanged.
        if (isDuckDbError(error)) throw sqlErrorFromDuckDb(error, '', () => undefined);
        throw error;
      }
    });
  }

  async loadedThrough(stream: string, destinationId: string): Promise<number> {
    this.assertOpen();
    const rows = await this.sys(
      `SELECT max(last_offset) FROM ${META_SCHEMA}.load_ledger WHERE stream = $1 AND destination_id = $2`,
      [stream, destinationId],
    );
    const v = rows[0]?.[0];
    return v === null || v === undefined ? -1 : Number(v);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.sessions].map((s) => s.close().catch(() => undefined)));
    await this.loaderSerial.run(async () => undefined);
    await this.systemSerial.run(async () => undefined);
    this.loader?.disconnectSync();
    this.loaderSide?.disconnectSync();
    this.system.disconnectSync();
    this.instance.closeSync();
  }
}

/** Settings SHOW reports when the session did not set them. */
const SHOW_DEFAULTS: Readonly<Record<string, string>> = {
  timezone: 'UTC',
  datestyle: 'ISO, MDY',
  client_encoding: 'UTF8',
  standard_conforming_strings: 'on',
  integer_datetimes: 'on',
  extra_float_digits: '0',
  application_name: '',
  query_group: 'default',
  intervalstyle: 'postgres',
};

const ACCEPTED = new Set([...Object.keys(SHOW_DEFAULTS)]);

class DuckDbSession implements WarehouseSession {
  transactionStatus: 'idle' | 'open' | 'failed' = 'idle';
  private readonly serial = new Serial();
  private searchPath: readonly string[] = DEFAULT_SEARCH_PATH;
  private applied: { path: string; version: number; schemas: readonly string[] } | undefined;
  private readonly settings = new Map<string, string>();
  private timeoutMs: number;
  private running = false;
  private cancelReason: 'user' | 'timeout' | undefined;
  private closed = false;

  constructor(
    private readonly host: SessionHost,
    private readonly conn: DuckDBConnection,
    private readonly record: UserRecord,
    private readonly id: number,
  ) {
    this.timeoutMs = host.options.statementTimeoutMs ?? 300_000;
  }

  get user(): string {
    return this.record.name;
  }

  execute(sql: string, options: { readonly signal?: AbortSignal } = {}): Promise<QueryResult[]> {
    if (this.closed) return Promise.reject(new SqlError('the session is closed', '08003'));
    return this.serial.run(async () => {
      const statements = splitStatements(sql);
      const results: QueryResult[] = [];
      const onAbort = (): void => this.cancel();
      options.signal?.addEventListener('abort', onAbort);
      try {
        for (const [index, st] of statements.entries()) {
          try {
            if (options.signal?.aborted) throw this.cancelledError('user');
            results.push(await this.runStatement(st));
          } catch (error) {
            if (this.transactionStatus === 'open') this.transactionStatus = 'failed';
            throw withScriptContext(this.asSqlError(error), { results: [...results], statementIndex: index });
          }
        }
        return results;
      } finally {
        options.signal?.removeEventListener('abort', onAbort);
      }
    });
  }

  cancel(): void {
    if (!this.running) return;
    this.cancelReason ??= 'user';
    this.conn.interrupt();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancel();
    await this.serial.run(async () => {
      if (this.transactionStatus !== 'idle') await this.conn.run('ROLLBACK').catch(() => undefined);
      this.transactionStatus = 'idle';
      this.conn.disconnectSync();
    });
    this.host.forget(this);
  }

  private cancelledError(reason: 'user' | 'timeout'): SqlError {
    return new SqlError(
      reason === 'timeout'
        ? 'canceling statement due to statement timeout'
        : 'canceling statement due to user request',
      SQLSTATE.queryCanceled,
    );
  }

  private asSqlError(error: unknown): SqlError {
    if (error instanceof SqlError) return error;
    this.host.logger.error({ err: error, session: this.id }, 'A statement failed with an unexpected error.');
    return new SqlError(error instanceof Error ? error.message : String(error), SQLSTATE.internalError);
  }

  /** Throws the cancel error when the running statement was cancelled or timed out. */
  private checkCancelled = (): void => {
    if (this.cancelReason) throw this.cancelledError(this.cancelReason);
  };

  private async runStatement(st: ScriptStatement): Promise<QueryResult> {
    let plan: Plan;
    try {
      plan = translate(st.text);
    } catch (error) {
      if (error instanceof SqlError && error.options.position !== undefined) {
        throw new SqlError(error.message, error.sqlstate, {
          ...error.options,
          position: error.options.position + st.offset,
        });
      }
      throw error;
    }
    if (this.transactionStatus === 'failed' && plan.kind !== 'transaction') {
      throw new SqlError(
        'current transaction is aborted, commands ignored until end of transaction block',
        SQLSTATE.inFailedTransaction,
      );
    }
    this.cancelReason = undefined;
    this.running = true;
    const timer = this.timeoutMs > 0 ? setTimeout(() => this.onTimeout(), this.timeoutMs) : undefined;
    try {
      const result = await this.runPlan(plan, st);
      this.checkCancelled();
      return result;
    } catch (error) {
      if (this.cancelReason) throw this.cancelledError(this.cancelReason);
      throw error;
    } finally {
      if (timer) clearTimeout(timer);
      this.running = false;
    }
  }

  private onTimeout(): void {
    if (!this.running) return;
    this.cancelReason ??= 'timeout';
    this.conn.interrupt();
  }

  /** Runs DuckDB SQL for a statement, mapping errors to SqlError with script positions. */
  private async duck(
    sql: string,
    st: ScriptStatement,
    pieces?: QueryPlan['pieces'],
    params?: readonly unknown[],
  ) {
    this.checkCancelled();
    try {
      return await this.conn.runAndReadAll(sql, params ? params.map(toDuckParam) : undefined);
    } catch (error) {
      if (this.cancelReason) throw this.cancelledError(this.cancelReason);
      throw sqlErrorFromDuckDb(error, sql, (offset) => {
        if (!pieces) return st.offset;
        const src = sourceOffset(pieces, offset);
        return src === undefined ? undefined : st.offset + src;
      });
    }
  }

  private query(st: ScriptStatement): Query {
    return async (sql, params) => (await this.duck(sql, st, undefined, params)).getRows() as unknown[][];
  }

  /** Runs `job` in the session's transaction, or in one of its own when none is open. */
  private async atomically<T>(job: () => Promise<T>): Promise<T> {
    if (this.transactionStatus !== 'idle') return job();
    await this.conn.run('BEGIN');
    try {
      const result = await job();
      await this.conn.run('COMMIT');
      return result;
    } catch (error) {
      await this.conn.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /** The schemas of search_path that exist, in order ($user is the user's own schema). */
  private async effectiveSearchPath(st: ScriptStatement): Promise<readonly string[]> {
    const path = this.searchPath.join(',');
    if (this.applied && this.applied.path === path && this.applied.version === this.host.catalogVersion)
      return this.applied.schemas;
    const existing = new Set(
      (await this.query(st)("SELECT schema_name FROM duckdb_schemas() WHERE database_name = 'dev'")).map(
        (r) => String(r[0]),
      ),
    );
    const schemas = this.searchPath
      .map((s) => (s === '$user' ? this.record.name : s))
      .filter((s) => existing.has(s));
    const duckPath = (schemas.length > 0 ? schemas : ['public']).map((s) => `dev.${quoteIdent(s)}`).join(',');
    await this.duck(`SET search_path = ${quoteString(duckPath)}`, st);
    this.applied = { path, version: this.host.catalogVersion, schemas };
    return schemas;
  }

  private async runPlan(plan: Plan, st: ScriptStatement): Promise<QueryResult> {
    const empty = (command: string, rowCount = 0): QueryResult => ({
      command,
      columns: [],
      rows: [],
      rowCount,
    });
    if (plan.kind !== 'transaction' && plan.kind !== 'set' && plan.kind !== 'show' && plan.kind !== 'noop')
      await this.effectiveSearchPath(st);
    switch (plan.kind) {
      case 'query':
        return this.runQuery(plan, st);
      case 'create-table':
        await this.createTable(plan, st);
        return empty('CREATE TABLE');
      case 'drop-table':
        await this.dropTables(plan.tables, plan.ifExists, st);
        return empty('DROP TABLE');
      case 'drop-schema':
        await this.dropSchemas(plan.schemas, plan.ifExists, plan.cascade, st);
        return empty('DROP SCHEMA');
      case 'copy':
        return empty('COPY', await this.copy(plan.copy, st));
      case 'set':
        this.applySet(plan.command, plan.name, plan.values);
        return empty(plan.command);
      case 'show':
        return this.show(plan.name);
      case 'transaction':
        return empty(await this.transaction(plan.command, st));
      case 'noop':
        return empty(plan.command);
    }
  }

  private async runQuery(plan: QueryPlan, st: ScriptStatement): Promise<QueryResult> {
    const reader = await this.duck(plan.sql, st, plan.pieces);
    if (
      plan.schemaChange ||
      plan.command.startsWith('CREATE') ||
      plan.command.startsWith('DROP') ||
      plan.command.startsWith('ALTER')
    )
      this.host.catalogVersion++;
    let command = plan.command;
    switch (reader.statementType) {
      case StatementType.INSERT:
        command = 'INSERT';
        break;
      case StatementType.UPDATE:
        command = 'UPDATE';
        break;
      case StatementType.DELETE:
        command = 'DELETE';
        break;
      default:
        break;
    }
    if (reader.returnType !== ResultReturnType.QUERY_RESULT) {
      return {
        command,
        columns: [],
        rows: [],
        rowCount: reader.returnType === ResultReturnType.CHANGED_ROWS ? reader.rowsChanged : 0,
      };
    }
    if (
      command === 'CREATE TABLE' ||
      command === 'CREATE VIEW' ||
      command === 'CREATE SCHEMA' ||
      command.startsWith('DROP') ||
      command.startsWith('ALTER') ||
      command === 'COMMENT'
    ) {
      return { command, columns: [], rows: [], rowCount: 0 };
    }
    const names = reader.columnNames();
    const types = reader.columnTypes();
    const rawRows = reader.getRows();
    const rows = rawRows.map((row) => row.map((v, i) => jsonValue(v, types[i] as (typeof types)[number])));
    const columns: ColumnInfo[] = names.map((name, i) => ({
      name: pgColumnName(name),
      type: pgTypeName(types[i] as (typeof types)[number]),
    }));
    const declared = await this.declaredResultTypes(plan.sql, columns);
    return { command, columns: declared ?? columns, rows, rowCount: rows.length };
  }

  /**
   * Names VARCHAR result columns by their declared type (`character varying(36)`) when the
   * column comes from a table the query reads whose column of that name is declared.
   */
  private async declaredResultTypes(
    sql: string,
    columns: readonly ColumnInfo[],
  ): Promise<ColumnInfo[] | undefined> {
    if (!columns.some((c) => c.type === 'character varying')) return undefined;
    const all = await this.host.declaredTypes();
    if (all.size === 0) return undefined;
    let tables: readonly string[];
    try {
      tables = this.conn.getTableNames(sql, true);
    } catch {
      return undefined;
    }
    const path = this.applied?.schemas ?? ['public'];
    const candidates: Map<string, SqlType>[] = [];
    for (const t of tables) {
      const parts = t.toLowerCase().split('.');
      const name = parts[parts.length - 1] as string;
      const schema = parts.length > 1 ? parts[parts.length - 2] : undefined;
      const hit = schema
        ? all.get(`${schema}.${name}`)
        : path.map((s) => all.get(`${s}.${name}`)).find((m) => m !== undefined);
      if (hit) candidates.push(hit);
    }
    if (candidates.length === 0) return undefined;
    return columns.map((c) => {
      if (c.type !== 'character varying') return c;
      const found = new Set(
        candidates
          .map((m) => m.get(c.name)?.pg)
          .filter((t): t is string => t !== undefined && /^character/.test(t)),
      );
      return found.size === 1 ? { name: c.name, type: [...found][0] as string } : c;
    });
  }

  private refuseMetadata(schema: string | undefined): void {
    if (schema === META_SCHEMA) throw new SqlError(`permission denied for schema ${META_SCHEMA}`, '42501');
  }

  private async createTable(
    plan: Extract<Plan, { kind: 'create-table' }>,
    st: ScriptStatement,
  ): Promise<void> {
    this.refuseMetadata(plan.table.schema);
    const q = this.query(st);
    const schema = plan.temporary
      ? undefined
      : (plan.table.schema ?? String((await q('SELECT current_schema()'))[0]?.[0]));
    if (plan.ifNotExists) {
      const existing = await findTable(
        q,
        { ...(schema ? { schema } : {}), name: plan.table.name },
        schema ? [schema] : [],
      );
      if (existing && (plan.temporary ? existing.catalog === 'temp' : existing.catalog === 'dev')) return;
    }
    const { statements, sequences } = renderCreateTable({ ...plan, ifNotExists: false }, schema);
    await this.atomically(async () => {
      for (const sql of statements) await this.duck(sql, st);
      if (schema) await recordColumns(q, schema, plan.table.name, plan.columns, sequences);
    });
    this.host.catalogVersion++;
  }

  private async dropTables(
    tables: readonly TableName[],
    ifExists: boolean,
    st: ScriptStatement,
  ): Promise<void> {
    const q = this.query(st);
    const path = await this.effectiveSearchPath(st);
    await this.atomically(async () => {
      for (const t of tables) {
        this.refuseMetadata(t.schema);
        const info = await findTable(q, t, path);
        if (!info) {
          if (ifExists) continue;
          throw new SqlError(`table "${t.name}" does not exist`, SQLSTATE.undefinedTable);
        }
        await this.duck(
          `DROP TABLE ${quoteIdent(info.catalog)}.${quoteIdent(info.schema)}.${quoteIdent(info.name)}`,
          st,
        );
        const sequences =
          info.catalog === 'dev'
            ? await forgetTable(q, info.schema, info.name)
            : info.columns.filter((c) => c.identity).map((c) => `${info.schema}.${info.name}_${c.name}_seq`);
        for (const seq of sequences) {
          const [s, n] = seq.split('.') as [string, string];
          await this.duck(
            `DROP SEQUENCE IF EXISTS ${quoteIdent(info.catalog)}.${quoteIdent(s)}.${quoteIdent(n)}`,
            st,
          );
        }
      }
    });
    this.host.catalogVersion++;
  }

  private async dropSchemas(
    schemas: readonly string[],
    ifExists: boolean,
    cascade: boolean,
    st: ScriptStatement,
  ): Promise<void> {
    const q = this.query(st);
    await this.atomically(async () => {
      for (const s of schemas) {
        this.refuseMetadata(s);
        await this.duck(
          `DROP SCHEMA ${ifExists ? 'IF EXISTS ' : ''}${quoteIdent(s)}${cascade ? ' CASCADE' : ''}`,
          st,
        );
        await forgetSchema(q, s);
      }
    });
    this.host.catalogVersion++;
  }

  /** Runs a user COPY; returns the rows loaded. */
  private async copy(copy: CopyStatement, st: ScriptStatement): Promise<number> {
    const q = this.query(st);
    const path = await this.effectiveSearchPath(st);
    const table: TableInfo | undefined = await findTable(q, copy.table, path);
    if (!table)
      throw new SqlError(
        `relation "${copy.table.schema ? `${copy.table.schema}.` : ''}${copy.table.name}" does not exist`,
        SQLSTATE.undefinedTable,
      );
    this.refuseMetadata(table.schema);
    const ctx: LoadErrorContext = {
      userId: this.record.id,
      session: this.id,
      query: this.host.nextQueryId(),
      tbl: table.oid,
      start: new Date(),
    };
    const ownTransaction = this.transactionStatus === 'idle';
    if (ownTransaction) await this.conn.run('BEGIN');
    let open = ownTransaction;
    try {
      const outcome = await runCopy(
        {
          conn: this.conn,
          store: this.host.options.objectStore,
          stagingName: this.host.nextStagingName(),
          checkCancelled: this.checkCancelled,
          rejectAll: false,
        },
        copy,
        table,
      );
      if (outcome.failed) {
        if (ownTransaction) {
          await this.conn.run('ROLLBACK');
          open = false;
        }
        await this.host.recordLoadErrorsApart(outcome.errors, ctx);
        throw loadFailedError(table.name);
      }
      await writeLoadErrors(q, outcome.errors, ctx);
      if (ownTransaction) {
        await this.conn.run('COMMIT');
        open = false;
      }
      return outcome.rowsLoaded;
    } catch (error) {
      if (open) await this.conn.run('ROLLBACK').catch(() => undefined);
      if (error instanceof SqlError) throw error;
      if (this.cancelReason) throw this.cancelledError(this.cancelReason);
      throw sqlErrorFromDuckDb(error, '', () => st.offset);
    }
  }

  private applySet(command: 'SET' | 'RESET', name: string, values: readonly string[]): void {
    const reset = command === 'RESET' || values.length === 0;
    if (name === 'all' && command === 'RESET') {
      this.searchPath = DEFAULT_SEARCH_PATH;
      this.timeoutMs = this.host.options.statementTimeoutMs ?? 300_000;
      this.settings.clear();
      return;
    }
    switch (name) {
      case 'search_path':
        if (values.some((v) => v.toLowerCase().includes(META_SCHEMA)))
          throw new SqlError(`permission denied for schema ${META_SCHEMA}`, '42501');
        this.searchPath = reset
          ? DEFAULT_SEARCH_PATH
          : values
              .map((v) => v.trim())
              .flatMap((v) => v.split(',').map((s) => s.trim().replace(/^"(.*)"$/, '$1')));
        return;
      case 'timezone': {
        const v = (values[0] ?? 'UTC').toUpperCase();
        if (!reset && !['UTC', 'GMT', 'ETC/UTC', 'Z', 'ZULU', 'UCT', '0', 'DEFAULT', 'LOCAL'].includes(v)) {
          throw new SqlError(
            `time zone "${values[0] ?? ''}": only UTC is supported`,
            SQLSTATE.featureNotSupported,
          );
        }
        return;
      }
      case 'statement_timeout': {
        if (reset) {
          this.timeoutMs = this.host.options.statementTimeoutMs ?? 300_000;
          this.settings.delete(name);
          return;
        }
        const m = /^(\d+)\s*(ms|s|min|h)?$/i.exec(values[0] ?? '');
        if (!m)
          throw new SqlError(
            `invalid value for parameter "statement_timeout": "${values[0] ?? ''}"`,
            SQLSTATE.invalidParameterValue,
          );
        const unit = (m[2] ?? 'ms').toLowerCase();
        this.timeoutMs =
          Number(m[1]) * (unit === 's' ? 1000 : unit === 'min' ? 60_000 : unit === 'h' ? 3_600_000 : 1);
        this.settings.set(name, String(this.timeoutMs));
        return;
      }
      default:
        if (!ACCEPTED.has(name) && !ACCEPTED_EXTRA.has(name))
          throw new SqlError(`unrecognized configuration parameter "${name}"`, SQLSTATE.undefinedObject);
        if (reset) this.settings.delete(name);
        else this.settings.set(name, values.join(', '));
    }
  }

  private show(name: string): QueryResult {
    let value: string | undefined;
    if (name === 'search_path') value = this.searchPath.join(', ');
    else if (name === 'statement_timeout') value = String(this.timeoutMs);
    else value = this.settings.get(name) ?? SHOW_DEFAULTS[name];
    if (value === undefined)
      throw new SqlError(`unrecognized configuration parameter "${name}"`, SQLSTATE.undefinedObject);
    return { command: 'SHOW', columns: [{ name, type: 'text' }], rows: [[value]], rowCount: 1 };
  }

  private async transaction(command: 'BEGIN' | 'COMMIT' | 'ROLLBACK', st: ScriptStatement): Promise<string> {
    switch (command) {
      case 'BEGIN':
        // Like PostgreSQL, BEGIN inside a transaction block only warns.
        if (this.transactionStatus === 'idle') {
          await this.duck('BEGIN', st);
          this.transactionStatus = 'open';
        }
        return 'BEGIN';
      case 'COMMIT':
        if (this.transactionStatus === 'failed') {
          await this.conn.run('ROLLBACK').catch(() => undefined);
          this.transactionStatus = 'idle';
          return 'ROLLBACK';
        }
        if (this.transactionStatus === 'open') {
          this.transactionStatus = 'idle';
          try {
            await this.duck('COMMIT', st);
          } catch (error) {
            await this.conn.run('ROLLBACK').catch(() => undefined);
            throw error;
          } finally {
            // DDL inside the block becomes visible to other connections only now.
            this.host.catalogVersion++;
          }
        }
        return 'COMMIT';
      case 'ROLLBACK':
        if (this.transactionStatus !== 'idle') {
          this.transactionStatus = 'idle';
          await this.conn.run('ROLLBACK').catch(() => undefined);
          // DDL rolled back: cached catalog facts may be stale.
          this.host.catalogVersion++;
        }
        return 'ROLLBACK';
    }
  }
}

/** Settings accepted by SET (and stored) without a default to SHOW. */
const ACCEPTED_EXTRA: ReadonlySet<string> = new Set([
  'client_min_messages',
  'enable_result_cache_for_session',
  'analyze_threshold_percent',
  'wlm_query_slot_count',
  'bytea_output',
  'lc_messages',
  'lc_monetary',
  'lc_numeric',
  'lc_time',
  'default_transaction_isolation',
  'describe_field_name_in_uppercase',
  'enable_case_sensitive_identifier',
  'geqo',
  'max_cursor_result_set_size',
  'seclabel',
]);
