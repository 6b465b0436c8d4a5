/**
 * Redshift date parts and datetime format strings, mapped to what DuckDB understands.
 *
 * Redshift accepts many spellings of each date part (`seconds`, `secs`, `s`; `mon`, `mons`),
 * written bare or quoted; DuckDB knows fewer. Redshift's TO_CHAR / TO_DATE / TO_TIMESTAMP
 * take PostgreSQL-style templates (`YYYY-MM-DD HH24:MI:SS`); DuckDB's strftime / strptime
 * take C-style ones (`%Y-%m-%d %H:%M:%S`).
 *
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_Dateparts_for_datetime_functions.html
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_FORMAT_strings.html
 */

/** A date part as DuckDB names it. */
export type DatePart =
  | 'millennium'
  | 'century'
  | 'decade'
  | 'epoch'
  | 'year'
  | 'quarter'
  | 'month'
  | 'week'
  | 'dow'
  | 'doy'
  | 'day'
  | 'hour'
  | 'minute'
  | 'second'
  | 'millisecond'
  | 'microsecond'
  | 'timezone'
  | 'timezone_hour'
  | 'timezone_minute';

const SPELLINGS: Readonly<Record<DatePart, readonly string[]>> = {
  millennium: ['millennium', 'millennia', 'mil', 'mils', 'millenniums'],
  century: ['century', 'centuries', 'c', 'cent', 'cents'],
  decade: ['decade', 'decades', 'dec', 'decs'],
  epoch: ['epoch'],
  year: ['year', 'years', 'y', 'yr', 'yrs'],
  quarter: ['quarter', 'quarters', 'qtr', 'qtrs'],
  month: ['month', 'months', 'mon', 'mons'],
  week: ['week', 'weeks', 'w'],
  dow: ['dayofweek', 'dow', 'dw', 'weekday'],
  doy: ['dayofyear', 'doy', 'dy', 'yearday'],
  day: ['day', 'days', 'd'],
  hour: ['hour', 'hours', 'h', 'hr', 'hrs'],
  minute: ['minute', 'minutes', 'm', 'min', 'mins'],
  second: ['second', 'seconds', 's', 'sec', 'secs'],
  millisecond: [
    'millisecond',
    'milliseconds',
    'ms',
    'msec',
    'msecs',
    'msecond',
    'mseconds',
    'millisec',
    'millisecs',
    'millisecon',
  ],
  microsecond: [
    'microsecond',
    'microseconds',
    'microsec',
    'microsecs',
    'usecond',
    'useconds',
    'us',
    'usec',
    'usecs',
  ],
  timezone: ['timezone'],
  timezone_hour: ['timezone_hour'],
  timezone_minute: ['timezone_minute'],
};

const BY_SPELLING = new Map<string, DatePart>(
  (Object.entries(SPELLINGS) as [DatePart, readonly string[]][]).flatMap(([part, names]) =>
    names.map((n) => [n, part] as const),
  ),
);

/** The DuckDB date part for a Redshift spelling (any case), or undefined. */
export function datePart(spelling: string): DatePart | undefined {
  return BY_SPELLING.get(spelling.trim().toLowerCase());
}

/** DuckDB's interval constructor per date part, for DATEADD. */
export const INTERVAL_FUNCTION: Readonly<Partial<Record<DatePart, string>>> = {
  millennium: 'to_millennia',
  century: 'to_centuries',
  decade: 'to_decades',
  year: 'to_years',
  quarter: 'to_quarters',
  month: 'to_months',
  week: 'to_weeks',
  day: 'to_days',
  hour: 'to_hours',
  minute: 'to_minutes',
  second: 'to_seconds',
  millisecond: 'to_milliseconds',
  microsecond: 'to_microseconds',
};

/** Thrown for a template pattern strftime has no counterpart for. */
export class FormatPatternError extends Error {}

/** A pattern's strftime counterpart; names are blank-padded to 9 and cased as the pattern is. */
interface PatternSpec {
  readonly fmt: string;
  /** In fill mode (FM): no padding. */
  readonly fill?: string;
  /** Month and day names: padded to 9 characters unless FM. */
  readonly name?: boolean;
  readonly case?: 'upper' | 'lower';
}

/** Template patterns, longest first so `HH24` wins over `HH` and `MONTH` over `MON`. */
const PATTERNS: readonly (readonly [string, PatternSpec])[] = [
  ['HH24', { fmt: '%H', fill: '%-H' }],
  ['HH12', { fmt: '%I', fill: '%-I' }],
  ['YYYY', { fmt: '%Y' }],
  ['MONTH', { fmt: '%B', name: true, case: 'upper' }],
  ['Month', { fmt: '%B', name: true }],
  ['month', { fmt: '%B', name: true, case: 'lower' }],
  ['A.M.', { fmt: '%p' }],
  ['P.M.', { fmt: '%p' }],
  ['DDD', { fmt: '%j', fill: '%-j' }],
  ['MON', { fmt: '%b', case: 'upper' }],
  ['Mon', { fmt: '%b' }],
  ['mon', { fmt: '%b', case: 'lower' }],
  ['DAY', { fmt: '%A', name: true, case: 'upper' }],
  ['Day', { fmt: '%A', name: true }],
  ['day', { fmt: '%A', name: true, case: 'lower' }],
  ['HH', { fmt: '%I', fill: '%-I' }],
  ['MI', { fmt: '%M', fill: '%-M' }],
  ['SS', { fmt: '%S', fill: '%-S' }],
  ['MS', { fmt: '%g' }],
  ['US', { fmt: '%f' }],
  ['YY', { fmt: '%y', fill: '%-y' }],
  ['MM', { fmt: '%m', fill: '%-m' }],
  ['DD', { fmt: '%d', fill: '%-d' }],
  ['DY', { fmt: '%a', case: 'upper' }],
  ['Dy', { fmt: '%a' }],
  ['dy', { fmt: '%a', case: 'lower' }],
  ['AM', { fmt: '%p' }],
  ['PM', { fmt: '%p' }],
  ['am', { fmt: '%p', case: 'lower' }],
  ['pm', { fmt: '%p', case: 'lower' }],
  ['IW', { fmt: '%V' }],
  ['WW', { fmt: '%U' }],
  ['TZ', { fmt: '%Z' }],
  ['tz', { fmt: '%Z', case: 'lower' }],
];

/** Numeric patterns, which may be written in any case (`yyyy-mm-dd`). */
const ANY_CASE = new Set([
  'HH24',
  'HH12',
  'YYYY',
  'DDD',
  'HH',
  'MI',
  'SS',
  'MS',
  'US',
  'YY',
  'MM',
  'DD',
  'IW',
  'WW',
]);

/** Patterns Redshift knows that strftime cannot express. */
const UNSUPPORTED_PATTERNS = ['IYYY', 'SSSS', 'YYY', 'CC', 'RM', 'rm', 'OF', 'Q', 'J', 'W', 'D', 'Y'];

/** One piece of a converted template: strftime text, or a name to pad or re-case. */
export interface FormatSegment {
  /** strftime / strptime format. */
  readonly fmt: string;
  /** Right-pad the formatted text with blanks to this width. */
  readonly pad?: number;
  /** Re-case the formatted text. */
  readonly case?: 'upper' | 'lower';
}

/**
 * Converts a Redshift datetime template (`YYYY-MM-DD HH24:MI:SS`) to strftime segments.
 * Text in double quotes is literal; characters that are not patterns are copied.
 * Throws FormatPatternError naming a pattern that has no counterpart.
 */
export function formatSegments(template: string): FormatSegment[] {
  const out: FormatSegment[] = [];
  let plain = '';
  const flush = (): void => {
    if (plain !== '') out.push({ fmt: plain });
    plain = '';
  };
  let i = 0;
  let fill = false;
  while (i < template.length) {
    const ch = template[i] as string;
    if (ch === '"') {
      const close = template.indexOf('"', i + 1);
      const literal = close < 0 ? template.slice(i + 1) : template.slice(i + 1, close);
      plain += literal.replace(/%/g, '%%');
      i = close < 0 ? template.length : close + 1;
      continue;
    }
    if (template.startsWith('FM', i) || template.startsWith('fm', i)) {
      fill = true;
      i += 2;
      continue;
    }
    const match = PATTERNS.find(
      ([p]) =>
        template.startsWith(p, i) || (ANY_CASE.has(p) && template.slice(i, i + p.length).toUpperCase() === p),
    );
    if (match) {
      const [pattern, spec] = match;
      const fmt = fill && spec.fill ? spec.fill : spec.fmt;
      if ((spec.name && !fill) || spec.case) {
        flush();
        out.push({
          fmt,
          ...(spec.name && !fill ? { pad: 9 } : {}),
          ...(spec.case ? { case: spec.case } : {}),
        });
      } else plain += fmt;
      fill = false;
      i += pattern.length;
      continue;
    }
    const bad = UNSUPPORTED_PATTERNS.find((p) => template.startsWith(p, i));
    if (bad !== undefined) throw new FormatPatternError(bad);
    plain += ch === '%' ? '%%' : ch;
    i++;
  }
  flush();
  return out;
}

/** The template as one strftime / strptime format (for parsing, where padding and case do not matter). */
export function strftimeFormat(template: string): string {
  return formatSegments(template)
    .map((s) => s.fmt)
    .join('');
}

/** True when a TO_CHAR template formats a number (`999D99`, `FM9,999`, `0000`) rather than a datetime. */
export function isNumericTemplate(template: string): boolean {
  return /^(FM)?[S+-]?[90.,DGLS$PRMI ]+$/i.test(template) && /[90]/.test(template);
}
