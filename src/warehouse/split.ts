/**
 * Splits a script into statements on top-level `;`, as psql and PostgreSQL's simple query
 * protocol do: a `;` inside a string, quoted identifier, dollar quote or comment does not
 * end a statement.
 */
import { tokenize } from './lexer.ts';

/** One statement of a script. */
export interface ScriptStatement {
  /** The statement text, trimmed of surrounding whitespace, without its `;`. */
  readonly text: string;
  /** Offset of `text` in the script (0-based). */
  readonly offset: number;
}

/**
 * Splits a script into statements; statements made only of whitespace and comments are
 * dropped.
 */
export function splitStatements(sql: string): ScriptStatement[] {
  const out: ScriptStatement[] = [];
  let first = -1;
  let last = -1;
  const flush = (): void => {
    if (first >= 0) out.push({ text: sql.slice(first, last), offset: first });
    first = -1;
    last = -1;
  };
  for (const token of tokenize(sql)) {
    if (token.kind === 'op' && token.value === ';') {
      flush();
      continue;
    }
    if (token.kind === 'ws' || token.kind === 'comment') {
      // Comments inside a statement stay in its text; leading and trailing ones are trimmed.
      continue;
    }
    if (first < 0) first = token.start;
    last = token.end;
  }
  flush();
  return out;
}
