/**
 * The query editor: CodeMirror with SQL highlighting and completion of schema, table and
 * column names; runs a script and shows each statement's result or error (the error's
 * position marked in the text); cancel; history (this browser) and saved queries (the
 * warehouse); CSV export; results paged from the server 200 rows at a time.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { basicSetup, EditorView } from 'codemirror';
import { keymap, Decoration, type DecorationSet } from '@codemirror/view';
import { Compartment, EditorState, StateEffect, StateField, Prec } from '@codemirror/state';
import { PostgreSQL, sql } from '@codemirror/lang-sql';
import { del, get, post, put } from '../api.ts';
import { ResultTable } from '../visual.tsx';

interface StatementAnswer {
  index: number;
  offset: number;
  length: number;
  command: string;
  columns: { name: string; type: string }[];
  rowCount: number;
  rows: unknown[][];
}
interface RunAnswer {
  id: string;
  statements: StatementAnswer[];
  error?: {
    message: string;
    sqlstate: string;
    position?: number;
    statementIndex?: number;
    offset?: number;
    length?: number;
    hint?: string;
  };
  ms: number;
}
interface Catalog {
  tables: { schema: string; name: string; view: boolean; columns: { name: string; type: string }[] }[];
}

const HISTORY_KEY = 'sluice.history';
const PAGE = 200;

const setErrorMark = StateEffect.define<{ from: number; to: number } | null>();
const errorMark = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(marks, tr) {
    for (const effect of tr.effects)
      if (effect.is(setErrorMark))
        return effect.value
          ? Decoration.set([
              Decoration.mark({ class: 'cm-error-mark' }).range(effect.value.from, effect.value.to),
            ])
          : Decoration.none;
    return tr.docChanged ? Decoration.none : marks.map(tr.changes);
  },
  provide: (f) => EditorView.decorations.from(f),
});

/** The SQL completion schema: `schema.table` → columns, plus bare table names of `public`. */
function completionSchema(catalog: Catalog): Record<string, string[]> {
  const schema: Record<string, string[]> = {};
  for (const t of catalog.tables) schema[`${t.schema}.${t.name}`] = t.columns.map((c) => c.name);
  return schema;
}

function newRunId(): string {
  return crypto.randomUUID();
}

/** One statement's result with paging and CSV export. */
function StatementResult(props: { runId: string; answer: StatementAnswer }) {
  const { answer, runId } = props;
  const [offset, setOffset] = useState(0);
  const [rows, setRows] = useState(answer.rows);
  const [loading, setLoading] = useState(false);
  async function go(to: number): Promise<void> {
    setLoading(true);
    try {
      const page = await get<{ rows: unknown[][] }>(
        `/api/queries/${runId}/${answer.index}?offset=${to}&limit=${PAGE}`,
      );
      setRows(page.rows);
      setOffset(to);
    } finally {
      setLoading(false);
    }
  }
  const hasRows = answer.columns.length > 0;
  return (
    <div class="result" data-statement={answer.index}>
      <div class="toolbar">
        <b>
          {answer.index + 1}. {answer.command}
        </b>
        <span class="muted">
          {hasRows ? `${answer.rowCount.toLocaleString('en-US')} rows` : `${answer.rowCount} affected`}
        </span>
        {hasRows && answer.rowCount > PAGE && (
          <>
            <button disabled={loading || offset === 0} onClick={() => void go(Math.max(0, offset - PAGE))}>
              ‹ Prev
            </button>
            <span class="muted">
              {offset + 1}–{Math.min(offset + PAGE, answer.rowCount)} of{' '}
              {answer.rowCount.toLocaleString('en-US')}
            </span>
            <button
              disabled={loading || offset + PAGE >= answer.rowCount}
              onClick={() => void go(offset + PAGE)}
            >
              Next ›
            </button>
          </>
        )}
        {hasRows && (
          <a href={`/api/queries/${runId}/${answer.index}/csv`} download>
            Export CSV
          </a>
        )}
      </div>
      {hasRows && (
        <div class="table-wrap">
          <ResultTable
            columns={answer.columns.map((c) => c.name)}
            types={answer.columns.map((c) => c.type)}
            rows={rows}
            first={offset}
          />
        </div>
      )}
    </div>
  );
}

/** The query editor page. */
export function EditorPage() {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const language = useRef(new Compartment());
  const [answer, setAnswer] = useState<RunAnswer | null>(null);
  const [running, setRunning] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [history, setHistory] = useState<string[]>(
    () => JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]') as string[],
  );
  const [saved, setSaved] = useState<{ id: string; name: string; sql: string }[]>([]);
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const runRef = useRef<() => void>(() => undefined);

  useEffect(() => {
    if (!host.current) return undefined;
    const editor = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: sessionStorage.getItem('sluice.editor') ?? 'SELECT count(*) FROM sensor.message;\n',
        extensions: [
          basicSetup,
          language.current.of(sql({ dialect: PostgreSQL, upperCaseKeywords: true })),
          errorMark,
          Prec.highest(
            keymap.of([
              {
                key: 'Mod-Enter',
                run: () => {
                  runRef.current();
                  return true;
                },
              },
            ]),
          ),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) sessionStorage.setItem('sluice.editor', u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = editor;
    (host.current as HTMLDivElement & { cmView?: EditorView }).cmView = editor;
    void get<Catalog>('/api/catalog').then((c) => {
      setCatalog(c);
      editor.dispatch({
        effects: language.current.reconfigure(
          sql({
            dialect: PostgreSQL,
            upperCaseKeywords: true,
            schema: completionSchema(c),
            defaultSchema: 'public',
          }),
        ),
      });
    });
    void loadSaved();
    return () => editor.destroy();
  }, []);

  async function loadSaved(): Promise<void> {
    setSaved(
      (await get<{ queries: { id: string; name: string; sql: string }[] }>('/api/saved-queries')).queries,
    );
  }

  function text(): string {
    return view.current?.state.doc.toString() ?? '';
  }

  function setText(sql: string): void {
    const editor = view.current;
    if (!editor) return;
    editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: sql } });
  }

  async function run(): Promise<void> {
    const script = text();
    if (!script.trim() || running) return;
    const id = newRunId();
    setRunning(id);
    setFailure(null);
    view.current?.dispatch({ effects: setErrorMark.of(null) });
    const next = [script, ...history.filter((h) => h !== script)].slice(0, 50);
    setHistory(next);
    localStorage.setItem(HISTORY_KEY, JSON.stringify(next));
    try {
      const result = await post<RunAnswer>('/api/queries', { sql: script, id });
      setAnswer(result);
      const error = result.error;
      if (error && view.current) {
        const length = view.current.state.doc.length;
        let from: number;
        let to: number;
        if (error.position !== undefined) {
          from = Math.min(length, Math.max(0, error.position - 1));
          const word = /^[\w."']+/.exec(script.slice(from))?.[0].length ?? 1;
          to = Math.min(length, from + Math.max(1, word));
          if (from === to) from = Math.max(0, to - 1);
        } else {
          from = error.offset ?? 0;
          to = Math.min(length, from + (error.length ?? length));
        }
        if (to > from)
          view.current.dispatch({ effects: setErrorMark.of({ from, to }), selection: { anchor: from } });
      }
    } catch (e) {
      setFailure((e as Error).message);
    } finally {
      setRunning(null);
    }
  }
  runRef.current = () => void run();

  async function cancel(): Promise<void> {
    if (running) await post(`/api/queries/${running}/cancel`);
  }

  async function save(): Promise<void> {
    const name = prompt('Save the query as:');
    if (!name) return;
    const id =
      name
        .toLowerCase()
        .replace(/[^a-z0-9_-]+/g, '-')
        .slice(0, 60) || newRunId();
    await put(`/api/saved-queries/${id}`, { name, sql: text() });
    await loadSaved();
  }

  return (
    <div class="layout-2">
      <div>
        <div class="toolbar">
          <button class="primary" onClick={() => void run()} disabled={!!running} title="Ctrl+Enter">
            ▶ Run
          </button>
          <button onClick={() => void cancel()} disabled={!running}>
            ■ Cancel
          </button>
          <button onClick={() => void save()}>Save…</button>
          <span class="muted">
            {running ? 'Running…' : answer ? `${answer.ms} ms` : 'Ctrl+Enter runs the script'}
          </span>
        </div>
        <div class="editor" ref={host} />
        {failure && <p class="error">{failure}</p>}
        {answer && (
          <div id="results">
            {answer.statements.map((s) => (
              <StatementResult key={`${answer.id}-${s.index}`} runId={answer.id} answer={s} />
            ))}
            {answer.error && (
              <div class="result failed" data-statement-error={answer.error.statementIndex ?? ''}>
                <p class="error">
                  {answer.error.statementIndex !== undefined ? `${answer.error.statementIndex + 1}. ` : ''}
                  ERROR: {answer.error.message}{' '}
                  <span class="muted">
                    (SQLSTATE {answer.error.sqlstate}
                    {answer.error.position !== undefined ? `, position ${answer.error.position}` : ''})
                  </span>
                </p>
                {answer.error.hint && <p class="muted">HINT: {answer.error.hint}</p>}
              </div>
            )}
          </div>
        )}
      </div>
      <aside class="side">
        <h2>Saved queries</h2>
        <ul>
          {saved.length === 0 && <li class="muted">None yet.</li>}
          {saved.map((q) => (
            <li title={q.sql}>
              <span onClick={() => setText(q.sql)}>{q.name}</span>{' '}
              <button
                class="link"
                onClick={async () => {
                  if (confirm(`Delete ${q.name}?`)) {
                    await del(`/api/saved-queries/${q.id}`);
                    await loadSaved();
                  }
                }}
              >
                ✕
              </button>
            </li>
          ))}
        </ul>
        <h2>History</h2>
        <ul>
          {history.map((h) => (
            <li title={h} onClick={() => setText(h)}>
              {h.replace(/\s+/g, ' ').slice(0, 80)}
            </li>
          ))}
        </ul>
        <h2>Tables</h2>
        <ul>
          {(catalog?.tables ?? []).map((t) => (
            <li
              title={t.columns.map((c) => `${c.name} ${c.type}`).join('\n')}
              onClick={() => setText(`SELECT * FROM ${t.schema}.${t.name} LIMIT 100;`)}
            >
              {t.view ? '◇' : '▦'} {t.schema}.{t.name}
            </li>
          ))}
        </ul>
      </aside>
    </div>
  );
}
