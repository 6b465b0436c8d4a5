/** Delivery streams: the list, one stream's configuration, metrics, errors; create, edit, delete. */
import { useEffect, useState } from 'preact/hooks';
import { bytes, del, fmt, get, post, put } from '../api.ts';
import { Chart } from '../chart.tsx';

type Description = Record<string, unknown> & {
  DeliveryStreamName: string;
  DeliveryStreamStatus?: string;
  VersionId?: string;
  CreateTimestamp?: number | string;
  Destinations?: Record<string, unknown>[];
};
interface StreamSummary {
  description: Description;
  status: { next: number; end: number; oldestUndeliveredMs?: number };
  totals: Record<string, number>;
}
interface StreamDetail extends StreamSummary {
  metrics: Record<string, { t: number; v: number }[]>;
  errors: { time?: string | number; manifest?: string; message?: string; [k: string]: unknown }[];
}

const TEMPLATE = {
  DeliveryStreamName: 'my-stream',
  DeliveryStreamType: 'DirectPut',
  ExtendedS3DestinationConfiguration: {
    BucketARN: 'arn:aws:s3:::redshift-stack-databucket',
    Prefix: 'my-stream/',
    ErrorOutputPrefix: 'my-stream/errors/',
    BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
    CompressionFormat: 'GZIP',
  },
};

/** The destination of a description, as [kind, config]. */
function destinationOf(d: Description): [string, Record<string, unknown>] {
  const dest = d.Destinations?.[0] ?? {};
  for (const [key, value] of Object.entries(dest)) {
    if (key.endsWith('DestinationDescription'))
      return [key.replace('DestinationDescription', ''), value as Record<string, unknown>];
  }
  return ['?', {}];
}

/** The list of streams and the form to create one. */
export function StreamsPage() {
  const [streams, setStreams] = useState<StreamSummary[] | null>(null);
  const [creating, setCreating] = useState(false);
  const [draft, setDraft] = useState(JSON.stringify(TEMPLATE, null, 2));
  const [error, setError] = useState<string | null>(null);
  const load = (): void =>
    void get<{ streams: StreamSummary[] }>('/api/streams').then((r) => setStreams(r.streams));
  useEffect(() => {
    load();
    const timer = setInterval(load, 5000);
    return () => clearInterval(timer);
  }, []);
  async function create(): Promise<void> {
    setError(null);
    try {
      const input = JSON.parse(draft) as { DeliveryStreamName: string };
      await post('/api/streams', input);
      location.hash = `#/streams/${encodeURIComponent(input.DeliveryStreamName)}`;
    } catch (e) {
      setError((e as Error).message);
    }
  }
  return (
    <>
      <div class="toolbar">
        <h1 style={{ margin: 0 }}>Delivery streams</h1>
        <button onClick={() => setCreating(!creating)}>{creating ? 'Close' : 'Create stream…'}</button>
      </div>
      {creating && (
        <div class="card" style={{ marginBottom: 14 }}>
          <h2>New stream (a CreateDeliveryStream request)</h2>
          <textarea
            class="json"
            value={draft}
            onInput={(e) => setDraft((e.target as HTMLTextAreaElement).value)}
          />
          <div class="toolbar">
            <button class="primary" onClick={() => void create()}>
              Create
            </button>
            {error && <span class="error">{error}</span>}
          </div>
        </div>
      )}
      {!streams ? (
        <p class="loading">Loading…</p>
      ) : streams.length === 0 ? (
        <p>No delivery streams yet.</p>
      ) : (
        <table class="grid">
          <thead>
            <tr>
              <th>Name</th>
              <th>Status</th>
              <th>Destination</th>
              <th>Incoming records</th>
              <th>Delivered (S3)</th>
              <th>Loaded</th>
              <th>Backlog</th>
            </tr>
          </thead>
          <tbody>
            {streams.map((s) => (
              <tr>
                <td>
                  <a href={`#/streams/${encodeURIComponent(s.description.DeliveryStreamName)}`}>
                    {s.description.DeliveryStreamName}
                  </a>
                </td>
                <td>{s.description.DeliveryStreamStatus}</td>
                <td>{destinationOf(s.description)[0]}</td>
                <td class="num">{fmt(s.totals.IncomingRecords)}</td>
                <td class="num">{fmt(s.totals['DeliveryToS3.Records'])}</td>
                <td class="num">{fmt(s.totals['DeliveryToRedshift.Records'])}</td>
                <td class="num">{fmt(s.status.end - s.status.next)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

const CHARTS: [string, string[]][] = [
  ['Incoming records', ['IncomingRecords']],
  ['Incoming bytes', ['IncomingBytes']],
  ['Throttled records', ['ThrottledRecords']],
  ['Records delivered', ['DeliveryToS3.Records', 'DeliveryToRedshift.Records']],
  ['Delivery success', ['DeliveryToS3.Success', 'DeliveryToRedshift.Success']],
  ['Data freshness (s)', ['DeliveryToS3.DataFreshness']],
];

function MetricChart(props: { title: string; names: string[]; metrics: StreamDetail['metrics'] }) {
  const now = Date.now();
  return (
    <div class="card">
      <h2>{props.title}</h2>
      <Chart
        height={160}
        option={{
          animation: false,
          tooltip: { trigger: 'axis' },
          legend: { show: props.names.length > 1, top: 0, textStyle: { fontSize: 10 } },
          grid: { left: 56, right: 12, top: props.names.length > 1 ? 24 : 8, bottom: 24 },
          xAxis: { type: 'time', min: now - 3600_000, max: now },
          yAxis: { type: 'value' },
          series: props.names.map((name) => ({
            name,
            type: 'line',
            showSymbol: true,
            symbolSize: 3,
            data: (props.metrics[name] ?? []).map((p) => [p.t, p.v]),
          })),
        }}
      />
    </div>
  );
}

/** One stream: configuration, metrics over the last hour, errors with redelivery, edit and delete. */
export function StreamPage(props: { name: string }) {
  const [detail, setDetail] = useState<StreamDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const path = `/api/streams/${encodeURIComponent(props.name)}`;
  const load = (): void =>
    void get<StreamDetail>(path)
      .then(setDetail)
      .catch((e: Error) => setError(e.message));
  useEffect(() => {
    load();
    const timer = setInterval(load, 5000);
    return () => clearInterval(timer);
  }, [props.name]);
  if (error) return <p class="error">{error}</p>;
  if (!detail) return <p class="loading">Loading…</p>;
  const d = detail.description;
  const [kind, dest] = destinationOf(d);
  const s3 = (dest.S3DestinationDescription ?? dest) as Record<string, unknown>;
  const copy = dest.CopyCommand as Record<string, unknown> | undefined;
  const rows: [string, unknown][] = [
    ['Status', d.DeliveryStreamStatus],
    ['Version', d.VersionId],
    ['Destination', kind],
    ['Cluster JDBC URL', dest.ClusterJDBCURL],
    ['User', dest.Username],
    ['Bucket', s3.BucketARN],
    ['Prefix', s3.Prefix],
    ['Error output prefix', s3.ErrorOutputPrefix],
    ['Buffering hints', JSON.stringify(s3.BufferingHints)],
    ['Compression', s3.CompressionFormat],
    [
      'COPY',
      copy
        ? `COPY ${String(copy.DataTableName)} (${String(copy.DataTableColumns ?? '')}) ${String(copy.CopyOptions ?? '')}`
        : undefined,
    ],
    ['Retry options', dest.RetryOptions ? JSON.stringify(dest.RetryOptions) : undefined],
    ['Backlog', `${detail.status.end - detail.status.next} records`],
  ];
  const updateKey = kind === 'Redshift' ? 'RedshiftDestinationUpdate' : `${kind}DestinationUpdate`;
  const draftUpdate = (): string =>
    JSON.stringify(
      kind === 'Redshift'
        ? {
            [updateKey]: {
              CopyCommand: copy,
              RetryOptions: dest.RetryOptions,
              S3Update: {
                BufferingHints: s3.BufferingHints,
                CompressionFormat: s3.CompressionFormat,
                Prefix: s3.Prefix,
              },
            },
          }
        : {
            [updateKey]: {
              BufferingHints: s3.BufferingHints,
              CompressionFormat: s3.CompressionFormat,
              Prefix: s3.Prefix,
              ErrorOutputPrefix: s3.ErrorOutputPrefix,
            },
          },
      null,
      2,
    );
  async function saveUpdate(): Promise<void> {
    try {
      await put(path, JSON.parse(editing ?? '{}'));
      setEditing(null);
      setMessage('Destination updated.');
      load();
    } catch (e) {
      setMessage((e as Error).message);
    }
  }
  async function redeliver(manifest?: string): Promise<void> {
    try {
      const r = await post<{ results: unknown[] }>(`${path}/redeliver`, manifest ? { manifest } : {});
      setMessage(`Redelivered: ${JSON.stringify(r.results)}`);
      load();
    } catch (e) {
      setMessage((e as Error).message);
    }
  }
  async function remove(): Promise<void> {
    if (!confirm(`Delete ${props.name}? It stops accepting records now and is removed once delivered.`))
      return;
    await del(path);
    location.hash = '#/streams';
  }
  return (
    <>
      <div class="toolbar">
        <h1 style={{ margin: 0 }}>
          <a href="#/streams">Delivery streams</a> / {props.name}
        </h1>
        <button onClick={() => setEditing(editing === null ? draftUpdate() : null)}>Edit destination…</button>
        <button class="danger" onClick={() => void remove()}>
          Delete
        </button>
        {message && <span class="muted">{message}</span>}
      </div>
      {editing !== null && (
        <div class="card" style={{ marginBottom: 14 }}>
          <h2>UpdateDestination</h2>
          <textarea
            class="json"
            value={editing}
            onInput={(e) => setEditing((e.target as HTMLTextAreaElement).value)}
          />
          <button class="primary" onClick={() => void saveUpdate()}>
            Update
          </button>
        </div>
      )}
      <div class="cards">
        <div class="card">
          <h2>Configuration</h2>
          <dl class="config">
            {rows
              .filter(([, v]) => v !== undefined && v !== null && v !== '')
              .map(([k, v]) => (
                <>
                  <dt>{k}</dt>
                  <dd>{String(v)}</dd>
                </>
              ))}
          </dl>
          <p class="muted">
            Totals since start: {fmt(detail.totals.IncomingRecords)} records in (
            {bytes(detail.totals.IncomingBytes ?? 0)}), {fmt(detail.totals['DeliveryToRedshift.Records'])}{' '}
            loaded.
          </p>
        </div>
        <div class="card">
          <div class="toolbar">
            <h2 style={{ margin: 0 }}>Recent delivery errors</h2>
            <button onClick={() => void redeliver()}>Redeliver all failed manifests</button>
          </div>
          {detail.errors.length === 0 ? (
            <p class="muted">None.</p>
          ) : (
            <table class="grid">
              <tbody>
                {[...detail.errors]
                  .reverse()
                  .slice(0, 50)
                  .map((e) => (
                    <tr>
                      <td>{e.time ? new Date(e.time).toLocaleString() : ''}</td>
                      <td style={{ whiteSpace: 'normal' }}>
                        <b>{String(e.code ?? '')}</b> {String(e.message ?? '')}
                        {e.manifest && <div class="muted">{String(e.manifest)}</div>}
                      </td>
                      <td>
                        {e.manifest && (
                          <button onClick={() => void redeliver(String(e.manifest))}>Redeliver</button>
                        )}
                      </td>
                    </tr>
                  ))}
              </tbody>
            </table>
          )}
        </div>
        {CHARTS.map(([title, names]) => (
          <MetricChart title={title} names={names} metrics={detail.metrics} />
        ))}
      </div>
    </>
  );
}
