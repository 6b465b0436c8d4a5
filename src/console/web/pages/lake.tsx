/** The lake: buckets, prefixes (the YYYY/MM/DD/HH/ hierarchy), objects, previews, upload and download. */
import { useEffect, useState } from 'preact/hooks';
import { bytes, get, request } from '../api.ts';

interface Listing {
  prefixes: string[];
  objects: { key: string; size: number; lastModified: string }[];
  isTruncated: boolean;
  nextStartAfter?: string;
}
interface Preview {
  gzip: boolean;
  size: number;
  binary: boolean;
  records: string[];
  truncated: boolean;
}

const q = (params: Record<string, string>): string => new URLSearchParams(params).toString();

/** `path` is [bucket, ...prefix parts]. */
export function LakePage(props: { path: string[] }) {
  const [bucket, ...parts] = props.path;
  const prefix = parts.length > 0 ? `${parts.join('/')}/` : '';
  const [buckets, setBuckets] = useState<{ name: string; created: string }[] | null>(null);
  const [listing, setListing] = useState<Listing | null>(null);
  const [preview, setPreview] = useState<{ key: string; data: Preview } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    setError(null);
    setPreview(null);
    if (!bucket) {
      get<{ buckets: { name: string; created: string }[] }>('/api/lake/buckets')
        .then((r) => setBuckets(r.buckets))
        .catch((e: Error) => setError(e.message));
      return;
    }
    setListing(null);
    get<Listing>(`/api/lake/list?${q({ bucket, prefix })}`)
      .then(setListing)
      .catch((e: Error) => setError(e.message));
  }, [bucket, prefix, reload]);

  async function more(): Promise<void> {
    if (!bucket || !listing?.nextStartAfter) return;
    const next = await get<Listing>(
      `/api/lake/list?${q({ bucket, prefix, startAfter: listing.nextStartAfter })}`,
    );
    setListing({
      ...next,
      prefixes: [...listing.prefixes, ...next.prefixes],
      objects: [...listing.objects, ...next.objects],
    });
  }

  async function upload(files: FileList | null): Promise<void> {
    if (!bucket || !files) return;
    try {
      for (const file of Array.from(files)) {
        await request('PUT', `/api/lake/object?${q({ bucket, key: prefix + file.name })}`, undefined, file);
      }
      setReload((n) => n + 1);
    } catch (e) {
      setError((e as Error).message);
    }
  }

  async function remove(key: string): Promise<void> {
    if (!bucket || !confirm(`Delete s3://${bucket}/${key}?`)) return;
    try {
      await request('DELETE', `/api/lake/object?${q({ bucket, key })}`);
      setReload((n) => n + 1);
    } catch (e) {
      setError((e as Error).message);
    }
  }

  async function open(key: string): Promise<void> {
    try {
      setPreview({ key, data: await get<Preview>(`/api/lake/preview?${q({ bucket: bucket!, key })}`) });
    } catch (e) {
      setError((e as Error).message);
    }
  }

  const crumbs = [
    <a href="#/lake">Lake</a>,
    ...(bucket ? [<a href={`#/lake/${encodeURIComponent(bucket)}`}>{bucket}</a>] : []),
    ...parts.map((p, i) => (
      <a href={`#/lake/${[bucket!, ...parts.slice(0, i + 1)].map(encodeURIComponent).join('/')}`}>{p}</a>
    )),
  ];
  return (
    <>
      <h1>
        {crumbs.map((c, i) => (
          <>
            {i > 0 && ' / '}
            {c}
          </>
        ))}
      </h1>
      {error && <p class="error">{error}</p>}
      {!bucket ? (
        <table class="grid">
          <thead>
            <tr>
              <th>Bucket</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {(buckets ?? []).map((b) => (
              <tr>
                <td>
                  <a href={`#/lake/${encodeURIComponent(b.name)}`}>{b.name}</a>
                </td>
                <td>{new Date(b.created).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <div class="layout-2" style={{ gridTemplateColumns: preview ? '1fr 1fr' : '1fr' }}>
          <div>
            <div class="toolbar">
              <label>
                Upload to {prefix || '/'}:{' '}
                <input
                  type="file"
                  multiple
                  onChange={(e) => void upload((e.target as HTMLInputElement).files)}
                />
              </label>
            </div>
            {!listing ? (
              <p class="loading">Loading…</p>
            ) : (
              <table class="grid">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Size</th>
                    <th>Last modified</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {listing.prefixes.map((p) => (
                    <tr>
                      <td colSpan={4}>
                        📁{' '}
                        <a
                          href={`#/lake/${[bucket, ...p.replace(/\/$/, '').split('/')].map(encodeURIComponent).join('/')}`}
                        >
                          {p.slice(prefix.length)}
                        </a>
                      </td>
                    </tr>
                  ))}
                  {listing.objects.map((o) => (
                    <tr>
                      <td>
                        <button class="link" style={{ color: '#0b6bcb' }} onClick={() => void open(o.key)}>
                          {o.key.slice(prefix.length)}
                        </button>
                      </td>
                      <td class="num">{bytes(o.size)}</td>
                      <td>{new Date(o.lastModified).toLocaleString()}</td>
                      <td>
                        <a href={`/api/lake/object?${q({ bucket, key: o.key })}`} download>
                          Download
                        </a>{' '}
                        <button class="link" style={{ color: '#b3261e' }} onClick={() => void remove(o.key)}>
                          Delete
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {listing?.isTruncated && <button onClick={() => void more()}>More…</button>}
          </div>
          {preview && (
            <div class="card">
              <div class="toolbar">
                <h2 style={{ margin: 0 }}>{preview.key.split('/').pop()}</h2>
                <span class="muted">
                  {preview.data.gzip ? 'GZIP, ' : ''}
                  {bytes(preview.data.size)} {preview.data.gzip ? 'uncompressed' : ''}
                </span>
                <button onClick={() => setPreview(null)}>Close</button>
              </div>
              {preview.data.binary ? (
                <p class="muted">Binary content; download it to read it.</p>
              ) : (
                <pre class="json" data-preview>
                  {preview.data.records.join('\n')}
                </pre>
              )}
              {preview.data.truncated && <p class="note">Showing the first records only.</p>}
            </div>
          )}
        </div>
      )}
    </>
  );
}
