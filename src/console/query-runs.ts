/**
 * The query editor's runs. A script runs statement by statement in its own warehouse
 * session (so it can be cancelled). A query statement (SELECT / WITH) is read through a
 * LIMIT/OFFSET cursor: the first HELD_ROWS rows are held on the server, later pages are
 * read again from the warehouse on demand, and the page receives one page at a time. So a
 * `SELECT *` over ten million rows costs neither the server's memory nor the page's.
 *
 * Later pages and CSV exports re-run the statement in a new session, so they see the data
 * as it is then, and not the script's temporary tables.
 */
import { randomUUID } from 'node:crypto';
import {
  splitStatements,
  SqlError,
  type QueryResult,
  type ScriptStatement,
  type Warehouse,
  type WarehouseSession,
} from '../warehouse/index.ts';

/** Rows sent per page. */
export const PAGE_ROWS = 200;
/**
 * Rows held on the server per run (shared by its statements; each holds at least a page);
 * beyond them pages are read again.
 */
export const HELD_ROWS = 10_000;
/** Runs held at once; the oldest go first. */
const MAX_RUNS = 50;
/** How long a run's rows are held. */
const RUN_TTL_MS = 30 * 60 * 1000;
/** Rows per read when exporting CSV. */
const EXPORT_CHUNK = 50_000;

/** One statement's outcome as the page shows it. */
export interface StatementAnswer {
  readonly index: number;
  /** Where the statement sits in the script (0-based offset, length). */
  readonly offset: number;
  readonly length: number;
  readonly command: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  /** Rows returned or affected. */
  readonly rowCount: number;
  /** The first page of rows. */
  readonly rows: readonly (readonly unknown[])[];
}

/** A script's outcome. */
export interface RunAnswer {
  readonly id: string;
  readonly statements: readonly StatementAnswer[];
  readonly error?: {
    readonly message: string;
    readonly sqlstate: string;
    /** 1-based character position in the script, as PostgreSQL reports it. */
    readonly position?: number;
    readonly statementIndex?: number;
    /** Where the failing statement sits in the script. */
    readonly offset?: number;
    readonly length?: number;
    readonly hint?: string;
    readonly detail?: string;
  };
  readonly ms: number;
}

/** What is kept of one statement's result. */
interface HeldResult {
  readonly result: QueryResult;
  /** The statement text, when more rows than the held ones can be read again. */
  readonly cursor?: string;
}

interface Run {
  readonly user: string;
  readonly started: number;
  running: boolean;
  cancelled: boolean;
  session?: WarehouseSession;
  results: HeldResult[];
}

const WRAP_HEAD = 'SELECT * FROM (\n';
const WRAP_TAIL = '\n) AS sluice_result';

/** True for a statement whose rows can be read through a subquery. */
function isQuery(text: string): boolean {
  const stripped = text.replace(/^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)+/, '');
  return /^(SELECT|WITH)\b/i.test(stripped) && !/\bINTO\b/i.test(stripped);
}

/** The editor's runs, held in memory. */
export class QueryRuns {
  private readonly runs = new Map<string, Run>();

  constructor(private readonly warehouse: Warehouse) {}

  /** Runs a script; `id` (chosen by the page, so it can cancel) must be new. */
  async run(user: string, sql: string, id: string = randomUUID()): Promise<RunAnswer> {
    this.sweep();
    if (this.runs.has(id)) throw new SqlError(`run ${id} exists`, '42710');
    const run: Run = { user, started: Date.now(), running: true, cancelled: false, results: [] };
    this.runs.set(id, run);
    const statements = splitStatements(sql);
    let session: WarehouseSession;
    try {
      session = await this.warehouse.openSession(user);
    } catch (error) {
      this.runs.delete(id);
      throw error;
    }
    run.session = session;
    const answers: StatementAnswer[] = [];
    try {
      for (const [index, st] of statements.entries()) {
        try {
          if (run.cancelled) throw new SqlError('canceling statement due to user request', '57014');
          const budget = HELD_ROWS - run.results.reduce((n, r) => n + r.result.rows.length, 0);
          const held = await this.runStatement(session, st, Math.max(PAGE_ROWS, budget));
          run.results.push(held);
          answers.push({
            index,
            offset: st.offset,
            length: st.text.length,
            command: held.result.command,
            columns: held.result.columns,
            rowCount: held.result.rowCount,
            rows: held.result.rows.slice(0, PAGE_ROWS),
          });
        } catch (error) {
          if (!(error instanceof SqlError)) throw error;
          const position = error.options.position;
          return {
            id,
            statements: answers,
            error: {
              message: error.message,
              sqlstate: error.sqlstate,
              ...(position !== undefined ? { position: st.offset + position } : {}),
              statementIndex: index,
              offset: st.offset,
              length: st.text.length,
              ...(error.options.hint ? { hint: error.options.hint } : {}),
              ...(error.options.detail ? { detail: error.options.detail } : {}),
            },
            ms: Date.now() - run.started,
          };
        }
      }
      return { id, statements: answers, ms: Date.now() - run.started };
    } finally {
      run.running = false;
      run.session = undefined;
      await session.close();
    }
  }

  /** Runs one statement; a query is read through the cursor, anything else as it is. */
  private async runStatement(
    session: WarehouseSession,
    st: ScriptStatement,
    hold: number,
  ): Promise<HeldResult> {
    if (isQuery(st.text)) {
      let first: QueryResult | undefined;
      try {
        [first] = await session.execute(`${WRAP_HEAD}${st.text}${WRAP_TAIL} LIMIT ${hold + 1}`);
      } catch (error) {
        // Not every query reads as a subquery (or it fails): run it as written, for its own answer.
        if (!(error instanceof SqlError) || error.sqlstate === '57014') throw error;
      }
      if (first) {
        if (first.rows.length <= hold) return { result: { ...first, command: 'SELECT' } };
        const [count] = await session.execute(`SELECT count(*) FROM (\n${st.text}${WRAP_TAIL}`);
        const rowCount = Number(count?.rows[0]?.[0] ?? first.rows.length);
        return {
          result: { ...first, command: 'SELECT', rows: first.rows.slice(0, hold), rowCount },
          cursor: st.text,
        };
      }
    }
    const [result] = await session.execute(st.text);
    if (!result) return { result: { command: 'EMPTY', columns: [], rows: [], rowCount: 0 } };
    return {
      result: result.rows.length > hold ? { ...result, rows: result.rows.slice(0, hold) } : result,
    };
  }

  /** Cancels a running script of this user; false when it is not running. */
  cancel(user: string, id: string): boolean {
    const run = this.runs.get(id);
    if (!run || run.user !== user || !run.running) return false;
    run.cancelled = true;
    run.session?.cancel();
    return true;
  }

  /** A page of one statement's rows: from the held ones, or read again through the cursor. */
  async page(
    user: string,
    id: string,
    index: number,
    offset: number,
    limit = PAGE_ROWS,
  ): Promise<{ rows: readonly (readonly unknown[])[]; rowCount: number } | undefined> {
    const held = this.held(user, id, index);
    if (!held) return undefined;
    const start = Math.min(Math.max(0, Math.floor(offset) || 0), held.result.rowCount);
    const count = Math.min(Math.max(1, Math.floor(limit) || PAGE_ROWS), 5000);
    const { result, cursor } = held;
    if (start + count <= result.rows.length || !cursor)
      return { rows: result.rows.slice(start, start + count), rowCount: result.rowCount };
    return { rows: await this.read(user, cursor, start, count), rowCount: result.rowCount };
  }

  /** Every row of one statement's result, in chunks (for CSV export). */
  async *allRows(user: string, id: string, index: number): AsyncGenerator<readonly (readonly unknown[])[]> {
    const held = this.held(user, id, index);
    if (!held) return;
    yield held.result.rows;
    if (!held.cursor) return;
    for (let offset = held.result.rows.length; ; offset += EXPORT_CHUNK) {
      const rows = await this.read(user, held.cursor, offset, EXPORT_CHUNK);
      if (rows.length > 0) yield rows;
      if (rows.length < EXPORT_CHUNK) return;
    }
  }

  /** The columns of one statement's result, or undefined when the run is gone. */
  columns(user: string, id: string, index: number): readonly { name: string }[] | undefined {
    return this.held(user, id, index)?.result.columns;
  }

  private async read(
    user: string,
    text: string,
    offset: number,
    limit: number,
  ): Promise<readonly (readonly unknown[])[]> {
    const session = await this.warehouse.openSession(user);
    try {
      const [result] = await session.execute(
        `${WRAP_HEAD}${text}${WRAP_TAIL} LIMIT ${limit} OFFSET ${offset}`,
      );
      return result?.rows ?? [];
    } finally {
      await session.close();
    }
  }

  private held(user: string, id: string, index: number): HeldResult | undefined {
    const run = this.runs.get(id);
    if (!run || run.user !== user) return undefined;
    return run.results[index];
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, run] of this.runs)
      if (!run.running && now - run.started > RUN_TTL_MS) this.runs.delete(id);
    while (this.runs.size >= MAX_RUNS) {
      const oldest = [...this.runs].find(([, run]) => !run.running);
      if (!oldest) break;
      this.runs.delete(oldest[0]);
    }
  }
}

/** One CSV field (RFC 4180: quoted when it holds a comma, quote or line break). */
function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** CSV lines (CRLF ends) of a header and row chunks. */
export async function* toCsv(
  columns: readonly { readonly name: string }[],
  chunks: AsyncIterable<readonly (readonly unknown[])[]>,
): AsyncGenerator<string> {
  yield columns.map((c) => csvField(c.name)).join(',') + '\r\n';
  for await (const rows of chunks) {
    let out = '';
    for (const row of rows) out += row.map(csvField).join(',') + '\r\n';
    yield out;
  }
}
