/** Prints query results the way psql does (aligned table), or as JSON or CSV. */

/** One statement's result as the console API sends it. */
export interface ApiResult {
  readonly command: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly (readonly unknown[])[];
  readonly rowCount: number;
}

/** Renders one value as text (NULL as empty, like psql). */
function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Quotes a CSV field when needed (RFC 4180). */
function csvField(value: unknown): string {
  const s = text(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The psql command tag of a result without rows. */
function tag(result: ApiResult): string {
  if (result.command === 'INSERT') return `INSERT 0 ${result.rowCount}`;
  if (['UPDATE', 'DELETE', 'COPY', 'MERGE'].includes(result.command))
    return `${result.command} ${result.rowCount}`;
  return result.command;
}

/** Writes results in a format. */
export function printResults(
  results: readonly ApiResult[],
  format: 'table' | 'json' | 'csv',
  write: (chunk: string) => void,
): void {
  if (format === 'json') {
    write(`${JSON.stringify(results, null, 2)}\n`);
    return;
  }
  for (const result of results) {
    if (result.columns.length === 0) {
      if (format === 'table') write(`${tag(result)}\n`);
      continue;
    }
    if (format === 'csv') {
      write(`${result.columns.map((c) => csvField(c.name)).join(',')}\n`);
      for (const row of result.rows) write(`${row.map(csvField).join(',')}\n`);
      continue;
    }
    const cells = result.rows.map((row) => row.map(text));
    const widths = result.columns.map((c, i) =>
      Math.max(c.name.length, ...cells.map((r) => (r[i] ?? '').length)),
    );
    const numeric = result.columns.map((c) => /int|numeric|real|double|float|decimal/.test(c.type));
    write(` ${result.columns.map((c, i) => c.name.padEnd(widths[i]!)).join(' | ')}\n`);
    write(`${widths.map((w) => '-'.repeat(w + 2)).join('+')}\n`);
    for (const row of cells) {
      write(
        ` ${row.map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join(' | ')}\n`,
      );
    }
    write(`(${result.rowCount} row${result.rowCount === 1 ? '' : 's'})\n\n`);
  }
}
