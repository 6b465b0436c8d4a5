/** Dashboards: every visual pushed live by the server (one event stream per open dashboard). */
import { useEffect, useState } from 'preact/hooks';
import type { DashboardSpec, Filters, VisualData } from '../../visuals.ts';
import { connection, del, get, loadSession, put } from '../api.ts';
import { VisualView } from '../visual.tsx';

type Answer = { id: string; data: VisualData; ms: number } | { id: string; error: string };

const RANGE_CHOICES: [string, string][] = [
  ['5m', 'Last 5 minutes'],
  ['30m', 'Last 30 minutes'],
  ['1h', 'Last hour'],
  ['24h', 'Last 24 hours'],
  ['all', 'All time'],
  ['custom', 'Custom…'],
];

/** `datetime-local` input value (UTC, as the warehouse runs) to epoch seconds. */
function epochOf(value: string): number {
  return Date.parse(`${value}:00Z`) / 1000;
}

/** Epoch seconds to a `datetime-local` input value (UTC). */
function inputOf(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 16);
}

/** The filters of the bar: a range name or a custom window, and `field=value,value` pairs. */
function filtersOf(range: string, from: string, to: string, values: string): Filters {
  const parsed: Record<string, string[]> = {};
  for (const part of values.split(';')) {
    const [field, list] = part.split('=', 2);
    if (!field?.trim() || !list) continue;
    parsed[field.trim()] = list
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
  }
  return {
    range: range === 'custom' ? { from: epochOf(from), to: epochOf(to) } : range,
    ...(Object.keys(parsed).length > 0 ? { values: parsed } : {}),
  };
}

/** One dashboard, chosen by id or the first one. */
export function DashboardPage(props: { id?: string | undefined }) {
  const [list, setList] = useState<{ id: string; name: string }[] | null>(null);
  const [spec, setSpec] = useState<DashboardSpec | null>(null);
  const [range, setRange] = useState<string | null>(null);
  const [answers, setAnswers] = useState<Record<string, Answer>>({});
  const [error, setError] = useState<string | null>(null);
  const [updated, setUpdated] = useState<Date | null>(null);
  const now = Math.floor(Date.now() / 1000);
  const [from, setFrom] = useState(inputOf(now - 3600));
  const [to, setTo] = useState(inputOf(now + 60));
  const [values, setValues] = useState('');
  const [applied, setApplied] = useState('');

  useEffect(() => {
    get<{ dashboards: { id: string; name: string }[] }>('/api/dashboards')
      .then((r) => setList(r.dashboards))
      .catch((e: Error) => setError(e.message));
  }, []);

  const id = props.id ?? list?.[0]?.id;
  useEffect(() => {
    if (!id) return;
    setSpec(null);
    setAnswers({});
    get<DashboardSpec>(`/api/dashboards/${encodeURIComponent(id)}`)
      .then((s) => {
        setSpec(s);
        setRange(typeof s.filters?.range === 'string' ? s.filters.range : 'all');
        const saved = Object.entries(s.filters?.values ?? {})
          .map(([field, list]) => `${field}=${list.join(',')}`)
          .join('; ');
        setValues(saved);
        setApplied(saved);
      })
      .catch((e: Error) => setError(e.message));
  }, [id]);

  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (!spec || !range) return undefined;
    const filters = filtersOf(range, from, to, applied);
    const source = new EventSource(
      `/api/live?dashboard=${encodeURIComponent(spec.id)}&filters=${encodeURIComponent(JSON.stringify(filters))}`,
    );
    let retry: ReturnType<typeof setTimeout> | undefined;
    source.addEventListener('visual', (event) => {
      const answer = JSON.parse((event as MessageEvent<string>).data) as Answer;
      setAnswers((all) => ({ ...all, [answer.id]: answer }));
      setUpdated(new Date());
    });
    source.onopen = () => connection.set(false);
    source.onerror = () => {
      connection.set(true);
      // The browser retries by itself unless the server answered with an error (for instance
      // after a restart signed everyone out): then check the session (which leads to the
      // sign-in page when it is gone) and open a new stream.
      if (source.readyState === EventSource.CLOSED)
        retry = setTimeout(() => {
          void loadSession()
            .then(() => setAttempt((n) => n + 1))
            .catch(() => setAttempt((n) => n + 1));
        }, 1000);
    };
    return () => {
      if (retry) clearTimeout(retry);
      source.close();
      connection.set(false);
    };
  }, [spec, range, applied, range === 'custom' ? `${from}/${to}` : '', attempt]);

  async function removeVisual(visualId: string): Promise<void> {
    if (!spec || !confirm('Remove this visual from the dashboard?')) return;
    const next = { ...spec, visuals: spec.visuals.filter((v) => v.id !== visualId) };
    setSpec(await put<DashboardSpec>(`/api/dashboards/${encodeURIComponent(spec.id)}`, next));
  }

  async function removeDashboard(): Promise<void> {
    if (!spec || !confirm(`Delete the dashboard ${spec.name}?`)) return;
    await del(`/api/dashboards/${encodeURIComponent(spec.id)}`);
    location.hash = '#/';
    location.reload();
  }

  if (error) return <p class="error">{error}</p>;
  if (list && list.length === 0)
    return (
      <>
        <h1>Dashboards</h1>
        <p>
          No dashboards yet. <code>sluice demo</code> creates the scenario's; build your own in{' '}
          <a href="#/analysis">Analysis</a>.
        </p>
      </>
    );
  if (!spec) return <p class="loading">Loading…</p>;
  return (
    <>
      <div class="toolbar">
        <h1 style={{ margin: 0, marginRight: 12 }}>{spec.name}</h1>
        <select
          aria-label="Dashboard"
          value={spec.id}
          onChange={(e) =>
            (location.hash = `#/dashboards/${encodeURIComponent((e.target as HTMLSelectElement).value)}`)
          }
        >
          {(list ?? []).map((d) => (
            <option value={d.id}>{d.name}</option>
          ))}
        </select>
        <select
          aria-label="Time range"
          value={range ?? 'all'}
          onChange={(e) => setRange((e.target as HTMLSelectElement).value)}
        >
          {RANGE_CHOICES.map(([value, label]) => (
            <option value={value}>{label}</option>
          ))}
        </select>
        {range === 'custom' && (
          <>
            <input
              type="datetime-local"
              aria-label="From (UTC)"
              value={from}
              onChange={(e) => setFrom((e.target as HTMLInputElement).value)}
            />
            <input
              type="datetime-local"
              aria-label="To (UTC)"
              value={to}
              onChange={(e) => setTo((e.target as HTMLInputElement).value)}
            />
          </>
        )}
        <input
          aria-label="Only values"
          placeholder="field=value,value; …"
          value={values}
          onInput={(e) => setValues((e.target as HTMLInputElement).value)}
          onKeyDown={(e) => e.key === 'Enter' && setApplied(values)}
          onBlur={() => setApplied(values)}
        />
        <span class="muted">
          {updated ? `live · updated ${updated.toLocaleTimeString()}` : 'connecting…'}
        </span>
        <button class="danger" style={{ marginLeft: 'auto' }} onClick={() => void removeDashboard()}>
          Delete dashboard
        </button>
      </div>
      <div class="cards">
        {spec.visuals.map((visual) => {
          const answer = answers[visual.id];
          return (
            <section class="card" data-visual={visual.id} data-kind={visual.kind}>
              <header class="card-head">
                <h2>{visual.title}</h2>
                {answer && 'ms' in answer && <span class="muted">{answer.ms} ms</span>}
                <button class="link" title="Remove" onClick={() => void removeVisual(visual.id)}>
                  ✕
                </button>
              </header>
              {!answer ? (
                <p class="muted">Loading…</p>
              ) : 'error' in answer ? (
                <p class="error" data-error>
                  {answer.error}
                </p>
              ) : (
                <VisualView data={answer.data} height={visual.kind === 'map' ? 320 : 260} />
              )}
            </section>
          );
        })}
      </div>
    </>
  );
}
