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

/** The array type of each element type (pg_type.typarray). */
const ARRAY_OF: ReadonlyMap<number, number> = new Map([
  [OID.bool, 1000],
  [OID.bytea, 1001],
  [OID.name, 1003],
  [OID.int2, 1005],
  [OID.int4, 1007],
  [OID.text, 1009],
  [OID.bpchar, 1014],
  [OID.varchar, 1015],
  [OID.int8, 1016],
  [OID.float4, 1021],
  [OID.float8, 1022],
  [OID.oid, 1028],
  [OID.timestamp, 1115],
  [OID.date, 1182],
  [OID.time, 1183],
  [OID.timestamptz, 1185],
  [OID.interval, 1187],
  [OID.numeric, 1231],
  [OID.timetz, 1270],
  [OID.uuid, 2951],
  [OID.json, 199],
  [OID.jsonb, 3807],
]);

/** The element type of each array type (pg_type.typelem). */
const ELEMENT_OF: ReadonlyMap<number, number> = new Map([...ARRAY_OF].map(([e, a]) => [a, e]));

/** The element type OID of an array type OID, or undefined for a non-array type. */
export function arrayElementOid(oid: number): number | undefined {
  return ELEMENT_OF.get(oid);
}

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
  if (name.endsWith('[]')) {
    // An array's typmod is its element's (numeric(5,2)[] keeps 5,2).
    const element = wireType(name.slice(0, -2));
    return { oid: ARRAY_OF.get(element.oid) ?? OID.text, size: -1, modifier: element.modifier };
  }
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
  const element = ELEMENT_OF.get(oid);
  if (element !== undefined) return hasBinaryFormat(element);
  return (
    oid === OID.bool ||
    oid === OID.bytea ||
    oid === OID.timetz ||
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
    case OID.bytea: {
      // The text form is bytea's hex output, \x followed by two digits a byte.
      const text = textValue(value, oid);
      return /^\\x(?:[0-9a-fA-F]{2})*$/.test(text)
        ? Buffer.from(text.slice(2), 'hex')
        : Buffer.from(text, 'utf8');
    }
    case OID.timetz: {
      // Microseconds since midnight, then the zone's offset in seconds west of UTC.
      const m = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?$/.exec(
        textValue(value, oid),
      );
      if (!m) return unencodable(value, oid);
      const b = Buffer.alloc(12);
      b.writeBigInt64BE(
        BigInt(((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1_000_000) +
          BigInt((m[4] ?? '').padEnd(6, '0')),
        0,
      );
      const east = (Number(m[6]) * 60 + Number(m[7] ?? 0)) * 60 + Number(m[8] ?? 0);
      b.writeInt32BE(m[5] === '+' ? -east : east, 8);
      return b;
    }
    case OID.uuid: {
      const hex = textValue(value, oid).replaceAll('-', '');
      return /^[0-9a-fA-F]{32}$/.test(hex) ? Buffer.from(hex, 'hex') : unencodable(value, oid);
    }
    default: {
      const element = ELEMENT_OF.get(oid);
      if (element !== undefined)
        return arrayBinary(textValue(value, oid), element) ?? unencodable(value, oid);
      // The binary form of the text types is their UTF-8 bytes.
      return Buffer.from(textValue(value, oid), 'utf8');
    }
  }
}

/** A parsed array literal: elements (null for NULL) or nested arrays. */
type ArrayItems = (string | null | ArrayItems)[];

/**
 * Reads PostgreSQL's array text format (`{1,2}`, `{"a,b",NULL}`, `{{1,2},{3,4}}`); undefined
 * when the text is not one.
 * @see https://www.postgresql.org/docs/15/arrays.html#ARRAYS-IO
 */
export function parseArrayText(text: string): ArrayItems | undefined {
  let i = 0;
  const parse = (): ArrayItems | undefined => {
    if (text[i] !== '{') return undefined;
    i++;
    const items: ArrayItems = [];
    if (text[i] === '}') {
      i++;
      return items;
    }
    for (;;) {
      while (text[i] === ' ') i++;
      if (text[i] === '{') {
        const inner = parse();
        if (!inner) return undefined;
        items.push(inner);
      } else if (text[i] === '"') {
        let v = '';
        i++;
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\\') i++;
          v += text[i] ?? '';
          i++;
        }
        if (text[i] !== '"') return undefined;
        i++;
        items.push(v);
      } else {
        const start = i;
        while (i < text.length && text[i] !== ',' && text[i] !== '}') i++;
        const v = text.slice(start, i).trim();
        items.push(/^null$/i.test(v) ? null : v);
      }
      while (text[i] === ' ') i++;
      if (text[i] === ',') i++;
      else if (text[i] === '}') {
        i++;
        return items;
      } else return undefined;
    }
  };
  const items = parse();
  return items && i === text.length ? items : undefined;
}

/**
 * An array literal in the binary array format: ndim, has-nulls flag, element type, each
 * dimension's length and lower bound (1), then each element as length and bytes (-1 for NULL).
 * Undefined when the literal is not a rectangular array.
 * @see https://github.com/postgres/postgres/blob/REL_15_STABLE/src/backend/utils/adt/arrayfuncs.c (array_send)
 */
function arrayBinary(text: string, element: number): Buffer | undefined {
  const items = parseArrayText(text);
  if (!items) return undefined;
  const dims: number[] = [];
  for (let level: ArrayItems | string | null = items; Array.isArray(level); level = level[0] ?? null) {
    dims.push(level.length);
    if (level.length === 0) break;
  }
  if (dims[0] === 0) return Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, ...int32(element)]);
  const flat: (string | null)[] = [];
  const walk = (level: ArrayItems, depth: number): boolean => {
    if (level.length !== dims[depth]) return false;
    for (const item of level) {
      if (Array.isArray(item) !== depth < dims.length - 1) return false;
      if (Array.isArray(item)) {
        if (!walk(item, depth + 1)) return false;
      } else flat.push(item);
    }
    return true;
  };
  if (!walk(items, 0)) return undefined;
  const parts: Buffer[] = [
    Buffer.from([...int32(dims.length), ...int32(flat.includes(null) ? 1 : 0), ...int32(element)]),
  ];
  for (const d of dims) parts.push(Buffer.from([...int32(d), ...int32(1)]));
  for (const item of flat) {
    const bytes = item === null ? null : encodeValue(item, element, 1);
    parts.push(Buffer.from(int32(bytes === null ? -1 : bytes.length)));
    if (bytes) parts.push(bytes);
  }
  return Buffer.concat(parts);
}

function int32(n: number): number[] {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n, 0);
  return [...b];
}

/** The text of a binary numeric (numeric_recv's input); undefined when malformed. */
function numericText(bytes: Buffer): string | undefined {
  if (bytes.length < 8) return undefined;
  const ndigits = bytes.readInt16BE(0);
  const weight = bytes.readInt16BE(2);
  const sign = bytes.readUInt16BE(4);
  const dscale = bytes.readInt16BE(6);
  if (bytes.length !== 8 + ndigits * 2) return undefined;
  if (sign === 0xc000) return 'NaN';
  if (sign === 0xd000) return 'Infinity';
  if (sign === 0xf000) return '-Infinity';
  let int = '';
  let frac = '';
  for (let i = 0; i < ndigits; i++) {
    const digits = String(bytes.readInt16BE(8 + i * 2)).padStart(4, '0');
    if (i <= weight) int += digits;
    else frac += digits;
  }
  // Groups between the last digit and the decimal point, or between the point and the first digit.
  if (weight >= ndigits) int += '0000'.repeat(weight - ndigits + 1);
  if (weight < -1) frac = '0000'.repeat(-weight - 1) + frac;
  int = int.replace(/^0+(?=\d)/, '') || '0';
  frac = frac.padEnd(dscale, '0').slice(0, dscale);
  return `${sign === 0x4000 ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/** Days or microseconds since 2000-01-01 as `YYYY-MM-DD[ HH:MM:SS.ffffff]`. */
function timestampText(micros: bigint, withTime: boolean): string {
  const total = micros + PG_EPOCH_MICROS;
  const ms = Number(total / 1000n) - (total % 1000n < 0n ? 1 : 0);
  const d = new Date(ms);
  const date = `${String(d.getUTCFullYear()).padStart(4, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
  if (!withTime) return date;
  const frac = ((total % 1_000_000n) + 1_000_000n) % 1_000_000n;
  return `${date} ${d.toISOString().slice(11, 19)}.${frac.toString().padStart(6, '0')}`;
}

/** A binary array parameter as an array literal; undefined when its element type has no binary form here. */
function arrayParamText(bytes: Buffer): string | undefined {
  if (bytes.length < 12) return undefined;
  const ndim = bytes.readInt32BE(0);
  const element = bytes.readInt32BE(8);
  if (ndim === 0) return '{}';
  const dims: number[] = [];
  let at = 12;
  for (let d = 0; d < ndim; d++, at += 8) dims.push(bytes.readInt32BE(at));
  const values: string[] = [];
  const total = dims.reduce((a, b) => a * b, 1);
  for (let n = 0; n < total; n++) {
    const len = bytes.readInt32BE(at);
    at += 4;
    if (len < 0) {
      values.push('NULL');
      continue;
    }
    const text = binaryParamText(bytes.subarray(at, at + len), element);
    if (text === undefined) return undefined;
    values.push(quoteElement(text));
    at += len;
  }
  const build = (depth: number): string => {
    const size = dims[depth] as number;
    const parts: string[] = [];
    for (let i = 0; i < size; i++)
      parts.push(depth === dims.length - 1 ? (values.shift() as string) : build(depth + 1));
    return `{${parts.join(',')}}`;
  };
  return build(0);
}

function quoteElement(text: string): string {
  if (text === '' || /^null$/i.test(text) || /[{},"\\\s]/.test(text))
    return `"${text.replace(/["\\]/g, '\\$&')}"`;
  return text;
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
    case OID.oid:
      return bytes.length === 4 ? String(bytes.readUInt32BE(0)) : undefined;
    case OID.numeric:
      return numericText(bytes);
    case OID.date:
      return bytes.length === 4
        ? timestampText(BigInt(bytes.readInt32BE(0)) * 86_400_000_000n, false)
        : undefined;
    case OID.timestamp:
      return bytes.length === 8 ? timestampText(bytes.readBigInt64BE(0), true) : undefined;
    case OID.timestamptz:
      return bytes.length === 8 ? `${timestampText(bytes.readBigInt64BE(0), true)}+00` : undefined;
    case OID.uuid:
      return bytes.length === 16
        ? bytes.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-')
        : undefined;
    default:
      return ELEMENT_OF.has(oid) ? arrayParamText(bytes) : undefined;
  }
}
