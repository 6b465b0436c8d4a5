/**
 * Live dashboards: every visual's data is computed once per (visual, filters, time window)
 * and shared by every viewer; a commit in the warehouse marks the cache stale and the data of
 * every watched visual is recomputed once and pushed to its viewers over server-sent events.
 *
 * Refreshes are driven by commits, not timers: a burst of commits within REFRESH_DEBOUNCE_MS
 * costs one refresh, a refresh never overlaps another (a commit during one schedules
 * exactly one more), and refreshes start at least REFRESH_MIN_INTERVAL_MS apart. A visual
 * whose data did not change is not sent again.
 *
 * Who computes what: a visual over a schema-qualified table or view is computed once as the
 * service user (the superuser the server runs as), and each viewer is served that result
 * only after a cheap check that they may read the relation (`SELECT * FROM r LIMIT 0` run as
 * them, so the warehouse's own rules decide; the answer is kept a few seconds and forgotten
 * when a statement that may have been a GRANT or REVOKE commits). A viewer without SELECT
 * gets the 42501 error on that visual alone. A visual over a saved query (any SQL) or an
 * unqualified name (which each user's search_path may resolve differently) runs as the
 * viewer, shared among viewers signed in as the same user. Each user's visuals are computed
 * two at a time, in two sessions.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html
 */
import type { ServerResponse } from 'node:http';
import { SqlError, type Warehouse, type WarehouseSession } from '../warehouse/index.ts';
import type { Logger } from '../util/logger.ts';
import {
  planVisual,
  sourceSql,
  VisualError,
  type DashboardSpec,
  type Filters,
  type VisualData,
  type VisualSpec,
} from './visuals.ts';

/** What a viewer receives for one visual: its data or its own error. */
export type VisualAnswer =
  | { readonly id: string; readonly data: VisualData; readonly ms: number }
  | { readonly id: string; readonly error: string };

const REFRESH_DEBOUNCE_MS = 150;
/** Shortest time from one refresh's start to the next's, so a stream of commits cannot keep the warehouse busy with dashboards. */
const REFRESH_MIN_INTERVAL_MS = 500;
const HEARTBEAT_MS = 15_000;
/** Event streams one user may hold open at once (a browser tab holds one). */
export const MAX_VIEWERS_PER_USER = 32;
/** Bytes a viewer may leave unread before its stream is closed (the browser reconnects and starts afresh). */
const MAX_UNREAD_BYTES = 4 * 1024 * 1024;
/** Visuals of one user computed at once, each in its own session. */
const SESSIONS_PER_USER = 2;
/** How long a viewer's permission to read a relation is trusted without asking again. */
const GRANT_CACHE_MS = 5_000;
/** Command tags of statements that change rows and never privileges. */
const DATA_COMMANDS = /^(SELECT|SHOW|SET|INSERT|UPDATE|DELETE|MERGE|COPY|UNLOAD|TRUNCATE)\b/;

/** Longest a visual's queries may run before they are cancelled and the visual shows why. */
export const VISUAL_TIMEOUT_MS = 30_000;

/** Runs one visual's queries in a session and shapes the answer; cancelled after `timeoutMs`. */
export async function computeVisual(
  session: WarehouseSession,
  spec: VisualSpec,
  filters: Filters,
  nowSeconds = Date.now() / 1000,
  timeoutMs = VISUAL_TIMEOUT_MS,
): Promise<VisualData> {
  const plan = planVisual(spec, filters, nowSeconds);
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    let bounds: readonly unknown[] | undefined;
    if (plan.bounds) {
      const [result] = await session.execute(plan.bounds, { signal });
      bounds = result?.rows[0];
    }
    const sql = plan.data(bounds);
    if (sql === undefined) return plan.shape(bounds, [], []);
    const [result] = await session.execute(sql, { signal });
    return plan.shape(
      bounds,
      result?.rows ?? [],
      (result?.columns ?? []).map((c) => c.name),
    );
  } catch (error) {
    if (signal.aborted)
      throw new VisualError(
        `This visual's query ran longer than ${timeoutMs / 1000} s and was cancelled: narrow the time range or filter the data set.`,
      );
    throw error;
  }
}

/** Message of a visual's failure as shown on it. */
export function visualErrorMessage(error: unknown): string {
  if (error instanceof VisualError) return error.message;
  if (error instanceof SqlError) return `${error.message} (SQLSTATE ${error.sqlstate})`;
  return error instanceof Error ? error.message : String(error);
}

/** One open event stream. */
interface Viewer {
  readonly res: ServerResponse;
  readonly user: string;
  /** The sign-in session it was opened under (absent for per-request authentication). */
  readonly session: string | undefined;
  readonly dashboard: DashboardSpec;
  readonly filters: Filters;
  /** What was last sent per visual (without its timing), to skip unchanged ones. */
  readonly sent: Map<string, string>;
}

/** Options for the live hub. */
export interface LiveHubOptions {
  readonly warehouse: Warehouse;
  readonly logger: Logger;
  /**
   * The superuser that computes visuals over tables and views once for every viewer; without
   * it every visual runs as its viewer.
   */
  readonly serviceUser?: string;
  /** Longest a visual's queries may run (default VISUAL_TIMEOUT_MS). */
  readonly visualTimeoutMs?: number;
}

/** Cache entry of one visual under one set of filters. */
interface CacheEntry {
  generation: number;
  answer: Promise<VisualAnswer>;
}

/** A viewer's permission to read one relation: undefined when allowed, else the error to show. */
interface GrantEntry {
  generation: number;
  until: number;
  denied: Promise<string | undefined>;
}

/** The relation a visual reads when it may be computed once for every viewer (`schema.name`), else undefined. */
export function sharedRelation(spec: VisualSpec): string | undefined {
  // Saved specs are JSON from anyone: look before trusting their shape.
  const table = (spec.source as { table?: unknown } | undefined)?.table;
  if (typeof table !== 'string' || !table.includes('.')) return undefined;
  try {
    return sourceSql({ table });
  } catch {
    return undefined;
  }
}

/** The shared cache and the event streams of open dashboards. */
export class LiveHub {
  private readonly viewers = new Set<Viewer>();
  private readonly cache = new Map<string, CacheEntry>();
  private generation = 0;
  /** Viewers' permissions per (user, relation); `grantGeneration` moves when grants may have changed. */
  private readonly grants = new Map<string, GrantEntry>();
  private grantGeneration = 0;
  private refreshing: Promise<void> | undefined;
  private again = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly heartbeat: ReturnType<typeof setInterval>;
  private readonly unsubscribe: () => void;
  /** Sessions per user and slot (SESSIONS_PER_USER visuals computed at once). */
  private readonly sessions = new Map<string, Promise<WarehouseSession>>();
  private nextSlot = 0;
  /** Visual computations run so far (for tests and the benchmark: shared work stays shared). */
  computations = 0;

  /** Creates the hub and listens for commits. */
  constructor(private readonly options: LiveHubOptions) {
    this.unsubscribe = options.warehouse.onCommit((tables, commands) => this.onCommit(tables, commands));
    this.heartbeat = setInterval(() => {
      for (const viewer of this.viewers) this.write(viewer, ': keep-alive\n\n');
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /**
   * A visual's answer for a viewer: the shared one (after checking the viewer may read its
   * relation) or the viewer's own, from the cache when nothing was committed since it was
   * computed.
   */
  async answer(spec: VisualSpec, filters: Filters, user: string): Promise<VisualAnswer> {
    if (typeof spec !== 'object' || spec === null) return { id: '', error: 'A visual must be an object.' };
    const relation = this.options.serviceUser ? sharedRelation(spec) : undefined;
    if (relation === undefined || !this.options.serviceUser) return this.cached(spec, filters, user);
    // The service user reads everything; anyone else is checked.
    const denied = user === this.options.serviceUser ? undefined : await this.mayRead(user, relation);
    if (denied !== undefined) return { id: spec.id, error: denied };
    const answer = await this.cached(spec, filters, this.options.serviceUser, '');
    return answer.id === spec.id ? answer : { ...answer, id: spec.id };
  }

  /** The cached answer of a visual computed as `user`, shared under `scope` (the user, or '' for everyone). */
  private cached(spec: VisualSpec, filters: Filters, user: string, scope = user): Promise<VisualAnswer> {
    // The id names the visual on its dashboard only: the same visual elsewhere shares the answer.
    const key = JSON.stringify([scope, { ...spec, id: '' }, filters]);
    const cached = this.cache.get(key);
    if (cached && cached.generation === this.generation) return cached.answer;
    const entry: CacheEntry = { generation: this.generation, answer: this.compute(spec, filters, user) };
    this.cache.set(key, entry);
    if (this.cache.size > 500) {
      for (const [k, e] of this.cache) if (e.generation !== this.generation) this.cache.delete(k);
    }
    return entry.answer;
  }

  /** Why `user` may not read `relation` (the warehouse's error), or undefined when they may. */
  private mayRead(user: string, relation: string): Promise<string | undefined> {
    const key = `${user}\u0000${relation}`;
    const now = Date.now();
    const cached = this.grants.get(key);
    if (cached && cached.generation === this.grantGeneration && cached.until > now) return cached.denied;
    const entry: GrantEntry = {
      generation: this.grantGeneration,
      until: now + GRANT_CACHE_MS,
      // In a session of its own, so a check never waits behind a computation.
      denied: this.withSession(
        user,
        async (session) => {
          await session.execute(`SELECT * FROM ${relation} LIMIT 0`);
        },
        'check',
      ).then(
        () => undefined,
        (error: unknown) => {
          // A lost session says nothing about the grant: ask again next time.
          if (error instanceof SqlError && error.sqlstate === '08003') this.grants.delete(key);
          return visualErrorMessage(error);
        },
      ),
    };
    this.grants.set(key, entry);
    if (this.grants.size > 1000) {
      for (const [k, e] of this.grants)
        if (e.until <= now || e.generation !== this.grantGeneration) this.grants.delete(k);
    }
    return entry.denied;
  }

  /**
   * Runs `job` in one of `user`'s sessions (the next of SESSIONS_PER_USER, or the one named
   * `name`), opened on first use and dropped when its connection is lost.
   */
  private async withSession<T>(
    user: string,
    job: (session: WarehouseSession) => Promise<T>,
    name?: string,
  ): Promise<T> {
    const slot = `${user}\u0000${name ?? this.nextSlot++ % SESSIONS_PER_USER}`;
    let opening = this.sessions.get(slot);
    if (!opening) {
      opening = this.options.warehouse.openSession(user);
      this.sessions.set(slot, opening);
      opening.catch(() => this.sessions.delete(slot));
    }
    try {
      return await job(await opening);
    } catch (error) {
      if (error instanceof SqlError && error.sqlstate === '08003') this.sessions.delete(slot);
      throw error;
    }
  }

  private async compute(spec: VisualSpec, filters: Filters, user: string): Promise<VisualAnswer> {
    const started = Date.now();
    this.computations++;
    try {
      const data = await this.withSession(user, (session) =>
        computeVisual(session, spec, filters, Date.now() / 1000, this.options.visualTimeoutMs),
      );
      return { id: spec.id, data, ms: Date.now() - started };
    } catch (error) {
      return { id: spec.id, error: visualErrorMessage(error) };
    }
  }

  /** Whether `user` may open one more event stream (at most MAX_VIEWERS_PER_USER at once). */
  mayWatch(user: string): boolean {
    let open = 0;
    for (const viewer of this.viewers) if (viewer.user === user) open++;
    return open < MAX_VIEWERS_PER_USER;
  }

  /**
   * Writes to a viewer's stream; a viewer that still leaves more than MAX_UNREAD_BYTES unread
   * when the next message is due is cut off, so a client that never reads cannot make the
   * server hold ever more for it (one large answer still goes through).
   */
  private write(viewer: Viewer, text: string): void {
    if (viewer.res.writableEnded || viewer.res.destroyed) return;
    if (viewer.res.writableLength > MAX_UNREAD_BYTES) {
      this.viewers.delete(viewer);
      viewer.res.destroy();
      return;
    }
    viewer.res.write(text);
  }

  /** Opens an event stream for a dashboard and sends every visual once. */
  watch(
    res: ServerResponse,
    user: string,
    dashboard: DashboardSpec,
    filters: Filters,
    session?: string,
  ): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    const viewer: Viewer = { res, user, session, dashboard, filters, sent: new Map() };
    this.viewers.add(viewer);
    res.on('close', () => this.viewers.delete(viewer));
    void this.send(viewer);
  }

  /** Ends the event streams opened under a sign-in session (at sign-out). */
  endSession(session: string): void {
    for (const viewer of this.viewers)
      if (viewer.session === session) {
        this.viewers.delete(viewer);
        viewer.res.end();
      }
  }

  /** Number of open event streams. */
  get viewerCount(): number {
    return this.viewers.size;
  }

  private async send(viewer: Viewer): Promise<void> {
    await Promise.all(
      viewer.dashboard.visuals.map(async (spec) => {
        let answer: VisualAnswer;
        try {
          answer = await this.answer(spec, viewer.filters, viewer.user);
        } catch (error) {
          // A malformed saved visual fails alone.
          answer = {
            id: String((spec as { id?: unknown } | null)?.id ?? ''),
            error: visualErrorMessage(error),
          };
        }
        const content = JSON.stringify('data' in answer ? answer.data : answer.error);
        if (viewer.sent.get(answer.id) === content || viewer.res.writableEnded) return;
        viewer.sent.set(answer.id, content);
        this.write(viewer, `event: visual\ndata: ${JSON.stringify(answer)}\n\n`);
      }),
    );
  }

  private onCommit(tables: readonly string[], commands?: readonly string[]): void {
    this.generation++;
    // Anything but a batch load or a script of plain reads and writes (a GRANT, a REVOKE, a
    // DROP, a COMMIT of who knows what) may have changed who may read what.
    const dataOnly = tables.length > 0 || (commands?.every((c) => DATA_COMMANDS.test(c)) ?? false);
    if (!dataOnly) this.grantGeneration++;
    if (this.viewers.size === 0 || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, REFRESH_DEBOUNCE_MS);
  }

  private async refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return;
    }
    const started = Date.now();
    this.refreshing = (async () => {
      try {
        // Viewers of the same dashboard and filters share each answer through the cache.
        await Promise.all([...this.viewers].map((viewer) => this.send(viewer)));
      } catch (error) {
        this.options.logger.warn({ err: error }, 'A live dashboard refresh failed.');
      }
    })();
    await this.refreshing;
    this.refreshing = undefined;
    if (this.again) {
      this.again = false;
      const wait = Math.max(0, started + REFRESH_MIN_INTERVAL_MS - Date.now());
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.refresh();
      }, wait);
    }
  }

  /** Ends every event stream and stops listening. */
  async close(): Promise<void> {
    this.unsubscribe();
    clearInterval(this.heartbeat);
    if (this.timer) clearTimeout(this.timer);
    for (const viewer of this.viewers) viewer.res.end();
    this.viewers.clear();
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const session of sessions) await (await session.catch(() => undefined))?.close();
  }
}
