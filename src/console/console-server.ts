/**
 * The console port (8080): health, metrics, the sign-in page, the console's pages (built by
 * Vite into `dist/console/`) and the JSON API that the pages, `sluice sql` and `sluice
 * redeliver` use.
 *
 * Who may call what:
 *   GET  /health                    open (readiness: 200 once recovery is done)
 *   GET  /metrics                   Prometheus; open on loopback, else `Authorization: Bearer <metricsToken>`
 *   GET/POST /login, POST /logout   the sign-in form (warehouse user and password)
 *   everything else                 a signed-in session: cookie `sluice_session` (HttpOnly,
 *                                   SameSite=Strict), and on every write under /api the
 *                                   session's CSRF token in `x-csrf-token`;
 *                                   or, for programs, under /api only: the warehouse user and
 *                                   password per request (HTTP Basic), or a bearer token from
 *                                   POST /api/tokens (no cookie, so no CSRF token needed)
 *   any write                       refused when a browser says another site's page sent it
 *                                   (Origin, Sec-Fetch-Site), however it authenticates
 *   the lake, stream changes        a superuser only (see routes.ts)
 *   dashboards, saved queries       read by anyone signed in; changed by their owner or a superuser
 *
 * Every visual and query runs with its viewer's own warehouse privileges, or, for a shared
 * visual over a table or view, after checking the viewer may read it (live.ts). Sessions
 * end after 12 hours idle or a week in all; signing in again or out ends the old session
 * and its live dashboards. With `tls` the console speaks HTTPS and the cookie is Secure.
 *
 * Sessions are kept in memory: restarting the server signs everyone out. Repeated failed
 * sign-ins from one address (the form, HTTP Basic or a bad token) are answered ever more
 * slowly, up to 5 s, as on the SQL port; while such a delay runs, that address's next
 * attempt waits it out before its password is checked, so giving up on a slow answer gains
 * nothing.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { DeliveryStreamService, FirehoseMetrics } from '../delivery/index.ts';
import { DeliveryStreamError } from '../delivery/index.ts';
import type { ObjectStore } from '../lake/index.ts';
import { LakeError } from '../lake/index.ts';
import { SqlError, type QueryResult, type Warehouse } from '../warehouse/index.ts';
import type { Logger } from '../util/logger.ts';
import { SignInFailures } from '../pgwire/server.ts';
import { LiveHub } from './live.ts';
import { registerApi } from './routes.ts';
import { csrfMatches, SESSION_COOKIE, SESSION_IDLE_MS, SessionStore } from './sessions.ts';
import { loginPage, notBuiltPage } from './pages.ts';
import { VisualError } from './visuals.ts';

/**
 * False when a browser says the request comes from another site's page (Origin, or
 * Sec-Fetch-Site for a browser that sends no Origin); programs send neither.
 */
function sameOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return false;
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    // `null` (a sandboxed or privacy-sensitive context) and anything unreadable.
    return false;
  }
}

/** Options for the console server. */
export interface ConsoleServerOptions {
  readonly warehouse: Warehouse;
  readonly streams: DeliveryStreamService;
  readonly metrics: FirehoseMetrics;
  readonly logger: Logger;
  /** The lake (for the lake browser); without it the lake pages answer 404. */
  readonly objectStore?: ObjectStore;
  /** Token that grants /metrics from beyond loopback; without it /metrics is loopback-only. */
  readonly metricsToken?: string;
  /** Reports whether the server finished starting (for /health). */
  readonly ready: () => boolean;
  /** Mark the session cookie Secure (default: when `tls` is given). */
  readonly secureCookies?: boolean;
  /** Certificate and key: serve the console over HTTPS (and mark the session cookie Secure). */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** A slippy-map tile URL template (`https://host/{z}/{x}/{y}.png`) for base maps; without it maps are drawn on a plain canvas. */
  readonly tileUrl?: string;
  /** Folder of the built pages (default `dist/console/` of the installation). */
  readonly staticDir?: string;
  /**
   * The superuser the server runs as: live dashboards compute visuals over tables and views
   * once, as this user, for every viewer allowed to read them. Without it each viewer's
   * visuals run as that viewer.
   */
  readonly serviceUser?: string;
}

const TOKEN_TTL_MS = 12 * 60 * 60 * 1000;
/** Largest request body but an upload to the lake (JSON, SQL scripts). */
const BODY_LIMIT = 16 * 1024 * 1024;
/** Largest file uploaded to the lake through the console. */
export const UPLOAD_LIMIT = 64 * 1024 * 1024;
const AUTH_CACHE_MS = 60_000;

/** Where `vite build` puts the pages. */
export const DEFAULT_STATIC_DIR = fileURLToPath(new URL('../../dist/console/', import.meta.url));

/** True for a loopback peer address. */
function isLoopback(address: string | undefined): boolean {
  return !!address && (address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.'));
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The warehouse user the request acts as (set by the auth hook). */
    consoleUser: string;
  }
}

const OPEN_PATHS = new Set(['/health', '/metrics', '/login', '/favicon.ico']);

/** Builds the console app (not yet listening). */
export function createConsoleServer(options: ConsoleServerOptions): FastifyInstance {
  // One type for both: the routes do not care which server carries them.
  const app = (options.tls
    ? Fastify({
        logger: false,
        bodyLimit: BODY_LIMIT,
        https: { cert: options.tls.cert, key: options.tls.key },
      })
    : Fastify({ logger: false, bodyLimit: BODY_LIMIT })) as unknown as FastifyInstance;
  const secureCookies = options.secureCookies ?? !!options.tls;
  const tokenKey = randomBytes(32);
  const authCache = new Map<string, { user: string; until: number }>();
  const sessions = new SessionStore();
  const failures = new SignInFailures();
  /** Per address: when its last failed sign-in is answered; further attempts wait till then. */
  const penalties = new Map<string, number>();
  const live = new LiveHub({
    warehouse: options.warehouse,
    logger: options.logger,
    ...(options.serviceUser ? { serviceUser: options.serviceUser } : {}),
  });
  const staticDir = options.staticDir ?? DEFAULT_STATIC_DIR;
  const built = existsSync(`${staticDir}/index.html`);
  const tileOrigin = options.tileUrl ? new URL(options.tileUrl.replace(/[{}]/g, '')).origin : '';

  void app.register(fastifyCookie);
  app.decorateRequest('consoleUser', '');
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );
  app.addContentTypeParser(
    'application/octet-stream',
    { parseAs: 'buffer', bodyLimit: UPLOAD_LIMIT },
    (_req, body, done) => done(null, body),
  );

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

  /** The user of an Authorization header (Basic or Bearer), or undefined. */
  async function headerUser(header: string): Promise<string | undefined> {
    const [scheme, value = ''] = header.split(' ', 2);
    if (scheme?.toLowerCase() === 'bearer') return verifyToken(value.trim());
    if (scheme?.toLowerCase() !== 'basic') return undefined;
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return undefined;
    // User names are case-insensitive, as the sign-in form treats them: one spelling per user.
    const user = decoded.slice(0, colon).toLowerCase();
    const cacheKey = createHash('sha256').update(decoded).digest('hex');
    const cached = authCache.get(cacheKey);
    if (cached && cached.until > Date.now()) return cached.user;
    if (await options.warehouse.authenticate(decoded.slice(0, colon), decoded.slice(colon + 1))) {
      authCache.set(cacheKey, { user, until: Date.now() + AUTH_CACHE_MS });
      return user;
    }
    return undefined;
  }

  /** Waits out a failed sign-in's delay from the same address, if one is running. */
  async function waitPenalty(address: string): Promise<void> {
    const until = penalties.get(address);
    if (until === undefined) return;
    const wait = until - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    else penalties.delete(address);
  }

  /** Records a failed sign-in and waits as long as repeated failures from its address deserve. */
  async function signInFailed(address: string): Promise<void> {
    const wait = failures.failed(address);
    if (wait <= 0) return;
    penalties.set(address, Date.now() + wait);
    if (penalties.size > SignInFailures.MAX_ADDRESSES) {
      const now = Date.now();
      for (const [a, until] of penalties) if (until <= now) penalties.delete(a);
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }

  function signInSucceeded(address: string): void {
    failures.succeeded(address);
    penalties.delete(address);
  }

  function unauthorized(reply: FastifyReply, basic: boolean): FastifyReply {
    if (basic) reply.header('www-authenticate', 'Basic realm="sluice", charset="UTF-8"');
    return reply.code(401).send({
      error: {
        message:
          'Authentication required: sign in to the console, or send the warehouse user and password (HTTP Basic) or a bearer token.',
      },
    });
  }

  // Every request but the open paths is signed in, by cookie (pages and API) or per request (API).
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?', 1)[0] ?? '/';
    if (OPEN_PATHS.has(path)) return;
    const writes = !['GET', 'HEAD', 'OPTIONS'].includes(request.method);
    // A browser attaches remembered HTTP Basic credentials to another site's form posts too:
    // no write from another site's page, however it authenticates.
    if (writes && !sameOrigin(request)) {
      return reply
        .code(403)
        .send({ error: { message: 'Refused: the request came from another site’s page.' } });
    }
    const isApi = path.startsWith('/api/');
    const header = request.headers.authorization;
    if (isApi && header) {
      await waitPenalty(request.ip);
      const user = await headerUser(header);
      if (!user) {
        await signInFailed(request.ip);
        return unauthorized(reply, true);
      }
      request.consoleUser = user;
      return;
    }
    const session = sessions.get(request.cookies[SESSION_COOKIE]);
    if (!session) {
      if (isApi) return unauthorized(reply, !request.cookies[SESSION_COOKIE]);
      return reply.redirect(`/login${path === '/' ? '' : `?next=${encodeURIComponent(request.url)}`}`, 303);
    }
    if (writes && !csrfMatches(session, request.headers['x-csrf-token'])) {
      return reply.code(403).send({ error: { message: 'Missing or wrong CSRF token (x-csrf-token).' } });
    }
    request.consoleUser = session.user;
  });

  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'same-origin');
    if (!request.url.startsWith('/api/'))
      reply.header(
        'content-security-policy',
        `default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:${tileOrigin ? ` ${tileOrigin}` : ''}; connect-src 'self'; frame-ancestors 'none'`,
      );
    return payload;
  });

  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send());

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

  // Only paths of this site: `//host` and `/\host` would leave it, and browsers drop tabs and
  // line breaks from URLs, so `/<tab>/host` would too.
  const safeNext = (next: unknown): string =>
    typeof next === 'string' &&
    /^\/(?![/\\])/.test(next) &&
    ![...next].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)
      ? next
      : '/';

  app.get<{ Querystring: { next?: string } }>('/login', async (request, reply) =>
    reply.type('text/html; charset=utf-8').send(loginPage({ next: safeNext(request.query.next) })),
  );

  app.post<{ Body: Record<string, string> | undefined }>('/login', async (request, reply) => {
    const body = request.body ?? {};
    const user = String(body.user ?? '').trim();
    const next = safeNext(body.next);
    if (!sameOrigin(request))
      return reply
        .code(403)
        .type('text/html; charset=utf-8')
        .send(loginPage({ next, error: 'Sign-in refused: the form came from another site.' }));
    await waitPenalty(request.ip);
    if (!user || !(await options.warehouse.authenticate(user, String(body.password ?? '')))) {
      options.logger.info({ user, ip: request.ip }, 'A console sign-in failed.');
      await signInFailed(request.ip);
      return reply
        .code(401)
        .type('text/html; charset=utf-8')
        .send(loginPage({ next, user, error: 'Wrong user name or password.' }));
    }
    signInSucceeded(request.ip);
    // A fresh id at every sign-in; a session the browser held before ends (no fixation).
    const previous = request.cookies[SESSION_COOKIE];
    if (previous) {
      sessions.delete(previous);
      live.endSession(previous);
    }
    const session = sessions.create(user.toLowerCase());
    reply.setCookie(SESSION_COOKIE, session.id, {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      secure: secureCookies,
      maxAge: SESSION_IDLE_MS / 1000,
    });
    return reply.redirect(next, 303);
  });

  app.post('/logout', async (request, reply) => {
    const id = request.cookies[SESSION_COOKIE];
    if (id) {
      sessions.delete(id);
      // Its open live dashboards stop too: a signed-out browser receives nothing more.
      live.endSession(id);
    }
    reply.clearCookie(SESSION_COOKIE, {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      secure: secureCookies,
    });
    return reply.redirect('/login', 303);
  });

  app.get('/api/session', async (request) => {
    const session = sessions.get(request.cookies[SESSION_COOKIE]);
    return { user: request.consoleUser, csrf: session?.csrf ?? null, tileUrl: options.tileUrl ?? null };
  });

  app.post('/api/tokens', async (request) => ({
    token: issueToken(request.consoleUser),
    expiresInSeconds: TOKEN_TTL_MS / 1000,
  }));

  app.post('/api/sql', async (request, reply) => {
    const body = request.body as { sql?: unknown } | string | undefined;
    const sql = typeof body === 'string' ? body : typeof body?.sql === 'string' ? body.sql : undefined;
    if (sql === undefined || sql.trim() === '') {
      return reply
        .code(400)
        .send({ error: { message: 'Send the SQL as {"sql": "..."} or as text/plain.', sqlstate: '42601' } });
    }
    const session = await options.warehouse.openSession(request.consoleUser);
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

  registerApi(app, { ...options, live });

  if (built) {
    void app.register(fastifyStatic, { root: staticDir, prefix: '/', index: ['index.html'], wildcard: true });
  } else {
    app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(notBuiltPage()));
  }

  app.setErrorHandler(async (error, _request, reply) => {
    if (error instanceof DeliveryStreamError) {
      const status = error.kind === 'ResourceNotFound' ? 404 : error.kind === 'InvalidArgument' ? 400 : 409;
      return reply.code(status).send({ error: { type: error.kind, message: error.message } });
    }
    if (error instanceof LakeError) {
      const status = error.code === 'NoSuchBucket' || error.code === 'NoSuchKey' ? 404 : 400;
      return reply.code(status).send({ error: { type: error.code, message: error.message } });
    }
    if (error instanceof SqlError) {
      return reply.code(400).send({ error: { message: error.message, sqlstate: error.sqlstate } });
    }
    if (error instanceof VisualError) return reply.code(400).send({ error: { message: error.message } });
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status < 500)
      return reply.code(status).send({ error: { message: (error as Error).message } });
    options.logger.error({ err: error }, 'Console API request failed.');
    return reply.code(500).send({ error: { message: 'Internal error.' } });
  });

  // Event streams never end on their own: close them before the server waits for its sockets.
  app.addHook('preClose', async () => {
    await live.close();
  });

  return app;
}

/** A query result as the JSON API sends it. */
function renderResult(result: QueryResult): Record<string, unknown> {
  return { command: result.command, columns: result.columns, rows: result.rows, rowCount: result.rowCount };
}
