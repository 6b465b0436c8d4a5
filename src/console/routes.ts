/**
 * The console's JSON API behind sign-in: data sets and field roles, dashboards (saved in
 * the warehouse's metadata) and their live event streams, the query editor's runs, saved
 * queries, delivery streams and the lake. The auth hook in console-server.ts has already
 * set `request.consoleUser` (and checked the CSRF token on writes) for every route here.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import type {
  CreateDeliveryStreamInput,
  DeliveryStreamService,
  UpdateDestinationInput,
} from '../delivery/index.ts';
import { DeliveryStreamError } from '../delivery/index.ts';
import { LakeError, type ObjectStore } from '../lake/index.ts';
import type { Warehouse } from '../warehouse/index.ts';
import type { Logger } from '../util/logger.ts';
import { DEMO_DASHBOARD } from './demo-dashboard.ts';
import { computeVisual, visualErrorMessage, type LiveHub } from './live.ts';
import { QueryRuns, toCsv } from './query-runs.ts';
import {
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
const GONE = 'That result is no longer held; run the query again.';
const PREVIEW_BYTES = 256 * 1024;
const PREVIEW_LINES = 200;

/** Parses the `filters` query parameter (JSON) or a `range` shorthand. */
function filtersOf(query: { filters?: string; range?: string }, fallback: Filters | undefined): Filters {
  if (query.filters) {
    try {
      return JSON.parse(query.filters) as Filters;
    } catch {
      throw new VisualError('filters must be JSON.');
    }
  }
  if (query.range) return { ...fallback, range: query.range };
  return fallback ?? {};
}

/** Registers the API routes. */
export function registerApi(app: FastifyInstance, options: ApiOptions): void {
  const { warehouse, streams, live } = options;
  const runs = new QueryRuns(warehouse);

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
      return {
        tables: (tables?.rows ?? []).map(([schema, table, type]) => ({
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
    const source = request.body?.source;
    if (!source)
      return reply.code(400).send({ error: { message: 'Send {"source": {"table": ...} or {"sql": ...}}.' } });
    const session = await warehouse.openSession(request.consoleUser);
    try {
      const [sample] = await session.execute(`SELECT * FROM ${sourceSql(source)} LIMIT 200`);
      return { fields: detectRoles(sample?.columns ?? [], sample?.rows ?? []) };
    } finally {
      await session.close();
    }
  });

  app.post<{ Body: { spec?: VisualSpec; filters?: Filters } }>('/api/visual', async (request, reply) => {
    const spec = request.body?.spec;
    if (!spec) return reply.code(400).send({ error: { message: 'Send {"spec": {...}}.' } });
    const session = await warehouse.openSession(request.consoleUser);
    const started = Date.now();
    try {
      return {
        id: spec.id,
        data: await computeVisual(session, spec, request.body.filters ?? {}),
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

  app.put<{ Params: { id: string }; Body: DashboardSpec }>('/api/dashboards/:id', async (request, reply) => {
    const { id } = request.params;
    const spec = request.body;
    if (!DOC_ID.test(id) || !spec || typeof spec.name !== 'string' || !Array.isArray(spec.visuals))
      return reply
        .code(400)
        .send({ error: { message: 'Send a dashboard {"name", "visuals": [...]} under a plain id.' } });
    const saved: DashboardSpec = { ...spec, id };
    await warehouse.saveDocument({ kind: 'dashboard', id, name: spec.name, body: JSON.stringify(saved) });
    return saved;
  });

  app.delete<{ Params: { id: string } }>('/api/dashboards/:id', async (request) => {
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
      reply.hijack();
      live.watch(reply.raw, request.consoleUser, spec, filters);
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

  app.get('/api/saved-queries', async () => ({
    queries: (await warehouse.listDocuments('query')).map((d) => ({
      id: d.id,
      name: d.name,
      sql: d.body,
      updated: d.updated,
    })),
  }));

  app.put<{ Params: { id: string }; Body: { name?: string; sql?: string } }>(
    '/api/saved-queries/:id',
    async (request, reply) => {
      const { name, sql } = request.body ?? {};
      if (!DOC_ID.test(request.params.id) || typeof name !== 'string' || typeof sql !== 'string')
        return reply.code(400).send({ error: { message: 'Send {"name", "sql"} under a plain id.' } });
      await warehouse.saveDocument({ kind: 'query', id: request.params.id, name, body: sql });
      return { id: request.params.id, name, sql };
    },
  );

  app.delete<{ Params: { id: string } }>('/api/saved-queries/:id', async (request) => {
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
    await streams.delete(request.params.name);
    return { deleting: request.params.name };
  });

  app.post<{ Params: { name: string }; Body: { manifest?: string } | undefined }>(
    '/api/streams/:name/redeliver',
    async (request) => ({ results: await streams.redeliver(request.params.name, request.body?.manifest) }),
  );

  // ---- the lake --------------------------------------------------------------------------

  const lake = (): ObjectStore => {
    if (!options.objectStore) throw new DeliveryStreamError('ResourceNotFound', 'This server has no lake.');
    return options.objectStore;
  };

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
    let body = await lake().getObject(bucket, key);
    const gzip = body.length > 2 && body[0] === 0x1f && body[1] === 0x8b;
    if (gzip) body = gunzipSync(body, { maxOutputLength: 64 * 1024 * 1024 });
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
      size: body.length,
      binary,
      records: records.slice(0, PREVIEW_LINES),
      truncated: records.length > PREVIEW_LINES || body.length > PREVIEW_BYTES,
    };
  });

  app.get<{ Querystring: { bucket: string; key: string } }>('/api/lake/object', async (request, reply) => {
    const { bucket, key } = request.query;
    const body = await lake().getObject(bucket, key);
    const name = key.split('/').pop() ?? 'object';
    return reply
      .type('application/octet-stream')
      .header('content-disposition', `attachment; filename="${name.replace(/["\\\r\n]/g, '_')}"`)
      .send(body);
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

/** True when a sample holds control bytes that text does not (NUL and friends). */
function isBinary(sample: Buffer): boolean {
  for (const byte of sample) if (byte < 9 || (byte > 13 && byte < 32)) return true;
  return false;
}
