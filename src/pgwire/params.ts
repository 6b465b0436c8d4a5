/**
 * Extended-query parameters: `$1..$n` in a prepared statement are replaced by SQL literals
 * built from the bound values. Values are always quoted (or checked to be plain numbers or
 * booleans), so a value can never become SQL. A `$n` inside a string, a quoted identifier,
 * a dollar quote or a comment is left alone.
 *
 * @see https://www.postgresql.org/docs/15/sql-syntax-lexical.html
 */
import { arrayElementOid, OID, parseArrayText } from './types.ts';

/** One `$n` in the SQL text. */
export interface ParamRef {
  /** 1-based parameter number. */
  readonly index: number;
  /** Offset of the `$`. */
  readonly start: number;
  /** Offset after the last digit. */
  readonly end: number;
}

/** Finds the `$n` references outside quotes and comments. */
export function findParams(sql: string): ParamRef[] {
  const refs: ParamRef[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const ch = sql[i] as string;
    const next = sql[i + 1];
    if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (ch === '/' && next === '*') {
      // Block comments nest in PostgreSQL.
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
    } else if (ch === "'") {
      const escapes = i > 0 && /[eE]/.test(sql[i - 1] as string) && !/[A-Za-z0-9_$]/.test(sql[i - 2] ?? ' ');
      i++;
      while (i < n) {
        if (escapes && sql[i] === '\\') i += 2;
        else if (sql[i] === "'") {
          if (sql[i + 1] === "'") i += 2;
          else {
            i++;
            break;
          }
        } else i++;
      }
    } else if (ch === '"') {
      i++;
      while (i < n) {
        if (sql[i] === '"') {
          if (sql[i + 1] === '"') i += 2;
          else {
            i++;
            break;
          }
        } else i++;
      }
    } else if (ch === '$') {
      const param = /^\$(\d+)/.exec(sql.slice(i, i + 12));
      const tag = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(i, i + 64));
      if (param && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? ' ')) {
        refs.push({ index: Number(param[1]), start: i, end: i + param[0].length });
        i += param[0].length;
      } else if (tag && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? ' ')) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close < 0 ? n : close + tag[0].length;
      } else i++;
    } else if (/[A-Za-z0-9_]/.test(ch)) {
      // Skip whole words so `x$1` (a legal identifier) is not read as a parameter.
      while (i < n && /[A-Za-z0-9_$]/.test(sql[i] as string)) i++;
    } else i++;
  }
  return refs;
}

/** The number of parameters a statement uses (the highest `$n`). */
export function paramCount(sql: string): number {
  return findParams(sql).reduce((max, r) => Math.max(max, r.index), 0);
}

const NUMERIC_OIDS = new Set<number>([
  OID.int2,
  OID.int4,
  OID.int8,
  OID.float4,
  OID.float8,
  OID.numeric,
  OID.oid,
]);
const PLAIN_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const TRUE_WORDS = new Set(['t', 'true', 'y', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['f', 'false', 'n', 'no', 'off', '0']);

/** A quoted SQL string literal (standard_conforming_strings: only `'` needs doubling). */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * The SQL literal for one parameter. A parameter of unspecified type (OID 0) becomes a
 * quoted literal, which the engine types from its context as PostgreSQL types an
 * `unknown` parameter (`WHERE name = $1` with '123' stays a string comparison).
 */
export function paramLiteral(value: string | null, typeOid: number): string {
  if (value === null) return 'NULL';
  const element = arrayElementOid(typeOid);
  if (element !== undefined) {
    // An array parameter becomes a list literal, so `x = ANY($1)` and `$1[1]` work.
    const items = parseArrayText(value.trim());
    if (items) return listLiteral(items, element);
  }
  if (NUMERIC_OIDS.has(typeOid) && PLAIN_NUMBER.test(value.trim())) {
    const v = value.trim();
    // Parentheses keep `x-$1` with -5 from becoming the comment `x--5`.
    return v.startsWith('-') ? `(${v})` : v;
  }
  if (typeOid === OID.bool) {
    const w = value.trim().toLowerCase();
    if (TRUE_WORDS.has(w)) return 'TRUE';
    if (FALSE_WORDS.has(w)) return 'FALSE';
  }
  return quoteLiteral(value);
}

type ArrayItems = NonNullable<ReturnType<typeof parseArrayText>>;

function listLiteral(items: ArrayItems, element: number): string {
  return `[${items.map((item) => (Array.isArray(item) ? listLiteral(item, element) : paramLiteral(item, element))).join(', ')}]`;
}

/** SQL with parameters substituted, and a map from offsets in it back to the original. */
export interface BoundSql {
  /** The SQL to run. */
  readonly sql: string;
  /** Maps a 0-based offset in `sql` to one in the prepared statement's text. */
  readonly originalOffset: (offset: number) => number;
}

/** Substitutes literals for `$n`; `literals[i]` is for `$<i+1>`. */
export function bindParams(sql: string, literals: readonly string[]): BoundSql {
  const refs = findParams(sql);
  if (refs.length === 0) return { sql, originalOffset: (o) => o };
  let out = '';
  let last = 0;
  const spans: { newStart: number; newEnd: number; origStart: number; origEnd: number }[] = [];
  for (const r of refs) {
    out += sql.slice(last, r.start);
    const literal = literals[r.index - 1] ?? 'NULL';
    spans.push({
      newStart: out.length,
      newEnd: out.length + literal.length,
      origStart: r.start,
      origEnd: r.end,
    });
    out += literal;
    last = r.end;
  }
  out += sql.slice(last);
  return {
    sql: out,
    originalOffset: (offset) => {
      let delta = 0;
      for (const s of spans) {
        if (offset < s.newStart) break;
        if (offset < s.newEnd) return s.origStart;
        delta = s.origEnd - s.newEnd;
      }
      return offset + delta;
    },
  };
}
