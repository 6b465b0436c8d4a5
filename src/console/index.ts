/**
 * The console: health, metrics, the sign-in page, the web pages (built by Vite from
 * `web/`) and the JSON API on the console port.
 */
export { createConsoleServer, type ConsoleServerOptions } from './console-server.ts';
export { DEMO_DASHBOARD, DEMO_VIEW_SQL } from './demo-dashboard.ts';
