/**
 * Redshift column types: how a declared type reads, what DuckDB type stores it, and how
 * PostgreSQL spells it to clients. DuckDB ignores VARCHAR(n) lengths, so the declared type is
 * kept beside the table (see catalog.ts) and COPY checks lengths itself.
 *
 * @see https://docs.aws.amazon.com/redshift/latest/dg/c_Supported_data_types.html
 */

/** The families of column types Sluice knows. */
export type BaseType =
  | 'smallint'
  | 'integer'
  | 'bigint'
  | 'numeric'
  | 'real'
  | 'double'
  | 'boolean'
  | 'char'
  | 'varchar'
  | 'date'
  | 'timestamp'
  | 'timestamptz'
  | 'time'
  | 'timetz'
  | 'other';

/** A column type as declared. */
export interface SqlType {
  /** The family. */
  readonly base: BaseType;
  /** Byte length for char/varchar (undefined: unlimited, for tables DuckDB created on its own). */
  readonly length?: number;
  /** Precision for numeric. */
  readonly precision?: number;
  /** Scale for numeric. */
  readonly scale?: number;
  /** The DuckDB type that stores it, e.g. `DECIMAL(5,2)`. */
  readonly duck: string;
  /** PostgreSQL spelling, e.g. `character varying(36)`. */
  readonly pg: string;
}

/** Redshift's longest VARCHAR, `VARCHAR(MAX)`. */
export const VARCHAR_MAX = 65535;

function make(base: BaseType, extra: { length?: number; precision?: number; scale?: number } = {}): SqlType {
  switch (base) {
    case 'smallint':
      return { base, duck: 'SMALLINT', pg: 'smallint' };
    case 'integer':
      return { base, duck: 'INTEGER', pg: 'integer' };
    case 'bigint':
      return { base, duck: 'BIGINT', pg: 'bigint' };
    case 'numeric': {
      const precision = extra.precision ?? 18;
      const scale = extra.scale ?? 0;
      return {
        base,
        precision,
        scale,
        duck: `DECIMAL(${precision},${scale})`,
        pg: `numeric(${precision},${scale})`,
      };
    }
    case 'real':
      return { base, duck: 'REAL', pg: 'real' };
    case 'double':
      return { base, duck: 'DOUBLE', pg: 'double precision' };
    case 'boolean':
      return { base, duck: 'BOOLEAN', pg: 'boolean' };
    case 'char':
      return extra.length === undefined
        ? { base, duck: 'VARCHAR', pg: 'character' }
        : { base, length: extra.length, duck: 'VARCHAR', pg: `character(${extra.length})` };
    case 'varchar':
      return extra.length === undefined
        ? { base, duck: 'VARCHAR', pg: 'character varying' }
        : { base, length: extra.length, duck: 'VARCHAR', pg: `character varying(${extra.length})` };
    case 'date':
      return { base, duck: 'DATE', pg: 'date' };
    case 'timestamp':
      return { base, duck: 'TIMESTAMP', pg: 'timestamp without time zone' };
    case 'timestamptz':
      return { base, duck: 'TIMESTAMPTZ', pg: 'timestamp with time zone' };
    case 'time':
      return { base, duck: 'TIME', pg: 'time without time zone' };
    case 'timetz':
      return { base, duck: 'TIMETZ', pg: 'time with time zone' };
    case 'other':
      return { base, duck: 'VARCHAR', pg: 'character varying' };
  }
}

/** Why a type could not be read. */
export class TypeNameError extends Error {
  override readonly name = 'TypeNameError';
  /** Creates the error; `unsupported` marks a real Redshift type Sluice does not store yet. */
  constructor(
    message: string,
    readonly unsupported: boolean,
  ) {
    super(message);
  }
}

/** Multi-word type names, longest first, as lower-case word lists. */
export const MULTI_WORD_TYPES: readonly (readonly string[])[] = [
  ['national', 'character', 'varying'],
  ['timestamp', 'without', 'time', 'zone'],
  ['timestamp', 'with', 'time', 'zone'],
  ['time', 'without', 'time', 'zone'],
  ['time', 'with', 'time', 'zone'],
  ['double', 'precision'],
  ['character', 'varying'],
  ['char', 'varying'],
  ['national', 'character'],
];

const UNSUPPORTED_TYPES = new Set([
  'super',
  'varbyte',
  'varbinary',
  'binary varying',
  'geometry',
  'geography',
  'hllsketch',
  'interval',
  'bytea',
]);

/**
 * Reads a Redshift type from its name words (lower-case, e.g. `['character','varying']`)
 * and its parenthesised arguments (numbers, or `max`).
 * @see https://docs.aws.amazon.com/redshift/latest/dg/c_Supported_data_types.html
 */
export function parseRedshiftType(words: readonly string[], args: readonly string[]): SqlType {
  const name = words.join(' ');
  const num = (i: number): number | undefined => {
    const a = args[i];
    if (a === undefined) return undefined;
    if (a === 'max') return VARCHAR_MAX;
    if (!/^\d+$/.test(a)) throw new TypeNameError(`invalid type modifier "${a}" for type ${name}`, false);
    return Number(a);
  };
  const noArgs = (): void => {
    if (args.length > 0) throw new TypeNameError(`type ${name} does not take a length or precision`, false);
  };
  switch (name) {
    case 'smallint':
    case 'int2':
      noArgs();
      return make('smallint');
    case 'integer':
    case 'int':
    case 'int4':
      noArgs();
      return make('integer');
    case 'bigint':
    case 'int8':
      noArgs();
      return make('bigint');
    case 'numeric':
    case 'decimal': {
      const precision = num(0) ?? 18;
      const scale = num(1) ?? 0;
      if (precision < 1 || precision > 38)
        throw new TypeNameError(`NUMERIC precision ${precision} must be between 1 and 38`, false);
      if (scale > precision || scale > 37)
        throw new TypeNameError(`NUMERIC scale ${scale} must be between 0 and precision ${precision}`, false);
      return make('numeric', { precision, scale });
    }
    case 'real':
    case 'float4':
      noArgs();
      return make('real');
    case 'double precision':
    case 'float8':
      noArgs();
      return make('double');
    case 'float': {
      const p = num(0);
      return p !== undefined && p <= 24 ? make('real') : make('double');
    }
    case 'boolean':
    case 'bool':
      noArgs();
      return make('boolean');
    case 'char':
    case 'character':
    case 'nchar':
    case 'national character':
      return make('char', { length: clampLength(num(0) ?? 1, 4096) });
    case 'bpchar':
      return make('char', { length: clampLength(num(0) ?? 256, 4096) });
    case 'varchar':
    case 'character varying':
    case 'char varying':
    case 'nvarchar':
    case 'national character varying':
      return make('varchar', { length: clampLength(num(0) ?? 256, VARCHAR_MAX) });
    case 'text':
      noArgs();
      return make('varchar', { length: 256 });
    case 'date':
      noArgs();
      return make('date');
    case 'timestamp':
    case 'timestamp without time zone':
      noArgs();
      return make('timestamp');
    case 'timestamptz':
    case 'timestamp with time zone':
      noArgs();
      return make('timestamptz');
    case 'time':
    case 'time without time zone':
      noArgs();
      return make('time');
    case 'timetz':
    case 'time with time zone':
      noArgs();
      return make('timetz');
    default:
      if (UNSUPPORTED_TYPES.has(name)) throw new TypeNameError(`type ${name.toUpperCase()}`, true);
      throw new TypeNameError(`type "${name}" does not exist`, false);
  }
}

function clampLength(n: number, max: number): number {
  if (n < 1 || n > max) throw new TypeNameError(`length for type must be between 1 and ${max}`, false);
  return n;
}

/** Reads a DuckDB type name (from duckdb_columns().data_type) into a SqlType. */
export function typeFromDuck(duck: string): SqlType {
  const t = duck.toUpperCase();
  const dec = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(t);
  if (dec) return make('numeric', { precision: Number(dec[1]), scale: Number(dec[2]) });
  switch (t) {
    case 'TINYINT':
    case 'SMALLINT':
      return make('smallint');
    case 'INTEGER':
      return make('integer');
    case 'BIGINT':
      return make('bigint');
    case 'FLOAT':
    case 'REAL':
      return make('real');
    case 'DOUBLE':
      return make('double');
    case 'BOOLEAN':
      return make('boolean');
    case 'VARCHAR':
      return make('varchar');
    case 'DATE':
      return make('date');
    case 'TIMESTAMP':
      return make('timestamp');
    case 'TIMESTAMP WITH TIME ZONE':
    case 'TIMESTAMPTZ':
      return make('timestamptz');
    case 'TIME':
      return make('time');
    case 'TIME WITH TIME ZONE':
    case 'TIMETZ':
      return make('timetz');
    default:
      return { base: 'other', duck: duck, pg: 'character varying' };
  }
}

/** Reads back a type stored in `_sluice.columns` (its PostgreSQL spelling). */
export function typeFromPg(pg: string): SqlType {
  const m = /^([a-z ]+?)(?:\((\d+)(?:,(\d+))?\))?$/.exec(pg);
  if (!m) return typeFromDuck(pg);
  const words = (m[1] as string).split(' ');
  const args = [m[2], m[3]].filter((a): a is string => a !== undefined);
  try {
    return parseRedshiftType(words, args);
  } catch {
    return typeFromDuck(pg);
  }
}

/** True when a column of DuckDB type `duck` can hold the declared type (metadata is not stale). */
export function declaredTypeMatches(declared: SqlType, duck: string): boolean {
  const actual = typeFromDuck(duck);
  if (declared.base === 'char' || declared.base === 'varchar') return actual.base === 'varchar';
  return actual.duck === declared.duck;
}
