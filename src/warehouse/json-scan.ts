/**
 * Reads JSON 'auto' COPY input: JSON objects one after another, separated by nothing or by
 * whitespace (Firehose concatenates records; newline-delimited JSON is the same with
 * newlines). Each top-level object is one record.
 *
 * The scanner validates each object itself and keeps the raw text of every value, so a
 * number like 12345678901234567890 or 71.50 reaches its column exactly as written (JSON.parse
 * would round it). A bad object is one error: the scanner finds where it ends (brace depth,
 * minding strings and escapes) and resumes at the next object.
 *
 * @see https://docs.aws.amazon.com/redshift/latest/dg/copy-usage_notes-copy-from-json.html
 * @see https://www.rfc-editor.org/rfc/rfc8259
 */

/** The kind of a value found for a column. */
export const ValueKind = {
  missing: 0,
  string: 1,
  number: 2,
  true: 3,
  false: 4,
  null: 5,
  nested: 6,
  /** An unquoted empty field in CSV or text (not produced by JSON). */
  empty: 7,
} as const;

/** One of ValueKind's values. */
export type ValueKindCode = (typeof ValueKind)[keyof typeof ValueKind];

class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

function isWs(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** Scans one file's text record by record. */
export class JsonRecordScanner {
  /** Column names by index (keys compare against these without making strings). */
  private readonly names: string[];
  /** Per column: what the current record holds. */
  readonly kinds: Uint8Array;
  /** Per column: the value text (strings unescaped, numbers and nested values raw). */
  readonly texts: string[];
  /** Start offset of the current record (or bad stretch). */
  recordStart = 0;
  /** End offset (exclusive) of the current record. */
  recordEnd = 0;
  /** 1-based line where the current record ends. */
  line = 1;
  /** 1-based ordinal of the current record among the file's records. */
  ordinal = 0;
  /** Why the current record is bad (after next() returned 'error'). */
  error = '';
  /** True once two records were found on one line (concatenated, not newline-delimited). */
  sharedLine = false;
  private pos = 0;
  private lastRecordLine = 0;

  /** Creates a scanner; `columns` maps a JSON key to its column index. */
  constructor(
    private readonly text: string,
    private readonly columns: ReadonlyMap<string, number>,
    columnCount: number,
    private readonly ignoreCase: boolean,
  ) {
    this.kinds = new Uint8Array(columnCount);
    this.names = new Array<string>(columnCount).fill('\u0000');
    for (const [name, i] of columns) this.names[i] = name;
    this.texts = new Array<string>(columnCount).fill('');
  }

  /** Advances to the next record: 'record' (kinds/texts filled), 'error', or 'end'. */
  next(): 'record' | 'error' | 'end' {
    const text = this.text;
    const n = text.length;
    let p = this.pos;
    let line = this.line;
    while (p < n) {
      const c = text.charCodeAt(p);
      if (!isWs(c)) break;
      if (c === 10) line++;
      p++;
    }
    this.line = line;
    if (p >= n) {
      this.pos = p;
      return 'end';
    }
    this.ordinal++;
    this.recordStart = p;
    if (line === this.lastRecordLine) this.sharedLine = true;
    if (text.charCodeAt(p) !== 123 /* { */) {
      // Junk between objects is one error, up to the next object.
      let q = text.indexOf('{', p + 1);
      if (q < 0) q = n;
      return this.fail(`Invalid JSON: expected an object, found '${text[p]}'`, p, q);
    }
    this.kinds.fill(0);
    const lineBefore = this.line;
    try {
      const end = this.parseObject(p);
      this.recordEnd = end;
      this.pos = end;
      this.lastRecordLine = this.line;
      return 'record';
    } catch (error) {
      if (!(error instanceof JsonSyntaxError)) throw error;
      this.line = lineBefore;
      const end = this.findObjectEnd(p, error.at);
      return this.fail(`Invalid JSON object: ${error.message}`, p, end);
    }
  }

  private fail(message: string, start: number, end: number): 'error' {
    for (let i = start; i < end; i++) if (this.text.charCodeAt(i) === 10) this.line++;
    // The bad stretch ends at its last non-space character, which is the line reported.
    let e = end;
    while (e > start && isWs(this.text.charCodeAt(e - 1))) {
      if (this.text.charCodeAt(e - 1) === 10) this.line--;
      e--;
    }
    this.recordStart = start;
    this.recordEnd = e;
    this.pos = e;
    this.error = message;
    this.lastRecordLine = this.line;
    return 'error';
  }

  /**
   * Where a bad object ends: after its matching `}` by brace depth (strings minded); when the
   * braces never balance, at the next `{` after the point the syntax broke.
   */
  private findObjectEnd(start: number, brokeAt: number): number {
    const text = this.text;
    const n = text.length;
    let depth = 0;
    let inString = false;
    for (let i = start; i < n; i++) {
      const c = text.charCodeAt(i);
      if (inString) {
        if (c === 92) i++;
        else if (c === 34) inString = false;
        continue;
      }
      if (c === 34) inString = true;
      else if (c === 123) depth++;
      else if (c === 125) {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    const q = text.indexOf('{', Math.max(brokeAt, start + 1));
    return q < 0 ? n : q;
  }

  private skipWs(p: number): number {
    const text = this.text;
    const n = text.length;
    while (p < n) {
      const c = text.charCodeAt(p);
      if (c === 32 || c === 9 || c === 13) p++;
      else if (c === 10) {
        this.line++;
        p++;
      } else break;
    }
    return p;
  }

  private parseObject(start: number): number {
    const text = this.text;
    let p = this.skipWs(start + 1);
    if (text.charCodeAt(p) === 125) return p + 1;
    for (;;) {
      if (text.charCodeAt(p) !== 34)
        throw new JsonSyntaxError(
          p >= text.length ? 'unexpected end of input' : `expected a key at '${text[p]}'`,
          p,
        );
      const keyEnd = this.scanString(p, false);
      const col =
        this.lastEscaped || this.ignoreCase
          ? this.columnBySlowKey(p, keyEnd)
          : this.columnByKey(p + 1, keyEnd - 1);
      p = this.skipWs(keyEnd);
      if (text.charCodeAt(p) !== 58)
        throw new JsonSyntaxError(
          `expected ':' after key ${text.slice(keyEnd - 40 > p ? keyEnd - 40 : p, keyEnd)}`,
          p,
        );
      p = this.skipWs(p + 1);
      const c = text.charCodeAt(p);
      let kind: number;
      let value = '';
      let end: number;
      if (c === 34) {
        end = this.scanString(p, col !== undefined);
        kind = ValueKind.string;
        value = this.lastString;
      } else if (c === 123 || c === 91) {
        end = this.skipNested(p);
        kind = ValueKind.nested;
        if (col !== undefined) value = text.slice(p, end);
      } else if (c === 116 && text.startsWith('true', p)) {
        end = p + 4;
        kind = ValueKind.true;
      } else if (c === 102 && text.startsWith('false', p)) {
        end = p + 5;
        kind = ValueKind.false;
      } else if (c === 110 && text.startsWith('null', p)) {
        end = p + 4;
        kind = ValueKind.null;
      } else if (c === 45 || (c >= 48 && c <= 57)) {
        end = this.scanNumber(p);
        kind = ValueKind.number;
        value = text.slice(p, end);
      } else {
        throw new JsonSyntaxError(
          p >= text.length ? 'unexpected end of input' : `invalid value at '${text[p]}'`,
          p,
        );
      }
      if (col !== undefined) {
        this.kinds[col] = kind;
        this.texts[col] = value;
      }
      p = this.skipWs(end);
      const sep = text.charCodeAt(p);
      if (sep === 44) {
        p = this.skipWs(p + 1);
        continue;
      }
      if (sep === 125) return p + 1;
      throw new JsonSyntaxError(
        p >= text.length ? 'unexpected end of input' : `expected ',' or '}' at '${text[p]}'`,
        p,
      );
    }
  }

  private lastString = '';
  private lastEscaped = false;

  /** The column for an unescaped key text[from, to), compared in place (no string made). */
  private columnByKey(from: number, to: number): number | undefined {
    const len = to - from;
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i] as string;
      if (name.length === len && this.text.startsWith(name, from)) return i;
    }
    return undefined;
  }

  /** The column for a key with escapes or under 'auto ignorecase'. */
  private columnBySlowKey(start: number, end: number): number | undefined {
    const key = JSON.parse(this.text.slice(start, end)) as string;
    return this.columns.get(this.ignoreCase ? key.toLowerCase() : key);
  }

  /**
   * Scans a string starting at its opening quote; returns the offset after it. Sets
   * lastEscaped, and lastString when `wantValue` (or when it has escapes).
   */
  private scanString(start: number, wantValue = true): number {
    const text = this.text;
    const n = text.length;
    let p = start + 1;
    let escaped = false;
    while (p < n) {
      const c = text.charCodeAt(p);
      if (c === 34) break;
      if (c === 92) {
        escaped = true;
        const e = text.charCodeAt(p + 1);
        if (e === 117) {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(p + 2, p + 6)))
            throw new JsonSyntaxError('invalid \\u escape', p);
          p += 6;
          continue;
        }
        if (e !== 34 && e !== 92 && e !== 47 && e !== 98 && e !== 102 && e !== 110 && e !== 114 && e !== 116)
          throw new JsonSyntaxError('invalid escape in string', p);
        p += 2;
        continue;
      }
      if (c < 32) throw new JsonSyntaxError('control character in string', p);
      p++;
    }
    if (p >= n) throw new JsonSyntaxError('unterminated string', n);
    this.lastEscaped = escaped;
    if (escaped) this.lastString = JSON.parse(text.slice(start, p + 1)) as string;
    else if (wantValue) this.lastString = text.slice(start + 1, p);
    return p + 1;
  }

  private scanNumber(start: number): number {
    const text = this.text;
    let p = start;
    if (text.charCodeAt(p) === 45) p++;
    const d0 = text.charCodeAt(p);
    if (d0 === 48) p++;
    else if (d0 >= 49 && d0 <= 57) {
      while (isDigit(text.charCodeAt(p))) p++;
    } else throw new JsonSyntaxError('invalid number', p);
    if (text.charCodeAt(p) === 46) {
      p++;
      if (!isDigit(text.charCodeAt(p))) throw new JsonSyntaxError('invalid number', p);
      while (isDigit(text.charCodeAt(p))) p++;
    }
    const e = text.charCodeAt(p);
    if (e === 101 || e === 69) {
      p++;
      const s = text.charCodeAt(p);
      if (s === 43 || s === 45) p++;
      if (!isDigit(text.charCodeAt(p))) throw new JsonSyntaxError('invalid number', p);
      while (isDigit(text.charCodeAt(p))) p++;
    }
    return p;
  }

  /** Validates a nested object or array; returns the offset after it. */
  private skipNested(start: number): number {
    const text = this.text;
    const open = text.charCodeAt(start);
    const close = open === 123 ? 125 : 93;
    let p = this.skipWs(start + 1);
    if (text.charCodeAt(p) === close) return p + 1;
    for (;;) {
      if (open === 123) {
        if (text.charCodeAt(p) !== 34) throw new JsonSyntaxError('expected a key in nested object', p);
        p = this.skipWs(this.scanString(p, false));
        if (text.charCodeAt(p) !== 58) throw new JsonSyntaxError("expected ':' in nested object", p);
        p = this.skipWs(p + 1);
      }
      p = this.skipWs(this.skipValue(p));
      const sep = text.charCodeAt(p);
      if (sep === 44) {
        p = this.skipWs(p + 1);
        continue;
      }
      if (sep === close) return p + 1;
      throw new JsonSyntaxError(
        p >= text.length ? 'unexpected end of input' : `unexpected '${text[p]}' in nested value`,
        p,
      );
    }
  }

  private skipValue(p: number): number {
    const text = this.text;
    const c = text.charCodeAt(p);
    if (c === 34) return this.scanString(p, false);
    if (c === 123 || c === 91) return this.skipNested(p);
    if (c === 116 && text.startsWith('true', p)) return p + 4;
    if (c === 102 && text.startsWith('false', p)) return p + 5;
    if (c === 110 && text.startsWith('null', p)) return p + 4;
    if (c === 45 || isDigit(c)) return this.scanNumber(p);
    throw new JsonSyntaxError(
      p >= text.length ? 'unexpected end of input' : `invalid value at '${text[p]}'`,
      p,
    );
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
