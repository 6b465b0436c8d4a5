/**
 * The console port (8080): health, metrics, and the JSON API that `sluice sql`, `sluice
 * redeliver` and the console pages use.
 *
 * Who may call what:
 *   GET  /health                    open (readiness: 200 once recovery is done)
 *   GET  /metrics                   Prometheus; open on loopback, else `Authorization: Bearer <metricsToken>`
 *   /api/...                        the warehouse user and password per request (HTTP Basic), or
 *                                   a bearer token from POST /api/tokens
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { DeliveryStreamService, FirehoseMetrics } from '../delivery/index.ts';
import { DeliveryStreamError } from '../delivery/index.ts';
import { SqlError, type QueryResult, type Warehouse } from '../warehouse/index.ts';
import type { Logger } from '../util/logger.ts';

/** Options for the console server. */
export interface ConsoleServerOptions {
  readonly warehouse: Warehouse;
  readonly streams: DeliveryStreamService;
  readonly metrics: FirehoseMetrics;
  readonly logger: Logger;
  /** Token that grants /metrics from beyond loopback; without it /metrics is loopback-only. */
  readonly metricsToken?: string;
  /** Reports whether the server finished starting (for /health). */
  readonly ready: () => boolean;
}

const TOKEN_TTL_MS = 12 * 60 * 60 * 1000;
const AUTH_CACHE_MS = 60_000;

/** True for a loopback peer address. */
function isLoopback(address: string | undefined): boolean {
  return !!address && (address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.'));
}

/** Builds the console app (not yet listening). */
export function createConsoleServer(options: ConsoleServerOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
  const tokenKey = randomBytes(32);
  const authCache = new Map<string, { user: string; until: number }>();

  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  /** Signs a bearer token `<user>.<expiry>.<mac>`. */
  function issueToken(user: string): string {
    const payload = `${Buffer.from(user).toString('base64url')}.${Date.now() + TOKEN_TTL_MS}`;
    return `${payload}.${createHmac('sha256', tokenKey).update(payload).digest('base64url')}`;
  }

  function verifyToken(token: string): string | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const payload = `${parts[0]}.${parts[1]}`;
    const expected = createHmac('sha256', tokenKey).update(payload).digest();
    const given = Buffer.from(parts[2]!, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    if (Number(parts[1]) < Date.now()) return undefined;
    return Buffer.from(parts[0]!, 'base64url').toString('utf8');
  }

  /** Authenticates a request; answers 401 and returns undefined when it fails. */
  async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<string | undefined> {
    const header = request.headers.authorization ?? '';
    const [scheme, value = ''] = header.split(' ', 2);
    if (scheme?.toLowerCase() === 'bearer') {
      const user = verifyToken(value.trim());
      if (user) return user;
    } else if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const user = decoded.slice(0, colon);
      const password = decoded.slice(colon + 1);
      const cacheKey = createHash('sha256').update(decoded).digest('hex');
      const cached = authCache.get(cacheKey);
      if (colon > 0 && cached && cached.until > Date.now()) return cached.user;
      if (colon > 0 && (await options.warehouse.authenticate(user, password))) {
        authCache.set(cacheKey, { user, until: Date.now() + AUTH_CACHE_MS });
        return user;
      }
    }
    await reply
      .code(401)
      .header('www-authenticate', 'Basic realm="sluice", charset="UTF-8"')
      .send({
        error: {
          message: 'Authentication required: the warehouse user and password (HTTP Basic) or a bearer token.',
        },
      });
    return undefined;
  }

  app.get('/health', async (_request, reply) => {
    if (!options.ready()) return reply.code(503).send({ status: 'starting' });
    return { status: 'ok' };
  });

  app.get('/metrics', async (request, reply) => {
    const token = options.metricsToken;
    const header = request.headers.authorization ?? '';
    const allowed = isLoopback(request.socket.remoteAddress) || (!!token && header === `Bearer ${token}`);
    if (!allowed)
      return reply
        .code(403)
        .send('Metrics are open on loopback only unless a metrics token is configured.\n');
    return reply
      .header('content-type', options.metrics.registry.contentType)
      .send(await options.metrics.registry.metrics());
  });

  app.post('/api/tokens', async (request, reply) => {
    const user = await authenticate(request, reply);
    if (!user) return reply;
    return { token: issueToken(user), expiresInSeconds: TOKEN_TTL_MS / 1000 };
  });

  app.post('/api/sql', async (request, reply) => {
    const user = await authenticate(request, reply);
    if (!user) return reply;
    const body = request.body as { sql?: unknown } | string | undefined;
    const sql = typeof body === 'string' ? body : typeof body?.sql === 'string' ? body.sql : undefined;
    if (sql === undefined || sql.trim() === '') {
      return reply
        .code(400)
        .send({ error: { message: 'Send the SQL as {"sql": "..."} or as text/plain.', sqlstate: '42601' } });
    }
    const session = await options.warehouse.openSession(user);
    try {
      const results = await session.execute(sql);
      return { results: results.map(renderResult) };
    } catch (error) {
      if (error instanceof SqlError) {
        return reply.code(400).send({
          results: (error.options.results ?? []).map(renderResult),
          error: {
            message: error.message,
            sqlstate: error.sqlstate,
            ...(error.options.position !== undefined ? { position: error.options.position } : {}),
            ...(error.options.statementIndex !== undefined
              ? { statementIndex: error.options.statementIndex }
              : {}),
            ...(error.options.detail ? { detail: error.options.detail } : {}),
            ...(error.options.hint ? { hint: error.options.hint } : {}),
          },
        });
      }
      throw error;
    } finally {
      await session.close();
    }
  });

  app.get('/api/streams', async (request, reply) => {
    if (!(await authenticate(request, reply))) return reply;
    return {
      streams: options.streams.names().map((name) => ({
        description: options.streams.describe(name),
        status: options.streams.status(name),
        totals: options.streams.metricsOf(name).totals,
      })),
    };
  });

  app.get<{ Params: { name: string } }>('/api/streams/:name', async (request, reply) => {
    if (!(await authenticate(request, reply))) return reply;
    const { name } = request.params;
    return {
      description: options.streams.describe(name),
      status: options.streams.status(name),
      totals: options.streams.metricsOf(name).totals,
      metrics: options.streams.metricsOf(name).snapshot(),
      errors: options.streams.errors(name),
    };
  });

  app.post<{ Params: { name: string }; Body: { manifest?: string } | undefined }>(
    '/api/streams/:name/redeliver',
    async (request, reply) => {
      if (!(await authenticate(request, reply))) return reply;
      const manifest = request.body?.manifest;
      return { results: await options.streams.redeliver(request.params.name, manifest) };
    },
  );

  app.setErrorHandler(async (error, _request, reply) => {
    if (error instanceof DeliveryStreamError) {
      const status = error.kind === 'ResourceNotFound' ? 404 : error.kind === 'InvalidArgument' ? 400 : 409;
      return reply.code(status).send({ error: { type: error.kind, message: error.message } });
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status < 500)
      return reply.code(status).send({ error: { message: (error as Error).message } });
    options.logger.error({ err: error }, 'Console API request failed.');
    return reply.code(500).send({ error: { message: 'Internal error.' } });
  });

  return app;
}

/** A query result as the JSON API sends it. */
function renderResult(result: QueryResult): Record<string, unknown> {
  return { command: result.command, columns: result.columns, rows: result.rows, rowCount: result.rowCount };
}
