/**
 * The console's JSON API behind sign-in: data sets and field roles, dashboards (saved in
 * the warehouse's metadata) and their live event streams, the query editor's runs, saved
 * queries, delivery streams and the lake. The auth hook in console-server.ts has already
 * set `request.consoleUser` (and checked the CSRF token on writes) for every route here.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import type {
  CreateDeliveryStreamInput,
  DeliveryStreamService,
  UpdateDestinationInput,
} from '../delivery/index.ts';
import { DeliveryStreamError } from '../delivery/index.ts';
import { LakeError, type ObjectReader, type ObjectStore } from '../lake/index.ts';
import { SqlError, type Warehouse } from '../warehouse/index.ts';
import type { Logger } from '../util/logger.ts';
import { DEMO_DASHBOARD } from './demo-dashboard.ts';
import { computeVisual, visualErrorMessage, type LiveHub } from './live.ts';
import { QueryRuns, toCsv } from './query-runs.ts';
import { SESSION_COOKIE } from './sessions.ts';
import {
  checkFilters,
  checkVisualSpec,
  detectRoles,
  sourceSql,
  VisualError,
  type DashboardSpec,
  type DataSource,
  type Filters,
  type VisualSpec,
} from './visuals.ts';

/** What the API routes need. */
export interface ApiOptions {
  readonly warehouse: Warehouse;
  readonly streams: DeliveryStreamService;
  readonly objectStore?: ObjectStore;
  readonly live: LiveHub;
  readonly logger: Logger;
}

const DOC_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Most visuals one dashboard may hold (each viewer's refresh computes them all). */
const MAX_VISUALS = 64;
const GONE = 'That result is no longer held; run the query again.';
const PREVIEW_BYTES = 256 * 1024;
const PREVIEW_LINES = 200;

/** Parses the `filters` query parameter (JSON) or a `range` shorthand. */
function filtersOf(query: { filters?: string; range?: string }, fallback: Filters | undefined): Filters {
  if (query.filters) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(query.filters);
    } catch {
      throw new VisualError('filters must be JSON.');
    }
    return checkFilters(parsed);
  }
  if (query.range) return checkFilters({ ...fallback, range: query.range });
  return fallback ?? {};
}

/** A dashboard as a page or program sent it, checked: a name and at most MAX_VISUALS well-formed visuals with distinct ids. */
function checkDashboard(id: string, body: unknown): DashboardSpec {
  const spec = body as Partial<DashboardSpec> | undefined;
  if (!DOC_ID.test(id) || !spec || typeof spec.name !== 'string' || !Array.isArray(spec.visuals))
    throw new VisualError('Send a dashboard {"name", "visuals": [...]} under a plain id.');
  if (spec.visuals.length > MAX_VISUALS)
    throw new VisualError(`A dashboard holds at most ${MAX_VISUALS} visuals.`);
  const visuals = spec.visuals.map((v: unknown) => checkVisualSpec(v));
  const ids = new Set(visuals.map((v) => v.id));
  if (ids.size !== visuals.length || ids.has(''))
    throw new VisualError('Each visual needs an id of its own.');
  return {
    id,
    name: spec.name,
    visuals,
    ...(spec.filters !== undefined ? { filters: checkFilters(spec.filters) } : {}),
  };
}

/** Registers the API routes. */
export function registerApi(app: FastifyInstance, options: ApiOptions): void {
  const { warehouse, streams, live } = options;
  const runs = new QueryRuns(warehouse);

  /**
   * Refuses a request of a user who is not a superuser. The lake holds raw copies of every
   * stream's records (whatever the warehouse's grants say about the tables they load into),
   * and streams move data into any table, so both are the superuser's to manage.
   */
  async function requireSuperuser(user: string, action: string): Promise<void> {
    const secrets = await warehouse.getPasswordSecrets(user);
    if (!secrets?.superuser) throw new ForbiddenError(`Only a superuser may ${action}.`);
  }

  /**
   * Refuses to let anyone but a document's owner or a superuser change it. Everyone signed
   * in may read dashboards and saved queries (each visual is checked against its viewer's
   * own grants); one without a recorded owner (the demo's) is a superuser's to change.
   */
  async function requireOwner(user: string, owner: string | undefined, action: string): Promise<void> {
    if (owner !== undefined && owner === user) return;
    const secrets = await warehouse.getPasswordSecrets(user);
    if (!secrets?.superuser)
      throw new ForbiddenError(
        `Only ${owner !== undefined ? `its owner ${owner}` : 'a superuser'} or a superuser may ${action}.`,
      );
  }

  async function dashboard(id: string): Promise<DashboardSpec | undefined> {
    const docs = await warehouse.listDocuments('dashboard');
    const doc = docs.find((d) => d.id === id);
    if (doc) return JSON.parse(doc.body) as DashboardSpec;
    return id === DEMO_DASHBOARD.id ? DEMO_DASHBOARD : undefined;
  }

  // ---- data sets -------------------------------------------------------------------

  app.get('/api/catalog', async (request) => {
    const session = await warehouse.openSession(request.consoleUser);
    try {
      const [tables, columns] = await session.execute(
        `SELECT table_schema, table_name, table_type FROM information_schema.tables
           WHERE table_schema NOT IN ('_sluice', 'information_schema', 'pg_catalog') ORDER BY 1, 2;
         SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns
           WHERE table_schema NOT IN ('_sluice', 'information_schema', 'pg_catalog') ORDER BY 1, 2, ordinal_position`,
      );
      const byTable = new Map<string, { name: string; type: string }[]>();
      for (const [schema, table, column, type] of columns?.rows ?? []) {
        const key = `${String(schema)}.${String(table)}`;
        let list = byTable.get(key);
        if (!list) byTable.set(key, (list = []));
        list.push({ name: String(column), type: String(type).toLowerCase() });
      }
      // The warehouse's information_schema lists every relation; completion offers only those
      // this user may read (schemas without USAGE and tables without SELECT stay unnamed).
      const superuser = (await warehouse.getPasswordSecrets(request.consoleUser))?.superuser ?? false;
      const readable: (readonly unknown[])[] = [];
      for (const row of tables?.rows ?? []) {
        if (superuser) {
          readable.push(row);
          continue;
        }
        try {
          await session.execute(
            `SELECT * FROM ${quoteName(String(row[0]))}.${quoteName(String(row[1]))} LIMIT 0`,
          );
          readable.push(row);
        } catch (error) {
          if (!(error instanceof SqlError)) throw error;
        }
      }
      return {
        tables: readable.map(([schema, table, type]) => ({
          schema: String(schema),
          name: String(table),
          view: String(type).toUpperCase() === 'VIEW',
          columns: byTable.get(`${String(schema)}.${String(table)}`) ?? [],
        })),
      };
    } finally {
      await session.close();
    }
  });

  app.post<{ Body: { source?: DataSource } }>('/api/datasets/fields', async (request, reply) => {
    if (!request.body?.source)
      return reply.code(400).send({ error: { message: 'Send {"source": {"table": ...} or {"sql": ...}}.' } });
    const { source } = checkVisualSpec({ id: 'fields', kind: 'table', source: request.body.source });
    const session = await warehouse.openSession(request.consoleUser);
    try {
      const [sample] = await session.execute(`SELECT * FROM ${sourceSql(source)} LIMIT 200`);
      return { fields: detectRoles(sample?.columns ?? [], sample?.rows ?? []) };
    } finally {
      await session.close();
    }
  });

  app.post<{ Body: { spec?: VisualSpec; filters?: Filters } }>('/api/visual', async (request, reply) => {
    if (!request.body?.spec) return reply.code(400).send({ error: { message: 'Send {"spec": {...}}.' } });
    const id = (request.body.spec as { id?: unknown }).id;
    let spec: VisualSpec;
    let filters: Filters;
    try {
      spec = checkVisualSpec(request.body.spec);
      filters = checkFilters(request.body.filters);
    } catch (error) {
      // A spec's mistake shows on that visual, like any other failure of it.
      return { id: typeof id === 'string' ? id : '', error: visualErrorMessage(error) };
    }
    const session = await warehouse.openSession(request.consoleUser);
    const started = Date.now();
    try {
      return {
        id: spec.id,
        data: await computeVisual(session, spec, filters),
        ms: Date.now() - started,
      };
    } catch (error) {
      return { id: spec.id, error: visualErrorMessage(error) };
    } finally {
      await session.close();
    }
  });

  // ---- dashboards --------------------------------------------------------------------

  app.get('/api/dashboards', async () => {
    const docs = await warehouse.listDocuments('dashboard');
    // The demo's dashboard first, then the others by name.
    const list = docs
      .map((d) => ({ id: d.id, name: d.name, updated: d.updated }))
      .sort((a, b) => Number(b.id === DEMO_DASHBOARD.id) - Number(a.id === DEMO_DASHBOARD.id));
    return { dashboards: list };
  });

  app.get<{ Params: { id: string } }>('/api/dashboards/:id', async (request, reply) => {
    const spec = await dashboard(request.params.id);
    if (!spec) return reply.code(404).send({ error: { message: `No dashboard ${request.params.id}.` } });
    return spec;
  });

  app.put<{ Params: { id: string }; Body: DashboardSpec }>('/api/dashboards/:id', async (request) => {
    const { id } = request.params;
    const checked = checkDashboard(id, request.body);
    const existing = await dashboard(id);
    if (existing) await requireOwner(request.consoleUser, existing.owner, `change dashboard ${id}`);
    const saved: DashboardSpec = { ...checked, owner: existing ? existing.owner : request.consoleUser };
    if (saved.owner === undefined) delete (saved as { owner?: string }).owner;
    await warehouse.saveDocument({ kind: 'dashboard', id, name: saved.name, body: JSON.stringify(saved) });
    return saved;
  });

  app.delete<{ Params: { id: string } }>('/api/dashboards/:id', async (request) => {
    const existing = await dashboard(request.params.id);
    if (existing) await requireOwner(request.consoleUser, existing.owner, `delete dashboard ${existing.id}`);
    await warehouse.deleteDocument('dashboard', request.params.id);
    return { deleted: request.params.id };
  });

  app.get<{ Querystring: { dashboard?: string; range?: string; filters?: string } }>(
    '/api/live',
    async (request, reply) => {
      const spec = await dashboard(request.query.dashboard ?? DEMO_DASHBOARD.id);
      if (!spec)
        return reply.code(404).send({ error: { message: `No dashboard ${request.query.dashboard}.` } });
      const filters = filtersOf(request.query, spec.filters);
      if (!live.mayWatch(request.consoleUser))
        return reply
          .code(429)
          .send({ error: { message: 'Too many open live dashboards for this user: close some and retry.' } });
      reply.hijack();
      // Per-request authentication (a program) wins over a cookie, as in the auth hook.
      const session = request.headers.authorization ? undefined : request.cookies[SESSION_COOKIE];
      live.watch(reply.raw, request.consoleUser, spec, filters, session);
    },
  );

  // ---- the query editor --------------------------------------------------------------

  app.post<{ Body: { sql?: string; id?: string } }>('/api/queries', async (request, reply) => {
    const sql = request.body?.sql;
    if (typeof sql !== 'string' || sql.trim() === '')
      return reply.code(400).send({ error: { message: 'Send {"sql": "..."}.' } });
    const id =
      typeof request.body.id === 'string' && DOC_ID.test(request.body.id) ? request.body.id : randomUUID();
    return runs.run(request.consoleUser, sql, id);
  });

  app.post<{ Params: { id: string } }>('/api/queries/:id/cancel', async (request) => ({
    cancelled: runs.cancel(request.consoleUser, request.params.id),
  }));

  app.get<{ Params: { id: string; index: string }; Querystring: { offset?: string; limit?: string } }>(
    '/api/queries/:id/:index',
    async (request, reply) => {
      const page = await runs.page(
        request.consoleUser,
        request.params.id,
        Number(request.params.index),
        Number(request.query.offset ?? 0),
        Number(request.query.limit ?? 200),
      );
      if (!page) return reply.code(404).send({ error: { message: GONE } });
      return page;
    },
  );

  app.get<{ Params: { id: string; index: string } }>(
    '/api/queries/:id/:index/csv',
    async (request, reply) => {
      const { id } = request.params;
      const index = Number(request.params.index);
      const columns = runs.columns(request.consoleUser, id, index);
      if (!columns) return reply.code(404).send({ error: { message: GONE } });
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="result-${index + 1}.csv"`)
        .send(Readable.from(toCsv(columns, runs.allRows(request.consoleUser, id, index))));
    },
  );

  async function savedQueries(): Promise<SavedQuery[]> {
    return (await warehouse.listDocuments('query')).map((d) => ({
      id: d.id,
      name: d.name,
      ...savedQueryBody(d.body),
      updated: d.updated,
    }));
  }

  app.get('/api/saved-queries', async () => ({ queries: await savedQueries() }));

  app.put<{ Params: { id: string }; Body: { name?: string; sql?: string } }>(
    '/api/saved-queries/:id',
    async (request, reply) => {
      const { id } = request.params;
      const { name, sql } = request.body ?? {};
      if (!DOC_ID.test(id) || typeof name !== 'string' || typeof sql !== 'string')
        return reply.code(400).send({ error: { message: 'Send {"name", "sql"} under a plain id.' } });
      const existing = (await savedQueries()).find((q) => q.id === id);
      if (existing) await requireOwner(request.consoleUser, existing.owner, `change saved query ${id}`);
      const owner = existing ? existing.owner : request.consoleUser;
      await warehouse.saveDocument({
        kind: 'query',
        id,
        name,
        body: JSON.stringify({ sql, ...(owner !== undefined ? { owner } : {}) }),
      });
      return { id, name, sql, ...(owner !== undefined ? { owner } : {}) };
    },
  );

  app.delete<{ Params: { id: string } }>('/api/saved-queries/:id', async (request) => {
    const existing = (await savedQueries()).find((q) => q.id === request.params.id);
    if (existing)
      await requireOwner(request.consoleUser, existing.owner, `delete saved query ${existing.id}`);
    await warehouse.deleteDocument('query', request.params.id);
    return { deleted: request.params.id };
  });

  // ---- delivery streams ----------------------------------------------------------------

  app.get('/api/streams', async () => ({
    streams: streams.names().map((name) => ({
      description: streams.describe(name),
      status: streams.status(name),
      totals: streams.metricsOf(name).totals,
    })),
  }));

  app.post<{ Body: CreateDeliveryStreamInput }>('/api/streams', async (request) => {
    await requireSuperuser(request.consoleUser, 'create delivery streams');
    const arn = await streams.create(request.body);
    return { DeliveryStreamARN: arn };
  });

  app.get<{ Params: { name: string } }>('/api/streams/:name', async (request) => {
    const { name } = request.params;
    return {
      description: streams.describe(name),
      status: streams.status(name),
      totals: streams.metricsOf(name).totals,
      metrics: streams.metricsOf(name).snapshot(),
      errors: streams.errors(name),
    };
  });

  app.put<{ Params: { name: string }; Body: Omit<UpdateDestinationInput, 'DeliveryStreamName'> }>(
    '/api/streams/:name',
    async (request) => {
      await requireSuperuser(request.consoleUser, 'change delivery streams');
      const { name } = request.params;
      const description = streams.describe(name) as {
        VersionId?: string;
        Destinations?: { DestinationId?: string }[];
      };
      const update = {
        CurrentDeliveryStreamVersionId: description.VersionId ?? '1',
        DestinationId: description.Destinations?.[0]?.DestinationId ?? 'destinationId-000000000001',
        ...request.body,
        DeliveryStreamName: name,
      } as UpdateDestinationInput;
      await streams.updateDestination(update);
      return { description: streams.describe(name) };
    },
  );

  app.delete<{ Params: { name: string } }>('/api/streams/:name', async (request) => {
    await requireSuperuser(request.consoleUser, 'delete delivery streams');
    await streams.delete(request.params.name);
    return { deleting: request.params.name };
  });

  app.post<{ Params: { name: string }; Body: { manifest?: string } | undefined }>(
    '/api/streams/:name/redeliver',
    async (request) => {
      await requireSuperuser(request.consoleUser, 're-deliver manifests');
      return { results: await streams.redeliver(request.params.name, request.body?.manifest) };
    },
  );

  // ---- the lake --------------------------------------------------------------------------

  const lake = (): ObjectStore => {
    if (!options.objectStore) throw new DeliveryStreamError('ResourceNotFound', 'This server has no lake.');
    return options.objectStore;
  };

  // Every lake route: the superuser's (see requireSuperuser); bucket and key are given as strings.
  app.addHook('preHandler', async (request) => {
    if (!request.url.startsWith('/api/lake/')) return;
    await requireSuperuser(request.consoleUser, 'browse or change the lake');
    const query = request.query as Record<string, unknown>;
    for (const name of ['bucket', 'key', 'prefix', 'startAfter'])
      if (query[name] !== undefined && typeof query[name] !== 'string')
        throw new LakeError('InvalidArgument', `Give ${name} once.`);
    const path = request.url.split('?', 1)[0];
    if (path !== '/api/lake/buckets' && !query.bucket)
      throw new LakeError('InvalidArgument', 'Name the bucket: ?bucket=...');
    if ((path === '/api/lake/preview' || path === '/api/lake/object') && !query.key)
      throw new LakeError('InvalidArgument', 'Name the object: ?key=...');
  });

  app.get('/api/lake/buckets', async () => ({
    buckets: (await lake().listBuckets()).map((b) => ({ name: b.name, created: b.created.toISOString() })),
  }));

  app.get<{ Querystring: { bucket: string; prefix?: string; startAfter?: string } }>(
    '/api/lake/list',
    async (request) => {
      const { bucket, prefix = '', startAfter } = request.query;
      const page = await lake().listObjects(bucket, {
        prefix,
        delimiter: '/',
        maxKeys: 500,
        ...(startAfter ? { startAfter } : {}),
      });
      return {
        prefixes: page.commonPrefixes,
        objects: page.objects.map((o) => ({
          key: o.key,
          size: o.size,
          lastModified: o.lastModified.toISOString(),
        })),
        isTruncated: page.isTruncated,
        ...(page.nextStartAfter ? { nextStartAfter: page.nextStartAfter } : {}),
      };
    },
  );

  app.get<{ Querystring: { bucket: string; key: string } }>('/api/lake/preview', async (request) => {
    const { bucket, key } = request.query;
    const { gzip, bytes: body, complete, size } = await previewBytes(await lake().openObject(bucket, key));
    const text = body.subarray(0, PREVIEW_BYTES).toString('utf8');
    const binary = isBinary(body.subarray(0, 4096));
    // Firehose writes JSON records back to back without a delimiter; split them for reading.
    const records = binary
      ? []
      : text
          .replace(/}\s*{/g, '}\n{')
          .split('\n')
          .filter((l) => l.length > 0);
    return {
      gzip,
      size,
      binary,
      records: records.slice(0, PREVIEW_LINES),
      truncated: records.length > PREVIEW_LINES || body.length > PREVIEW_BYTES || !complete,
    };
  });

  app.get<{ Querystring: { bucket: string; key: string } }>('/api/lake/object', async (request, reply) => {
    const { bucket, key } = request.query;
    // Streamed: an object of any size costs the server a buffer, not its size.
    const object = await lake().openObject(bucket, key);
    return reply
      .type('application/octet-stream')
      .header('content-length', String(object.info.size))
      .header('content-disposition', attachment(key.split('/').pop() || 'object'))
      .send(object.stream());
  });

  app.put<{ Querystring: { bucket: string; key: string }; Body: Buffer }>(
    '/api/lake/object',
    async (request, reply) => {
      const { bucket, key } = request.query;
      if (!key || !Buffer.isBuffer(request.body))
        return reply
          .code(400)
          .send({ error: { message: 'Send the file as application/octet-stream with ?bucket=&key=.' } });
      const info = await lake().putObject(bucket, key, request.body);
      return { key: info.key, size: info.size, etag: info.etag };
    },
  );

  app.delete<{ Querystring: { bucket: string; key: string } }>('/api/lake/object', async (request) => {
    const { bucket, key } = request.query;
    if (!(await lake().headObject(bucket, key))) throw new LakeError('NoSuchKey', `No object ${key}.`);
    await lake().deleteObject(bucket, key);
    return { deleted: key };
  });
}

/** A saved query as the API shows it. */
interface SavedQuery {
  readonly id: string;
  readonly name: string;
  readonly sql: string;
  /** The user who saved it first (absent for queries saved before owners were kept). */
  readonly owner?: string;
  readonly updated: string;
}

/** The SQL and owner of a saved query's stored body: `{"sql", "owner"}`, or the bare SQL text as older versions stored it. */
function savedQueryBody(body: string): { sql: string; owner?: string } {
  if (body.startsWith('{')) {
    try {
      const parsed = JSON.parse(body) as { sql?: unknown; owner?: unknown };
      if (typeof parsed.sql === 'string')
        return { sql: parsed.sql, ...(typeof parsed.owner === 'string' ? { owner: parsed.owner } : {}) };
    } catch {
      // Bare SQL that happens to start with a brace.
    }
  }
  return { sql: body };
}

/** A double-quoted SQL identifier (any name, quotes doubled). */
function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A Content-Disposition header for a download: a plain ASCII `filename` (quotes, backslashes,
 * control and non-ASCII characters replaced) and the exact name as RFC 5987 `filename*`.
 * @see https://www.rfc-editor.org/rfc/rfc6266#section-4.3
 */
export function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  let exact: string;
  try {
    exact = encodeURIComponent(name).replace(
      /['()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
  } catch {
    // A lone surrogate has no UTF-8 form: the ASCII name alone.
    return `attachment; filename="${ascii}"`;
  }
  return `attachment; filename="${ascii}"; filename*=UTF-8''${exact}`;
}

/**
 * The first PREVIEW_BYTES (and one more, to tell there is more) of an object, GZIP
 * decompressed as it streams; the rest is never read, so a preview of a huge object (or a
 * GZIP bomb) costs no more than a small one. `size` is the whole (decompressed) size when
 * it was read to the end, else the stored size.
 */
async function previewBytes(
  object: ObjectReader,
): Promise<{ gzip: boolean; bytes: Buffer; complete: boolean; size: number }> {
  const source = object.stream();
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let length = 0;
  let complete = true;
  let gzip = false;
  let output: Readable | undefined;
  try {
    const head = await iterator.next();
    if (head.done) return { gzip, bytes: Buffer.alloc(0), complete, size: 0 };
    const first = head.value;
    gzip = first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
    async function* bytes(): AsyncGenerator<Buffer> {
      yield first;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    }
    output = gzip ? Readable.from(bytes()).pipe(createGunzip()) : Readable.from(bytes());
    try {
      for await (const chunk of output) {
        chunks.push(chunk as Buffer);
        length += (chunk as Buffer).length;
        if (length > PREVIEW_BYTES) {
          complete = false;
          break;
        }
      }
    } catch (error) {
      // A cut-off or damaged GZIP stream: show what decompressed.
      if (!(gzip && typeof (error as { code?: unknown }).code === 'string')) throw error;
      complete = false;
    }
  } finally {
    output?.destroy();
    source.destroy();
  }
  return { gzip, bytes: Buffer.concat(chunks), complete, size: complete ? length : object.info.size };
}

/** True when a sample holds control bytes that text does not (NUL and friends). */
function isBinary(sample: Buffer): boolean {
  for (const byte of sample) if (byte < 9 || (byte > 13 && byte < 32)) return true;
  return false;
}

/** A request its user may not make (403). */
export class ForbiddenError extends Error {
  override readonly name = 'ForbiddenError';
  /** The HTTP status the error handler answers with. */
  readonly statusCode = 403;
}
