/** The console API as the pages call it: JSON in and out, the CSRF token on every write. */

let csrf: string | null = null;

/** Server settings the pages follow. */
export const settings: { tileUrl: string | null } = { tileUrl: null };

/** An API failure with the server's message. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** Creates an error from a response. */
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
  }
}

/** Reads who is signed in and the session's CSRF token. */
export async function loadSession(): Promise<{ user: string }> {
  const body = (await request('GET', '/api/session')) as {
    user: string;
    csrf: string | null;
    tileUrl?: string | null;
  };
  csrf = body.csrf;
  settings.tileUrl = body.tileUrl ?? null;
  return { user: body.user };
}

/** Calls the API; throws ApiError with the server's message on failure. */
export async function request(method: string, path: string, body?: unknown, raw?: Blob): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  if (raw) headers['content-type'] = 'application/octet-stream';
  else if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(raw ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (response.status === 401) {
    location.href = `/login?next=${encodeURIComponent(location.pathname + location.hash)}`;
    throw new ApiError('Signed out.', 401, undefined);
  }
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  if (!response.ok) {
    const message =
      (parsed as { error?: { message?: string } } | undefined)?.error?.message ??
      `${response.status} ${text}`;
    throw new ApiError(message, response.status, parsed);
  }
  return parsed;
}

/** GET as a typed value. */
export const get = <T>(path: string): Promise<T> => request('GET', path) as Promise<T>;
/** POST as a typed value. */
export const post = <T>(path: string, body?: unknown): Promise<T> =>
  request('POST', path, body ?? {}) as Promise<T>;
/** PUT as a typed value. */
export const put = <T>(path: string, body: unknown): Promise<T> => request('PUT', path, body) as Promise<T>;
/** DELETE as a typed value. */
export const del = <T>(path: string): Promise<T> => request('DELETE', path) as Promise<T>;

/** Signs out (the form post clears the cookie server-side). */
export async function signOut(): Promise<void> {
  await fetch('/logout', { method: 'POST', headers: csrf ? { 'x-csrf-token': csrf } : {} });
  location.href = '/login';
}

/** Formats a byte count. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Formats a number for a label. */
export function fmt(n: number | null | undefined, digits = 2): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  return Math.abs(n) >= 1000 || Number.isInteger(n)
    ? Math.round(n).toLocaleString('en-US')
    : n.toFixed(digits);
}

/** Shows or hides the banner for a lost server connection (set by the app shell). */
export const connection = { set: (_down: boolean): void => undefined };
