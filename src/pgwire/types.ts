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
    oid === OID.name ||
    oid === OID.oid ||
    oid === OID.numeric ||
    oid === OID.date ||
    oid === OID.time ||
    oid === OID.timestamp ||
    oid === OID.timestamptz ||
    oid === OID.uuid
  );
}

/** Microseconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01. */
const PG_EPOCH_MICROS = 946_684_800_000_000n;

/** `YYYY-MM-DD[ HH:MM:SS[.ffffff]][+HH[:MM]]` to microseconds since 2000-01-01 (UTC). */
function timestampMicros(text: string): bigint | undefined {
  if (text === 'infinity') return 0x7fffffffffffffffn;
  if (text === '-infinity') return -0x8000000000000000n;
  const m =
    /^(\d{4,})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,6}))?)?)?(?:([+-])(\d\d)(?::?(\d\d))?)?( BC)?$/.exec(
      text,
    );
  if (!m) return undefined;
  let year = Number(m[1]);
  if (m[11]) year = 1 - year;
  const ms = Date.UTC(
    year,
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4] ?? 0),
    Number(m[5] ?? 0),
    Number(m[6] ?? 0),
  );
  const base = new Date(ms);
  // Date.UTC maps years 0-99 to 1900-1999.
  if (year >= 0 && year < 100) base.setUTCFullYear(year);
  let micros = BigInt(base.getTime()) * 1000n + BigInt((m[7] ?? '').padEnd(6, '0') || '0');
  if (m[8]) {
    const offset = (Number(m[9]) * 60 + Number(m[10] ?? 0)) * 60_000_000;
    micros += BigInt(m[8] === '+' ? -offset : offset);
  }
  return micros - PG_EPOCH_MICROS;
}

/**
 * A decimal string in PostgreSQL's binary numeric form: ndigits, weight, sign, dscale, then
 * base-10000 digits.
 * @see https://github.com/postgres/postgres/blob/REL_15_STABLE/src/backend/utils/adt/numeric.c (numeric_send)
 */
export function numericBinary(text: string): Buffer | undefined {
  if (text === 'NaN') return Buffer.from([0, 0, 0, 0, 0xc0, 0, 0, 0]);
  let t = text;
  if (/e/i.test(t)) {
    const n = Number(t);
    if (!Number.isFinite(n)) return undefined;
    t = n.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
  }
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(t);
  if (!m) return undefined;
  const negative = m[1] === '-';
  const intPart = (m[2] ?? '').replace(/^0+/, '');
  const fracPart = m[3] ?? '';
  const dscale = fracPart.length;
  const intPadded = intPart.padStart(Math.ceil(intPart.length / 4) * 4, '0');
  const fracPadded = fracPart.padEnd(Math.ceil(fracPart.length / 4) * 4, '0');
  const groups: number[] = [];
  for (let i = 0; i < intPadded.length; i += 4) groups.push(Number(intPadded.slice(i, i + 4)));
  for (let i = 0; i < fracPadded.length; i += 4) groups.push(Number(fracPadded.slice(i, i + 4)));
  let weight = intPadded.length / 4 - 1;
  while (groups.length > 0 && groups[0] === 0) {
    groups.shift();
    weight--;
  }
  while (groups.length > 0 && groups[groups.length - 1] === 0) groups.pop();
  if (groups.length === 0) weight = 0;
  const b = Buffer.alloc(8 + groups.length * 2);
  b.writeInt16BE(groups.length, 0);
  b.writeInt16BE(weight, 2);
  b.writeUInt16BE(groups.length > 0 && negative ? 0x4000 : 0, 4);
  b.writeInt16BE(dscale, 6);
  groups.forEach((g, i) => b.writeInt16BE(g, 8 + i * 2));
  return b;
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
    case OID.oid: {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(Number(value) >>> 0, 0);
      return b;
    }
    case OID.numeric:
      return numericBinary(textValue(value, oid)) ?? unencodable(value, oid);
    case OID.date: {
      const micros = timestampMicros(textValue(value, oid));
      if (micros === undefined) return unencodable(value, oid);
      const b = Buffer.alloc(4);
      const days =
        micros >= 0x7fffffffffffffffn
          ? 0x7fffffff
          : micros <= -0x8000000000000000n
            ? -0x80000000
            : Number(micros / 86_400_000_000n);
      b.writeInt32BE(days, 0);
      return b;
    }
    case OID.timestamp:
    case OID.timestamptz: {
      const micros = timestampMicros(textValue(value, oid));
      if (micros === undefined) return unencodable(value, oid);
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(micros, 0);
      return b;
    }
    case OID.time: {
      const m = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/.exec(textValue(value, oid));
      if (!m) return unencodable(value, oid);
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(
        BigInt(((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1_000_000) +
          BigInt((m[4] ?? '').padEnd(6, '0')),
        0,
      );
      return b;
    }
    case OID.uuid: {
      const hex = textValue(value, oid).replaceAll('-', '');
      return /^[0-9a-fA-F]{32}$/.test(hex) ? Buffer.from(hex, 'hex') : unencodable(value, oid);
    }
    default:
      // The binary form of the text types is their UTF-8 bytes.
      return Buffer.from(textValue(value, oid), 'utf8');
  }
}

function unencodable(value: unknown, oid: number): never {
  throw new Error(`cannot send ${String(value)} in the binary format of type ${oid}`);
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
