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
  alterDesign,
  bootstrap,
  findTable,
  forgetSchema,
  forgetTable,
  META_SCHEMA,
  recordColumns,
  recordCreatedDesign,
  recordDesign,
  writeLoadErrors,
  type LoadErrorContext,
  type Query,
  type TableInfo,
} from './catalog.ts';
import { runCopy, type LoadError } from './copy.ts';
import { nameColumnsFromSource } from './column-names.ts';
import {
  appendCopyStage,
  copyTargetColumns,
  createCopyStage,
  dropCopyStage,
  loadCopyStage,
  type StdioCopy,
} from './copy-stdio.ts';
import { resolveLike } from './table-like.ts';
import { runUnload } from './unload.ts';
import {
  renderAddColumn,
  planWrites,
  renderCreateTable,
  sourceOffset,
  translate,
  type CopyStatement,
  type AlterTablePlan,
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
  type CopyInProgress,
  type CommitListener,
  type ConsoleDocument,
  type DuckDbWarehouseOptions,
  type QueryResult,
  type RejectedRecord,
  type ScramVerifier,
  type Warehouse,
  type WarehouseSession,
} from './index.ts';
import { quoteIdent, quoteString } from './lexer.ts';
import { splitStatements, type ScriptStatement } from './split.ts';
import {
  installCatalog,
  sessionStateKey,
  sessionVariablesSql,
  STATIC_SETTINGS,
  usesCatalog,
  type CatalogSessionState,
} from './pg-catalog.ts';
import {
  appendQueryLogRows,
  connectionLogInsertSql,
  QueryLog,
  type ConnectionLogEntry,
} from './system-tables.ts';
import type { SqlType } from './types.ts';
import {
  addToGroup,
  authenticateUser,
  changeGrants,
  createGroup,
  deleteUser,
  dropGroup,
  findUser,
  insertUser,
  removeFromGroup,
  renameUser,
  updateUser,
  upsertUser,
  type UserDb,
  type UserRecord,
} from './users.ts';
import {
  checkCreate,
  checkUse,
  createdRelation,
  dmlTarget,
  loadGrants,
  checkOwnerSelect,
  constantStrings,
  isRestrictedFunction,
  readsOf,
  restrictedCallIn,
  viewQuery,
  type Grants,
  type NamedRelation,
  identifierNames,
  ownedTarget,
  parseRelationName,
  permissionDenied,
  PRIVILEGE_SQLSTATE,
  superuserOnly,
  type RelationUse,
  type UserPlan,
} from './privileges.ts';
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
  /** stl_query, written in batches. */
  readonly queryLog: QueryLog;
  forget(session: DuckDbSession): void;
  /** Drops cached user records after CREATE / ALTER / DROP USER. */
  forgetUsers(): void;
  notifyCommit(tables: readonly string[], commands?: readonly string[]): void;
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
    await installCatalog(queryOn(system));
    const lastQuery = await queryOn(system)(
      `SELECT greatest((SELECT coalesce(max(query), 0) FROM ${META_SCHEMA}.stl_load_errors),
                       (SELECT coalesce(max(query), 0) FROM ${META_SCHEMA}.query_log))`,
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
  private readonly commitListeners = new Set<CommitListener>();
  readonly queryLog: QueryLog;

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly system: DuckDBConnection,
    readonly options: DuckDbWarehouseOptions,
    private queryCounter: number,
  ) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'warehouse' });
    this.userDb = { query: (sql, params) => this.sys(sql, params as unknown[] | undefined) };
    this.queryLog = new QueryLog(
      {
        run: (sql) => this.sys(sql),
        append: (entries) =>
          this.systemSerial.run(async () => {
            const appender = await this.system.createAppender('query_log', META_SCHEMA);
            try {
              appendQueryLogRows(appender, entries);
            } finally {
              appender.closeSync();
            }
          }),
      },
      (error) => this.logger.warn({ err: String(error) }, 'Writing stl_query failed; those rows are lost.'),
    );
  }

  recordConnection(entry: ConnectionLogEntry): void {
    if (this.closed) return;
    this.sys(connectionLogInsertSql([entry])).catch((error: unknown) =>
      this.logger.warn({ err: String(error), event: entry.event }, 'Writing stl_connection_log failed.'),
    );
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

  async getPasswordSecrets(
    user: string,
  ): Promise<
    { readonly scram?: ScramVerifier; readonly md5?: string; readonly superuser: boolean } | undefined
  > {
    this.assertOpen();
    const record = await findUser(this.userDb, user.toLowerCase());
    if (!record) return undefined;
    return {
      ...(record.verifier ? { scram: record.verifier } : {}),
      ...(record.md5 ? { md5: record.md5 } : {}),
      superuser: record.superuser,
    };
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

  forgetUsers(): void {
    this.users.clear();
  }

  forget(session: DuckDbSession): void {
    this.sessions.delete(session);
  }

  onCommit(listener: CommitListener): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  notifyCommit(tables: readonly string[], commands?: readonly string[]): void {
    for (const listener of this.commitListeners) {
      try {
        listener(tables, commands);
      } catch (error) {
        this.logger.error({ err: error }, 'A commit listener failed.');
      }
    }
  }

  async listDocuments(kind: string): Promise<ConsoleDocument[]> {
    const rows = await this.sys(
      `SELECT id, name, body, strftime(updated, '%Y-%m-%dT%H:%M:%SZ') FROM ${META_SCHEMA}.console_documents WHERE kind = $1 ORDER BY name, id`,
      [kind],
    );
    return rows.map(([id, name, body, updated]) => ({
      kind,
      id: String(id),
      name: String(name),
      body: String(body),
      updated: String(updated),
    }));
  }

  async saveDocument(document: Omit<ConsoleDocument, 'updated'>): Promise<void> {
    await this.systemSerial.run(async () => {
      const q = queryOn(this.system);
      await q('BEGIN');
      try {
        await q(`DELETE FROM ${META_SCHEMA}.console_documents WHERE kind = $1 AND id = $2`, [
          document.kind,
          document.id,
        ]);
        await q(
          `INSERT INTO ${META_SCHEMA}.console_documents VALUES ($1, $2, $3, $4, timezone('UTC', now()))`,
          [document.kind, document.id, document.name, document.body],
        );
        await q('COMMIT');
      } catch (error) {
        await q('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  async deleteDocument(kind: string, id: string): Promise<void> {
    await this.sys(`DELETE FROM ${META_SCHEMA}.console_documents WHERE kind = $1 AND id = $2`, [kind, id]);
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
        this.notifyCommit([`${plan.copy.table.schema ?? 'public'}.${plan.copy.table.name}`.toLowerCase()]);
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
    await this.queryLog.flush().catch(() => undefined);
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

/** A table or view as a session resolved its name; `temp` for the session's temporary ones. */
interface Relation {
  readonly schema: string;
  readonly name: string;
  readonly temp: boolean;
}

class DuckDbSession implements WarehouseSession {
  transactionStatus: 'idle' | 'open' | 'failed' = 'idle';
  /** The open transaction began READ ONLY. */
  private readOnlyTransaction = false;
  private readonly serial = new Serial();
  private searchPath: readonly string[] = DEFAULT_SEARCH_PATH;
  private applied: { path: string; version: number; schemas: readonly string[] } | undefined;
  private readonly settings = new Map<string, string>();
  private timeoutMs: number;
  private running = false;
  private cancelReason: 'user' | 'timeout' | undefined;
  private closed = false;
  /** NoticeResponse texts of the statement running now. */
  private notices: string[] = [];
  /** Process id clients see (the SQL port's, once it says). */
  private pid: number;
  /** The catalog variables last set on this connection (pg-catalog.ts). */
  private catalogKey = '';
  /** stl_query.query of the statement running now. */
  private currentQuery: number | undefined;
  /** stl_query.xid of the open transaction. */
  private xid = 0;

  constructor(
    private readonly host: SessionHost,
    private readonly conn: DuckDBConnection,
    private readonly record: UserRecord,
    private readonly id: number,
  ) {
    this.timeoutMs = host.options.statementTimeoutMs ?? 300_000;
    this.pid = id;
  }

  get user(): string {
    return this.record.name;
  }

  setClient(client: { readonly pid: number }): void {
    this.pid = client.pid;
  }

  /** Makes user, search_path and settings visible to the catalog macros, when they changed. */
  private async syncCatalogSession(sql: string, st: ScriptStatement): Promise<void> {
    if (sql.includes('stl_query')) await this.host.queryLog.flush();
    await this.effectiveSearchPath(st);
    const settings = new Map<string, string>(Object.entries(SHOW_DEFAULTS));
    for (const [k, v] of this.settings) settings.set(k, v);
    settings.set('statement_timeout', String(this.timeoutMs));
    const state: CatalogSessionState = {
      user: this.record.name,
      pid: this.pid,
      searchPath: this.searchPath,
      schemas: this.applied?.schemas ?? ['public'],
      settings,
    };
    const key = sessionStateKey(state);
    if (key === this.catalogKey) return;
    for (const stmt of sessionVariablesSql(state)) await this.duck(stmt, st);
    this.catalogKey = key;
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
        if (this.transactionStatus === 'idle' && results.some((r) => !/^(SELECT|SHOW|SET)/.test(r.command)))
          this.host.notifyCommit(
            [],
            results.map((r) => r.command),
          );
        return results;
      } finally {
        options.signal?.removeEventListener('abort', onAbort);
      }
    });
  }

  async copyIn(copy: StdioCopy): Promise<CopyInProgress> {
    const stagingName = this.host.nextStagingName();
    const target = await this.copyStep(async (st) => {
      const found = await this.copyInTarget(copy, st);
      await createCopyStage(this.conn, stagingName, found.columns.length);
      return found;
    });
    let over = false;
    const end = async (): Promise<void> => {
      if (over) return;
      over = true;
      await this.serial.run(() => dropCopyStage(this.conn, stagingName));
    };
    const step = async <T>(job: (st: ScriptStatement) => Promise<T>): Promise<T> => {
      if (over) throw new SqlError('the COPY has already ended', SQLSTATE.internalError);
      try {
        return await this.copyStep(job);
      } catch (error) {
        await end();
        throw error;
      }
    };
    return {
      columns: target.columns.map((c) => c.name),
      append: (decode) => step(async () => appendCopyStage(this.conn, stagingName, decode())),
      finish: async () => {
        const count = await step(() =>
          this.atomically(() => loadCopyStage(this.conn, stagingName, target.table, target.columns)),
        );
        await end();
        return { command: 'COPY', columns: [], rows: [], rowCount: count };
      },
      abort: async () => {
        if (over) return;
        await end();
        if (this.transactionStatus === 'open') this.transactionStatus = 'failed';
      },
    };
  }

  /** Runs a step of COPY FROM STDIN as a statement: in order, refused in a failed transaction, failing it on error. */
  private copyStep<T>(job: (st: ScriptStatement) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new SqlError('the session is closed', '08003'));
    return this.serial.run(async () => {
      const st: ScriptStatement = { text: '', offset: 0 };
      // Cancellable and under the statement timeout, like any statement.
      this.cancelReason = undefined;
      this.running = true;
      const timer = this.timeoutMs > 0 ? setTimeout(() => this.onTimeout(), this.timeoutMs) : undefined;
      try {
        if (this.transactionStatus === 'failed')
          throw new SqlError(
            'current transaction is aborted, commands ignored until end of transaction block',
            SQLSTATE.inFailedTransaction,
          );
        await this.effectiveSearchPath(st);
        const result = await job(st);
        this.checkCancelled();
        return result;
      } catch (error) {
        if (this.transactionStatus === 'open') this.transactionStatus = 'failed';
        if (this.cancelReason) throw this.cancelledError(this.cancelReason);
        if (error instanceof SqlError) throw error;
        if (isDuckDbError(error)) throw sqlErrorFromDuckDb(error, '', () => undefined);
        throw this.asSqlError(error);
      } finally {
        if (timer) clearTimeout(timer);
        this.running = false;
      }
    });
  }

  /** The table and columns a COPY FROM STDIN fills, after the privilege check. */
  private async copyInTarget(copy: StdioCopy, st: ScriptStatement) {
    const name = copy.table as NonNullable<StdioCopy['table']>;
    const path = await this.effectiveSearchPath(st);
    const table = await findTable(this.query(st), name, path);
    if (!table)
      throw new SqlError(
        `relation "${name.schema ? `${name.schema}.` : ''}${name.name}" does not exist`,
        SQLSTATE.undefinedTable,
      );
    this.refuseMetadata(table.schema);
    if (!this.record.superuser && table.catalog !== 'temp')
      checkUse(await loadGrants(this.query(st), this.record.name), {
        schema: table.schema,
        name: table.name,
        need: 'insert',
      });
    return { table, columns: copyTargetColumns(copy, table) };
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
    this.notices = [];
    const logged = plan.kind === 'query' || plan.kind === 'copy';
    const started = new Date();
    if (logged) {
      this.currentQuery = this.host.nextQueryId();
      if (this.transactionStatus === 'idle' || this.xid === 0) this.xid = this.currentQuery;
    }
    let aborted = true;
    try {
      if (plan.kind === 'query' && usesCatalog(plan.sql)) await this.syncCatalogSession(plan.sql, st);
      const result = await this.runPlan(plan, st);
      this.checkCancelled();
      aborted = false;
      return this.notices.length > 0 ? { ...result, notices: this.notices } : result;
    } catch (error) {
      if (this.cancelReason) throw this.cancelledError(this.cancelReason);
      throw error;
    } finally {
      if (timer) clearTimeout(timer);
      this.running = false;
      if (logged && this.currentQuery !== undefined) {
        this.host.queryLog.record({
          userId: this.record.id,
          query: this.currentQuery,
          xid: this.xid,
          pid: this.pid,
          text: st.text,
          start: started,
          end: new Date(),
          aborted,
          label: this.settings.get('query_group') ?? 'default',
        });
      }
      this.currentQuery = undefined;
      if (this.transactionStatus === 'idle') this.xid = 0;
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

  // ---- users and privileges (privileges.ts has the rules) ----

  /** Finds a table or view as the session sees it (temporary objects first, then search_path). */
  private async resolveRelation(
    table: { readonly schema?: string; readonly name: string },
    st: ScriptStatement,
    options: { readonly temp?: boolean } = {},
  ): Promise<Relation | undefined> {
    const name = table.name.toLowerCase();
    const rows = await this.query(st)(
      `SELECT database_name, schema_name, table_name FROM duckdb_tables() WHERE lower(table_name) = $1
       UNION ALL SELECT database_name, schema_name, view_name FROM duckdb_views() WHERE lower(view_name) = $1 AND NOT internal`,
      [name],
    );
    const found = rows.map((r) => ({ db: String(r[0]), schema: String(r[1]), name }));
    const pick = (db: string, schema: string) => found.find((f) => f.db === db && f.schema === schema);
    if (table.schema) {
      const schema = table.schema.toLowerCase();
      const hit = pick('dev', schema) ?? found.find((f) => f.schema === schema);
      return hit ? { schema: hit.schema, name, temp: hit.db === 'temp' } : undefined;
    }
    const temp = options.temp === false ? undefined : found.find((f) => f.db === 'temp');
    if (temp) return { schema: temp.schema, name, temp: true };
    for (const schema of this.applied?.schemas ?? ['public']) {
      const hit = pick('dev', schema);
      if (hit) return { schema, name, temp: false };
    }
    return undefined;
  }

  /**
   * The relations a DuckDB query names itself (views as views, CTEs left out), each as
   * `resolve` finds it; undefined when DuckDB cannot serialize the query. Refuses DuckDB's
   * file and query-text functions unless `restricted` functions are allowed.
   */
  private async directReads(
    sql: string,
    st: ScriptStatement,
    resolve: (n: NamedRelation) => Promise<readonly Relation[]>,
    restricted: boolean,
  ): Promise<Relation[] | undefined> {
    let parsed: { error?: unknown; statements?: unknown };
    try {
      const [row] = await this.query(st)('SELECT json_serialize_sql($1::VARCHAR)', [sql]);
      parsed = JSON.parse(String(row?.[0])) as typeof parsed;
    } catch {
      return undefined;
    }
    if (parsed.error !== false) return undefined;
    const reads = readsOf(parsed.statements);
    const names = [...reads.tables];
    for (const f of reads.functions) {
      if (!isRestrictedFunction(f.name)) continue;
      const tables = f.name === 'query_table' ? constantStrings(f.args) : undefined;
      if (tables && f.args.length > 0)
        for (const t of tables) {
          const n = parseRelationName(t);
          if (!n) throw permissionDenied('function', f.name);
          names.push({ ...(n.schema ? { schema: n.schema.toLowerCase() } : {}), name: n.name.toLowerCase() });
        }
      else if (!restricted) throw permissionDenied('function', f.name);
    }
    const out: Relation[] = [];
    const seen = new Set<string>();
    for (const n of names) {
      const key = `${n.schema ?? ''}.${n.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const hits = await resolve(n);
      // A name no relation has that looks like a path is DuckDB's file scan (FROM 'x.csv').
      if (hits.length === 0 && !restricted && !n.schema && /[/.:]/.test(n.name))
        throw permissionDenied('relation', n.name);
      out.push(...hits);
    }
    return out;
  }

  /**
   * Checks that the signed-in user may read what a DuckDB query reads: SELECT on each
   * relation it names, and through views, their owners' SELECT (see `checkViewReads`).
   */
  private async authorizeQuery(sql: string, grants: Grants, st: ScriptStatement): Promise<void> {
    const query = sql.replace(/^\s*explain\b(\s+analy[sz]e\b)?(\s+verbose\b)?/i, '');
    const resolve = async (n: NamedRelation) => {
      // DuckDB reads `dev.t`, when no schema dev exists, as the database's default schema.
      const hit =
        (await this.resolveRelation(n, st)) ??
        (n.schema === 'dev' ? await this.resolveRelation({ schema: 'main', name: n.name }, st) : undefined);
      return hit ? [hit] : [];
    };
    const direct = await this.directReads(query, st, resolve, false);
    const reached: Relation[] = [];
    if (direct) await this.authorizeReads(direct, grants, st, reached);
    // What DuckDB's binder reports beyond that (or everything, when the query could not be
    // serialized) is checked against the reader. It names tables inside views without their
    // schema, so a bare name reached through a view counts as accounted for.
    let bound: readonly string[] = [];
    try {
      bound = this.conn.getTableNames(query, true);
    } catch {
      // The serialized form above is what there is, or DuckDB refuses the query itself.
    }
    const extra: Relation[] = [];
    for (const text of bound) {
      const n = parseRelationName(text);
      if (!n) continue;
      const name = n.name.toLowerCase();
      const schema = n.schema?.toLowerCase();
      if (reached.some((r) => r.name === name && (schema === undefined || r.schema === schema))) continue;
      const hit = await this.resolveRelation({ ...(schema ? { schema } : {}), name }, st);
      if (hit) extra.push(hit);
    }
    await this.authorizeReads(extra, grants, st, reached);
  }

  /**
   * Checks reads of relations the signed-in user named: SELECT (and USAGE on the schema) for
   * the user, then for each view, its owner's privileges on what it reads. `reached` collects
   * every relation reached, views' contents included.
   */
  private async authorizeReads(
    relations: readonly Relation[],
    grants: Grants,
    st: ScriptStatement,
    reached: Relation[] = [],
  ): Promise<void> {
    const views = new Set<string>();
    const owners = new Map<string, Grants | undefined>();
    for (const rel of relations) {
      if (!rel.temp) checkUse(grants, { schema: rel.schema, name: rel.name, need: 'select' });
      reached.push(rel);
      await this.checkViewReads(rel, st, views, owners, reached);
    }
  }

  /**
   * When `view` is a view: checks that its owner has SELECT on every relation its definition
   * names, and so on down through views over views (each view once, which also ends cycles).
   * `owners` caches owners' grants; undefined for a superuser owner, who needs none.
   */
  private async checkViewReads(
    view: Relation,
    st: ScriptStatement,
    done: Set<string>,
    owners: Map<string, Grants | undefined>,
    reached: Relation[],
  ): Promise<void> {
    const db = view.temp ? 'temp' : 'dev';
    const key = `${db}.${view.schema}.${view.name}`;
    if (done.has(key)) return;
    done.add(key);
    const q = this.query(st);
    const [def] = await q(
      `SELECT sql FROM duckdb_views() WHERE database_name = $1 AND schema_name = $2 AND lower(view_name) = $3 AND NOT internal`,
      [db, view.schema, view.name],
    );
    if (!def) return;
    // A temporary view belongs to this session's user; a view with no owner row, to a superuser.
    let owner: string | undefined = this.record.name;
    if (!view.temp) {
      const rows = await q(
        `SELECT grantee FROM ${META_SCHEMA}.privileges
          WHERE object_type = 'table' AND schema_name = $1 AND object_name = $2 AND privilege = 'owner' LIMIT 1`,
        [view.schema, view.name],
      );
      owner = rows[0] ? String(rows[0][0]) : undefined;
    }
    if (owner !== undefined && !owners.has(owner)) {
      const [user] = await q(`SELECT usesuper FROM ${META_SCHEMA}.users WHERE usename = $1`, [owner]);
      const superuser = owner !== this.record.name && user?.[0] === true;
      owners.set(owner, superuser ? undefined : await loadGrants(q, owner));
    }
    const grants = owner === undefined ? undefined : owners.get(owner);
    const text = viewQuery(String(def[0]));
    const reads =
      text === undefined
        ? undefined
        : await this.directReads(text, st, (n) => this.resolveInView(n, view, st), grants === undefined);
    // A definition that cannot be read cannot be checked: refused rather than trusted.
    if (!reads) throw permissionDenied('relation', view.name);
    for (const rel of reads) {
      if (grants && !rel.temp) checkOwnerSelect(grants, rel.schema, rel.name);
      reached.push(rel);
      await this.checkViewReads(rel, st, done, owners, reached);
    }
  }

  /**
   * What a name in a view's definition may refer to: DuckDB looks in the view's own schema
   * first, then along the search path. Where that is ambiguous (a temporary object of the
   * same name), every candidate is returned, so each is checked.
   */
  private async resolveInView(n: NamedRelation, view: Relation, st: ScriptStatement): Promise<Relation[]> {
    if (n.schema) {
      const hit =
        (await this.resolveRelation(n, st)) ??
        (n.schema === 'dev' ? await this.resolveRelation({ schema: 'main', name: n.name }, st) : undefined);
      return hit ? [hit] : [];
    }
    if (!view.temp) {
      const own = await this.resolveRelation({ schema: view.schema, name: n.name }, st);
      if (own && !own.temp) return [own];
    }
    const out: Relation[] = [];
    for (const hit of [await this.resolveRelation(n, st), await this.resolveRelation(n, st, { temp: false })])
      if (hit && !out.some((o) => o.schema === hit.schema && o.temp === hit.temp)) out.push(hit);
    return out;
  }

  /**
   * Every existing relation a statement's text names, read loosely: each identifier (or
   * dotted pair) that is the name of a table or view counts. For UPDATE and DELETE, whose
   * subqueries and FROM / USING lists DuckDB's parser does not report.
   */
  private async relationsNamedIn(sql: string, st: ScriptStatement) {
    const out: { schema: string; name: string; temp: boolean }[] = [];
    const seen = new Set<string>();
    for (const n of identifierNames(sql)) {
      const key = `${n.schema ?? ''}.${n.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const hit = await this.resolveRelation(n, st);
      if (hit) out.push(hit);
    }
    return out;
  }

  /** Refuses a statement the signed-in (non-super) user may not run. */
  private async authorize(plan: Plan, st: ScriptStatement): Promise<void> {
    const q = this.query(st);
    const grants = await loadGrants(q, this.record.name);
    const use = (
      rel: { schema: string; name: string; temp: boolean } | undefined,
      need: RelationUse['need'],
    ) => {
      if (rel && !rel.temp) checkUse(grants, { schema: rel.schema, name: rel.name, need });
    };
    switch (plan.kind) {
      case 'set':
      case 'show':
      case 'transaction':
      case 'noop':
        return;
      case 'user':
        // Users may change their own password, as in Redshift.
        if (
          plan.command === 'ALTER USER' &&
          plan.name === this.record.name &&
          plan.superuser === undefined &&
          plan.renameTo === undefined
        )
          return;
        if ((plan.command === 'GRANT' || plan.command === 'REVOKE') && plan.target.kind === 'table') {
          for (const t of plan.target.tables) use(await this.resolveRelation(t, st), 'owner');
          return;
        }
        if (plan.command === 'GRANT' || plan.command === 'REVOKE')
          throw permissionDenied(
            'schema',
            plan.target.kind === 'table' ? '' : (plan.target.schemas[0] ?? ''),
          );
        throw superuserOnly(`run ${plan.command}`);
      case 'create-table':
        if (!plan.temporary) checkCreate(grants, plan.table.schema ?? this.applied?.schemas[0] ?? 'public');
        return;
      case 'drop-table':
        for (const t of plan.tables) use(await this.resolveRelation(t, st), 'owner');
        return;
      case 'drop-schema':
        throw permissionDenied('schema', plan.schemas[0] ?? '');
      case 'copy':
        use(await this.resolveRelation(plan.copy.table, st), 'insert');
        return;
      case 'unload':
        await this.authorizeQuery(plan.unload.sql, grants, st);
        return;
      case 'alter-table':
        use(await this.resolveRelation(plan.table, st), 'owner');
        return;
      case 'query':
        break;
    }
    const command = plan.command;
    if (command === 'CREATE SCHEMA') throw new SqlError('permission denied for database dev', '42501');
    if (command === 'SELECT' || command === 'EXPLAIN') {
      await this.authorizeQuery(plan.sql, grants, st);
      return;
    }
    if (command === 'INSERT' || command === 'UPDATE' || command === 'DELETE') {
      const targetName = dmlTarget(plan.sql);
      const target = targetName ? await this.resolveRelation(targetName, st) : undefined;
      use(target, command.toLowerCase() as RelationUse['need']);
      // Whatever else an INSERT, UPDATE or DELETE names, it reads.
      const call = restrictedCallIn(plan.sql);
      if (call) throw permissionDenied('function', call);
      const named = await this.relationsNamedIn(plan.sql, st);
      await this.authorizeReads(
        named.filter((rel) => !target || rel.schema !== target.schema || rel.name !== target.name),
        grants,
        st,
      );
      // The rows an INSERT ... SELECT reads need SELECT.
      const select = /\b(?:select|with)\b/i.exec(plan.sql);
      if (command === 'INSERT' && select) await this.authorizeQuery(plan.sql.slice(select.index), grants, st);
      return;
    }
    if (command === 'CREATE TABLE' || command === 'CREATE VIEW') {
      const created = createdRelation(plan.sql);
      if (created && !/\btemp(orary)?\b/i.test(plan.sql.slice(0, 40)))
        checkCreate(grants, created.schema ?? this.applied?.schemas[0] ?? 'public');
      const query = /\bas\s*\(?\s*(?:select|with)\b/i.exec(plan.sql);
      if (query) await this.authorizeQuery(plan.sql.slice(query.index + 2), grants, st);
      return;
    }
    // DROP VIEW, ALTER TABLE, TRUNCATE, COMMENT: the owner's; anything else: a superuser's.
    const target = ownedTarget(plan.sql);
    if (!target) throw superuserOnly(`run ${command}`);
    use(await this.resolveRelation(target, st), 'owner');
  }

  /** DROP VIEW IF EXISTS of a missing view: PostgreSQL's notice. */
  private async noticeMissingView(plan: QueryPlan, st: ScriptStatement): Promise<void> {
    if (plan.command !== 'DROP VIEW' || !/^DROP VIEW IF EXISTS /i.test(plan.sql)) return;
    const view = ownedTarget(plan.sql);
    if (view && !(await this.resolveRelation(view, st)))
      this.notices.push(`view "${view.name}" does not exist, skipping`);
  }

  /** Removes the grants of dropped tables, so a new table of the same name starts with none. */
  private async forgetGrants(tables: readonly TableName[], st: ScriptStatement): Promise<void> {
    const path = this.applied?.schemas ?? ['public'];
    for (const t of tables)
      await this.query(st)(
        `DELETE FROM ${META_SCHEMA}.privileges WHERE object_type = 'table' AND object_name = $1 AND schema_name = ANY($2)`,
        [t.name, t.schema ? [t.schema] : [...path]],
      );
  }

  /** Makes a non-superuser the owner of the table or view it just created. */
  private async recordOwner(plan: Plan, st: ScriptStatement): Promise<void> {
    if (this.record.superuser) return;
    let created: { readonly schema?: string; readonly name: string } | undefined;
    if (plan.kind === 'create-table' && !plan.temporary) created = plan.table;
    else if (plan.kind === 'query' && (plan.command === 'CREATE TABLE' || plan.command === 'CREATE VIEW'))
      created = createdRelation(plan.sql);
    if (!created) return;
    const rel = await this.resolveRelation(created, st);
    if (!rel || rel.temp) return;
    await this.query(st)(`INSERT INTO ${META_SCHEMA}.privileges VALUES ($1, 'table', $2, $3, 'owner')`, [
      this.record.name,
      rel.schema,
      rel.name,
    ]);
  }

  /** Runs CREATE / ALTER / DROP USER or GROUP, GRANT and REVOKE; returns the command tag. */
  private async manageUsers(plan: UserPlan, st: ScriptStatement): Promise<string> {
    const q = this.query(st);
    const db: UserDb = { query: (sql, params) => q(sql, params) };
    const result = await this.atomically(async () => {
      switch (plan.command) {
        case 'CREATE USER':
        case 'ALTER USER': {
          if (plan.renameTo !== undefined) {
            if (plan.name === this.record.name)
              throw new SqlError('session user cannot be renamed', PRIVILEGE_SQLSTATE.featureNotSupported);
            if (!(await renameUser(db, plan.name, plan.renameTo)))
              throw new SqlError(`user "${plan.name}" does not exist`, PRIVILEGE_SQLSTATE.undefinedObject);
            this.notices.push('MD5 password cleared because of user rename');
            return plan.command;
          }
          if (plan.command === 'CREATE USER') {
            const ok = await insertUser(
              db,
              plan.name,
              plan.password ?? { kind: 'disable' },
              plan.superuser ?? false,
            );
            if (!ok)
              throw new SqlError(`user "${plan.name}" already exists`, PRIVILEGE_SQLSTATE.duplicateObject);
          } else {
            const changes = {
              ...(plan.password ? { password: plan.password } : {}),
              ...(plan.superuser !== undefined ? { superuser: plan.superuser } : {}),
            };
            if (!(await updateUser(db, plan.name, changes)))
              throw new SqlError(`user "${plan.name}" does not exist`, PRIVILEGE_SQLSTATE.undefinedObject);
          }
          for (const g of plan.groups) await addToGroup(db, g, [plan.name]);
          return plan.command;
        }
        case 'DROP USER':
          for (const name of plan.names) {
            if (name === this.record.name) throw new SqlError('current user cannot be dropped', '55006');
            if (!(await deleteUser(db, name))) {
              if (!plan.ifExists)
                throw new SqlError(`user "${name}" does not exist`, PRIVILEGE_SQLSTATE.undefinedObject);
              this.notices.push(`user "${name}" does not exist, skipping`);
            }
          }
          return plan.command;
        case 'CREATE GROUP':
          await createGroup(db, plan.name);
          await addToGroup(db, plan.name, plan.add);
          return plan.command;
        case 'ALTER GROUP':
          await addToGroup(db, plan.name, plan.add);
          await removeFromGroup(db, plan.name, plan.remove);
          return plan.command;
        case 'DROP GROUP':
          for (const name of plan.names)
            if (!(await dropGroup(db, name))) {
              if (!plan.ifExists)
                throw new SqlError(`group "${name}" does not exist`, PRIVILEGE_SQLSTATE.undefinedObject);
              this.notices.push(`group "${name}" does not exist, skipping`);
            }
          return plan.command;
        case 'GRANT':
        case 'REVOKE': {
          const objects: { type: 'table' | 'schema'; schema: string; name: string }[] = [];
          const target = plan.target;
          if (target.kind === 'table') {
            for (const t of target.tables) {
              const rel = await this.resolveRelation(t, st);
              if (!rel)
                throw new SqlError(
                  `relation "${t.schema ? `${t.schema}.` : ''}${t.name}" does not exist`,
                  SQLSTATE.undefinedTable,
                );
              objects.push({ type: 'table', schema: rel.schema, name: rel.name });
            }
          } else {
            for (const schema of target.schemas) {
              const exists = await q(
                "SELECT 1 FROM duckdb_schemas() WHERE database_name = 'dev' AND schema_name = $1",
                [schema],
              );
              if (exists.length === 0)
                throw new SqlError(`schema "${schema}" does not exist`, SQLSTATE.invalidSchemaName);
              if (target.kind === 'schema') objects.push({ type: 'schema', schema, name: '' });
              else
                for (const r of await q(
                  `SELECT table_name FROM duckdb_tables() WHERE database_name = 'dev' AND schema_name = $1
                   UNION SELECT view_name FROM duckdb_views() WHERE database_name = 'dev' AND schema_name = $1 AND NOT internal`,
                  [schema],
                ))
                  objects.push({ type: 'table', schema, name: String(r[0]) });
            }
          }
          await changeGrants(db, plan.command === 'GRANT', plan.privileges, objects, plan.grantees);
          return plan.command;
        }
      }
    });
    this.host.forgetUsers();
    return result;
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
    if (this.readOnlyTransaction && this.transactionStatus !== 'idle' && planWrites(plan))
      throw new SqlError(`cannot execute ${plan.command} in a read-only transaction`, '25006');
    if (!this.record.superuser) await this.authorize(plan, st);
    switch (plan.kind) {
      case 'query': {
        await this.noticeMissingView(plan, st);
        const droppedView = plan.command === 'DROP VIEW' ? ownedTarget(plan.sql) : undefined;
        const dropped = droppedView ? await this.resolveRelation(droppedView, st) : undefined;
        const result = plan.created
          ? await this.createTableAs(plan, plan.created, st)
          : await this.runQuery(plan, st);
        await this.recordOwner(plan, st);
        // A view made later under the same name starts with no grants and its own owner.
        if (dropped && !dropped.temp)
          await this.query(st)(
            `DELETE FROM ${META_SCHEMA}.privileges WHERE object_type = 'table' AND schema_name = $1 AND object_name = $2`,
            [dropped.schema, dropped.name],
          );
        return result;
      }
      case 'alter-table':
        await this.alterTable(plan, st);
        return empty('ALTER TABLE');
      case 'create-table':
        await this.createTable(plan, st);
        await this.recordOwner(plan, st);
        return empty('CREATE TABLE');
      case 'user':
        return empty(await this.manageUsers(plan, st));
      case 'drop-table':
        await this.dropTables(plan.tables, plan.ifExists, st);
        await this.forgetGrants(plan.tables, st);
        return empty('DROP TABLE');
      case 'drop-schema':
        if (plan.ifExists)
          for (const schema of plan.schemas) {
            const found = await this.query(st)(
              "SELECT 1 FROM duckdb_schemas() WHERE database_name = 'dev' AND schema_name = $1",
              [schema],
            );
            if (found.length === 0) this.notices.push(`schema "${schema}" does not exist, skipping`);
          }
        await this.dropSchemas(plan.schemas, plan.ifExists, plan.cascade, st);
        return empty('DROP SCHEMA');
      case 'copy':
        return empty('COPY', await this.copy(plan.copy, st));
      case 'unload':
        return empty(
          'UNLOAD',
          await runUnload(
            {
              run: async (sql) => Number((await this.duck(sql, st)).getRows()[0]?.[0] ?? 0),
              describe: async (sql) => {
                const r = await this.duck(`SELECT * FROM (${sql}) AS unloaded LIMIT 0`, st);
                return r.columnNames().map((name, i) => ({
                  name: pgColumnName(name),
                  type: pgTypeName(r.columnTypes()[i] as ReturnType<typeof r.columnTypes>[number]),
                }));
              },
              store: this.host.options.objectStore,
              scratchDir: stagingDir(this.host.options.dir),
              checkCancelled: this.checkCancelled,
            },
            plan.unload,
          ),
        );
      case 'set':
        this.applySet(plan.command, plan.name, plan.values);
        return empty(plan.command);
      case 'show':
        return this.show(plan.name);
      case 'transaction':
        if (plan.command === 'BEGIN' && this.transactionStatus === 'idle')
          this.readOnlyTransaction = plan.readOnly === true;
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
    const declared = await this.declaredResultTypes(plan.sql, columns, st);
    const named = nameColumnsFromSource(st.text, declared ?? columns);
    return { command, columns: named ?? declared ?? columns, rows, rowCount: rows.length };
  }

  /**
   * Names VARCHAR result columns by their declared type (`character varying(36)`) when the
   * column comes from a table the query reads whose column of that name is declared.
   */
  private async declaredResultTypes(
    sql: string,
    columns: readonly ColumnInfo[],
    st: ScriptStatement,
  ): Promise<ColumnInfo[] | undefined> {
    if (!columns.some((c) => c.type === 'character varying')) return undefined;
    // Inside a transaction, tables it created are visible only to this session's connection.
    const all =
      this.transactionStatus === 'idle'
        ? await this.host.declaredTypes()
        : await allDeclaredTypes(this.query(st));
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
    declared: Extract<Plan, { kind: 'create-table' }>,
    st: ScriptStatement,
  ): Promise<void> {
    this.refuseMetadata(declared.table.schema);
    const q = this.query(st);
    const plan = await resolveLike(q, declared, await this.effectiveSearchPath(st));
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
      if (schema) {
        await recordColumns(q, schema, plan.table.name, plan.columns, sequences);
        const encodeAuto = plan.columns.every((c) => c.encoding === undefined);
        await recordDesign(q, schema, plan.table.name, plan.design, plan.constraints, encodeAuto);
      }
    });
    this.host.catalogVersion++;
  }

  /** CREATE TABLE ... AS, and the DISTKEY / SORTKEY it declared (catalog.ts). */
  private async createTableAs(
    plan: QueryPlan,
    created: NonNullable<QueryPlan['created']>,
    st: ScriptStatement,
  ): Promise<QueryResult> {
    const q = this.query(st);
    const path = await this.effectiveSearchPath(st);
    // IF NOT EXISTS of a table that exists keeps that table's design.
    if (await findTable(q, created.table, path)) return this.runQuery(plan, st);
    return this.atomically(async () => {
      const result = await this.runQuery(plan, st);
      const info = await findTable(q, created.table, path);
      if (info?.catalog === 'dev') await recordCreatedDesign(q, info, created.design);
      return result;
    });
  }

  /** ALTER TABLE that renames, or changes the recorded design or constraints (catalog.ts). */
  private async alterTable(plan: AlterTablePlan, st: ScriptStatement): Promise<void> {
    this.refuseMetadata(plan.table.schema);
    const q = this.query(st);
    const info = await findTable(q, plan.table, await this.effectiveSearchPath(st));
    if (!info) throw new SqlError(`relation "${plan.table.name}" does not exist`, SQLSTATE.undefinedTable);
    const target = `${quoteIdent(info.catalog)}.${quoteIdent(info.schema)}.${quoteIdent(info.name)}`;
    const { change } = plan;
    await this.atomically(async () => {
      if (change.what === 'rename-table')
        await this.duck(`ALTER TABLE ${target} RENAME TO ${quoteIdent(change.to)}`, st);
      if (change.what === 'add-column')
        for (const sql of renderAddColumn(target, change.column)) await this.duck(sql, st);
      if (change.what === 'drop-column')
        await this.duck(`ALTER TABLE ${target} DROP COLUMN ${quoteIdent(change.column)}`, st);
      if (change.what === 'rename-column')
        await this.duck(
          `ALTER TABLE ${target} RENAME COLUMN ${quoteIdent(change.from)} TO ${quoteIdent(change.to)}`,
          st,
        );
      if (info.catalog === 'dev') await alterDesign(q, info, change);
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
          if (ifExists) {
            this.notices.push(`table "${t.name}" does not exist, skipping`);
            continue;
          }
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
      query: this.currentQuery ?? this.host.nextQueryId(),
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
          scratchDir: stagingDir(this.host.options.dir),
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
    else value = this.settings.get(name) ?? SHOW_DEFAULTS[name] ?? STATIC_SETTINGS[name];
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
