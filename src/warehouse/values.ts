/**
 * DuckDB result values and types as a PostgreSQL client expects them: JSON-ready values
 * (see QueryResult.rows in index.ts), PostgreSQL type names, and Redshift-style column names.
 */
import { GETDATE_SQL, SYSDATE_SQL } from './dialect.ts';
import { DuckDBTimestampValue, DuckDBTypeId, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';

/** PostgreSQL's name for a DuckDB type. */
export function pgTypeName(type: DuckDBType): string {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return 'boolean';
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.SMALLINT:
      return 'smallint';
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.INTEGER:
      return 'integer';
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.BIGINT:
      return 'bigint';
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      return 'numeric';
    case DuckDBTypeId.DECIMAL: {
      const t = type as DuckDBType & { width: number; scale: number };
      return `numeric(${t.width},${t.scale})`;
    }
    case DuckDBTypeId.FLOAT:
      return 'real';
    case DuckDBTypeId.DOUBLE:
      return 'double precision';
    case DuckDBTypeId.DATE:
      return 'date';
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_NS:
      return 'time without time zone';
    case DuckDBTypeId.TIME_TZ:
      return 'time with time zone';
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return 'timestamp without time zone';
    case DuckDBTypeId.TIMESTAMP_TZ:
      return 'timestamp with time zone';
    case DuckDBTypeId.INTERVAL:
      return 'interval';
    case DuckDBTypeId.BLOB:
      return 'bytea';
    case DuckDBTypeId.VARCHAR:
      return type.alias === 'JSON' ? 'json' : 'character varying';
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      // PostgreSQL's array types do not count dimensions: INTEGER[][] is integer[] too.
      const element = arrayElementType(type);
      return element ? `${pgTypeName(element)}[]` : 'character varying';
    }
    default:
      // UUID, ENUM, STRUCT and MAP reach the client as text.
      return 'character varying';
  }
}

/** The scalar element type of a (nested) LIST or ARRAY; undefined when the elements are STRUCTs or MAPs (sent as JSON text). */
function arrayElementType(type: DuckDBType): DuckDBType | undefined {
  let t = type;
  while (t.typeId === DuckDBTypeId.LIST || t.typeId === DuckDBTypeId.ARRAY)
    t = (t as DuckDBType & { valueType: DuckDBType }).valueType;
  switch (t.typeId) {
    case DuckDBTypeId.STRUCT:
    case DuckDBTypeId.MAP:
    case DuckDBTypeId.UNION:
      return undefined;
    default:
      return t;
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

function floatValue(n: number): number | string {
  if (Number.isFinite(n)) return n;
  if (Number.isNaN(n)) return 'NaN';
  return n > 0 ? 'Infinity' : '-Infinity';
}

/** Converts one DuckDB value to its JSON-ready form (see QueryResult.rows). */
export function jsonValue(value: DuckDBValue, type: DuckDBType): unknown {
  if (value === null) return null;
  switch (typeof value) {
    case 'boolean':
      return value;
    case 'number':
      return type.typeId === DuckDBTypeId.FLOAT || type.typeId === DuckDBTypeId.DOUBLE
        ? floatValue(value)
        : value;
    case 'bigint':
      return value <= MAX_SAFE && value >= MIN_SAFE ? Number(value) : value.toString();
    case 'string':
      return value;
    default:
      break;
  }
  switch (type.typeId) {
    case DuckDBTypeId.TIMESTAMP_TZ:
      // The session runs in UTC, so the offset is always +00.
      return `${new DuckDBTimestampValue((value as unknown as { micros: bigint }).micros).toString()}+00`;
    case DuckDBTypeId.BLOB: {
      const bytes = (value as unknown as { bytes: Uint8Array }).bytes;
      return `\\x${Buffer.from(bytes).toString('hex')}`;
    }
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      const element = arrayElementType(type);
      if (element) return pgArrayText(value, type, element);
      return JSON.stringify(nestedJson(value));
    }
    case DuckDBTypeId.STRUCT:
    case DuckDBTypeId.MAP:
      return JSON.stringify(nestedJson(value));
    default:
      return String(value);
  }
}

/**
 * A LIST value in PostgreSQL's array text format (`{1,2}`, `{"a b",NULL}`, `{{1},{2}}`), as
 * array_out writes it: an element is double-quoted when it is empty, is `NULL`, or holds a
 * brace, comma, quote, backslash or white space; quotes and backslashes inside are escaped.
 * @see https://www.postgresql.org/docs/15/arrays.html#ARRAYS-IO
 */
function pgArrayText(value: DuckDBValue, type: DuckDBType, element: DuckDBType): string {
  const items = (value as unknown as { items: DuckDBValue[] }).items;
  const inner = (type as DuckDBType & { valueType: DuckDBType }).valueType;
  const nested = inner.typeId === DuckDBTypeId.LIST || inner.typeId === DuckDBTypeId.ARRAY;
  const parts = items.map((item) => {
    if (item === null) return 'NULL';
    if (nested) return pgArrayText(item, inner, element);
    return quoteArrayElement(scalarText(jsonValue(item, element)));
  });
  return `{${parts.join(',')}}`;
}

/** A scalar value in PostgreSQL's text output. */
function scalarText(v: unknown): string {
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') return String(v).replace(/e([+-])(\d)$/, 'e$10$2');
  return String(v);
}

/** One element of an array literal, quoted where array_out would quote it. */
function quoteArrayElement(text: string): string {
  if (text === '' || /^null$/i.test(text) || /[{},"\\\s]/.test(text))
    return `"${text.replace(/["\\]/g, '\\$&')}"`;
  return text;
}

/** Nested values as plain JSON (for LIST/STRUCT/MAP results shown as text). */
function nestedJson(value: unknown): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string')
    return value;
  if (typeof value === 'bigint')
    return value <= MAX_SAFE && value >= MIN_SAFE ? Number(value) : value.toString();
  const v = value as { items?: unknown[]; entries?: unknown };
  if (Array.isArray(v.items)) return v.items.map(nestedJson);
  if (Array.isArray(v.entries))
    return (v.entries as { key: unknown; value: unknown }[]).map((e) => ({
      key: nestedJson(e.key),
      value: nestedJson(e.value),
    }));
  if (v.entries && typeof v.entries === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v.entries as Record<string, unknown>)) out[k] = nestedJson(x);
    return out;
  }
  return String(value);
}

/**
 * The column name a Redshift client sees: lower case (Redshift folds result names), and
 * for expressions PostgreSQL's choice: the function name for a call (`count`, `max`), the
 * column for a cast of a column, `?column?` otherwise.
 */
export function pgColumnName(duckName: string): string {
  if (duckName === GETDATE_SQL) return 'getdate';
  if (duckName === SYSDATE_SQL) return 'sysdate';
  if (/^[A-Za-z_][A-Za-z0-9_$]*$/.test(duckName)) return duckName.toLowerCase();
  if (duckName === 'count_star()') return 'count';
  // AVG as dialect.ts writes it, to give Redshift's result types.
  if (duckName.startsWith('cast_to_type((sum(')) return 'avg';
  const cast = /^CAST\("?([A-Za-z_][A-Za-z0-9_$]*)"? AS /.exec(duckName);
  if (cast) return (cast[1] as string).toLowerCase();
  const call = /^(?:main\.)?"?([A-Za-z_][A-Za-z0-9_$]*)"?\(/.exec(duckName);
  if (call) return (call[1] as string).toLowerCase();
  if (duckName.includes('(') || /^[-'0-9.]/.test(duckName)) return '?column?';
  return duckName.toLowerCase();
}
