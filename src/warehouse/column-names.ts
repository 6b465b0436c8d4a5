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

/**
 * PostgreSQL's names for cast target types: the catalog name the grammar turns a type into
 * (`integer` is int4, `char(3)` bpchar), which names a cast of a constant.
 */
const CAST_TYPE_NAMES: Readonly<Record<string, string>> = {
  int: 'int4',
  integer: 'int4',
  smallint: 'int2',
  bigint: 'int8',
  real: 'float4',
  float: 'float8',
  double: 'float8',
  decimal: 'numeric',
  dec: 'numeric',
  boolean: 'bool',
  char: 'bpchar',
  character: 'bpchar',
  nchar: 'bpchar',
  nvarchar: 'varchar',
  string: 'text',
};

/** Constants, which PostgreSQL does not name: a cast of one is named after its type. */
const CONSTANT_WORDS = new Set(['true', 'false', 'null']);

/** A name and whether it is a strong one (a column or a function), as PostgreSQL ranks them. */
interface ItemName {
  readonly name: string;
  readonly strong: boolean;
}

/** PostgreSQL's name for one select-list item, or undefined when it has an alias or no such name. */
function itemName(item: readonly Token[]): string | undefined {
  return rankedName(item)?.name;
}

/** @see https://github.com/postgres/postgres/blob/REL_15_STABLE/src/backend/parser/parse_target.c (FigureColnameInternal) */
function rankedName(toks: readonly Token[]): ItemName | undefined {
  // `expr::type` is named after `expr` if that has a strong name, else after the type.
  let cast = -1;
  toks.forEach((t, i) => {
    if (t.kind === 'op' && t.value === '::' && depthAt(toks, i) === 0) cast = i;
  });
  if (cast > 0) {
    // `1 + 2::int` casts only the 2: the item is an operator expression, with no name.
    if (!isPrimary(toks.slice(0, cast)) || !isTypeName(toks.slice(cast + 1))) return undefined;
    const inner = rankedName(toks.slice(0, cast));
    if (inner?.strong) return inner;
    const type = castTypeName(toks.slice(cast + 1));
    return type ? { name: type, strong: false } : inner;
  }
  const first = toks[0];
  if (!first) return undefined;
  if (toks.length === 1 && first.kind === 'word' && VALUE_FUNCTIONS.has(first.value))
    return { name: first.value, strong: true };
  // A column: [table .] name.
  if (
    toks.length % 2 === 1 &&
    toks.every((t, i) =>
      i % 2 === 1 ? t.kind === 'op' && t.value === '.' : t.kind === 'word' || t.kind === 'qident',
    )
  ) {
    const last = toks[toks.length - 1] as Token;
    if (toks.length === 1 && CONSTANT_WORDS.has(last.value)) return undefined;
    return { name: last.value, strong: true };
  }
  if (first.kind === 'op' && first.value === '(' && closingParen(toks, 0) === toks.length - 1)
    return rankedName(toks.slice(1, -1));
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
    return { name: name.value, strong: true };
  }
  return undefined;
}

/** Whether the tokens spell a type name: words, and numbers or `[]` in brackets. */
function isTypeName(toks: readonly Token[]): boolean {
  return (
    toks[0]?.kind === 'word' &&
    toks.every(
      (t) =>
        t.kind === 'word' ||
        t.kind === 'number' ||
        (t.kind === 'op' &&
          (t.value === '(' || t.value === ')' || t.value === ',' || t.value === '[' || t.value === ']')),
    )
  );
}

/** Whether the tokens are one operand that `::` binds to: a constant, column, call, parenthesis or cast. */
function isPrimary(toks: readonly Token[]): boolean {
  const first = toks[0];
  if (!first) return false;
  if (toks.length === 1) return first.kind !== 'op';
  const last = toks.length - 1;
  if (first.kind === 'op' && first.value === '(') return closingParen(toks, 0) === last;
  let cast = -1;
  toks.forEach((t, i) => {
    if (t.kind === 'op' && t.value === '::' && depthAt(toks, i) === 0) cast = i;
  });
  if (cast > 0) return isPrimary(toks.slice(0, cast)) && isTypeName(toks.slice(cast + 1));
  let k = 0;
  while (toks[k + 1]?.kind === 'op' && toks[k + 1]?.value === '.' && toks[k + 2]) k += 2;
  if (k === last)
    return toks.every((t, i) => (i % 2 === 1 ? true : t.kind === 'word' || t.kind === 'qident'));
  return (
    toks[k]?.kind === 'word' &&
    toks[k + 1]?.kind === 'op' &&
    toks[k + 1]?.value === '(' &&
    closingParen(toks, k + 1) === last
  );
}

/** The name PostgreSQL gives a cast to the type these tokens spell (`character varying(3)` is varchar). */
function castTypeName(type: readonly Token[]): string | undefined {
  const words = type.filter((t) => t.kind === 'word').map((t) => t.value);
  const [w0, w1, w2, w3] = words;
  if (w0 === undefined || type[0]?.kind !== 'word') return undefined;
  if (type.some((t) => t.kind === 'op' && t.value === '[')) return undefined;
  if ((w0 === 'character' || w0 === 'char') && w1 === 'varying') return 'varchar';
  if (w0 === 'double' && w1 === 'precision') return 'float8';
  if ((w0 === 'timestamp' || w0 === 'time') && w1 === 'with' && w2 === 'time' && w3 === 'zone')
    return w0 === 'timestamp' ? 'timestamptz' : 'timetz';
  return CAST_TYPE_NAMES[w0] ?? w0;
}

/** `CAST(expr AS type)` is named as `expr::type` is. */
function castTarget(inner: readonly Token[]): ItemName | undefined {
  const as = inner.findIndex((t, i) => t.kind === 'word' && t.value === 'as' && depthAt(inner, i) === 0);
  if (as <= 0) return undefined;
  const named = rankedName(inner.slice(0, as));
  if (named?.strong) return named;
  const type = castTypeName(inner.slice(as + 1));
  return type ? { name: type, strong: false } : named;
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

/** The type tokens of an item that is a cast as a whole (`x::t`, `CAST(x AS t)`), if it is one. */
function castType(toks: readonly Token[]): readonly Token[] | undefined {
  let cast = -1;
  toks.forEach((t, i) => {
    if (t.kind === 'op' && t.value === '::' && depthAt(toks, i) === 0) cast = i;
  });
  if (cast > 0) {
    const type = toks.slice(cast + 1);
    return isPrimary(toks.slice(0, cast)) && isTypeName(type) ? type : undefined;
  }
  if (toks[0]?.kind !== 'word' || toks[0].value !== 'cast' || closingParen(toks, 1) !== toks.length - 1)
    return undefined;
  const inner = toks.slice(2, -1);
  const as = inner.findIndex((t, i) => t.kind === 'word' && t.value === 'as' && depthAt(inner, i) === 0);
  return as > 0 && isTypeName(inner.slice(as + 1)) ? inner.slice(as + 1) : undefined;
}

/**
 * `character(n)` for an item cast to CHAR(n), which DuckDB keeps as VARCHAR: a client sees
 * bpchar, as from Redshift.
 */
function charType(item: readonly Token[]): string | undefined {
  let toks = item;
  const aliasAt =
    toks.length - (toks[toks.length - 2]?.kind === 'word' && toks[toks.length - 2]?.value === 'as' ? 2 : 1);
  const alias = toks[toks.length - 1];
  if (
    (alias?.kind === 'word' || alias?.kind === 'qident') &&
    (aliasAt < toks.length - 1 || toks[aliasAt - 1]?.value === ')')
  )
    toks = toks.slice(0, aliasAt);
  const type = castType(toks);
  const [w0, w1] = type?.filter((t) => t.kind === 'word').map((t) => t.value) ?? [];
  if (!(w0 === 'char' || w0 === 'character' || w0 === 'bpchar' || w0 === 'nchar') || w1 === 'varying')
    return undefined;
  const length = type?.find((t) => t.kind === 'number')?.value ?? '1';
  return `character(${length})`;
}

/**
 * Renames `?column?` (and DuckDB's `cast`) result columns after what the statement wrote, and
 * types CHAR(n) casts as bpchar (when its SELECT list lines up with the result, i.e. no `*`).
 */
export function nameColumnsFromSource(
  statement: string,
  columns: readonly ColumnInfo[],
): ColumnInfo[] | undefined {
  const unnamed = (c: ColumnInfo): boolean => c.name === '?column?' || c.name === 'cast';
  const varchar = (c: ColumnInfo): boolean => c.type === 'character varying';
  if (!columns.some((c) => unnamed(c) || varchar(c))) return undefined;
  const items = selectItems(statement);
  if (!items || items.length !== columns.length) return undefined;
  if (items.some((it) => it.some((t) => t.kind === 'op' && t.value === '*' && it.length === 1)))
    return undefined;
  return columns.map((c, i) => {
    const item = items[i] as Token[];
    const type = varchar(c) ? charType(item) : undefined;
    const name = unnamed(c) ? itemName(item) : undefined;
    return { ...c, ...(name ? { name } : {}), ...(type ? { type } : {}) };
  });
}
