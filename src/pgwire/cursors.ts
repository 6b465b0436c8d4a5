/**
 * SQL-level cursors: DECLARE, FETCH, MOVE and CLOSE, as psycopg2's named cursors and other
 * clients that page through big results use them. A cursor holds its query's result, read
 * when it is declared (the snapshot PostgreSQL's cursor sees), and a position in it.
 *
 * Rules kept, as in PostgreSQL:
 * - A cursor WITHOUT HOLD (the default) can only be declared inside a transaction block and
 *   is closed when that transaction ends; a cursor WITH HOLD lives until CLOSE or sign-out.
 * - The position runs from 0 (before the first row) to rows + 1 (after the last); FETCH
 *   returns the rows it moves over and MOVE only counts them.
 *
 * @see https://www.postgresql.org/docs/15/sql-declare.html
 * @see https://www.postgresql.org/docs/15/sql-fetch.html
 */
import type { QueryResult } from '../warehouse/index.ts';

/** A cursor statement, parsed. */
export type CursorCommand =
  | {
      readonly kind: 'declare';
      readonly name: string;
      readonly hold: boolean;
      /** The query after FOR. */
      readonly query: string;
      /** Offset of the query in the statement (for error positions). */
      readonly queryOffset: number;
    }
  | {
      readonly kind: 'fetch' | 'move';
      readonly name: string;
      readonly direction: Direction;
    }
  | { readonly kind: 'close'; readonly name: string | undefined };

/** Where FETCH or MOVE goes. */
export type Direction =
  | { readonly kind: 'forward' | 'backward'; readonly count: number }
  | { readonly kind: 'absolute' | 'relative'; readonly count: number };

/** A failure with its SQLSTATE. */
export class CursorError extends Error {
  /** Wraps a message and its SQLSTATE. */
  constructor(
    message: string,
    readonly sqlstate: string,
  ) {
    super(message);
  }
}

const NAME = String.raw`("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const DECLARE = new RegExp(
  String.raw`^\s*declare\s+${NAME}\s+((?:binary|insensitive|asensitive|no\s+scroll|scroll|\s)*)cursor\s+(?:(with|without)\s+hold\s+)?for\s+`,
  'i',
);
const FETCH = new RegExp(String.raw`^\s*(fetch|move)\b\s*(.*?)\s*;?\s*$`, 'is');
const CLOSE = new RegExp(String.raw`^\s*close\s+(all|${NAME})\s*;?\s*$`, 'i');

function unquote(name: string): string {
  return name.startsWith('"') ? name.slice(1, -1).replaceAll('""', '"') : name.toLowerCase();
}

/** Parses a cursor statement; undefined when the statement is not one. */
export function parseCursorCommand(sql: string): CursorCommand | undefined {
  const declare = DECLARE.exec(sql);
  if (declare) {
    const query = sql.slice(declare[0].length).replace(/;\s*$/, '');
    return {
      kind: 'declare',
      name: unquote(declare[1] as string),
      hold: (declare[3] ?? '').toLowerCase() === 'with',
      query,
      queryOffset: declare[0].length,
    };
  }
  const close = CLOSE.exec(sql);
  if (close) {
    const all = (close[1] as string).toLowerCase() === 'all';
    return { kind: 'close', name: all ? undefined : unquote(close[1] as string) };
  }
  const fetch = FETCH.exec(sql);
  if (fetch) {
    const kind = (fetch[1] as string).toLowerCase() as 'fetch' | 'move';
    const words = (fetch[2] as string).match(/"(?:[^"]|"")+"|[^\s]+/g) ?? [];
    if (words.length === 0) throw new CursorError('syntax error at end of input', '42601');
    const name = unquote(words[words.length - 1] as string);
    let rest = words.slice(0, -1).map((w) => w.toLowerCase());
    if (rest[rest.length - 1] === 'from' || rest[rest.length - 1] === 'in') rest = rest.slice(0, -1);
    return { kind, name, direction: parseDirection(rest) };
  }
  return undefined;
}

function count(word: string | undefined, fallback: number): number {
  if (word === undefined) return fallback;
  if (word === 'all') return Infinity;
  if (!/^[+-]?\d+$/.test(word)) throw new CursorError(`syntax error at or near "${word}"`, '42601');
  return Number(word);
}

function parseDirection(words: readonly string[]): Direction {
  const [first, second] = words;
  if (words.length > 2) throw new CursorError(`syntax error at or near "${words[2] ?? ''}"`, '42601');
  switch (first) {
    case undefined:
    case 'next':
      return { kind: 'forward', count: 1 };
    case 'prior':
      return { kind: 'backward', count: 1 };
    case 'first':
      return { kind: 'absolute', count: 1 };
    case 'last':
      return { kind: 'absolute', count: -1 };
    case 'absolute':
      return { kind: 'absolute', count: count(second, NaN) };
    case 'relative':
      return { kind: 'relative', count: count(second, NaN) };
    case 'forward':
      return { kind: 'forward', count: count(second, 1) };
    case 'backward':
      return { kind: 'backward', count: count(second, 1) };
    case 'all':
      return { kind: 'forward', count: Infinity };
    default: {
      const n = count(first, 1);
      return n < 0 ? { kind: 'backward', count: -n } : { kind: 'forward', count: n };
    }
  }
}

/** One open cursor. */
interface OpenCursor {
  readonly result: QueryResult;
  readonly hold: boolean;
  /** 0 before the first row, rows + 1 after the last. */
  position: number;
}

/** The cursors of one connection. */
export class CursorSet {
  private readonly open = new Map<string, OpenCursor>();

  /** Opens a cursor over a result already read. */
  declare(name: string, result: QueryResult, hold: boolean): void {
    if (this.open.has(name)) throw new CursorError(`cursor "${name}" already exists`, '42P03');
    this.open.set(name, { result, hold, position: 0 });
  }

  /** True when a cursor of that name is open. */
  has(name: string): boolean {
    return this.open.has(name);
  }

  /** Runs FETCH (rows moved over) or MOVE (only their count). */
  move(kind: 'fetch' | 'move', name: string, direction: Direction): QueryResult {
    const cursor = this.open.get(name);
    if (!cursor) throw new CursorError(`cursor "${name}" does not exist`, '34000');
    if (Number.isNaN(direction.count)) throw new CursorError('syntax error at end of input', '42601');
    const rows = cursor.result.rows;
    const total = rows.length;
    const picked: (readonly unknown[])[] = [];
    const at = (p: number): void => {
      if (p >= 1 && p <= total) picked.push(rows[p - 1] as readonly unknown[]);
    };
    switch (direction.kind) {
      case 'forward': {
        const end = Math.min(cursor.position + direction.count, total + 1);
        for (let p = cursor.position + 1; p < end || (p === end && p <= total); p++) at(p);
        cursor.position = end;
        break;
      }
      case 'backward': {
        const end = Math.max(cursor.position - direction.count, 0);
        for (let p = cursor.position - 1; p > end || (p === end && p >= 1); p--) at(p);
        cursor.position = end;
        break;
      }
      case 'absolute':
      case 'relative': {
        const target =
          direction.kind === 'relative'
            ? cursor.position + direction.count
            : direction.count < 0
              ? total + 1 + direction.count
              : direction.count;
        cursor.position = Math.max(0, Math.min(target, total + 1));
        at(cursor.position);
        break;
      }
    }
    const command = kind === 'fetch' ? 'FETCH' : 'MOVE';
    return {
      command,
      columns: kind === 'fetch' ? cursor.result.columns : [],
      rows: kind === 'fetch' ? picked : [],
      rowCount: picked.length,
    };
  }

  /** CLOSE name, or CLOSE ALL (name undefined). */
  close(name: string | undefined): void {
    if (name === undefined) this.open.clear();
    else if (!this.open.delete(name)) throw new CursorError(`cursor "${name}" does not exist`, '34000');
  }

  /** The transaction ended: its cursors WITHOUT HOLD close. */
  endTransaction(): void {
    for (const [name, cursor] of this.open) if (!cursor.hold) this.open.delete(name);
  }
}
