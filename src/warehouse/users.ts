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
import { SqlError } from './index.ts';
import { PRIVILEGE_SQLSTATE, type Grantee, type PasswordSpec, type Privilege } from './privileges.ts';

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

/**
 * PostgreSQL's md5 password hash: `md5` + hex(md5(password || user name)).
 * @see https://www.postgresql.org/docs/15/protocol-flow.html#id-1.10.6.7.3
 */
export function md5PasswordHash(password: string, user: string): string {
  return `md5${createHash('md5')
    .update(password + user, 'utf8')
    .digest('hex')}`;
}

/** A stored user. */
export interface UserRecord {
  /** Redshift's usesysid (stl_load_errors.userid). */
  readonly id: number;
  /** User name. */
  readonly name: string;
  /** Superuser. */
  readonly superuser: boolean;
  /** The SCRAM verifier; undefined when the password is disabled or was given only as an md5 hash. */
  readonly verifier: ScramVerifier | undefined;
  /** md5(password || user) as `md5<hex>`; undefined for users whose password predates it, or is disabled. */
  readonly md5: string | undefined;
}

/** What the user store needs from the database: run SQL with positional parameters. */
export interface UserDb {
  /** Runs a statement and returns its rows as arrays. */
  query(sql: string, params?: readonly (string | number | boolean | null)[]): Promise<unknown[][]>;
}

/** The first usesysid handed out (Redshift's first user is 100). */
const FIRST_USER_ID = 100;

/** Reads a user, or undefined. */
export async function findUser(db: UserDb, name: string): Promise<UserRecord | undefined> {
  const rows = await db.query(
    'SELECT usesysid, usename, usesuper, scram_salt, scram_iterations, scram_stored_key, scram_server_key, md5_password FROM _sluice.users WHERE usename = $1',
    [name],
  );
  const r = rows[0];
  if (!r) return undefined;
  const storedKey = String(r[5]);
  return {
    id: Number(r[0]),
    name: String(r[1]),
    superuser: r[2] === true,
    verifier:
      storedKey === ''
        ? undefined
        : {
            salt: Buffer.from(String(r[3]), 'base64'),
            iterations: Number(r[4]),
            storedKey: Buffer.from(storedKey, 'base64'),
            serverKey: Buffer.from(String(r[6]), 'base64'),
          },
    md5: r[7] === null || r[7] === undefined ? undefined : String(r[7]),
  };
}

/** The stored forms of a password: SCRAM verifier fields (empty when none) and the md5 hash. */
async function passwordColumns(
  name: string,
  password: PasswordSpec,
): Promise<[string, number, string, string, string | null]> {
  switch (password.kind) {
    case 'plain': {
      const v = await createScramVerifier(password.text);
      return [
        v.salt.toString('base64'),
        v.iterations,
        v.storedKey.toString('base64'),
        v.serverKey.toString('base64'),
        md5PasswordHash(password.text, name),
      ];
    }
    case 'md5':
      return ['', 0, '', '', password.hash];
    case 'disable':
      return ['', 0, '', '', null];
  }
}

/** Creates a user; false when it exists already. */
export async function insertUser(
  db: UserDb,
  name: string,
  password: PasswordSpec,
  superuser: boolean,
): Promise<boolean> {
  if (await findUser(db, name)) return false;
  const next = await db.query(`SELECT coalesce(max(usesysid) + 1, ${FIRST_USER_ID}) FROM _sluice.users`);
  const id = Number(next[0]?.[0] ?? FIRST_USER_ID);
  await db.query(
    "INSERT INTO _sluice.users (usesysid, usename, usesuper, scram_salt, scram_iterations, scram_stored_key, scram_server_key, md5_password, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, timezone('UTC', now()))",
    [id, name, superuser, ...(await passwordColumns(name, password))],
  );
  return true;
}

/** Changes a user's password and/or superuser flag; false when there is no such user. */
export async function updateUser(
  db: UserDb,
  name: string,
  changes: { readonly password?: PasswordSpec; readonly superuser?: boolean },
): Promise<boolean> {
  const existing = await findUser(db, name);
  if (!existing) return false;
  if (changes.password) {
    await db.query(
      'UPDATE _sluice.users SET scram_salt = $1, scram_iterations = $2, scram_stored_key = $3, scram_server_key = $4, md5_password = $5 WHERE usename = $6',
      [...(await passwordColumns(name, changes.password)), name],
    );
  }
  if (changes.superuser !== undefined)
    await db.query('UPDATE _sluice.users SET usesuper = $1 WHERE usename = $2', [changes.superuser, name]);
  return true;
}

/**
 * Renames a user, with its grants, memberships and ownerships. Its md5 hash, which is salted
 * with the name, is cleared (as PostgreSQL does); SCRAM sign-in keeps working.
 * @returns false when there is no such user (42710 when the new name is taken).
 */
export async function renameUser(db: UserDb, from: string, to: string): Promise<boolean> {
  if (!(await findUser(db, from))) return false;
  if (await findUser(db, to))
    throw new SqlError(`user "${to}" already exists`, PRIVILEGE_SQLSTATE.duplicateObject);
  await db.query('UPDATE _sluice.users SET usename = $1, md5_password = NULL WHERE usename = $2', [to, from]);
  await db.query('UPDATE _sluice.privileges SET grantee = $1 WHERE grantee = $2', [to, from]);
  await db.query('UPDATE _sluice.group_members SET usename = $1 WHERE usename = $2', [to, from]);
  return true;
}

/** Removes a user, its grants and group memberships; false when there is no such user (2BP01 while it owns tables). */
export async function deleteUser(db: UserDb, name: string): Promise<boolean> {
  if (!(await findUser(db, name))) return false;
  const owned = await db.query(
    "SELECT schema_name || '.' || object_name FROM _sluice.privileges WHERE grantee = $1 AND privilege = 'owner' ORDER BY 1 LIMIT 1",
    [name],
  );
  if (owned.length > 0)
    throw new SqlError(
      `user "${name}" cannot be dropped because the user owns some object`,
      PRIVILEGE_SQLSTATE.dependentObjectsStillExist,
      { detail: `owner of table ${String(owned[0]?.[0])}` },
    );
  await db.query('DELETE FROM _sluice.users WHERE usename = $1', [name]);
  await db.query('DELETE FROM _sluice.privileges WHERE grantee = $1', [name]);
  await db.query('DELETE FROM _sluice.group_members WHERE usename = $1', [name]);
  return true;
}

/** Creates the user, or sets its password (and superuser flag when given). */
export async function upsertUser(
  db: UserDb,
  name: string,
  password: string,
  superuser: boolean | undefined,
): Promise<void> {
  const spec: PasswordSpec = { kind: 'plain', text: password };
  if (await insertUser(db, name, spec, superuser ?? false)) return;
  await updateUser(db, name, { password: spec, ...(superuser !== undefined ? { superuser } : {}) });
}

/** A verifier for unknown users, so a wrong user name costs the same time as a wrong password. */
let dummyVerifier: Promise<ScramVerifier> | undefined;

/** True when the user exists and the password is right. */
export async function authenticateUser(db: UserDb, name: string, password: string): Promise<boolean> {
  const user = await findUser(db, name);
  if (!user?.verifier) {
    dummyVerifier ??= createScramVerifier('not a password');
    await checkScramPassword(await dummyVerifier, password);
    // A user created with an md5 hash only can still be checked against it.
    if (user?.md5) return timingSafeEqualText(md5PasswordHash(password, user.name), user.md5);
    return false;
  }
  return checkScramPassword(user.verifier, password);
}

function timingSafeEqualText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Creates a group (42710 when it exists). */
export async function createGroup(db: UserDb, name: string): Promise<void> {
  const exists = await db.query('SELECT 1 FROM _sluice.groups WHERE groname = $1', [name]);
  if (exists.length > 0)
    throw new SqlError(`group "${name}" already exists`, PRIVILEGE_SQLSTATE.duplicateObject);
  const next = await db.query('SELECT coalesce(max(grosysid) + 1, 100) FROM _sluice.groups');
  await db.query('INSERT INTO _sluice.groups VALUES ($1, $2)', [name, Number(next[0]?.[0] ?? 100)]);
}

/** Adds users to a group (each must exist). */
export async function addToGroup(db: UserDb, group: string, users: readonly string[]): Promise<void> {
  if (users.length === 0) return;
  const exists = await db.query('SELECT 1 FROM _sluice.groups WHERE groname = $1', [group]);
  if (exists.length === 0)
    throw new SqlError(`group "${group}" does not exist`, PRIVILEGE_SQLSTATE.undefinedObject);
  for (const user of users) {
    if (!(await findUser(db, user)))
      throw new SqlError(`user "${user}" does not exist`, PRIVILEGE_SQLSTATE.undefinedObject);
    await db.query('DELETE FROM _sluice.group_members WHERE groname = $1 AND usename = $2', [group, user]);
    await db.query('INSERT INTO _sluice.group_members VALUES ($1, $2)', [group, user]);
  }
}

/** Removes users from a group. */
export async function removeFromGroup(db: UserDb, group: string, users: readonly string[]): Promise<void> {
  for (const user of users)
    await db.query('DELETE FROM _sluice.group_members WHERE groname = $1 AND usename = $2', [group, user]);
}

/** Drops a group with its grants and memberships; false when there is no such group. */
export async function dropGroup(db: UserDb, name: string): Promise<boolean> {
  const exists = await db.query('SELECT 1 FROM _sluice.groups WHERE groname = $1', [name]);
  if (exists.length === 0) return false;
  await db.query('DELETE FROM _sluice.groups WHERE groname = $1', [name]);
  await db.query('DELETE FROM _sluice.group_members WHERE groname = $1', [name]);
  await db.query('DELETE FROM _sluice.privileges WHERE grantee = $1', [`group:${name}`]);
  return true;
}

/** Adds (GRANT) or removes (REVOKE) privileges on objects for grantees (users must exist). */
export async function changeGrants(
  db: UserDb,
  grant: boolean,
  privileges: readonly Privilege[],
  objects: readonly { readonly type: 'table' | 'schema'; readonly schema: string; readonly name: string }[],
  grantees: readonly Grantee[],
): Promise<void> {
  for (const grantee of grantees) {
    if (grantee.startsWith('group:')) {
      const group = grantee.slice(6);
      if ((await db.query('SELECT 1 FROM _sluice.groups WHERE groname = $1', [group])).length === 0)
        throw new SqlError(`group "${group}" does not exist`, PRIVILEGE_SQLSTATE.undefinedObject);
    } else if (grantee !== 'public' && !(await findUser(db, grantee)))
      throw new SqlError(`user "${grantee}" does not exist`, PRIVILEGE_SQLSTATE.undefinedObject);
    for (const o of objects)
      for (const p of privileges) {
        await db.query(
          'DELETE FROM _sluice.privileges WHERE grantee = $1 AND object_type = $2 AND schema_name = $3 AND object_name = $4 AND privilege = $5',
          [grantee, o.type, o.schema, o.name, p],
        );
        if (grant)
          await db.query('INSERT INTO _sluice.privileges VALUES ($1, $2, $3, $4, $5)', [
            grantee,
            o.type,
            o.schema,
            o.name,
            p,
          ]);
      }
  }
}
