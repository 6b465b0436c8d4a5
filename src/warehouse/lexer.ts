/**
 * A hand-written SQL tokenizer for the Redshift dialect.
 *
 * Redshift DDL (IDENTITY(1,1), DISTKEY, SORTKEY, ENCODE, DISTSTYLE, COPY ... CREDENTIALS ...)
 * is not valid PostgreSQL, so the real PostgreSQL parser cannot read it; a tokenizer that
 * knows quotes, dollar quotes and comments is what the splitter and the translator need.
 *
 * Every character of the input belongs to exactly one token, so joining the `text` of all
 * tokens gives the input back; rewriters rely on that to keep everything they do not touch.
 *
 * String literals follow `standard_conforming_strings = on` (as modern PostgreSQL clients
 * assume): a backslash is an ordinary character in '...', and an escape only in E'...'.
 *
 * @see https://www.postgresql.org/docs/current/sql-syntax-lexical.html
 */

/** What a token is. */
export type TokenKind =
  | 'word' // unquoted identifier or keyword
  | 'qident' // "quoted identifier"
  | 'string' // '...' or E'...'
  | 'dollar' // $tag$ ... $tag$
  | 'number'
  | 'param' // $1
  | 'op' // operator or punctuation
  | 'ws' // whitespace
  | 'comment'; // -- or /* */

/** One token of SQL text. */
export interface Token {
  /** The token's kind. */
  readonly kind: TokenKind;
  /** The exact source text. */
  readonly text: string;
  /** Offset of the first character in the input. */
  readonly start: number;
  /** Offset after the last character. */
  readonly end: number;
  /**
   * Meaning: a word lower-cased, a quoted identifier or string unescaped, an operator as is.
   */
  readonly value: string;
  /** True for a quote or comment that runs to the end of the input without closing. */
  readonly unterminated?: boolean;
}

const OPERATOR_CHARS = '+-*/<>=~!@#%^&|`?';

function isIdentStart(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95 || code >= 128;
}

function isIdentPart(code: number): boolean {
  return isIdentStart(code) || (code >= 48 && code <= 57) || code === 36;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13 || code === 12 || code === 11;
}

/** Splits SQL text into tokens, whitespace and comments included. Never throws. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const n = sql.length;
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number, value: string, unterminated = false): void => {
    const text = sql.slice(start, end);
    tokens.push(
      unterminated ? { kind, text, start, end, value, unterminated } : { kind, text, start, end, value },
    );
  };
  while (i < n) {
    const start = i;
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      while (i < n && isSpace(sql.charCodeAt(i))) i++;
      push('ws', start, i, ' ');
      continue;
    }
    if (c === 45 /* - */ && sql.charCodeAt(i + 1) === 45) {
      while (i < n && sql.charCodeAt(i) !== 10) i++;
      push('comment', start, i, '');
      continue;
    }
    if (c === 47 /* / */ && sql.charCodeAt(i + 1) === 42 /* * */) {
      // Block comments nest in PostgreSQL.
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql.charCodeAt(i) === 47 && sql.charCodeAt(i + 1) === 42) {
          depth++;
          i += 2;
        } else if (sql.charCodeAt(i) === 42 && sql.charCodeAt(i + 1) === 47) {
          depth--;
          i += 2;
        } else i++;
      }
      push('comment', start, i, '', depth > 0);
      continue;
    }
    if ((c === 69 || c === 101) /* E e */ && sql.charCodeAt(i + 1) === 39) {
      const r = readEscapeString(sql, i + 2);
      i = r.end;
      push('string', start, i, r.value, r.unterminated);
      continue;
    }
    if (c === 39 /* ' */) {
      const r = readQuoted(sql, i + 1, 39);
      i = r.end;
      push('string', start, i, r.value, r.unterminated);
      continue;
    }
    if (c === 34 /* " */) {
      const r = readQuoted(sql, i + 1, 34);
      i = r.end;
      push('qident', start, i, r.value, r.unterminated);
      continue;
    }
    if (c === 36 /* $ */) {
      if (isDigit(sql.charCodeAt(i + 1))) {
        i++;
        while (i < n && isDigit(sql.charCodeAt(i))) i++;
        push('param', start, i, sql.slice(start, i));
        continue;
      }
      const tagEnd = readDollarTag(sql, i);
      if (tagEnd > 0) {
        const tag = sql.slice(i, tagEnd);
        const close = sql.indexOf(tag, tagEnd);
        if (close < 0) {
          i = n;
          push('dollar', start, i, sql.slice(tagEnd), true);
        } else {
          i = close + tag.length;
          push('dollar', start, i, sql.slice(tagEnd, close));
        }
        continue;
      }
      i++;
      push('op', start, i, '$');
      continue;
    }
    if (isIdentStart(c)) {
      i++;
      while (i < n && isIdentPart(sql.charCodeAt(i))) i++;
      push('word', start, i, sql.slice(start, i).toLowerCase());
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      while (i < n && isDigit(sql.charCodeAt(i))) i++;
      if (sql.charCodeAt(i) === 46 && sql.charCodeAt(i + 1) !== 46) {
        i++;
        while (i < n && isDigit(sql.charCodeAt(i))) i++;
      }
      const e = sql.charCodeAt(i);
      if (e === 101 || e === 69) {
        let j = i + 1;
        const sign = sql.charCodeAt(j);
        if (sign === 43 || sign === 45) j++;
        if (isDigit(sql.charCodeAt(j))) {
          i = j;
          while (i < n && isDigit(sql.charCodeAt(i))) i++;
        }
      }
      push('number', start, i, sql.slice(start, i));
      continue;
    }
    if (c === 58 /* : */ && sql.charCodeAt(i + 1) === 58) {
      i += 2;
      push('op', start, i, '::');
      continue;
    }
    if (OPERATOR_CHARS.includes(sql[i] as string)) {
      // An operator run stops before a comment start, as PostgreSQL's lexer does.
      i++;
      while (i < n && OPERATOR_CHARS.includes(sql[i] as string)) {
        const two = sql.slice(i, i + 2);
        if (two === '--' || two === '/*') break;
        i++;
      }
      push('op', start, i, sql.slice(start, i));
      continue;
    }
    i++;
    push('op', start, i, sql.slice(start, i));
  }
  return tokens;
}

function readQuoted(
  sql: string,
  from: number,
  quote: number,
): { end: number; value: string; unterminated: boolean } {
  let value = '';
  let i = from;
  let chunkStart = i;
  while (i < sql.length) {
    if (sql.charCodeAt(i) === quote) {
      if (sql.charCodeAt(i + 1) === quote) {
        value += sql.slice(chunkStart, i + 1);
        i += 2;
        chunkStart = i;
        continue;
      }
      value += sql.slice(chunkStart, i);
      return { end: i + 1, value, unterminated: false };
    }
    i++;
  }
  return { end: sql.length, value: value + sql.slice(chunkStart), unterminated: true };
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

function readEscapeString(sql: string, from: number): { end: number; value: string; unterminated: boolean } {
  let value = '';
  let i = from;
  while (i < sql.length) {
    const ch = sql[i] as string;
    if (ch === '\\') {
      const next = sql[i + 1];
      if (next === undefined) break;
      if (next in SIMPLE_ESCAPES) {
        value += SIMPLE_ESCAPES[next];
        i += 2;
      } else if (next >= '0' && next <= '7') {
        const m = /^[0-7]{1,3}/.exec(sql.slice(i + 1, i + 4)) as RegExpExecArray;
        value += String.fromCharCode(parseInt(m[0], 8));
        i += 1 + m[0].length;
      } else if (next === 'x' && /^[0-9a-fA-F]/.test(sql[i + 2] ?? '')) {
        const m = /^[0-9a-fA-F]{1,2}/.exec(sql.slice(i + 2, i + 4)) as RegExpExecArray;
        value += String.fromCharCode(parseInt(m[0], 16));
        i += 2 + m[0].length;
      } else if ((next === 'u' || next === 'U') && /^[0-9a-fA-F]{4}/.test(sql.slice(i + 2, i + 6))) {
        const len = next === 'u' ? 4 : 8;
        value += String.fromCodePoint(parseInt(sql.slice(i + 2, i + 2 + len), 16));
        i += 2 + len;
      } else {
        value += next;
        i += 2;
      }
      continue;
    }
    if (ch === "'") {
      if (sql[i + 1] === "'") {
        value += "'";
        i += 2;
        continue;
      }
      return { end: i + 1, value, unterminated: false };
    }
    value += ch;
    i++;
  }
  return { end: sql.length, value, unterminated: true };
}

/** Returns the offset after `$tag$` starting at `at`, or 0 when there is no dollar-quote opener. */
function readDollarTag(sql: string, at: number): number {
  let i = at + 1;
  if (sql.charCodeAt(i) === 36) return i + 1;
  if (!isIdentStart(sql.charCodeAt(i))) return 0;
  while (i < sql.length && isIdentPart(sql.charCodeAt(i)) && sql.charCodeAt(i) !== 36) i++;
  return sql.charCodeAt(i) === 36 ? i + 1 : 0;
}

/** Quotes an identifier for DuckDB (always, so keywords and mixed case are safe). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a string literal. */
export function quoteString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
