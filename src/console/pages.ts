/**
 * The two pages the server writes itself: the sign-in form (served before any session
 * exists, so it needs no script) and the notice shown when the pages were not built.
 */

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
body{font:15px system-ui,sans-serif;background:#f3f5f8;color:#16202c;display:flex;min-height:100vh;margin:0;align-items:center;justify-content:center}
form,main{background:#fff;padding:28px 32px;border-radius:8px;box-shadow:0 2px 12px #0002;min-width:300px}
h1{font-size:20px;margin:0 0 18px}label{display:block;margin:12px 0 4px;font-size:13px;color:#445}
input{width:100%;box-sizing:border-box;padding:8px;border:1px solid #bcc4ce;border-radius:4px;font-size:15px}
button{margin-top:18px;width:100%;padding:9px;background:#0b6bcb;color:#fff;border:0;border-radius:4px;font-size:15px;cursor:pointer}
.error{color:#b3261e;margin:8px 0 0}`;

/** The sign-in form. */
export function loginPage(options: {
  readonly next: string;
  readonly user?: string;
  readonly error?: string;
}): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in · Sluice</title><style>${STYLE}</style></head>
<body><form method="post" action="/login">
<h1>Sluice console</h1>
<p>Sign in with a warehouse user.</p>
${options.error ? `<p class="error" role="alert">${escapeHtml(options.error)}</p>` : ''}
<label for="user">User</label><input id="user" name="user" autocomplete="username" required value="${escapeHtml(options.user ?? 'awsuser')}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="${escapeHtml(options.next)}">
<button type="submit">Sign in</button>
</form></body></html>`;
}

/** Shown at `/` when `dist/console/` is missing. */
export function notBuiltPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sluice console</title><style>${STYLE}</style></head>
<body><main><h1>The console's pages are not built</h1>
<p>Run <code>npm run build:console</code> (npm ci does it) and reload.</p>
<p>The JSON API under <code>/api/</code> works meanwhile.</p></main></body></html>`;
}
