/**
 * Users, groups and privileges: the Redshift statements that manage them (CREATE / ALTER /
 * DROP USER, CREATE / ALTER / DROP GROUP, GRANT, REVOKE), where grants are kept
 * (`_sluice.privileges`, `_sluice.group_members`), and the check a session makes before it
 * runs a statement.
 *
 * RULES (PostgreSQL's, as Redshift applies them)
 * - A superuser may do anything, and is not checked at all: reading a view whose owner lost
 *   a privilege still works for a superuser. CREATEUSER makes a superuser, as in Redshift.
 * - Using a relation in a schema needs USAGE on the schema (`permission denied for schema
 *   s`, 42501). Schema `public` grants USAGE and CREATE to PUBLIC until revoked.
 * - Reading a table or view needs SELECT on it; INSERT, UPDATE, DELETE and COPY need that
 *   privilege on the target (`permission denied for relation t`, 42501).
 * - Only the relations a statement names itself are checked against the reader. What a view
 *   reads is checked against the view's owner: SELECT on each relation its definition names
 *   (not USAGE on their schemas), view by view down through views over views. So GRANT
 *   SELECT ON a view, with USAGE on its schema, is enough to read it, and an owner's lost
 *   privilege denies every reader (`permission denied for relation base`).
 * - A view's owner is the non-superuser who created it (an `owner` row); a view without one
 *   was made by a superuser (superusers' creations, and views older than ownership, get no
 *   row), so its definition is not checked. A temporary view is its session user's.
 * - A CTE is not a relation: `WITH t AS (...) SELECT * FROM t` reads no table t.
 * - DuckDB functions that read files or run SQL text (read_*, glob, query, ...) are for
 *   superusers; `query_table('s.t')` with constant names is checked as reading s.t.
 * - Creating a table or view needs CREATE on its schema, and SELECT on what its query reads;
 *   its creator owns it. Dropping, truncating, altering and commenting need ownership; CREATE
 *   SCHEMA and user management need a superuser; GRANT needs a superuser or the owner of
 *   every table named. DROP VIEW forgets the view's grants and owner.
 * - GRANT ... ON ALL TABLES IN SCHEMA s covers the tables that exist when it runs.
 * - System catalogs (pg_catalog, information_schema, the stl_ and svv_ tables) are readable
 *   by everyone.
 *
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_GRANT.html
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_USER.html
 * @see https://www.postgresql.org/docs/15/ddl-priv.html
 */
import { SqlError } from './index.ts';
import { SQLSTATE, unsupported } from './errors.ts';
import { tokenize, type Token } from './lexer.ts';

/** SQLSTATEs of this module (PostgreSQL's class 42 and 0L). */
export const PRIVILEGE_SQLSTATE = {
  insufficientPrivilege: '42501',
  invalidGrantOperation: '0LP01',
  duplicateObject: '42710',
  undefinedObject: '42704',
  dependentObjectsStillExist: '2BP01',
  featureNotSupported: '0A000',
} as const;

/** How a password was given. */
export type PasswordSpec =
  | { readonly kind: 'plain'; readonly text: string }
  /** Redshift's `'md5' || md5(password || user)`. */
  | { readonly kind: 'md5'; readonly hash: string }
  | { readonly kind: 'disable' };

/** What GRANT / REVOKE apply to. */
export type GrantTarget =
  | {
      readonly kind: 'table';
      readonly tables: readonly { readonly schema?: string; readonly name: string }[];
    }
  | { readonly kind: 'schema'; readonly schemas: readonly string[] }
  | { readonly kind: 'all-tables'; readonly schemas: readonly string[] };

/** A grantee: a user, a group (`group:<name>`), or `public`. */
export type Grantee = string;

/** A user, group or privilege statement. */
export type UserPlan =
  | {
      readonly kind: 'user';
      readonly command: 'CREATE USER' | 'ALTER USER';
      readonly name: string;
      readonly password?: PasswordSpec;
      readonly superuser?: boolean;
      readonly groups: readonly string[];
      /** ALTER USER ... RENAME TO. */
      readonly renameTo?: string;
    }
  | {
      readonly kind: 'user';
      readonly command: 'DROP USER' | 'DROP GROUP';
      readonly names: readonly string[];
      readonly ifExists: boolean;
    }
  | {
      readonly kind: 'user';
      readonly command: 'CREATE GROUP' | 'ALTER GROUP';
      readonly name: string;
      readonly add: readonly string[];
      readonly remove: readonly string[];
    }
  | {
      readonly kind: 'user';
      readonly command: 'GRANT' | 'REVOKE';
      readonly privileges: readonly Privilege[];
      readonly target: GrantTarget;
      readonly grantees: readonly Grantee[];
    };

/** A privilege Sluice checks. */
export type Privilege = 'select' | 'insert' | 'update' | 'delete' | 'usage' | 'create';

const TABLE_PRIVILEGES: readonly Privilege[] = ['select', 'insert', 'update', 'delete'];
const SCHEMA_PRIVILEGES: readonly Privilege[] = ['usage', 'create'];
/** Table privileges Redshift knows that Sluice accepts without checking separately (ownership covers them). */
const ACCEPTED_TABLE_PRIVILEGES = new Set(['references', 'drop', 'truncate', 'alter', 'trigger', 'rule']);

/** Reads the significant tokens of a statement. */
class Reader {
  private readonly toks: Token[];
  pos = 0;
  constructor(sql: string) {
    this.toks = tokenize(sql).filter((t) => t.kind !== 'ws' && t.kind !== 'comment');
  }
  tok(at = this.pos): Token | undefined {
    return this.toks[at];
  }
  isWord(at: number, ...words: string[]): boolean {
    const t = this.toks[at];
    return t?.kind === 'word' && words.includes(t.value);
  }
  accept(...words: string[]): string | undefined {
    const t = this.toks[this.pos];
    if (t?.kind === 'word' && words.includes(t.value)) {
      this.pos++;
      return t.value;
    }
    return undefined;
  }
  acceptOp(op: string): boolean {
    const t = this.toks[this.pos];
    if (t?.kind === 'op' && t.value === op) {
      this.pos++;
      return true;
    }
    return false;
  }
  expect(...words: string[]): string {
    const w = this.accept(...words);
    if (w === undefined) throw this.syntaxError();
    return w;
  }
  done(): boolean {
    return this.pos >= this.toks.length;
  }
  position(): number {
    const t = this.toks[this.pos];
    return (t ? t.start : (this.toks[this.toks.length - 1]?.end ?? 0)) + 1;
  }
  ident(): string {
    const t = this.toks[this.pos];
    if (t?.kind === 'word') {
      this.pos++;
      return t.value;
    }
    if (t?.kind === 'qident') {
      this.pos++;
      // Redshift folds identifiers, quoted or not, unless case sensitivity is enabled.
      return t.value.toLowerCase();
    }
    throw this.syntaxError();
  }
  string(): string {
    const t = this.toks[this.pos];
    if (t?.kind !== 'string') throw this.syntaxError();
    this.pos++;
    return t.value;
  }
  identList(): string[] {
    const out = [this.ident()];
    while (this.acceptOp(',')) out.push(this.ident());
    return out;
  }
  syntaxError(): SqlError {
    const t = this.toks[this.pos];
    return new SqlError(
      t ? `syntax error at or near "${t.text}"` : 'syntax error at end of input',
      SQLSTATE.syntaxError,
      { position: this.position() },
    );
  }
}

/**
 * Recognizes a user, group or privilege statement; undefined for any other statement.
 * Positions in errors are 1-based in `statement`.
 */
export function translateUserStatement(statement: string): UserPlan | undefined {
  const r = new Reader(statement);
  if (r.isWord(0, 'grant') || r.isWord(0, 'revoke')) return parseGrant(r);
  const verb = r.isWord(0, 'create', 'alter', 'drop') ? (r.tok(0) as Token).value : undefined;
  if (!verb) return undefined;
  if (r.isWord(1, 'user')) {
    r.pos = 2;
    if (verb === 'drop') return parseDrop(r, 'DROP USER');
    return parseUserOptions(r, verb === 'create' ? 'CREATE USER' : 'ALTER USER');
  }
  if (r.isWord(1, 'group')) {
    r.pos = 2;
    if (verb === 'drop') return parseDrop(r, 'DROP GROUP');
    return parseGroup(r, verb === 'create' ? 'CREATE GROUP' : 'ALTER GROUP');
  }
  return undefined;
}

function parseDrop(r: Reader, command: 'DROP USER' | 'DROP GROUP'): UserPlan {
  const ifExists = r.accept('if') !== undefined;
  if (ifExists) r.expect('exists');
  const names = r.identList();
  if (!r.done()) throw r.syntaxError();
  return { kind: 'user', command, names, ifExists };
}

function parseUserOptions(r: Reader, command: 'CREATE USER' | 'ALTER USER'): UserPlan {
  const name = r.ident();
  if (command === 'ALTER USER' && r.accept('rename')) {
    r.expect('to');
    const renameTo = r.ident();
    if (!r.done()) throw r.syntaxError();
    return { kind: 'user', command, name, groups: [], renameTo };
  }
  if (command === 'ALTER USER' && r.isWord(r.pos, 'set', 'reset'))
    throw unsupported('ALTER USER SET', r.position());
  r.accept('with');
  let password: PasswordSpec | undefined;
  let superuser: boolean | undefined;
  const groups: string[] = [];
  while (!r.done()) {
    const at = r.position();
    const word = r.accept(
      'password',
      'encrypted',
      'unencrypted',
      'createuser',
      'nocreateuser',
      'createdb',
      'nocreatedb',
      'valid',
      'connection',
      'in',
      'syslog',
      'session',
      'external',
    );
    switch (word) {
      case 'encrypted':
      case 'unencrypted':
        r.expect('password');
      // falls through
      case 'password':
        if (r.accept('disable')) password = { kind: 'disable' };
        else password = passwordSpec(r.string(), at);
        break;
      case 'createuser':
        superuser = true;
        break;
      case 'nocreateuser':
        superuser = false;
        break;
      case 'createdb':
      case 'nocreatedb':
        // One database: nothing to allow or refuse.
        break;
      case 'valid':
        r.expect('until');
        r.string();
        break;
      case 'connection':
        r.expect('limit');
        if (!r.accept('unlimited')) {
          if (r.tok()?.kind !== 'number') throw r.syntaxError();
          r.pos++;
        }
        break;
      case 'in':
        r.expect('group');
        groups.push(...r.identList());
        break;
      case 'syslog':
        r.expect('access');
        r.expect('restricted', 'unrestricted');
        break;
      case 'session':
        r.expect('timeout');
        if (r.tok()?.kind !== 'number') throw r.syntaxError();
        r.pos++;
        break;
      case 'external':
        throw unsupported('EXTERNALID', at);
      default:
        throw r.syntaxError();
    }
  }
  return {
    kind: 'user',
    command,
    name,
    ...(password ? { password } : {}),
    ...(superuser !== undefined ? { superuser } : {}),
    groups,
  };
}

/**
 * Redshift's password forms: clear text; `md5<hex>` (md5 of password || user name);
 * `sha256|<password>` (clear text the server hashes); `sha256|<digest>|<salt>` is not
 * supported, since neither a SCRAM verifier nor an md5 hash can be derived from it.
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_USER.html
 */
function passwordSpec(text: string, position: number): PasswordSpec {
  if (/^md5[0-9a-f]{32}$/.test(text)) return { kind: 'md5', hash: text };
  const sha = /^sha256\|(.*)$/s.exec(text);
  if (sha) {
    if ((sha[1] as string).includes('|')) throw unsupported("PASSWORD 'sha256|<digest>|<salt>'", position);
    return { kind: 'plain', text: sha[1] as string };
  }
  return { kind: 'plain', text };
}

function parseGroup(r: Reader, command: 'CREATE GROUP' | 'ALTER GROUP'): UserPlan {
  const name = r.ident();
  const add: string[] = [];
  const remove: string[] = [];
  if (command === 'CREATE GROUP') {
    r.accept('with');
    if (r.accept('user')) add.push(...r.identList());
  } else {
    const op = r.expect('add', 'drop', 'rename');
    if (op === 'rename') throw unsupported('ALTER GROUP RENAME', r.position());
    r.expect('user');
    (op === 'add' ? add : remove).push(...r.identList());
  }
  if (!r.done()) throw r.syntaxError();
  return { kind: 'user', command, name, add, remove };
}

function parseGrant(r: Reader): UserPlan {
  const command = r.isWord(0, 'grant') ? 'GRANT' : 'REVOKE';
  r.pos = 1;
  if (command === 'REVOKE' && r.accept('grant')) {
    r.expect('option');
    r.expect('for');
  }
  const named: string[] = [];
  let all = false;
  for (;;) {
    const t = r.tok();
    if (t?.kind !== 'word') throw r.syntaxError();
    if (t.value === 'all') {
      r.pos++;
      r.accept('privileges');
      all = true;
    } else if (t.value === 'temp' || t.value === 'temporary') {
      r.pos++;
    } else if (
      (TABLE_PRIVILEGES as readonly string[]).includes(t.value) ||
      t.value === 'usage' ||
      t.value === 'create'
    ) {
      named.push(t.value);
      r.pos++;
    } else if (ACCEPTED_TABLE_PRIVILEGES.has(t.value)) r.pos++;
    else if (t.value === 'on') break;
    else throw r.syntaxError();
    if (!r.acceptOp(',')) break;
  }
  r.expect('on');
  let target: GrantTarget;
  if (r.accept('schema')) target = { kind: 'schema', schemas: r.identList() };
  else if (r.isWord(r.pos, 'all') && r.isWord(r.pos + 1, 'tables')) {
    r.pos += 2;
    r.expect('in');
    r.expect('schema');
    target = { kind: 'all-tables', schemas: r.identList() };
  } else if (r.isWord(r.pos, 'database', 'function', 'procedure', 'language', 'datashare', 'model')) {
    throw unsupported(`${command} ON ${(r.tok() as Token).value.toUpperCase()}`, r.position());
  } else {
    r.accept('table');
    const tables: { schema?: string; name: string }[] = [];
    do {
      const first = r.ident();
      if (r.acceptOp('.')) tables.push({ schema: first, name: r.ident() });
      else tables.push({ name: first });
    } while (r.acceptOp(','));
    target = { kind: 'table', tables };
  }
  const kinds = target.kind === 'schema' ? SCHEMA_PRIVILEGES : TABLE_PRIVILEGES;
  for (const p of named)
    if (!(kinds as readonly string[]).includes(p))
      throw new SqlError(
        `invalid privilege type ${p.toUpperCase()} for ${target.kind === 'schema' ? 'schema' : 'relation'}`,
        PRIVILEGE_SQLSTATE.invalidGrantOperation,
      );
  const privileges = (all ? kinds : named) as readonly Privilege[];
  r.expect(command === 'GRANT' ? 'to' : 'from');
  const grantees: Grantee[] = [];
  do {
    if (r.accept('public')) grantees.push('public');
    else if (r.accept('group')) grantees.push(`group:${r.ident()}`);
    else grantees.push(r.ident());
  } while (r.acceptOp(','));
  if (command === 'GRANT' && r.accept('with')) {
    r.expect('grant');
    r.expect('option');
  }
  if (command === 'REVOKE') r.accept('cascade', 'restrict');
  if (!r.done()) throw r.syntaxError();
  return { kind: 'user', command, privileges, target, grantees };
}

// ---------------------------------------------------------------------------------------
// Checking

/** A relation a statement uses, and how. */
export interface RelationUse {
  /** The schema the name resolved to. */
  readonly schema: string;
  /** Relation name. */
  readonly name: string;
  /** What is needed: a table privilege, or ownership. */
  readonly need: Privilege | 'owner';
}

/** What a user has been granted, as read for one check. */
export interface Grants {
  /** `schema.name` (tables) or `schema` (schemas) to privileges; `owner` for owned tables. */
  readonly byObject: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Reads the grants that apply to a user (directly, through PUBLIC, or through a group). */
export async function loadGrants(
  query: (sql: string, params?: readonly unknown[]) => Promise<unknown[][]>,
  user: string,
): Promise<Grants> {
  const rows = await query(
    `SELECT object_type, schema_name, object_name, privilege FROM _sluice.privileges
      WHERE grantee = $1 OR grantee = 'public'
         OR grantee IN (SELECT 'group:' || groname FROM _sluice.group_members WHERE usename = $1)`,
    [user],
  );
  const byObject = new Map<string, Set<string>>();
  for (const [type, schema, name, privilege] of rows) {
    const key = type === 'schema' ? String(schema) : `${String(schema)}.${String(name)}`;
    let set = byObject.get(key);
    if (!set) byObject.set(key, (set = new Set()));
    set.add(String(privilege));
  }
  return { byObject };
}

/** Schemas whose relations everyone may read. */
export function isSystemSchema(schema: string): boolean {
  return (
    schema === 'pg_catalog' ||
    schema === 'information_schema' ||
    schema === '_sluice' ||
    schema.startsWith('pg_')
  );
}

/** Throws 42501 when `grants` do not cover a use. */
export function checkUse(grants: Grants, use: RelationUse): void {
  if (isSystemSchema(use.schema)) return;
  const table = grants.byObject.get(`${use.schema}.${use.name}`);
  if (table?.has('owner')) return;
  if (!grants.byObject.get(use.schema)?.has('usage')) throw permissionDenied('schema', use.schema);
  if (use.need === 'owner' || !table?.has(use.need)) throw permissionDenied('relation', use.name);
}

/** Throws 42501 unless the user may create relations in `schema`. */
export function checkCreate(grants: Grants, schema: string): void {
  if (!grants.byObject.get(schema)?.has('create')) throw permissionDenied('schema', schema);
}

/** The 42501 error PostgreSQL and Redshift send. */
export function permissionDenied(what: 'relation' | 'schema' | 'function', name: string): SqlError {
  return new SqlError(`permission denied for ${what} ${name}`, PRIVILEGE_SQLSTATE.insufficientPrivilege);
}

/** The 42501 error for statements only a superuser may run. */
export function superuserOnly(action: string): SqlError {
  return new SqlError(
    `permission denied: must be superuser to ${action}`,
    PRIVILEGE_SQLSTATE.insufficientPrivilege,
  );
}

/** The relation a CREATE TABLE ... AS / CREATE VIEW makes, or undefined. */
export function createdRelation(
  sql: string,
): { readonly schema?: string; readonly name: string } | undefined {
  const r = new Reader(sql);
  if (!r.accept('create')) return undefined;
  if (r.accept('or')) r.expect('replace');
  r.accept('local');
  r.accept('temp', 'temporary');
  if (!r.accept('table', 'view')) return undefined;
  if (r.accept('if')) {
    r.expect('not');
    r.expect('exists');
  }
  return readName(r);
}

/** The table an INSERT, UPDATE or DELETE writes, or undefined. */
export function dmlTarget(sql: string): { readonly schema?: string; readonly name: string } | undefined {
  const r = new Reader(sql);
  const verb = r.accept('insert', 'update', 'delete');
  if (!verb) return undefined;
  if (verb === 'insert') r.expect('into');
  if (verb === 'delete') r.accept('from');
  r.accept('only');
  return readName(r);
}

function readName(r: Reader): { schema?: string; name: string } {
  const parts = [r.ident()];
  while (r.acceptOp('.')) parts.push(r.ident());
  const name = parts[parts.length - 1] as string;
  const schema = parts.length > 1 ? parts[parts.length - 2] : undefined;
  return schema ? { schema, name } : { name };
}

/** Reads a name as DuckDB's getTableNames writes it (`schema."table" AS alias`). */
export function parseRelationName(
  text: string,
): { readonly schema?: string; readonly name: string } | undefined {
  try {
    return readName(new Reader(text));
  } catch {
    return undefined;
  }
}

/** The relation a TRUNCATE, DROP VIEW, ALTER TABLE or COMMENT ON TABLE names, or undefined. */
export function ownedTarget(sql: string): { readonly schema?: string; readonly name: string } | undefined {
  const r = new Reader(sql);
  const verb = r.accept('truncate', 'drop', 'alter', 'comment');
  if (!verb) return undefined;
  if (verb === 'comment') {
    r.expect('on');
    if (r.accept('column')) {
      const parts = [r.ident()];
      while (r.acceptOp('.')) parts.push(r.ident());
      parts.pop();
      const name = parts.pop();
      const schema = parts.pop();
      return name ? { ...(schema ? { schema } : {}), name } : undefined;
    }
  }
  r.accept('table', 'view', 'materialized');
  r.accept('view');
  if (r.accept('if')) r.expect('exists');
  return readName(r);
}

/** A relation name as a query writes it. */
export interface NamedRelation {
  /** Schema, when the query qualifies the name. */
  readonly schema?: string;
  /** Relation name, lower-cased. */
  readonly name: string;
}

/** A table function a query calls, with its arguments as `json_serialize_sql` gives them. */
export interface TableFunctionCall {
  /** Function name, lower-cased. */
  readonly name: string;
  /** Argument expressions (JSON nodes). */
  readonly args: readonly unknown[];
}

/** What a query names itself: its base tables (CTE references left out) and its table functions. */
export interface DirectReads {
  /** Tables and views named in FROM clauses, joins and subqueries. */
  readonly tables: NamedRelation[];
  /** Table functions called anywhere in the query. */
  readonly functions: TableFunctionCall[];
}

/**
 * The relations and table functions a query names, from its `json_serialize_sql` form. A
 * name without a schema that a WITH clause in scope defines is that CTE, not a table: a CTE
 * sees the CTEs before it in its list, and itself only when recursive, as in PostgreSQL
 * (`WITH t AS (SELECT * FROM t)` reads the table t).
 */
export function readsOf(
  node: unknown,
  ctes: ReadonlySet<string> = new Set(),
  out?: DirectReads,
): DirectReads {
  const reads = out ?? { tables: [], functions: [] };
  if (Array.isArray(node)) {
    for (const n of node) readsOf(n, ctes, reads);
    return reads;
  }
  if (!node || typeof node !== 'object') return reads;
  const o = node as Record<string, unknown>;
  let scope = ctes;
  const map = (o['cte_map'] as { map?: unknown } | undefined)?.map;
  if (Array.isArray(map) && map.length > 0) {
    const inner = new Set(ctes);
    for (const entry of map as { key?: unknown; value?: { query?: { node?: { type?: unknown } } } }[]) {
      const key = typeof entry.key === 'string' ? entry.key.toLowerCase() : undefined;
      const recursive = entry.value?.query?.node?.type === 'RECURSIVE_CTE_NODE';
      readsOf(entry.value, recursive && key ? new Set([...inner, key]) : new Set(inner), reads);
      if (key) inner.add(key);
    }
    scope = inner;
  }
  if (o['type'] === 'BASE_TABLE' && typeof o['table_name'] === 'string') {
    const name = o['table_name'].toLowerCase();
    const schema =
      typeof o['schema_name'] === 'string' && o['schema_name'] !== ''
        ? o['schema_name'].toLowerCase()
        : undefined;
    const catalog = typeof o['catalog_name'] === 'string' ? o['catalog_name'] : '';
    if (schema || catalog !== '' || !scope.has(name)) reads.tables.push(schema ? { schema, name } : { name });
  }
  let skip = 'cte_map';
  if (o['type'] === 'TABLE_FUNCTION') {
    const f = o['function'] as { function_name?: unknown; children?: unknown } | undefined;
    const args = Array.isArray(f?.children) ? (f.children as unknown[]) : [];
    if (typeof f?.function_name === 'string')
      reads.functions.push({ name: f.function_name.toLowerCase(), args });
    // The call itself is recorded; its arguments may hold subqueries.
    readsOf(args, scope, reads);
    skip = 'function';
  } else if (o['class'] === 'FUNCTION' && typeof o['function_name'] === 'string')
    // Scalar calls too, so a denied name is refused wherever it appears.
    reads.functions.push({ name: o['function_name'].toLowerCase(), args: [] });
  for (const [k, v] of Object.entries(o)) if (k !== 'cte_map' && k !== skip) readsOf(v, scope, reads);
  return reads;
}

/**
 * The strings among constant arguments (`'s.t'`, `['a', 'b']`); undefined when an argument
 * is computed, so that what it names cannot be known before the query runs.
 */
export function constantStrings(args: readonly unknown[]): string[] | undefined {
  const out: string[] = [];
  for (const arg of args) {
    const a = arg as Record<string, unknown> | undefined;
    if (a?.['class'] === 'CONSTANT') {
      const v = a['value'] as { type?: { id?: unknown }; value?: unknown; is_null?: unknown } | undefined;
      if (v?.type?.id === 'VARCHAR' && typeof v.value === 'string') out.push(v.value);
      else if (v?.type?.id !== 'BOOLEAN' && v?.is_null !== true) return undefined;
    } else if (a?.['class'] === 'FUNCTION' && a['function_name'] === 'list_value') {
      const inner = constantStrings(Array.isArray(a['children']) ? a['children'] : []);
      if (!inner) return undefined;
      out.push(...inner);
    } else return undefined;
  }
  return out;
}

/**
 * DuckDB functions that read files, run SQL given as text, or change the engine, which only
 * a superuser may call (`query` and `query_table` with constant arguments are checked as the
 * relations they name instead).
 */
export function isRestrictedFunction(name: string): boolean {
  return (
    /^(read_|parquet_|arrow_|iceberg_|delta_|postgres_|sqlite_|mysql_|enable_|disable_|duckdb_log)/.test(
      name,
    ) ||
    name.endsWith('_scan') ||
    [
      'query',
      'query_table',
      'glob',
      'sniff_csv',
      'json_execute_serialized_sql',
      'checkpoint',
      'force_checkpoint',
      'truncate_duckdb_logs',
      'which_secret',
      'duckdb_secrets',
    ].includes(name)
  );
}

/**
 * The first call of a restricted function in a statement's text (a name followed by `(`),
 * for statements DuckDB cannot serialize (UPDATE, DELETE).
 */
export function restrictedCallIn(sql: string): string | undefined {
  const toks = tokenize(sql).filter((t) => t.kind !== 'ws' && t.kind !== 'comment');
  for (let i = 0; i + 1 < toks.length; i++) {
    const t = toks[i] as Token;
    const next = toks[i + 1] as Token;
    const name = t.kind === 'word' ? t.value : t.kind === 'qident' ? t.value.toLowerCase() : undefined;
    if (name && next.kind === 'op' && next.value === '(' && isRestrictedFunction(name)) return name;
  }
  return undefined;
}

/** The query of a view as `duckdb_views().sql` stores it (`CREATE VIEW v [(cols)] AS query;`). */
export function viewQuery(createSql: string): string | undefined {
  const r = new Reader(createSql);
  try {
    r.expect('create');
    if (r.accept('or')) r.expect('replace');
    r.accept('temp', 'temporary');
    r.expect('view');
    if (r.accept('if')) {
      r.expect('not');
      r.expect('exists');
    }
    readName(r);
    if (r.acceptOp('(')) {
      r.identList();
      if (!r.acceptOp(')')) return undefined;
    }
    r.expect('as');
  } catch {
    return undefined;
  }
  const start = r.tok()?.start;
  return start === undefined ? undefined : createSql.slice(start).replace(/;\s*$/, '');
}

/**
 * Throws 42501 unless `grants` (a view owner's) include SELECT on a relation the view reads.
 * As in PostgreSQL, the owner's USAGE on the relation's schema is not checked again here.
 */
export function checkOwnerSelect(grants: Grants, schema: string, name: string): void {
  if (isSystemSchema(schema)) return;
  const table = grants.byObject.get(`${schema}.${name}`);
  if (!table?.has('owner') && !table?.has('select')) throw permissionDenied('relation', name);
}

/** Every identifier and `schema.name` pair in a statement, as possible relation names. */
export function identifierNames(sql: string): { schema?: string; name: string }[] {
  const toks = tokenize(sql).filter((t) => t.kind !== 'ws' && t.kind !== 'comment');
  const out: { schema?: string; name: string }[] = [];
  const ident = (t: Token | undefined): string | undefined =>
    t?.kind === 'word' ? t.value : t?.kind === 'qident' ? t.value.toLowerCase() : undefined;
  for (let i = 0; i < toks.length; i++) {
    const name = ident(toks[i]);
    if (name === undefined) continue;
    const dot = toks[i + 1];
    const next = ident(toks[i + 2]);
    if (dot?.kind === 'op' && dot.value === '.' && next !== undefined) {
      out.push({ schema: name, name: next });
      i += 2;
    } else out.push({ name });
  }
  return out;
}
