/**
 * Warehouse users and their SCRAM-SHA-256 verifiers. The password itself is never stored:
 * only the salt, the iteration count, StoredKey and ServerKey, exactly what PostgreSQL keeps
 * in pg_authid, so the SQL port can run the SCRAM exchange (RFC 5802 / RFC 7677) and
 * password sign-ins recompute the keys from the password.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5802#section-3
 * @see https://www.rfc-editor.org/rfc/rfc7677
 * @see https://www.postgresql.org/docs/current/sasl-authentication.html
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { ScramVerifier } from './index.ts';

const pbkdf2Async = promisify(pbkdf2);

/** PostgreSQL's default iteration count (scram_iterations). */
export const SCRAM_ITERATIONS = 4096;

/** Code points SASLprep maps to nothing (RFC 3454 table B.1). */
const MAPPED_TO_NOTHING = new Set([
  0x00ad,
  0x034f,
  0x1806,
  0x180b,
  0x180c,
  0x180d,
  0x200b,
  0x200c,
  0x200d,
  0x2060,
  0xfeff,
  ...Array.from({ length: 16 }, (_, i) => 0xfe00 + i),
]);
/** Non-ASCII spaces SASLprep maps to U+0020 (RFC 3454 table C.1.2). */
const NON_ASCII_SPACE = new Set([
  0x00a0,
  0x1680,
  0x202f,
  0x205f,
  0x3000,
  ...Array.from({ length: 12 }, (_, i) => 0x2000 + i),
]);

/**
 * SASLprep (RFC 4013) as PostgreSQL applies it to passwords: map, then NFKC. Prohibited
 * characters are not rejected; like PostgreSQL, such a password is used as it is.
 * @see https://www.rfc-editor.org/rfc/rfc4013
 */
export function saslPrep(password: string): string {
  let mapped = '';
  for (const ch of password) {
    const cp = ch.codePointAt(0) as number;
    if (MAPPED_TO_NOTHING.has(cp)) continue;
    mapped += NON_ASCII_SPACE.has(cp) ? ' ' : ch;
  }
  return mapped.normalize('NFKC');
}

/** HMAC-SHA-256. */
export function hmacSha256(key: Buffer, data: string | Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** SHA-256. */
export function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** SaltedPassword := Hi(Normalize(password), salt, i). */
async function saltedPassword(password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return pbkdf2Async(Buffer.from(saslPrep(password), 'utf8'), salt, iterations, 32, 'sha256');
}

/** Computes a verifier for a password (random 16-byte salt unless given). */
export async function createScramVerifier(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations = SCRAM_ITERATIONS,
): Promise<ScramVerifier> {
  const salted = await saltedPassword(password, salt, iterations);
  const clientKey = hmacSha256(salted, 'Client Key');
  return { salt, iterations, storedKey: sha256(clientKey), serverKey: hmacSha256(salted, 'Server Key') };
}

/** True when the password produces the verifier's StoredKey (constant-time comparison). */
export async function checkScramPassword(verifier: ScramVerifier, password: string): Promise<boolean> {
  const salted = await saltedPassword(password, verifier.salt, verifier.iterations);
  const storedKey = sha256(hmacSha256(salted, 'Client Key'));
  return storedKey.length === verifier.storedKey.length && timingSafeEqual(storedKey, verifier.storedKey);
}

/**
 * Checks a SCRAM client proof: ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage),
 * and H(ClientKey) must equal StoredKey.
 * @see https://www.rfc-editor.org/rfc/rfc5802#section-3
 */
export function verifyScramClientProof(
  verifier: ScramVerifier,
  authMessage: string,
  clientProof: Buffer,
): boolean {
  const signature = hmacSha256(verifier.storedKey, authMessage);
  if (clientProof.length !== signature.length) return false;
  const clientKey = Buffer.alloc(signature.length);
  for (let i = 0; i < signature.length; i++)
    clientKey[i] = (clientProof[i] as number) ^ (signature[i] as number);
  return timingSafeEqual(sha256(clientKey), verifier.storedKey);
}

/** ServerSignature := HMAC(ServerKey, AuthMessage), sent in the server-final-message. */
export function scramServerSignature(verifier: ScramVerifier, authMessage: string): Buffer {
  return hmacSha256(verifier.serverKey, authMessage);
}

/** PostgreSQL's text form: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64). */
export function formatScramVerifier(v: ScramVerifier): string {
  return `SCRAM-SHA-256$${v.iterations}:${v.salt.toString('base64')}$${v.storedKey.toString('base64')}:${v.serverKey.toString('base64')}`;
}

/** Reads PostgreSQL's text form back; undefined when it is not one. */
export function parseScramVerifier(text: string): ScramVerifier | undefined {
  const m = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(text);
  if (!m) return undefined;
  return {
    iterations: Number(m[1]),
    salt: Buffer.from(m[2] as string, 'base64'),
    storedKey: Buffer.from(m[3] as string, 'base64'),
    serverKey: Buffer.from(m[4] as string, 'base64'),
  };
}

/** A stored user. */
export interface UserRecord {
  /** Redshift's usesysid (stl_load_errors.userid). */
  readonly id: number;
  /** User name. */
  readonly name: string;
  /** Superuser. */
  readonly superuser: boolean;
  /** The SCRAM verifier. */
  readonly verifier: ScramVerifier;
}

/** What the user store needs from the database: run SQL with positional parameters. */
export interface UserDb {
  /** Runs a statement and returns its rows as arrays. */
  query(sql: string, params?: readonly (string | number | boolean)[]): Promise<unknown[][]>;
}

/** The first usesysid handed out (Redshift's first user is 100). */
const FIRST_USER_ID = 100;

/** Reads a user, or undefined. */
export async function findUser(db: UserDb, name: string): Promise<UserRecord | undefined> {
  const rows = await db.query(
    'SELECT usesysid, usename, usesuper, scram_salt, scram_iterations, scram_stored_key, scram_server_key FROM _sluice.users WHERE usename = $1',
    [name],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    id: Number(r[0]),
    name: String(r[1]),
    superuser: r[2] === true,
    verifier: {
      salt: Buffer.from(String(r[3]), 'base64'),
      iterations: Number(r[4]),
      storedKey: Buffer.from(String(r[5]), 'base64'),
      serverKey: Buffer.from(String(r[6]), 'base64'),
    },
  };
}

/** Creates the user, or sets its password (and superuser flag when given). */
export async function upsertUser(
  db: UserDb,
  name: string,
  password: string,
  superuser: boolean | undefined,
): Promise<void> {
  const v = await createScramVerifier(password);
  const existing = await findUser(db, name);
  const params = [
    v.salt.toString('base64'),
    v.iterations,
    v.storedKey.toString('base64'),
    v.serverKey.toString('base64'),
  ] as const;
  if (existing) {
    await db.query(
      'UPDATE _sluice.users SET scram_salt = $1, scram_iterations = $2, scram_stored_key = $3, scram_server_key = $4, usesuper = $5 WHERE usename = $6',
      [...params, superuser ?? existing.superuser, name],
    );
    return;
  }
  const next = await db.query(`SELECT coalesce(max(usesysid) + 1, ${FIRST_USER_ID}) FROM _sluice.users`);
  const id = Number(next[0]?.[0] ?? FIRST_USER_ID);
  await db.query(
    "INSERT INTO _sluice.users (usesysid, usename, usesuper, scram_salt, scram_iterations, scram_stored_key, scram_server_key, created) VALUES ($1, $2, $3, $4, $5, $6, $7, timezone('UTC', now()))",
    [id, name, superuser ?? false, ...params],
  );
}

/** A verifier for unknown users, so a wrong user name costs the same time as a wrong password. */
let dummyVerifier: Promise<ScramVerifier> | undefined;

/** True when the user exists and the password is right. */
export async function authenticateUser(db: UserDb, name: string, password: string): Promise<boolean> {
  const user = await findUser(db, name);
  if (!user) {
    dummyVerifier ??= createScramVerifier('not a password');
    await checkScramPassword(await dummyVerifier, password);
    return false;
  }
  return checkScramPassword(user.verifier, password);
}
