/**
 * COPY's conversion of one field to its column's declared Redshift type, with Redshift's
 * load error codes and reasons. Values come out ready for the DuckDB appender: strings
 * (text, numerics as canonical decimal text, datetimes as ISO text), numbers, bigints,
 * booleans, or null.
 *
 * Choices where Redshift is not documented or Sluice differs:
 * - NUMERIC: extra scale digits are truncated, as COPY does, or rounded half away from zero
 *   with ROUNDEC; more integer digits than the type allows is error 1207 (overflow).
 * - Integers must be whole numbers (1.0 is error 1207); JSON numbers and numeric strings
 *   both load.
 * - A time zone offset on a TIMESTAMP (without time zone) value is ignored; a TIMESTAMPTZ
 *   value is converted to UTC.
 *
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_Load_Error_Reference.html
 * @see https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-conversion.html
 */
import { ValueKind } from './json-scan.ts';
import type { SqlType } from './types.ts';

/** Why one field could not load. */
export class LoadFailure extends Error {
  override readonly name = 'LoadFailure';
  /** Creates a failure with a Redshift load error code. */
  constructor(
    readonly code: number,
    reason: string,
  ) {
    super(reason);
  }
}

/** Redshift load error codes Sluice reports. */
export const LoadErrorCode = {
  unknown: 1200,
  extraColumns: 1202,
  stringTooLong: 1204,
  invalidDate: 1205,
  invalidTimestamp: 1206,
  invalidDigit: 1207,
  invalidFloat: 1208,
  invalidBoolean: 1210,
  emptyLine: 1211,
  notNull: 1213,
  delimiterNotFound: 1214,
  invalidInput: 1216,
  invalidUtf8: 1220,
} as const;

/** Field conversion options from the COPY statement. */
export interface CoerceOptions {
  /** EMPTYASNULL. */
  readonly emptyAsNull: boolean;
  /** BLANKSASNULL. */
  readonly blanksAsNull: boolean;
  /** TRUNCATECOLUMNS. */
  readonly truncateColumns: boolean;
  /** ROUNDEC. */
  readonly roundDec: boolean;
  /** TRIMBLANKS. */
  readonly trimBlanks: boolean;
  /** TIMEFORMAT. */
  readonly timeFormat?: string;
  /** DATEFORMAT. */
  readonly dateFormat?: string;
  /** ACCEPTINVCHARS replacement. */
  readonly acceptInvChars?: string;
}

/** Converts one field (its ValueKind and text) to the appender value, or throws LoadFailure. */
export type Coercer = (kind: number, text: string) => unknown;

/** The staging column type (and appender method) used for a declared type. */
export type StagingType = 'VARCHAR' | 'INTEGER' | 'BIGINT' | 'DOUBLE' | 'BOOLEAN';

/** Which staging type holds a declared type's values. */
export function stagingType(type: SqlType): StagingType {
  switch (type.base) {
    case 'smallint':
    case 'integer':
      return 'INTEGER';
    case 'bigint':
      return 'BIGINT';
    case 'real':
    case 'double':
      return 'DOUBLE';
    case 'numeric':
      // Up to 15 significant digits a double holds a decimal exactly enough that DuckDB's
      // rounding cast gives it back, and a double appends faster than text.
      return (type.precision ?? 18) <= 15 ? 'DOUBLE' : 'VARCHAR';
    case 'boolean':
      return 'BOOLEAN';
    default:
      // Numerics and datetimes travel as canonical text; DuckDB's vectorized cast is fast.
      return 'VARCHAR';
  }
}

/** Redshift's name for a type in stl_load_errors.type. */
export function loadErrorTypeName(type: SqlType): string {
  switch (type.base) {
    case 'smallint':
      return 'int2';
    case 'integer':
      return 'int4';
    case 'bigint':
      return 'int8';
    case 'numeric':
      return 'numeric';
    case 'real':
      return 'float4';
    case 'double':
      return 'float8';
    case 'boolean':
      return 'bool';
    case 'char':
      return 'bpchar';
    case 'varchar':
      return 'varchar';
    case 'timestamptz':
      return 'timestamptz';
    default:
      return type.base;
  }
}

/** Redshift's stl_load_errors.col_length for a type (length, or precision,scale). */
export function loadErrorColLength(type: SqlType): string {
  if (type.length !== undefined) return String(type.length);
  if (type.base === 'numeric') return `${type.precision},${type.scale}`;
  return '0';
}

const INT_LIMITS: Record<'smallint' | 'integer', readonly [number, number, string]> = {
  smallint: [-32768, 32767, 'Short'],
  integer: [-2147483648, 2147483647, 'Integer'],
};
const BIGINT_MIN = -(2n ** 63n);
const BIGINT_MAX = 2n ** 63n - 1n;

function quoteValue(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/** Makes the converter for one column. */
export function makeCoercer(type: SqlType, opts: CoerceOptions): Coercer {
  switch (type.base) {
    case 'char':
    case 'varchar':
    case 'other':
      return textCoercer(type, opts);
    case 'smallint':
    case 'integer': {
      const [min, max, label] = INT_LIMITS[type.base];
      return (kind, text) => {
        const t = numericText(kind, text, label);
        if (t === null) return null;
        if (!/^[+-]?\d+$/.test(t)) throw invalidDigit(t, label);
        const n = Number(t);
        if (n < min || n > max)
          throw new LoadFailure(
            LoadErrorCode.invalidDigit,
            `Overflow, Value '${quoteValue(t)}', Type: ${label}`,
          );
        return n;
      };
    }
    case 'bigint':
      return (kind, text) => {
        const t = numericText(kind, text, 'Long');
        if (t === null) return null;
        if (!/^[+-]?\d+$/.test(t)) throw invalidDigit(t, 'Long');
        if (t.length <= 16) {
          const n = Number(t);
          if (Number.isSafeInteger(n)) return BigInt(n);
        }
        const b = BigInt(t);
        if (b < BIGINT_MIN || b > BIGINT_MAX)
          throw new LoadFailure(LoadErrorCode.invalidDigit, `Overflow, Value '${quoteValue(t)}', Type: Long`);
        return b;
      };
    case 'numeric': {
      const precision = type.precision ?? 18;
      const scale = type.scale ?? 0;
      const asDouble = precision <= 15;
      const maxInt = precision - scale;
      return (kind, text) => {
        const t = numericText(kind, text, 'Decimal');
        if (t === null) return null;
        if (plainDecimalFits(t, maxInt, scale)) return asDouble ? Number(t) : t;
        const normalized = normalizeDecimal(t, precision, scale, opts.roundDec);
        return asDouble ? Number(normalized) : normalized;
      };
    }
    case 'real':
    case 'double': {
      const isReal = type.base === 'real';
      return (kind, text) => {
        if (kind === ValueKind.null || kind === ValueKind.missing || kind === ValueKind.empty) return null;
        if (kind === ValueKind.number) return Number(text);
        if (kind !== ValueKind.string)
          throw new LoadFailure(LoadErrorCode.invalidFloat, `Invalid float value: not a number`);
        const t = text.trim();
        if (t === '') return null;
        const lower = t.toLowerCase();
        if (lower === 'nan') return NaN;
        if (lower === 'inf' || lower === 'infinity' || lower === '+infinity' || lower === '+inf')
          return Infinity;
        if (lower === '-inf' || lower === '-infinity') return -Infinity;
        if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(t))
          throw new LoadFailure(LoadErrorCode.invalidFloat, `Invalid float value: '${quoteValue(t)}'`);
        const n = Number(t);
        if (!Number.isFinite(n) || (isReal && Math.abs(n) > 3.4028234663852886e38))
          throw new LoadFailure(
            LoadErrorCode.invalidFloat,
            `Overflow, Value '${quoteValue(t)}', Type: ${isReal ? 'Real' : 'Double'}`,
          );
        return n;
      };
    }
    case 'boolean':
      return (kind, text) => {
        switch (kind) {
          case ValueKind.true:
            return true;
          case ValueKind.false:
            return false;
          case ValueKind.null:
          case ValueKind.missing:
          case ValueKind.empty:
            return null;
          default:
            break;
        }
        const t = text.trim().toLowerCase();
        if (t === 't' || t === 'true' || t === 'y' || t === 'yes' || t === '1') return true;
        if (t === 'f' || t === 'false' || t === 'n' || t === 'no' || t === '0') return false;
        if (t === '' && kind === ValueKind.string) return null;
        throw new LoadFailure(LoadErrorCode.invalidBoolean, `Invalid BOOLEAN value: '${quoteValue(text)}'`);
      };
    case 'date': {
      const parse = dateParser(opts.dateFormat);
      return (kind, text) => {
        if (kind === ValueKind.null || kind === ValueKind.missing || kind === ValueKind.empty) return null;
        const t = text.trim();
        if (t === '') return null;
        return parse(t);
      };
    }
    case 'timestamp':
    case 'timestamptz': {
      const parse = timestampParser(opts.timeFormat, type.base === 'timestamptz');
      return (kind, text) => {
        if (kind === ValueKind.null || kind === ValueKind.missing || kind === ValueKind.empty) return null;
        const t = text.trim();
        if (t === '') return null;
        return parse(t);
      };
    }
    case 'time':
    case 'timetz':
      return (kind, text) => {
        if (kind === ValueKind.null || kind === ValueKind.missing || kind === ValueKind.empty) return null;
        const t = text.trim();
        if (t === '') return null;
        const m = /^(\d{1,2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?(\s*(?:Z|[+-]\d{2}(?::?\d{2})?))?$/.exec(t);
        if (!m || Number(m[1]) > 24 || Number(m[2]) > 59 || Number(m[3] ?? 0) > 59)
          throw new LoadFailure(
            LoadErrorCode.invalidTimestamp,
            `Invalid time format or value: '${quoteValue(t)}'`,
          );
        return t;
      };
  }
}

function textCoercer(type: SqlType, opts: CoerceOptions): Coercer {
  const max = type.length;
  const isChar = type.base === 'char';
  return (kind, text) => {
    let t: string;
    switch (kind) {
      case ValueKind.null:
      case ValueKind.missing:
        return null;
      case ValueKind.empty:
        if (opts.emptyAsNull) return null;
        t = '';
        break;
      case ValueKind.true:
        t = 'true';
        break;
      case ValueKind.false:
        t = 'false';
        break;
      default:
        t = text;
    }
    if (opts.trimBlanks) t = t.replace(/[ \t]+$/, '');
    if (t === '' && opts.emptyAsNull) return null;
    if (opts.blanksAsNull && t.trim() === '' && t !== '') return null;
    if (t.includes('\uFFFD')) {
      if (opts.acceptInvChars === undefined)
        throw new LoadFailure(
          LoadErrorCode.invalidUtf8,
          'String contains invalid or unsupported UTF8 codepoints',
        );
      t = t.replace(/\uFFFD/g, opts.acceptInvChars);
    }
    if (isChar && /[\u0080-\uffff]/.test(t))
      throw new LoadFailure(
        LoadErrorCode.invalidUtf8,
        'Multibyte character not supported for CHAR (Hint: Try using VARCHAR)',
      );
    if (max !== undefined && t.length * 3 > max) {
      // UTF-16 units never outnumber UTF-8 bytes, and are at least a third of them.
      if (t.length > max || utf8Length(t) > max) {
        if (!opts.truncateColumns)
          throw new LoadFailure(LoadErrorCode.stringTooLong, 'String length exceeds DDL length');
        t = truncateUtf8(t, max);
      }
    }
    return t;
  };
}

/** UTF-8 byte length, counted in JS (cheaper than a native call for short strings). */
function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes++;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      // A surrogate pair is one 4-byte character.
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Cuts a string to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= maxBytes) return s;
  let end = maxBytes;
  // Back off continuation bytes (10xxxxxx) so a multi-byte character is not split.
  while (end > 0 && ((buf[end] as number) & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}

function invalidDigit(t: string, label: string): LoadFailure {
  const pos = [...t].findIndex(
    (ch, i) => !(ch >= '0' && ch <= '9') && !(i === 0 && (ch === '-' || ch === '+')),
  );
  return new LoadFailure(
    LoadErrorCode.invalidDigit,
    `Invalid digit, Value '${t[pos] ?? t}', Pos ${Math.max(pos, 0)}, Type: ${label}`,
  );
}

/** The text of a numeric field, or null; true/false/nested values are not numbers. */
function numericText(kind: number, text: string, label: string): string | null {
  switch (kind) {
    case ValueKind.null:
    case ValueKind.missing:
    case ValueKind.empty:
      return null;
    case ValueKind.number:
      return text;
    case ValueKind.string: {
      const t = text.trim();
      return t === '' ? null : t;
    }
    default:
      throw new LoadFailure(
        LoadErrorCode.invalidDigit,
        `Invalid digit, Value '${kind === ValueKind.true ? 'true' : kind === ValueKind.false ? 'false' : text.slice(0, 20)}', Pos 0, Type: ${label}`,
      );
  }
}

/**
 * True for plain decimal text that fits NUMERIC(p,s) as written: `-12.5`, `0.25`, `7` (no
 * exponent, no '+', no leading zeros beyond one, at most `maxInt` integer and `scale`
 * fraction digits). The loader's fast path, so it avoids regular expressions.
 */
function plainDecimalFits(t: string, maxInt: number, scale: number): boolean {
  const n = t.length;
  let i = t.charCodeAt(0) === 45 ? 1 : 0;
  const intStart = i;
  while (i < n && t.charCodeAt(i) >= 48 && t.charCodeAt(i) <= 57) i++;
  const intDigits = i - intStart;
  const leadingZero = intDigits > 0 && t.charCodeAt(intStart) === 48;
  if (leadingZero && intDigits > 1) return false;
  if (intDigits > maxInt && !leadingZero) return false;
  if (i === n) return intDigits > 0;
  if (t.charCodeAt(i) !== 46) return false;
  i++;
  const fracStart = i;
  while (i < n && t.charCodeAt(i) >= 48 && t.charCodeAt(i) <= 57) i++;
  return i === n && i > fracStart && i - fracStart <= scale;
}
const DECIMAL_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * Normalizes decimal text to NUMERIC(p,s): canonical `-123.45`, extra scale truncated (or
 * rounded half away from zero with `round`), overflow is LoadFailure 1207.
 */
export function normalizeDecimal(text: string, precision: number, scale: number, round: boolean): string {
  const m = DECIMAL_RE.exec(text);
  if (!m || ((m[2] ?? '') === '' && (m[3] ?? '') === '')) throw invalidDigit(text, 'Decimal');
  const negative = m[1] === '-';
  let intPart = m[2] ?? '';
  let frac = m[3] ?? '';
  if (m[4] !== undefined) {
    const exp = Number(m[4]);
    if (exp > 100) throw overflow(text, precision, scale);
    const digits = intPart + frac;
    let point = intPart.length + exp;
    if (exp < -100) point = -200;
    if (point <= 0) {
      intPart = '';
      frac = '0'.repeat(-point) + digits;
    } else if (point >= digits.length) {
      intPart = digits + '0'.repeat(point - digits.length);
      frac = '';
    } else {
      intPart = digits.slice(0, point);
      frac = digits.slice(point);
    }
  }
  intPart = intPart.replace(/^0+/, '');
  if (frac.length > scale) {
    const roundUp = round && (frac.charCodeAt(scale) as number) >= 53; /* '5' */
    frac = frac.slice(0, scale);
    if (roundUp) {
      const all = addOne(intPart + frac);
      intPart = all.slice(0, all.length - scale).replace(/^0+/, '');
      frac = all.slice(all.length - scale);
    }
  } else if (frac.length < scale) frac = frac.padEnd(scale, '0');
  if (intPart.length > precision - scale) throw overflow(text, precision, scale);
  const body = (intPart === '' ? '0' : intPart) + (scale > 0 ? `.${frac}` : '');
  return negative && /[1-9]/.test(body) ? `-${body}` : body;
}

function overflow(text: string, precision: number, scale: number): LoadFailure {
  return new LoadFailure(
    LoadErrorCode.invalidDigit,
    `Overflow, Value '${quoteValue(text)}', Type: Numeric(${precision},${scale})`,
  );
}

function addOne(digits: string): string {
  const arr = digits.split('');
  let i = arr.length - 1;
  while (i >= 0) {
    if (arr[i] === '9') {
      arr[i] = '0';
      i--;
    } else {
      arr[i] = String(Number(arr[i]) + 1);
      return arr.join('');
    }
  }
  return `1${arr.join('')}`;
}

// ---------------------------------------------------------------------------------------
// Dates and timestamps

interface DateTimeParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Fraction digits, as written (up to 9). */
  fraction: string;
  /** Offset from UTC in minutes, when written. */
  offsetMinutes?: number;
}

const AUTO_ISO =
  /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)?$/i;
const AUTO_US = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/;
const AUTO_COMPACT = /^(\d{4})(\d{2})(\d{2})(?:[ T]?(\d{2})(\d{2})(\d{2})?)?$/;

function parseOffset(z: string | undefined): number | undefined {
  if (z === undefined) return undefined;
  const u = z.toUpperCase();
  if (u === 'Z' || u === 'UTC' || u === 'GMT') return 0;
  const m = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(z) as RegExpExecArray;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  return m[1] === '-' ? -minutes : minutes;
}

function partsFromAuto(t: string): DateTimeParts | undefined {
  let m = AUTO_ISO.exec(t);
  if (m) {
    const offsetMinutes = parseOffset(m[8]);
    return {
      year: Number(m[1]),
      month: Number(m[2]),
      day: Number(m[3]),
      hour: Number(m[4] ?? 0),
      minute: Number(m[5] ?? 0),
      second: Number(m[6] ?? 0),
      fraction: m[7] ?? '',
      ...(offsetMinutes !== undefined ? { offsetMinutes } : {}),
    };
  }
  m = AUTO_US.exec(t);
  if (m)
    return {
      year: Number(m[3]),
      month: Number(m[1]),
      day: Number(m[2]),
      hour: Number(m[4] ?? 0),
      minute: Number(m[5] ?? 0),
      second: Number(m[6] ?? 0),
      fraction: m[7] ?? '',
    };
  m = AUTO_COMPACT.exec(t);
  if (m)
    return {
      year: Number(m[1]),
      month: Number(m[2]),
      day: Number(m[3]),
      hour: Number(m[4] ?? 0),
      minute: Number(m[5] ?? 0),
      second: Number(m[6] ?? 0),
      fraction: '',
    };
  return undefined;
}

function validParts(p: DateTimeParts): boolean {
  if (p.month < 1 || p.month > 12 || p.day < 1 || p.hour > 24 || p.minute > 59 || p.second > 59) return false;
  if (p.hour === 24 && (p.minute > 0 || p.second > 0 || /[1-9]/.test(p.fraction))) return false;
  const dim = new Date(Date.UTC(p.year, p.month, 0)).getUTCDate();
  return p.day <= dim;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Formats parts as DuckDB timestamp text, applying the offset when `toUtc`. */
function formatTimestamp(p: DateTimeParts, toUtc: boolean, withZone: boolean): string {
  let { year, month, day, hour, minute, second } = p;
  if ((toUtc && p.offsetMinutes) || hour === 24) {
    const ms = Date.UTC(year, month - 1, day, hour, minute - (toUtc ? (p.offsetMinutes ?? 0) : 0), second);
    const d = new Date(ms);
    year = d.getUTCFullYear();
    month = d.getUTCMonth() + 1;
    day = d.getUTCDate();
    hour = d.getUTCHours();
    minute = d.getUTCMinutes();
    second = d.getUTCSeconds();
  }
  const frac = p.fraction ? `.${p.fraction.slice(0, 6)}` : '';
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)} ${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${frac}${withZone ? '+00' : ''}`;
}

function epochToText(value: string, unitMs: number, withZone: boolean): string {
  const m = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(value);
  if (!m)
    throw new LoadFailure(LoadErrorCode.invalidTimestamp, `Invalid epoch value: '${quoteValue(value)}'`);
  const fracWidth = unitMs === 1000 ? 6 : 3;
  const magnitude =
    BigInt(m[2] as string) * BigInt(unitMs * 1000) +
    BigInt((m[3] ?? '').padEnd(fracWidth, '0').slice(0, fracWidth));
  const totalMicros = m[1] === '-' ? -magnitude : magnitude;
  const micros = Number(((totalMicros % 1000n) + 1000n) % 1000n);
  const ms = Number((totalMicros - BigInt(micros)) / 1000n);
  const d = new Date(ms);
  if (Number.isNaN(d.getTime()))
    throw new LoadFailure(LoadErrorCode.invalidTimestamp, `Invalid epoch value: '${quoteValue(value)}'`);
  const fraction = pad(d.getUTCMilliseconds() * 1000 + micros, 6).replace(/0+$/, '');
  return formatTimestamp(
    {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      fraction,
    },
    false,
    withZone,
  );
}

/** Converts a Redshift datetime format string (YYYY-MM-DD HH24:MI:SS ...) to a parser. */
function formatParser(format: string): (t: string) => DateTimeParts | undefined {
  const fields: string[] = [];
  let re = '^';
  const tokens = /YYYY|YY|MM|MON|DD|HH24|HH12|HH|MI|SS|MS|US|FF[1-9]?|AM|PM|OF/y;
  let i = 0;
  while (i < format.length) {
    tokens.lastIndex = i;
    const m = tokens.exec(format);
    if (m) {
      const tok = m[0];
      fields.push(tok);
      re +=
        tok === 'YYYY'
          ? '(\\d{4})'
          : tok === 'MON'
            ? '([A-Za-z]{3})'
            : tok === 'AM' || tok === 'PM'
              ? '([AaPp][Mm])'
              : tok === 'OF'
                ? '([+-]\\d{1,2}(?::?\\d{2})?|Z)'
                : tok.startsWith('FF') || tok === 'MS' || tok === 'US'
                  ? '(\\d{1,9})'
                  : '(\\d{1,2})';
      i += tok.length;
    } else {
      re += (format[i] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i++;
    }
  }
  const regex = new RegExp(`${re}$`);
  const months = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
  return (t) => {
    const m = regex.exec(t);
    if (!m) return undefined;
    const p: DateTimeParts = { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0, fraction: '' };
    let pm: boolean | undefined;
    fields.forEach((f, k) => {
      const v = m[k + 1] as string;
      if (f === 'YYYY') p.year = Number(v);
      else if (f === 'YY') p.year = 2000 + Number(v);
      else if (f === 'MM') p.month = Number(v);
      else if (f === 'MON') p.month = months.indexOf(v.toUpperCase()) + 1;
      else if (f === 'DD') p.day = Number(v);
      else if (f === 'HH24' || f === 'HH' || f === 'HH12') p.hour = Number(v);
      else if (f === 'MI') p.minute = Number(v);
      else if (f === 'SS') p.second = Number(v);
      else if (f === 'MS') p.fraction = v.padStart(3, '0');
      else if (f === 'US') p.fraction = v.padStart(6, '0');
      else if (f.startsWith('FF')) p.fraction = v;
      else if (f === 'AM' || f === 'PM') pm = v.toUpperCase() === 'PM';
      else if (f === 'OF') {
        const o = parseOffset(v);
        if (o !== undefined) p.offsetMinutes = o;
      }
    });
    if (pm !== undefined) {
      if (p.hour === 12) p.hour = pm ? 12 : 0;
      else if (pm) p.hour += 12;
    }
    return p;
  };
}

function timestampParser(format: string | undefined, withZone: boolean): (t: string) => string {
  const fmt = format?.trim();
  const bad = (t: string): LoadFailure =>
    new LoadFailure(
      LoadErrorCode.invalidTimestamp,
      `Invalid timestamp format or value [${fmt && fmt.toLowerCase() !== 'auto' ? fmt : 'YYYY-MM-DD HH24:MI:SS'}]: '${quoteValue(t)}'`,
    );
  if (fmt === 'epochsecs') return (t) => epochToText(t, 1000, withZone);
  if (fmt === 'epochmillisecs') return (t) => epochToText(t, 1, withZone);
  const custom = fmt && fmt.toLowerCase() !== 'auto' ? formatParser(fmt) : undefined;
  return (t) => {
    const p = (custom ?? partsFromAuto)(t);
    if (!p || !validParts(p)) throw bad(t);
    return formatTimestamp(p, withZone, withZone);
  };
}

function dateParser(format: string | undefined): (t: string) => string {
  const fmt = format?.trim();
  const custom = fmt && fmt.toLowerCase() !== 'auto' ? formatParser(fmt) : undefined;
  return (t) => {
    const p = (custom ?? partsFromAuto)(t);
    if (!p || !validParts(p)) {
      throw new LoadFailure(
        LoadErrorCode.invalidDate,
        t.length < 8
          ? 'Invalid Date Format - length must be 10 or more'
          : `Invalid date format or value: '${quoteValue(t)}'`,
      );
    }
    return `${pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}`;
  };
}
