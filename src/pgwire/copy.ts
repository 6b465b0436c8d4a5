/**
 * The data of COPY FROM STDIN and COPY TO STDOUT in PostgreSQL's text and CSV formats:
 * decoding what the client sends into rows of text values, and encoding result rows.
 *
 * Text format: one row per line, fields split by the delimiter (tab), `\N` for NULL,
 * backslash escapes (`\t`, `\n`, `\\`, octal `\123`, hex `\x41`). CSV format: RFC 4180 with
 * the QUOTE and ESCAPE characters; an unquoted empty field is NULL, a quoted one is ''.
 * A line holding just `\.` ends the data in both.
 *
 * @see https://www.postgresql.org/docs/15/sql-copy.html#id-1.9.3.55.9
 */
import { SqlError, type CopyRows, type StdioCopy } from '../warehouse/index.ts';

/** SQLSTATE for a malformed COPY row (wrong number of fields, unterminated quote). */
const BAD_COPY_FILE_FORMAT = '22P04';

/** Decodes COPY data into rows of `columns.length` values; throws 22P04 with the line. */
export function decodeCopyData(
  data: string,
  copy: StdioCopy,
  columns: readonly string[],
  table: string,
): CopyRows {
  const records = copy.format === 'csv' ? splitCsv(data, copy, table) : splitText(data, copy);
  const rows: (string | null)[][] = [];
  const lines: number[] = [];
  let skip = copy.header;
  for (const rec of records) {
    if (skip > 0) {
      skip--;
      continue;
    }
    const where = `COPY ${table}, line ${rec.line}: "${rec.raw.length > 100 ? `${rec.raw.slice(0, 100)}...` : rec.raw}"`;
    if (rec.fields.length < columns.length)
      throw new SqlError(
        `missing data for column "${columns[rec.fields.length] ?? ''}"`,
        BAD_COPY_FILE_FORMAT,
        {
          where,
        },
      );
    if (rec.fields.length > columns.length)
      throw new SqlError('extra data after last expected column', BAD_COPY_FILE_FORMAT, { where });
    rows.push(rec.fields);
    lines.push(rec.line);
  }
  return { rows, lines };
}

interface RawRecord {
  readonly fields: (string | null)[];
  readonly line: number;
  readonly raw: string;
}

const TEXT_ESCAPES: Readonly<Record<string, string>> = {
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

function splitText(data: string, copy: StdioCopy): RawRecord[] {
  const out: RawRecord[] = [];
  const lines = data.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  for (const [index, line] of lines.entries()) {
    if (line === '\\.') break;
    const fields: (string | null)[] = [];
    let raw = '';
    let value = '';
    const end = (): void => {
      fields.push(raw === copy.null ? null : value);
      raw = '';
      value = '';
    };
    for (let i = 0; i < line.length; i++) {
      const ch = line[i] as string;
      if (ch === copy.delimiter) {
        end();
        continue;
      }
      if (ch !== '\\' || i + 1 >= line.length) {
        raw += ch;
        value += ch;
        continue;
      }
      const next = line[++i] as string;
      raw += ch + next;
      const octal = /^[0-7]{1,3}/.exec(line.slice(i));
      const hex = next === 'x' ? /^[0-9a-fA-F]{1,2}/.exec(line.slice(i + 1)) : null;
      if (octal) {
        value += String.fromCharCode(parseInt(octal[0], 8));
        raw += octal[0].slice(1);
        i += octal[0].length - 1;
      } else if (hex) {
        value += String.fromCharCode(parseInt(hex[0], 16));
        raw += hex[0];
        i += hex[0].length;
      } else value += TEXT_ESCAPES[next] ?? next;
    }
    end();
    out.push({ fields, line: index + 1, raw: line });
  }
  return out;
}

function splitCsv(data: string, copy: StdioCopy, table: string): RawRecord[] {
  const out: RawRecord[] = [];
  let line = 1;
  let i = 0;
  const n = data.length;
  while (i < n) {
    const startLine = line;
    const start = i;
    // `\.` alone on a line ends the data.
    if (data.startsWith('\\.', i) && (i + 2 >= n || data[i + 2] === '\n' || data[i + 2] === '\r')) break;
    const fields: (string | null)[] = [];
    let value = '';
    let quoted = false;
    let inQuotes = false;
    for (;;) {
      if (i >= n) {
        if (inQuotes)
          throw new SqlError('unterminated CSV quoted field', BAD_COPY_FILE_FORMAT, {
            where: `COPY ${table}, line ${startLine}`,
          });
        fields.push(!quoted && value === copy.null ? null : value);
        break;
      }
      const ch = data[i] as string;
      if (inQuotes) {
        // A doubled quote (or the ESCAPE character before a quote) is a literal quote.
        if (
          ch === copy.escape &&
          (data[i + 1] === copy.quote || (data[i + 1] === copy.escape && ch !== copy.quote))
        ) {
          value += data[i + 1] as string;
          i += 2;
          continue;
        }
        if (ch === copy.quote) {
          inQuotes = false;
          i++;
          continue;
        }
        if (ch === '\n') line++;
        value += ch;
        i++;
        continue;
      }
      if (ch === copy.quote) {
        inQuotes = true;
        quoted = true;
        i++;
        continue;
      }
      if (ch === copy.delimiter) {
        fields.push(!quoted && value === copy.null ? null : value);
        value = '';
        quoted = false;
        i++;
        continue;
      }
      if (ch === '\n' || ch === '\r') {
        fields.push(!quoted && value === copy.null ? null : value);
        i += ch === '\r' && data[i + 1] === '\n' ? 2 : 1;
        line++;
        break;
      }
      value += ch;
      i++;
    }
    out.push({ fields, line: startLine, raw: data.slice(start, i).replace(/\r?\n$/, '') });
  }
  return out;
}

/** Encodes one row (text values, null for NULL) as a line of COPY TO STDOUT data. */
export function encodeCopyRow(values: readonly (string | null)[], copy: StdioCopy): string {
  const d = copy.delimiter;
  if (copy.format === 'csv') {
    const q = copy.quote;
    return `${values
      .map((v) => {
        if (v === null) return copy.null;
        const needs =
          v === copy.null ||
          v.includes(d) ||
          v.includes(q) ||
          v.includes('\n') ||
          v.includes('\r') ||
          v.includes(copy.escape);
        return needs ? `${q}${v.replaceAll(q, copy.escape + q)}${q}` : v;
      })
      .join(d)}\n`;
  }
  return `${values
    .map((v) => {
      if (v === null) return copy.null;
      let s = '';
      for (const ch of v) {
        if (ch === '\\') s += '\\\\';
        else if (ch === '\n') s += '\\n';
        else if (ch === '\r') s += '\\r';
        else if (ch === '\t') s += '\\t';
        else if (ch === d) s += `\\${ch}`;
        else s += ch;
      }
      return s;
    })
    .join(d)}\n`;
}
