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

/** Decoded text waiting beyond this many characters is handed on as rows. */
const BATCH_CHARS = 4 * 1024 * 1024;

/** One record longer than this (no line end in sight) fails the COPY instead of growing memory. */
const MAX_RECORD_CHARS = 256 * 1024 * 1024;

/**
 * Decodes the data of one COPY FROM STDIN as it arrives: CopyData chunks in, rows out in
 * batches, with each row's line number for error messages. Chunks may split lines, quoted
 * fields and UTF-8 sequences anywhere.
 */
export class CopyDecoder {
  /** Bytes after the last line feed received (perhaps part of a UTF-8 sequence). */
  private tailBytes: Buffer = Buffer.alloc(0);
  /** Decoded text not yet split into records. */
  private text = '';
  /** Line number of the first line in `text`. */
  private line = 1;
  /** Header lines still to skip. */
  private skip: number;
  /** True once `\.` ended the data. */
  private ended = false;

  /** A decoder for one COPY into `table`'s `columns`. */
  constructor(
    private readonly copy: StdioCopy,
    private readonly columns: readonly string[],
    private readonly table: string,
  ) {
    this.skip = copy.header;
  }

  /** Adds a CopyData chunk. */
  push(chunk: Buffer): void {
    if (this.ended) return;
    const bytes = this.tailBytes.length > 0 ? Buffer.concat([this.tailBytes, chunk]) : chunk;
    // A line feed byte never occurs inside a UTF-8 sequence, so text cut after one decodes whole.
    const cut = bytes.lastIndexOf(0x0a);
    if (cut < 0) this.tailBytes = Buffer.from(bytes);
    else {
      this.text += bytes.toString('utf8', 0, cut + 1);
      this.tailBytes = Buffer.from(bytes.subarray(cut + 1));
    }
    if (this.text.length + this.tailBytes.length > MAX_RECORD_CHARS && !this.text.includes('\n'))
      throw new SqlError(`COPY line ${this.line} is longer than ${MAX_RECORD_CHARS} characters`, '54000');
  }

  /** True when enough text is waiting to be worth decoding before the data ends. */
  get ready(): boolean {
    return this.text.length >= BATCH_CHARS;
  }

  /** Decodes the complete records received so far (all of them when `final`); throws 22P04. */
  take(final: boolean): CopyRows {
    if (this.ended) return { rows: [], lines: [] };
    if (final && this.tailBytes.length > 0) {
      this.text += this.tailBytes.toString('utf8');
      this.tailBytes = Buffer.alloc(0);
    }
    const split =
      this.copy.format === 'csv'
        ? splitCsv(this.text, this.copy, this.table, this.line, final)
        : splitText(this.text, this.copy, this.line);
    this.text = this.text.slice(split.consumed);
    this.line = split.nextLine;
    if (split.ended) {
      // Anything after the end marker is ignored, as PostgreSQL does.
      this.ended = true;
      this.text = '';
      this.tailBytes = Buffer.alloc(0);
    }
    const rows: (string | null)[][] = [];
    const lines: number[] = [];
    for (const rec of split.records) {
      if (this.skip > 0) {
        this.skip--;
        continue;
      }
      const where = `COPY ${this.table}, line ${rec.line}: "${rec.raw.length > 100 ? `${rec.raw.slice(0, 100)}...` : rec.raw}"`;
      if (rec.fields.length < this.columns.length)
        throw new SqlError(
          `missing data for column "${this.columns[rec.fields.length] ?? ''}"`,
          BAD_COPY_FILE_FORMAT,
          {
            where,
          },
        );
      if (rec.fields.length > this.columns.length)
        throw new SqlError('extra data after last expected column', BAD_COPY_FILE_FORMAT, { where });
      rows.push(rec.fields);
      lines.push(rec.line);
    }
    return { rows, lines };
  }
}

interface RawRecord {
  readonly fields: (string | null)[];
  readonly line: number;
  readonly raw: string;
}

/** Records split from text, how much of the text they used, and the next line number. */
interface Split {
  readonly records: RawRecord[];
  readonly consumed: number;
  readonly nextLine: number;
  /** `\.` was seen. */
  readonly ended: boolean;
}

const TEXT_ESCAPES: Readonly<Record<string, string>> = {
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** Splits text-format lines; the text holds whole lines except perhaps at the very end (final). */
function splitText(data: string, copy: StdioCopy, firstLine: number): Split {
  const out: RawRecord[] = [];
  let pos = 0;
  let line = firstLine;
  while (pos < data.length) {
    const nl = data.indexOf('\n', pos);
    const end = nl < 0 ? data.length : nl;
    const text = data.slice(pos, end > pos && data[end - 1] === '\r' ? end - 1 : end);
    const next = nl < 0 ? data.length : nl + 1;
    if (text === '\\.') return { records: out, consumed: next, nextLine: line + 1, ended: true };
    out.push({ fields: textFields(text, copy), line, raw: text });
    pos = next;
    line++;
  }
  return { records: out, consumed: pos, nextLine: line, ended: false };
}

function textFields(line: string, copy: StdioCopy): (string | null)[] {
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
    const octal = /^[0-7]{1,3}/.exec(line.slice(i, i + 3));
    const hex = next === 'x' ? /^[0-9a-fA-F]{1,2}/.exec(line.slice(i + 1, i + 3)) : null;
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
  return fields;
}

/** Splits CSV records; unless `final`, a record still open at the end (a quoted field) waits for more. */
function splitCsv(data: string, copy: StdioCopy, table: string, firstLine: number, final: boolean): Split {
  const out: RawRecord[] = [];
  let line = firstLine;
  let i = 0;
  const n = data.length;
  while (i < n) {
    const startLine = line;
    const start = i;
    // `\.` alone on a line ends the data.
    if (data.startsWith('\\.', i) && (i + 2 >= n || data[i + 2] === '\n' || data[i + 2] === '\r')) {
      const nl = data.indexOf('\n', i);
      return { records: out, consumed: nl < 0 ? n : nl + 1, nextLine: line + 1, ended: true };
    }
    const fields: (string | null)[] = [];
    let value = '';
    let quoted = false;
    let inQuotes = false;
    let complete = false;
    while (i < n) {
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
        if (ch === copy.quote) inQuotes = false;
        else {
          if (ch === '\n') line++;
          value += ch;
        }
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
        complete = true;
        break;
      }
      value += ch;
      i++;
    }
    if (!complete) {
      if (!final) return { records: out, consumed: start, nextLine: startLine, ended: false };
      if (inQuotes)
        throw new SqlError('unterminated CSV quoted field', BAD_COPY_FILE_FORMAT, {
          where: `COPY ${table}, line ${startLine}`,
        });
      fields.push(!quoted && value === copy.null ? null : value);
    }
    out.push({ fields, line: startLine, raw: data.slice(start, i).replace(/\r?\n$/, '') });
  }
  return { records: out, consumed: i, nextLine: line, ended: false };
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
