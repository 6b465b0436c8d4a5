/**
 * Analysis: pick a data set (a table, a view or a saved query), see its fields with their
 * detected roles, build a visual (kind, fields, aggregation, time bucket, filters), preview
 * it, and add it to a dashboard saved in the warehouse.
 */
import { useEffect, useState } from 'preact/hooks';
import {
  AGGREGATIONS,
  BUCKETS,
  preferredDimension,
  VISUAL_KINDS,
  type Aggregation,
  type DashboardSpec,
  type DataSource,
  type Field,
  type Filters,
  type VisualData,
  type VisualKind,
  type VisualSpec,
} from '../../visuals.ts';
import { get, post, put } from '../api.ts';
import { VisualView } from '../visual.tsx';

interface Catalog {
  tables: { schema: string; name: string; view: boolean }[];
}

function Select(props: {
  name: string;
  label: string;
  value: string;
  options: (string | [string, string])[];
  onChange: (value: string) => void;
  empty?: string;
}) {
  return (
    <>
      <label for={props.name}>{props.label}</label>
      <select
        id={props.name}
        name={props.name}
        value={props.value}
        onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}
      >
        {props.empty !== undefined && <option value="">{props.empty}</option>}
        {props.options.map((o) => {
          const [value, text] = typeof o === 'string' ? [o, o] : o;
          return <option value={value}>{text}</option>;
        })}
      </select>
    </>
  );
}

/** The visual builder. */
export function AnalysisPage() {
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [saved, setSaved] = useState<{ id: string; name: string; sql: string }[]>([]);
  const [dashboards, setDashboards] = useState<{ id: string; name: string }[]>([]);
  const [dataset, setDataset] = useState('');
  const [fields, setFields] = useState<Field[] | null>(null);
  const [kind, setKind] = useState<VisualKind>('line');
  const [title, setTitle] = useState('');
  const [time, setTime] = useState('');
  const [bucket, setBucket] = useState('auto');
  const [dimension, setDimension] = useState('');
  const [measure, setMeasure] = useState('');
  const [aggregation, setAggregation] = useState<Aggregation>('avg');
  const [lat, setLat] = useState('');
  const [lon, setLon] = useState('');
  const [range, setRange] = useState('all');
  const [values, setValues] = useState('');
  const [preview, setPreview] = useState<{ data?: VisualData; error?: string } | null>(null);
  const [target, setTarget] = useState('');
  const [newName, setNewName] = useState('');
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    void get<Catalog>('/api/catalog').then(setCatalog);
    void get<{ queries: { id: string; name: string; sql: string }[] }>('/api/saved-queries').then((r) =>
      setSaved(r.queries),
    );
    void get<{ dashboards: { id: string; name: string }[] }>('/api/dashboards').then((r) =>
      setDashboards(r.dashboards),
    );
  }, []);

  function sourceOf(value: string): DataSource | undefined {
    if (value.startsWith('table:')) return { table: value.slice(6) };
    if (value.startsWith('query:')) {
      const q = saved.find((s) => s.id === value.slice(6));
      return q ? { sql: q.sql } : undefined;
    }
    return undefined;
  }

  async function pick(value: string): Promise<void> {
    setDataset(value);
    setFields(null);
    setPreview(null);
    const source = sourceOf(value);
    if (!source) return;
    try {
      const r = await post<{ fields: Field[] }>('/api/datasets/fields', { source });
      setFields(r.fields);
      const first = (role: Field['role']): string => r.fields.find((f) => f.role === role)?.name ?? '';
      setTime(first('time'));
      setDimension(preferredDimension(r.fields) ?? '');
      setMeasure(first('measure'));
      setLat(first('latitude'));
      setLon(first('longitude'));
      setTitle(value.replace(/^(table|query):/, ''));
    } catch (e) {
      setPreview({ error: (e as Error).message });
    }
  }

  function spec(): VisualSpec | undefined {
    const source = sourceOf(dataset);
    if (!source) return undefined;
    const timeField = fields?.find((f) => f.name === time);
    return {
      id: `v${Date.now().toString(36)}`,
      title: title || 'Untitled',
      kind,
      source,
      ...(time ? { time } : {}),
      ...(timeField?.epoch ? { timeEpoch: timeField.epoch } : {}),
      ...(kind === 'line' ? { bucket } : {}),
      ...(dimension ? { dimension } : {}),
      ...(measure && aggregation !== 'count'
        ? { measure }
        : kind === 'histogram' && measure
          ? { measure }
          : {}),
      aggregation,
      ...(kind === 'map' ? { latitude: lat, longitude: lon } : {}),
    };
  }

  function filters(): Filters {
    const list = values
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
    return { range, ...(dimension && list.length > 0 ? { values: { [dimension]: list } } : {}) };
  }

  async function show(): Promise<void> {
    const s = spec();
    if (!s) return;
    setPreview(null);
    setPreview(
      await post<{ data?: VisualData; error?: string }>('/api/visual', { spec: s, filters: filters() }),
    );
  }

  async function addToDashboard(): Promise<void> {
    const s = spec();
    if (!s) return;
    setMessage(null);
    try {
      let dashboard: DashboardSpec;
      if (target) {
        dashboard = await get<DashboardSpec>(`/api/dashboards/${encodeURIComponent(target)}`);
      } else {
        const name = newName.trim() || 'My dashboard';
        const id =
          name
            .toLowerCase()
            .replace(/[^a-z0-9_-]+/g, '-')
            .replace(/^-+|-+$/g, '')
            .slice(0, 60) || `d${Date.now()}`;
        dashboard = { id, name, filters: filters(), visuals: [] };
      }
      const next: DashboardSpec = { ...dashboard, visuals: [...dashboard.visuals, s] };
      const savedDashboard = await put<DashboardSpec>(
        `/api/dashboards/${encodeURIComponent(dashboard.id)}`,
        next,
      );
      setMessage(`Added to ${savedDashboard.name}.`);
      location.hash = `#/dashboards/${encodeURIComponent(savedDashboard.id)}`;
    } catch (e) {
      setMessage((e as Error).message);
    }
  }

  const names = (roles: Field['role'][]): string[] =>
    (fields ?? []).filter((f) => roles.includes(f.role)).map((f) => f.name);
  const all = (fields ?? []).map((f) => f.name);
  return (
    <>
      <h1>Analysis</h1>
      <div class="cards" style={{ gridTemplateColumns: 'minmax(380px, 460px) 1fr' }}>
        <div class="card">
          <div class="form-grid">
            <Select
              name="dataset"
              label="Data set"
              value={dataset}
              empty="Choose a table, view or saved query…"
              options={[
                ...(catalog?.tables ?? []).map((t): [string, string] => [
                  `table:${t.schema}.${t.name}`,
                  `${t.view ? 'view' : 'table'} ${t.schema}.${t.name}`,
                ]),
                ...saved.map((q): [string, string] => [`query:${q.id}`, `query ${q.name}`]),
              ]}
              onChange={(v) => void pick(v)}
            />
          </div>
          {fields && (
            <>
              <p class="fields" data-fields>
                {fields.map((f) => (
                  <span class={f.role} title={f.type} data-role={f.role} data-field={f.name}>
                    {f.name}: {f.role}
                    {f.epoch ? ` (epoch ${f.epoch})` : ''}
                  </span>
                ))}
              </p>
              <div class="form-grid">
                <Select
                  name="kind"
                  label="Visual"
                  value={kind}
                  options={[...VISUAL_KINDS]}
                  onChange={(v) => setKind(v as VisualKind)}
                />
                <label for="title">Title</label>
                <input
                  id="title"
                  name="title"
                  value={title}
                  onInput={(e) => setTitle((e.target as HTMLInputElement).value)}
                />
                <Select
                  name="time"
                  label="Time field"
                  value={time}
                  empty="(none)"
                  options={names(['time'])}
                  onChange={setTime}
                />
                {kind === 'line' && (
                  <Select
                    name="bucket"
                    label="Time bucket"
                    value={bucket}
                    options={['auto', ...Object.keys(BUCKETS)]}
                    onChange={setBucket}
                  />
                )}
                <Select
                  name="dimension"
                  label={kind === 'map' ? 'Label' : 'Split by'}
                  value={dimension}
                  empty="(none)"
                  options={all}
                  onChange={setDimension}
                />
                <Select
                  name="measure"
                  label="Measure"
                  value={measure}
                  empty="(none)"
                  options={all}
                  onChange={setMeasure}
                />
                <Select
                  name="aggregation"
                  label="Aggregation"
                  value={aggregation}
                  options={[...AGGREGATIONS]}
                  onChange={(v) => setAggregation(v as Aggregation)}
                />
                {kind === 'map' && (
                  <>
                    <Select name="latitude" label="Latitude" value={lat} options={all} onChange={setLat} />
                    <Select name="longitude" label="Longitude" value={lon} options={all} onChange={setLon} />
                  </>
                )}
                <Select
                  name="range"
                  label="Time range"
                  value={range}
                  options={[
                    ['30m', 'Last 30 minutes'],
                    ['1h', 'Last hour'],
                    ['24h', 'Last 24 hours'],
                    ['all', 'All time'],
                  ]}
                  onChange={setRange}
                />
                <label for="values">Only values</label>
                <input
                  id="values"
                  name="values"
                  placeholder="of the split field, comma-separated"
                  value={values}
                  onInput={(e) => setValues((e.target as HTMLInputElement).value)}
                />
              </div>
              <div class="toolbar" style={{ marginTop: 12 }}>
                <button class="primary" onClick={() => void show()}>
                  Preview
                </button>
              </div>
              <div class="form-grid">
                <Select
                  name="dashboard"
                  label="Dashboard"
                  value={target}
                  empty="New dashboard…"
                  options={dashboards.map((d): [string, string] => [d.id, d.name])}
                  onChange={setTarget}
                />
                {!target && (
                  <>
                    <label for="newDashboard">Name</label>
                    <input
                      id="newDashboard"
                      name="newDashboard"
                      value={newName}
                      placeholder="My dashboard"
                      onInput={(e) => setNewName((e.target as HTMLInputElement).value)}
                    />
                  </>
                )}
              </div>
              <div class="toolbar" style={{ marginTop: 8 }}>
                <button onClick={() => void addToDashboard()}>Add to dashboard</button>
                {message && <span class="muted">{message}</span>}
              </div>
            </>
          )}
        </div>
        <div class="card" data-preview-visual>
          <h2>{title || 'Preview'}</h2>
          {!preview ? (
            <p class="muted">Choose a data set and press Preview.</p>
          ) : preview.error ? (
            <p class="error">{preview.error}</p>
          ) : preview.data ? (
            <VisualView data={preview.data} height={360} />
          ) : null}
        </div>
      </div>
    </>
  );
}
