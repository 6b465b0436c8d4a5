/**
 * The console: health, metrics and the JSON API on the console port. The web pages come
 * in a later stage on the same server.
 */
export { createConsoleServer, type ConsoleServerOptions } from './console-server.ts';
