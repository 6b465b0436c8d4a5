/** The console's single page: navigation, the connection banner and the pages by hash route. */
import { render, type JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { connection, loadSession, signOut } from './api.ts';
import { DashboardPage } from './pages/dashboard.tsx';
import { StreamsPage, StreamPage } from './pages/streams.tsx';
import { LakePage } from './pages/lake.tsx';
import { AnalysisPage } from './pages/analysis.tsx';
import './style.css';

/** The query editor, loaded when first opened: CodeMirror is not needed by the dashboards. */
function LazyEditor() {
  const [page, setPage] = useState<(() => JSX.Element) | null>(null);
  useEffect(() => {
    void import('./pages/editor.tsx').then((m) => setPage(() => m.EditorPage));
  }, []);
  const Page = page;
  return Page ? <Page /> : <p class="loading">Loading…</p>;
}

/** The current hash route, e.g. `/streams/name`. */
function useRoute(): string {
  const [route, setRoute] = useState(location.hash.slice(1) || '/');
  useEffect(() => {
    const onChange = (): void => setRoute(location.hash.slice(1) || '/');
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

function App() {
  const route = useRoute();
  const [user, setUser] = useState<string | null>(null);
  const [down, setDown] = useState(false);
  connection.set = setDown;
  useEffect(() => {
    void loadSession().then((s) => setUser(s.user));
  }, []);
  if (!user) return <p class="loading">Loading…</p>;
  const [, section = '', ...rest] = route.split('/');
  const links: [string, string][] = [
    ['', 'Dashboards'],
    ['analysis', 'Analysis'],
    ['query', 'Query editor'],
    ['streams', 'Delivery streams'],
    ['lake', 'Lake'],
  ];
  let page;
  switch (section) {
    case 'query':
      page = <LazyEditor />;
      break;
    case 'streams':
      page = rest[0] ? <StreamPage name={decodeURIComponent(rest[0])} /> : <StreamsPage />;
      break;
    case 'lake':
      page = <LakePage path={rest.map(decodeURIComponent)} />;
      break;
    case 'analysis':
      page = <AnalysisPage />;
      break;
    case 'dashboards':
      page = <DashboardPage id={rest[0] ? decodeURIComponent(rest[0]) : undefined} />;
      break;
    default:
      page = <DashboardPage />;
  }
  return (
    <>
      <header>
        <span class="brand">Sluice</span>
        <nav>
          {links.map(([href, label]) => (
            <a
              href={`#/${href}`}
              class={section === href || (href === '' && section === 'dashboards') ? 'active' : ''}
            >
              {label}
            </a>
          ))}
        </nav>
        <span class="user">
          {user} ·{' '}
          <button class="link" onClick={() => void signOut()}>
            Sign out
          </button>
        </span>
      </header>
      {down && (
        <div class="banner" role="alert">
          The connection to the server was lost; reconnecting…
        </div>
      )}
      <main>{page}</main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
