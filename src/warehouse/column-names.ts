/**
 * PostgreSQL's names for unaliased result columns, read from the statement as the client
 * wrote it: a function call is named after the function (`version`, `current_database`),
 * an SQL value function after its keyword (`current_user`, `current_date`), a cast after
 * what it casts. The translated SQL DuckDB runs often calls other functions, so DuckDB's
 * own names cannot say this.
 *
 * @see https://www.postgresql.org/docs/15/sql-select.html#SQL-SELECT-LIST
 */
import type { ColumnInfo } from './index.ts';
import { tokenize, type Token } from './lexer.ts';

/** Keywords that end a SELECT list. */
const LIST_END = new Set([
  'from',
  'where',
  'group',
  'having',
  'order',
  'limit',
  'offset',
  'union',
  'intersect',
  'except',
  'into',
  'window',
  'qualify',
  'fetch',
  'for',
]);

/** SQL value functions written without parentheses, named after themselves. */
const VALUE_FUNCTIONS = new Set([
  'current_user',
  'session_user',
  'user',
  'current_date',
  'current_time',
  'current_timestamp',
  'localtime',
  'localtimestamp',
  'current_schema',
  'current_catalog',
  'current_role',
  'sysdate',
]);

/** PostgreSQL's name for one select-list item, or undefined when it has an alias or no such name. */
function itemName(item: readonly Token[]): string | undefined {
  let toks = item;
  // `expr::type` is named after `expr`.
  const cast = toks.findIndex((t, i) => t.kind === 'op' && t.value === '::' && depthAt(toks, i) === 0);
  if (cast > 0) toks = toks.slice(0, cast);
  const first = toks[0];
  if (!first) return undefined;
  if (toks.length === 1 && first.kind === 'word' && VALUE_FUNCTIONS.has(first.value)) return first.value;
  // A call: [schema .] name ( ... ) with nothing after the closing parenthesis.
  let k = 0;
  while (toks[k + 1]?.kind === 'op' && toks[k + 1]?.value === '.' && toks[k + 2]) k += 2;
  const name = toks[k];
  const open = toks[k + 1];
  const last = toks[toks.length - 1];
  if (
    name?.kind === 'word' &&
    open?.kind === 'op' &&
    open.value === '(' &&
    last?.kind === 'op' &&
    last.value === ')' &&
    closingParen(toks, k + 1) === toks.length - 1
  ) {
    if (name.value === 'cast') return castTarget(toks.slice(k + 2, -1));
    return name.value;
  }
  return undefined;
}

/** `CAST(expr AS type)` is named after `expr`. */
function castTarget(inner: readonly Token[]): string | undefined {
  const as = inner.findIndex((t, i) => t.kind === 'word' && t.value === 'as' && depthAt(inner, i) === 0);
  return as > 0 ? itemName(inner.slice(0, as)) : undefined;
}

function depthAt(toks: readonly Token[], index: number): number {
  let depth = 0;
  for (let i = 0; i < index; i++) {
    const t = toks[i] as Token;
    if (t.kind === 'op' && t.value === '(') depth++;
    if (t.kind === 'op' && t.value === ')') depth--;
  }
  return depth;
}

function closingParen(toks: readonly Token[], open: number): number | undefined {
  let depth = 0;
  for (let i = open; i < toks.length; i++) {
    const t = toks[i] as Token;
    if (t.kind === 'op' && t.value === '(') depth++;
    if (t.kind === 'op' && t.value === ')' && --depth === 0) return i;
  }
  return undefined;
}

/** The items of a statement's top-level SELECT list, or undefined when it is not a plain SELECT. */
function selectItems(statement: string): Token[][] | undefined {
  const toks = tokenize(statement).filter((t) => t.kind !== 'ws' && t.kind !== 'comment');
  if (toks[0]?.kind !== 'word' || toks[0].value !== 'select') return undefined;
  let i = 1;
  if (toks[i]?.kind === 'word' && (toks[i]?.value === 'distinct' || toks[i]?.value === 'all')) i++;
  if (toks[i]?.kind === 'word' && toks[i]?.value === 'top') i += 2;
  const items: Token[][] = [];
  let item: Token[] = [];
  let depth = 0;
  for (; i < toks.length; i++) {
    const t = toks[i] as Token;
    if (t.kind === 'op' && t.value === '(') depth++;
    if (t.kind === 'op' && t.value === ')') depth--;
    if (depth === 0 && t.kind === 'word' && LIST_END.has(t.value)) break;
    if (depth === 0 && t.kind === 'op' && t.value === ',') {
      items.push(item);
      item = [];
      continue;
    }
    item.push(t);
  }
  items.push(item);
  return items;
}

/**
 * Renames `?column?` (and DuckDB's `cast`) result columns after what the statement wrote (when its SELECT list
 * lines up with the result, i.e. no `*`).
 */
export function nameColumnsFromSource(
  statement: string,
  columns: readonly ColumnInfo[],
): ColumnInfo[] | undefined {
  const unnamed = (c: ColumnInfo): boolean => c.name === '?column?' || c.name === 'cast';
  if (!columns.some(unnamed)) return undefined;
  const items = selectItems(statement);
  if (!items || items.length !== columns.length) return undefined;
  if (items.some((it) => it.some((t) => t.kind === 'op' && t.value === '*' && it.length === 1)))
    return undefined;
  return columns.map((c, i) => {
    if (!unnamed(c)) return c;
    const name = itemName(items[i] as Token[]);
    return name ? { ...c, name } : c;
  });
}
