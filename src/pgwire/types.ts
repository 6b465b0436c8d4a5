/**
 * PostgreSQL type OIDs for the warehouse's type names, and values in the text and binary
 * formats the client asks for.
 *
 * @see https://www.postgresql.org/docs/15/protocol-overview.html#PROTOCOL-FORMAT-CODES
 * @see https://github.com/postgres/postgres/blob/REL_15_STABLE/src/include/catalog/pg_type.dat
 */
import type { ColumnInfo } from '../warehouse/index.ts';
import type { FieldDescription } from './messages.ts';

/** Type OIDs used here (pg_type.oid). */
export const OID = {
  bool: 16,
  bytea: 17,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  timetz: 1266,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

/** pg_type.typlen for the fixed-size types; everything else is -1. */
const TYPE_SIZE: ReadonlyMap<number, number> = new Map([
  [OID.bool, 1],
  [OID.int2, 2],
  [OID.int4, 4],
  [OID.int8, 8],
  [OID.oid, 4],
  [OID.float4, 4],
  [OID.float8, 8],
  [OID.date, 4],
  [OID.time, 8],
  [OID.timestamp, 8],
  [OID.timestamptz, 8],
  [OID.interval, 16],
  [OID.timetz, 12],
  [OID.uuid, 16],
  [OID.name, 64],
]);

const SIMPLE_TYPES: ReadonlyMap<string, number> = new Map([
  ['boolean', OID.bool],
  ['bool', OID.bool],
  ['smallint', OID.int2],
  ['int2', OID.int2],
  ['integer', OID.int4],
  ['int', OID.int4],
  ['int4', OID.int4],
  ['bigint', OID.int8],
  ['int8', OID.int8],
  ['real', OID.float4],
  ['float4', OID.float4],
  ['double precision', OID.float8],
  ['float8', OID.float8],
  ['numeric', OID.numeric],
  ['decimal', OID.numeric],
  ['text', OID.text],
  ['character varying', OID.varchar],
  ['varchar', OID.varchar],
  ['character', OID.bpchar],
  ['char', OID.bpchar],
  ['bpchar', OID.bpchar],
  ['date', OID.date],
  ['timestamp without time zone', OID.timestamp],
  ['timestamp', OID.timestamp],
  ['timestamp with time zone', OID.timestamptz],
  ['timestamptz', OID.timestamptz],
  ['time without time zone', OID.time],
  ['time', OID.time],
  ['time with time zone', OID.timetz],
  ['timetz', OID.timetz],
  ['interval', OID.interval],
  ['bytea', OID.bytea],
  ['json', OID.json],
  ['jsonb', OID.jsonb],
  ['uuid', OID.uuid],
  ['name', OID.name],
  ['oid', OID.oid],
]);

/** A column's type as the wire sees it. */
export interface WireType {
  /** Type OID. */
  readonly oid: number;
  /** pg_type.typlen. */
  readonly size: number;
  /** atttypmod (-1 when none). */
  readonly modifier: number;
}

/** Maps a PostgreSQL type name (`numeric(5,2)`, `character varying(36)`) to its OID and typmod; unknown names are text. */
export function wireType(typeName: string): WireType {
  const name = typeName.trim().toLowerCase();
  const m = /^(.*?)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$/.exec(name);
  const base = m ? (m[1] as string) : name;
  const oid = SIMPLE_TYPES.get(base) ?? OID.text;
  let modifier = -1;
  if (m && oid === OID.numeric) modifier = ((Number(m[2]) << 16) | Number(m[3] ?? 0)) + 4;
  else if (m && (oid === OID.varchar || oid === OID.bpchar)) modifier = Number(m[2]) + 4;
  return { oid, size: TYPE_SIZE.get(oid) ?? -1, modifier };
}

/** True when the binary format is implemented for a type OID (others are sent as text). */
export function hasBinaryFormat(oid: number): boolean {
  return (
    oid === OID.bool ||
    oid === OID.int2 ||
    oid === OID.int4 ||
    oid === OID.int8 ||
    oid === OID.float4 ||
    oid === OID.float8 ||
    oid === OID.text ||
    oid === OID.varchar ||
    oid === OID.bpchar ||
    oid === OID.json ||
    oid === OID.name
  );
}

/**
 * The result format of each column, from Bind's result format codes: none means all text,
 * one applies to every column, otherwise one per column. A binary request for a type whose
 * binary form is not implemented falls back to text, and RowDescription says so.
 */
export function resultFormats(columns: readonly ColumnInfo[], codes: readonly number[]): number[] {
  return columns.map((c, i) => {
    const code = codes.length === 0 ? 0 : codes.length === 1 ? (codes[0] as number) : (codes[i] ?? 0);
    return code === 1 && hasBinaryFormat(wireType(c.type).oid) ? 1 : 0;
  });
}

/** RowDescription fields for result columns. */
export function fieldDescriptions(
  columns: readonly ColumnInfo[],
  formats: readonly number[] = [],
): FieldDescription[] {
  return columns.map((c, i) => {
    const t = wireType(c.type);
    return {
      name: c.name,
      typeOid: t.oid,
      typeSize: t.size,
      typeModifier: t.modifier,
      format: formats[i] ?? 0,
    };
  });
}

/** A float as PostgreSQL prints it (shortest round-trip digits, two-digit exponent). */
function floatText(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  return String(n).replace(/e([+-])(\d)$/, 'e$10$2');
}

/** A value in the text format. */
export function textValue(value: unknown, oid: number): string {
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number')
    return oid === OID.float4 || oid === OID.float8 ? floatText(value) : String(value);
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  return JSON.stringify(value);
}

/** Encodes a value for a DataRow in the given format; null stays null. */
export function encodeValue(value: unknown, oid: number, format: number): Buffer | null {
  if (value === null || value === undefined) return null;
  if (format !== 1) return Buffer.from(textValue(value, oid), 'utf8');
  switch (oid) {
    case OID.bool:
      return Buffer.from([value === true || value === 't' || value === 'true' ? 1 : 0]);
    case OID.int2: {
      const b = Buffer.alloc(2);
      b.writeInt16BE(Number(value), 0);
      return b;
    }
    case OID.int4: {
      const b = Buffer.alloc(4);
      b.writeInt32BE(Number(value), 0);
      return b;
    }
    case OID.int8: {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(typeof value === 'number' ? Math.trunc(value) : String(value)), 0);
      return b;
    }
    case OID.float4: {
      const b = Buffer.alloc(4);
      b.writeFloatBE(Number(value), 0);
      return b;
    }
    case OID.float8: {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(Number(value), 0);
      return b;
    }
    default:
      // The binary form of the text types is their UTF-8 bytes.
      return Buffer.from(textValue(value, oid), 'utf8');
  }
}

/** Decodes a binary-format parameter to its text form; undefined when the type's binary form is not implemented. */
export function binaryParamText(bytes: Buffer, oid: number): string | undefined {
  switch (oid) {
    case OID.bool:
      return bytes.length === 1 ? (bytes[0] ? 'true' : 'false') : undefined;
    case OID.int2:
      return bytes.length === 2 ? String(bytes.readInt16BE(0)) : undefined;
    case OID.int4:
      return bytes.length === 4 ? String(bytes.readInt32BE(0)) : undefined;
    case OID.int8:
      return bytes.length === 8 ? bytes.readBigInt64BE(0).toString() : undefined;
    case OID.float4:
      return bytes.length === 4 ? floatText(bytes.readFloatBE(0)) : undefined;
    case OID.float8:
      return bytes.length === 8 ? floatText(bytes.readDoubleBE(0)) : undefined;
    case OID.text:
    case OID.varchar:
    case OID.bpchar:
    case OID.json:
    case OID.name:
      return bytes.toString('utf8');
    default:
      return undefined;
  }
}
