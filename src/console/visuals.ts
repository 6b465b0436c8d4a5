/**
 * Visuals: what a chart asks of a data set, how field roles are detected, and the SQL that
 * aggregates and downsamples in the warehouse so a chart over millions of rows sends at most
 * a few thousand points to the browser.
 *
 * Shared by the server (which compiles and runs the SQL) and the pages (which build specs).
 * Pure code: no I/O, no DOM, no Node APIs.
 *
 * Downsampling keeps peaks: a line over time is bucketed so that buckets × series stays
 * within the visual's point budget, and every bucket carries the min and max of the raw
 * values beside its aggregate, so a one-reading spike still shows.
 */

/** What a field is for. */
export type FieldRole = 'time' | 'latitude' | 'longitude' | 'dimension' | 'measure';

/** A column of a data set with its detected role. */
export interface Field {
  /** Column name. */
  readonly name: string;
  /** PostgreSQL type name as the warehouse reports it. */
  readonly type: string;
  /** Detected role. */
  readonly role: FieldRole;
  /** For time fields held as numbers: the unit of the epoch value. */
  readonly epoch?: 'seconds' | 'milliseconds';
  /** Distinct values in the sample the roles were detected from. */
  readonly distinct: number;
}

/** Aggregations a visual may apply. */
export const AGGREGATIONS = ['count', 'sum', 'avg', 'min', 'max', 'median', 'p90', 'p95', 'p99'] as const;
/** One aggregation. */
export type Aggregation = (typeof AGGREGATIONS)[number];

/** Kinds of visual. */
export const VISUAL_KINDS = ['line', 'map', 'bar', 'histogram', 'kpi', 'table'] as const;
/** One kind of visual. */
export type VisualKind = (typeof VISUAL_KINDS)[number];

/** Time bucket widths in seconds a user may pick; `auto` fits the point budget. */
export const BUCKETS: Readonly<Record<string, number>> = {
  '1s': 1,
  '10s': 10,
  '1m': 60,
  '5m': 300,
  '15m': 900,
  '1h': 3600,
  '1d': 86400,
};

/** Time ranges a filter may name, in seconds back from now. */
export const RANGES: Readonly<Record<string, number>> = {
  '5m': 300,
  '30m': 1800,
  '1h': 3600,
  '6h': 21600,
  '24h': 86400,
  '7d': 604800,
};

/** Where a visual's rows come from: a table or view (`schema.name`), or a query. */
export type DataSource = { readonly table: string } | { readonly sql: string };

/** What a visual shows. Field names refer to columns of its data source. */
export interface VisualSpec {
  /** Id unique within its dashboard. */
  readonly id: string;
  /** Title shown above it. */
  readonly title: string;
  /** Kind of chart. */
  readonly kind: VisualKind;
  /** Its data set. */
  readonly source: DataSource;
  /** Time field (line; also the time filter of every kind). */
  readonly time?: string;
  /** The time field holds epoch seconds or milliseconds rather than a timestamp. */
  readonly timeEpoch?: 'seconds' | 'milliseconds';
  /** Time bucket: a key of BUCKETS, or `auto` (default). */
  readonly bucket?: string;
  /** Dimension to split by (line: one series each; bar: one bar each; map: point label). */
  readonly dimension?: string;
  /** Measure to aggregate (not needed for count). */
  readonly measure?: string;
  /** Aggregation (default count when no measure, else avg). */
  readonly aggregation?: Aggregation;
  /** Latitude and longitude fields (map). */
  readonly latitude?: string;
  readonly longitude?: string;
  /** Histogram bins (default 20). */
  readonly bins?: number;
  /** Most points to send (default 2000). */
  readonly maxPoints?: number;
}

/** Filters applied to every visual of a dashboard. */
export interface Filters {
  /** A key of RANGES, `all`, or an explicit window in epoch seconds. */
  readonly range?: string | { readonly from: number; readonly to: number };
  /** Dimension values to keep, by field name. */
  readonly values?: Readonly<Record<string, readonly string[]>>;
}

/** A dashboard as saved. */
export interface DashboardSpec {
  /** Id. */
  readonly id: string;
  /** Name. */
  readonly name: string;
  /** The user who created it: only they or a superuser may change or delete it. */
  readonly owner?: string;
  /** Default filters. */
  readonly filters?: Filters;
  /** Visuals in order. */
  readonly visuals: readonly VisualSpec[];
}

/** The data a visual draws, as computed by the server. */
export type VisualData =
  | {
      readonly kind: 'line';
      /** Bucket width in seconds. */
      readonly bucketSeconds: number;
      /** One series per dimension value: [epoch ms, value, min, max] points. */
      readonly series: readonly {
        readonly name: string;
        readonly points: readonly (readonly [number, number | null, number | null, number | null])[];
      }[];
      readonly note?: string;
    }
  | {
      readonly kind: 'map';
      readonly points: readonly {
        readonly label: string;
        readonly lat: number;
        readonly lon: number;
        readonly value: number | null;
      }[];
    }
  | {
      readonly kind: 'bar';
      readonly bars: readonly { readonly name: string; readonly value: number | null }[];
      readonly note?: string;
    }
  | {
      readonly kind: 'histogram';
      readonly bins: readonly { readonly from: number; readonly to: number; readonly count: number }[];
      readonly stats: {
        readonly count: number;
        readonly min: number | null;
        readonly max: number | null;
        readonly avg: number | null;
      };
    }
  | { readonly kind: 'kpi'; readonly value: number | null; readonly label: string }
  | {
      readonly kind: 'table';
      readonly columns: readonly string[];
      readonly rows: readonly (readonly unknown[])[];
      readonly truncated: boolean;
    };

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]*$/;
const TABLE = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;

/** A double-quoted identifier; refuses names that are not plain identifiers. */
export function ident(name: string): string {
  if (!IDENT.test(name)) throw new VisualError(`"${name}" is not a field name.`);
  return `"${name}"`;
}

/** A problem with a visual's spec (shown on that visual). */
export class VisualError extends Error {
  override readonly name = 'VisualError';
}

const NUMERIC = /^(smallint|integer|bigint|numeric|decimal|real|double precision|float|int|hugeint)/i;
const TEMPORAL = /^(timestamp|date)/i;
const EPOCH_S_LOW = 1e8;
const EPOCH_S_HIGH = 5e9;

/** Field roles from column names, types and a sample of values (any column order). */
export function detectRoles(
  columns: readonly { readonly name: string; readonly type: string }[],
  sample: readonly (readonly unknown[])[],
): Field[] {
  return columns.map((column, index): Field => {
    const name = column.name.toLowerCase();
    const values = sample.map((row) => row[index]).filter((v) => v !== null && v !== undefined);
    const numbers = values.map(Number).filter((v) => Number.isFinite(v));
    const within = (lo: number, hi: number): boolean =>
      numbers.length > 0 && numbers.every((v) => v >= lo && v <= hi);
    const base = { name: column.name, type: column.type, distinct: new Set(values.map(String)).size };
    if (TEMPORAL.test(column.type)) return { ...base, role: 'time' };
    if (!NUMERIC.test(column.type)) return { ...base, role: 'dimension' };
    if (/(^|_)(lat|latitude)$/.test(name) && within(-90, 90)) return { ...base, role: 'latitude' };
    if (/(^|_)(lon|long|lng|longitude)$/.test(name) && within(-180, 180))
      return { ...base, role: 'longitude' };
    const timeName = /(^|_)(ts|time|timestamp|epoch|at|date|serviced|created|updated|when)$/.test(name);
    if (/^(bigint|integer|numeric|double)/i.test(column.type) && numbers.length > 0) {
      if (numbers.every((v) => v >= EPOCH_S_LOW && v < EPOCH_S_HIGH) && (timeName || !/id$/.test(name)))
        return { ...base, role: 'time', epoch: 'seconds' };
      if (numbers.every((v) => v >= EPOCH_S_LOW * 1000 && v < EPOCH_S_HIGH * 1000) && timeName)
        return { ...base, role: 'time', epoch: 'milliseconds' };
    }
    if (name === 'id' || /_id$/.test(name)) return { ...base, role: 'dimension' };
    return { ...base, role: 'measure' };
  });
}

/**
 * The dimension to split by first: a text field with the fewest distinct values (but more
 * than one) in the sample, names that look like keys (id, guid, uuid) last.
 */
export function preferredDimension(fields: readonly Field[]): string | undefined {
  const keyLike = (f: Field): number => (/(^|_)(id|guid|uuid)$/i.test(f.name) ? 1 : 0);
  const numeric = (f: Field): number => (NUMERIC.test(f.type) ? 1 : 0);
  return fields
    .filter((f) => f.role === 'dimension')
    .sort(
      (a, b) =>
        keyLike(a) - keyLike(b) ||
        numeric(a) - numeric(b) ||
        Number(a.distinct < 2) - Number(b.distinct < 2) ||
        a.distinct - b.distinct,
    )[0]?.name;
}

/** Longest text a spec's strings may hold (titles, names, filter values, data set queries). */
const MAX_TEXT = 100_000;
/** Most values one dimension filter may list. */
const MAX_FILTER_VALUES = 1000;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A text value: a string without NUL bytes (the warehouse cannot hold them), or undefined when absent. */
function optionalText(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new VisualError(`${what} must be a string.`);
  if (value.length > MAX_TEXT) throw new VisualError(`${what} is longer than ${MAX_TEXT} characters.`);
  if (value.includes('\u0000')) throw new VisualError(`${what} must not contain NUL characters.`);
  return value;
}

function optionalNumber(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new VisualError(`${what} must be a finite number.`);
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], what: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value))
    throw new VisualError(`${what} must be one of ${allowed.join(', ')}.`);
  return value as T;
}

/**
 * Checks a visual spec that arrived as JSON (from a page, a saved dashboard or a program):
 * every field has its type, names are plain identifiers, the aggregation, kind and bucket
 * are known ones. Throws a VisualError naming the first problem.
 */
export function checkVisualSpec(value: unknown): VisualSpec {
  if (!isRecord(value)) throw new VisualError('A visual must be an object.');
  const id = optionalText(value.id, "A visual's id") ?? '';
  const source = value.source;
  if (!isRecord(source))
    throw new VisualError(`Visual ${id}: source must be {"table": ...} or {"sql": ...}.`);
  let checkedSource: DataSource;
  if (source.table !== undefined) {
    const table = optionalText(source.table, `Visual ${id}: source.table`) ?? '';
    if (!TABLE.test(table)) throw new VisualError(`Visual ${id}: "${table}" is not a table name.`);
    checkedSource = { table };
  } else if (source.sql !== undefined) {
    checkedSource = { sql: optionalText(source.sql, `Visual ${id}: source.sql`) ?? '' };
  } else throw new VisualError(`Visual ${id}: source must be {"table": ...} or {"sql": ...}.`);
  const field = (key: string): string | undefined => {
    const name = optionalText(value[key], `Visual ${id}: ${key}`);
    if (name !== undefined && !IDENT.test(name))
      throw new VisualError(`Visual ${id}: ${key} "${name}" is not a field name.`);
    return name;
  };
  const kind = oneOf(value.kind, VISUAL_KINDS, `Visual ${id}: kind`);
  if (kind === undefined)
    throw new VisualError(`Visual ${id}: kind must be one of ${VISUAL_KINDS.join(', ')}.`);
  const bucket = optionalText(value.bucket, `Visual ${id}: bucket`);
  if (bucket !== undefined && bucket !== 'auto' && !Object.hasOwn(BUCKETS, bucket))
    throw new VisualError(`Visual ${id}: unknown time bucket ${bucket}.`);
  const spec: Record<string, unknown> = {
    ...value,
    id,
    title: optionalText(value.title, `Visual ${id}: title`) ?? '',
    kind,
    source: checkedSource,
    time: field('time'),
    timeEpoch: oneOf(value.timeEpoch, ['seconds', 'milliseconds'], `Visual ${id}: timeEpoch`),
    bucket,
    dimension: field('dimension'),
    measure: field('measure'),
    aggregation: oneOf(value.aggregation, AGGREGATIONS, `Visual ${id}: aggregation`),
    latitude: field('latitude'),
    longitude: field('longitude'),
    bins: optionalNumber(value.bins, `Visual ${id}: bins`),
    maxPoints: optionalNumber(value.maxPoints, `Visual ${id}: maxPoints`),
  };
  for (const key of Object.keys(spec)) if (spec[key] === undefined) delete spec[key];
  return spec as unknown as VisualSpec;
}

/** Checks filters that arrived as JSON: a known range or a window of finite epoch seconds, and lists of text values per field. */
export function checkFilters(value: unknown): Filters {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw new VisualError('filters must be an object.');
  const filters: { range?: Filters['range']; values?: Record<string, readonly string[]> } = {};
  const range = value.range;
  if (typeof range === 'string') {
    if (range !== 'all' && !Object.hasOwn(RANGES, range))
      throw new VisualError(
        `Unknown time range ${range}: use all, ${Object.keys(RANGES).join(', ')} or {"from", "to"}.`,
      );
    filters.range = range;
  } else if (isRecord(range)) {
    const from = optionalNumber(range.from, 'range.from');
    const to = optionalNumber(range.to, 'range.to');
    if (from === undefined || to === undefined)
      throw new VisualError('A custom range needs "from" and "to" in epoch seconds.');
    filters.range = { from, to };
  } else if (range !== undefined && range !== null) {
    throw new VisualError('range must be a name such as "1h" or {"from", "to"} in epoch seconds.');
  }
  if (value.values !== undefined && value.values !== null) {
    if (!isRecord(value.values))
      throw new VisualError('filters.values must map field names to lists of values.');
    const values: Record<string, readonly string[]> = {};
    for (const [name, list] of Object.entries(value.values)) {
      if (!IDENT.test(name)) throw new VisualError(`Filter field "${name}" is not a field name.`);
      if (!Array.isArray(list)) throw new VisualError(`The filter on ${name} must be a list of values.`);
      if (list.length > MAX_FILTER_VALUES)
        throw new VisualError(`The filter on ${name} lists more than ${MAX_FILTER_VALUES} values.`);
      values[name] = list.map((v: unknown) => {
        if (typeof v === 'number' || typeof v === 'boolean') return String(v);
        return optionalText(v, `A value of the filter on ${name}`) ?? '';
      });
    }
    filters.values = values;
  }
  return filters;
}

/** The FROM clause of a data source. */
export function sourceSql(source: DataSource): string {
  if ('table' in source) {
    if (!TABLE.test(source.table)) throw new VisualError(`"${source.table}" is not a table name.`);
    return source.table
      .split('.')
      .map((part) => `"${part}"`)
      .join('.');
  }
  const sql = source.sql.trim().replace(/;\s*$/, '');
  if (sql.includes(';')) throw new VisualError('A data set query must be a single statement.');
  // On a line of its own, so a trailing `--` comment cannot swallow the parenthesis.
  return `(${sql}\n) AS src`;
}

/** SQL for a time field as epoch seconds. */
export function epochSql(spec: Pick<VisualSpec, 'time' | 'timeEpoch'>): string {
  if (!spec.time) throw new VisualError('This visual needs a time field.');
  const column = ident(spec.time);
  if (spec.timeEpoch === 'seconds') return column;
  if (spec.timeEpoch === 'milliseconds') return `(${column} / 1000.0)`;
  return `extract(epoch from ${column})`;
}

/** SQL of an aggregation over a measure. */
export function aggregateSql(aggregation: Aggregation, measure: string | undefined): string {
  // The name goes into the SQL as it is: only the known ones.
  if (!(AGGREGATIONS as readonly string[]).includes(aggregation))
    throw new VisualError(
      `Unknown aggregation ${String(aggregation)}: use one of ${AGGREGATIONS.join(', ')}.`,
    );
  if (aggregation === 'count') return measure ? `count(${ident(measure)})` : 'count(*)';
  if (!measure) throw new VisualError(`The aggregation ${aggregation} needs a measure.`);
  const m = ident(measure);
  switch (aggregation) {
    case 'median':
      return `median(${m})`;
    case 'p90':
    case 'p95':
    case 'p99':
      return `percentile_cont(0.${aggregation.slice(1)}) WITHIN GROUP (ORDER BY ${m})`;
    default:
      return `${aggregation}(${m})`;
  }
}

/** The aggregation a visual uses. */
export function aggregationOf(spec: VisualSpec): Aggregation {
  return spec.aggregation ?? (spec.measure ? 'avg' : 'count');
}

/** WHERE conditions of the filters for a visual (time range on its time field, dimension values). */
export function whereSql(spec: VisualSpec, filters: Filters, nowSeconds: number): string {
  const conditions: string[] = [];
  const range = filters.range;
  if (range && range !== 'all' && spec.time) {
    const t = epochSql(spec);
    if (typeof range === 'string') {
      const seconds = Object.hasOwn(RANGES, range) ? RANGES[range] : undefined;
      if (seconds === undefined) throw new VisualError(`Unknown time range ${range}.`);
      conditions.push(`${t} >= ${Math.floor(nowSeconds - seconds)}`);
    } else {
      conditions.push(`${t} >= ${Number(range.from)} AND ${t} < ${Number(range.to)}`);
    }
  }
  for (const [field, values] of Object.entries(filters.values ?? {})) {
    if (values.length === 0) continue;
    const list = values.map((v) => `'${String(v).replace(/'/g, "''")}'`).join(', ');
    conditions.push(`CAST(${ident(field)} AS VARCHAR) IN (${list})`);
  }
  return conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
}

const NICE_BUCKETS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800,
  2592000, 31536000,
];

/**
 * The bucket width in seconds: the one asked for, widened when needed so that
 * `series × buckets` stays within `maxPoints` (never narrower than asked).
 */
export function chooseBucket(
  spanSeconds: number,
  seriesCount: number,
  maxPoints: number,
  asked?: number,
): number {
  const perSeries = Math.max(1, Math.floor(maxPoints / Math.max(1, seriesCount)));
  // Buckets are aligned to multiples of the width, so a span covers up to span/width + 2 of them.
  const needed = Math.max(0, spanSeconds) / Math.max(1, perSeries - 2);
  const floor = Math.max(asked ?? 1, needed);
  return NICE_BUCKETS.find((b) => b >= floor) ?? Math.ceil(floor / 86400) * 86400;
}

/** A query the visual needs, named so the runner can feed answers back. */
export interface VisualQuery {
  readonly sql: string;
}

/** How a visual is computed: a first query (bounds), then the data query built from its answer. */
export interface VisualPlan {
  /** Bounds query (line: time span and series count; histogram: min/max/avg/count), if any. */
  readonly bounds?: string;
  /** Builds the data query from the bounds row. */
  data(bounds: readonly unknown[] | undefined): string | undefined;
  /** Shapes the answers into what the browser draws. */
  shape(
    bounds: readonly unknown[] | undefined,
    rows: readonly (readonly unknown[])[],
    columns: readonly string[],
  ): VisualData;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Compiles a visual with its filters into SQL (Redshift dialect) and a shaper. */
export function planVisual(unchecked: VisualSpec, uncheckedFilters: Filters, nowSeconds: number): VisualPlan {
  // Specs and filters come from JSON that anyone signed in may save: check them before any SQL is built.
  const spec = checkVisualSpec(unchecked);
  const filters = checkFilters(uncheckedFilters);
  const from = sourceSql(spec.source);
  const where = whereSql(spec, filters, nowSeconds);
  const maxPoints = Math.min(Math.max(10, spec.maxPoints ?? 2000), 20000);
  const aggregation = aggregationOf(spec);
  switch (spec.kind) {
    case 'line': {
      const t = epochSql(spec);
      const dim = spec.dimension
        ? `CAST(${ident(spec.dimension)} AS VARCHAR)`
        : `'${spec.title.replace(/'/g, "''") || 'value'}'`;
      const agg = aggregateSql(aggregation, spec.measure);
      const m = spec.measure ? ident(spec.measure) : undefined;
      const asked =
        spec.bucket && spec.bucket !== 'auto' && Object.hasOwn(BUCKETS, spec.bucket)
          ? BUCKETS[spec.bucket]
          : undefined;
      if (spec.bucket && spec.bucket !== 'auto' && asked === undefined)
        throw new VisualError(`Unknown time bucket ${spec.bucket}.`);
      return {
        bounds: `SELECT min(${t}), max(${t}), count(DISTINCT ${dim}) FROM ${from}${where}`,
        data(bounds) {
          const lo = num(bounds?.[0]);
          const hi = num(bounds?.[1]);
          const series = Number(bounds?.[2] ?? 0);
          if (lo === null || hi === null) return undefined;
          if (series > maxPoints / 2)
            throw new VisualError(
              `${series} series would not fit in ${maxPoints} points: filter the dimension or split by another field.`,
            );
          const width = chooseBucket(hi - lo, series, maxPoints, asked);
          const peaks = m ? `min(${m}), max(${m})` : 'NULL, NULL';
          return (
            `SELECT floor(${t} / ${width}) * ${width} AS bucket, ${dim} AS series, ${agg} AS value, ${peaks} ` +
            `FROM ${from}${where} GROUP BY 1, 2 ORDER BY 2, 1`
          );
        },
        shape(bounds, rows) {
          const lo = num(bounds?.[0]);
          const hi = num(bounds?.[1]);
          const width =
            lo === null || hi === null
              ? (asked ?? 1)
              : chooseBucket(hi - lo, Number(bounds?.[2] ?? 0), maxPoints, asked);
          const byName = new Map<string, [number, number | null, number | null, number | null][]>();
          for (const row of rows) {
            const name = String(row[1]);
            let points = byName.get(name);
            if (!points) byName.set(name, (points = []));
            points.push([Number(row[0]) * 1000, num(row[2]), num(row[3]), num(row[4])]);
          }
          return {
            kind: 'line',
            bucketSeconds: width,
            series: [...byName].map(([name, points]) => ({ name, points })),
            ...(asked !== undefined && width > asked
              ? { note: `Bucket widened to ${width} s to stay within ${maxPoints} points.` }
              : {}),
          };
        },
      };
    }
    case 'map': {
      if (!spec.latitude || !spec.longitude)
        throw new VisualError('A map needs latitude and longitude fields.');
      const lat = ident(spec.latitude);
      const lon = ident(spec.longitude);
      const label = spec.dimension ? `CAST(${ident(spec.dimension)} AS VARCHAR)` : `''`;
      const agg = aggregateSql(aggregation, spec.measure);
      const sql =
        `SELECT ${label} AS label, CAST(${lat} AS DOUBLE PRECISION), CAST(${lon} AS DOUBLE PRECISION), ${agg} ` +
        `FROM ${from}${where} GROUP BY 1, 2, 3 ORDER BY 1 LIMIT ${maxPoints + 1}`;
      return {
        data: () => sql,
        shape(_bounds, rows) {
          if (rows.length > maxPoints)
            throw new VisualError(
              `More than ${maxPoints} points: filter the data set or aggregate by a coarser field.`,
            );
          return {
            kind: 'map',
            points: rows.map((r) => ({
              label: String(r[0]),
              lat: Number(r[1]),
              lon: Number(r[2]),
              value: num(r[3]),
            })),
          };
        },
      };
    }
    case 'bar': {
      if (!spec.dimension) throw new VisualError('A bar chart needs a dimension.');
      const dim = `CAST(${ident(spec.dimension)} AS VARCHAR)`;
      const sql =
        `SELECT ${dim} AS name, ${aggregateSql(aggregation, spec.measure)} AS value FROM ${from}${where} ` +
        `GROUP BY 1 ORDER BY 1 LIMIT ${Math.min(maxPoints, 500) + 1}`;
      const limit = Math.min(maxPoints, 500);
      return {
        data: () => sql,
        shape(_bounds, rows) {
          return {
            kind: 'bar',
            bars: rows.slice(0, limit).map((r) => ({ name: String(r[0]), value: num(r[1]) })),
            ...(rows.length > limit ? { note: `Showing the first ${limit} values.` } : {}),
          };
        },
      };
    }
    case 'histogram': {
      if (!spec.measure) throw new VisualError('A histogram needs a measure.');
      const m = `CAST(${ident(spec.measure)} AS DOUBLE PRECISION)`;
      const bins = Math.min(Math.max(1, Math.floor(spec.bins ?? 20)), 200);
      return {
        bounds: `SELECT count(${m}), min(${m}), max(${m}), avg(${m}) FROM ${from}${where}`,
        data(bounds) {
          const lo = num(bounds?.[1]);
          const hi = num(bounds?.[2]);
          if (lo === null || hi === null) return undefined;
          const width = hi > lo ? (hi - lo) / bins : 1;
          return (
            `SELECT least(floor((${m} - ${lo}) / ${width}), ${bins - 1}) AS bin, count(*) ` +
            `FROM ${from}${where}${where ? ' AND' : ' WHERE'} ${m} IS NOT NULL GROUP BY 1 ORDER BY 1`
          );
        },
        shape(bounds, rows) {
          const lo = num(bounds?.[1]);
          const hi = num(bounds?.[2]);
          const width = lo !== null && hi !== null && hi > lo ? (hi - lo) / bins : 1;
          const counts = new Map(rows.map((r) => [Number(r[0]), Number(r[1])]));
          return {
            kind: 'histogram',
            bins:
              lo === null
                ? []
                : Array.from({ length: hi !== null && hi > lo ? bins : 1 }, (_, i) => ({
                    from: lo + i * width,
                    to: lo + (i + 1) * width,
                    count: counts.get(i) ?? 0,
                  })),
            stats: { count: Number(bounds?.[0] ?? 0), min: lo, max: hi, avg: num(bounds?.[3]) },
          };
        },
      };
    }
    case 'kpi': {
      const sql = `SELECT ${aggregateSql(aggregation, spec.measure)} FROM ${from}${where}`;
      return {
        data: () => sql,
        shape: (_bounds, rows) => ({
          kind: 'kpi',
          value: num(rows[0]?.[0]),
          label: `${aggregation}${spec.measure ? ` of ${spec.measure}` : ''}`,
        }),
      };
    }
    case 'table': {
      const limit = Math.min(maxPoints, 1000);
      const order = spec.time ? ` ORDER BY ${ident(spec.time)} DESC` : '';
      const sql = `SELECT * FROM ${from}${where}${order} LIMIT ${limit + 1}`;
      return {
        data: () => sql,
        shape: (_bounds, rows, columns) => ({
          kind: 'table',
          columns,
          rows: rows.slice(0, limit),
          truncated: rows.length > limit,
        }),
      };
    }
  }
}
