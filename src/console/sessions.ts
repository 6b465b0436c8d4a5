/**
 * Signed-in console sessions, held in memory: a restart signs everyone out. The cookie
 * carries only a random id (HttpOnly, SameSite=Strict); each session has its own CSRF
 * token, which the pages send in the `x-csrf-token` header on every write.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** One signed-in browser. */
export interface ConsoleSession {
  /** Random id (the cookie value). */
  readonly id: string;
  /** Warehouse user. */
  readonly user: string;
  /** CSRF token for writes. */
  readonly csrf: string;
  /** Expiry (ms since epoch), pushed forward on use, never past `ends`. */
  expires: number;
  /** When the session ends however busy it is (ms since epoch). */
  readonly ends: number;
}

/** The cookie's name. */
export const SESSION_COOKIE = 'sluice_session';

/** Idle time after which a session ends. */
export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;

/** Sessions one user may hold at once; signing in once more ends their oldest. */
export const MAX_SESSIONS_PER_USER = 100;

/** Longest a session lasts, used or not: a week, then its user signs in again. */
export const SESSION_MAX_MS = 7 * 24 * 60 * 60 * 1000;

/** Sessions of signed-in users, in memory. */
export class SessionStore {
  private readonly sessions = new Map<string, ConsoleSession>();

  /** Starts a session for an authenticated user. */
  create(user: string): ConsoleSession {
    this.sweep();
    const session: ConsoleSession = {
      id: randomBytes(32).toString('base64url'),
      user,
      csrf: randomBytes(24).toString('base64url'),
      expires: Date.now() + SESSION_IDLE_MS,
      ends: Date.now() + SESSION_MAX_MS,
    };
    // Sessions are kept in sign-in order: the first of this user's is the oldest.
    let held = 0;
    for (const s of this.sessions.values()) if (s.user === user) held++;
    for (const [id, s] of this.sessions) {
      if (held < MAX_SESSIONS_PER_USER) break;
      if (s.user === user) {
        this.sessions.delete(id);
        held--;
      }
    }
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session of a cookie value, extended; undefined when unknown or expired. */
  get(id: string | undefined): ConsoleSession | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expires < Date.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    session.expires = Math.min(Date.now() + SESSION_IDLE_MS, session.ends);
    return session;
  }

  /** Ends a session. */
  delete(id: string): void {
    this.sessions.delete(id);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) if (s.expires < now) this.sessions.delete(id);
  }
}

/** Compares a CSRF token in constant time. */
export function csrfMatches(session: ConsoleSession, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
