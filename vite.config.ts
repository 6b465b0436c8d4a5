// Builds the console's pages (src/console/web/) into dist/console/, which the console
// port serves. `npm ci` runs it through the `prepare` script.
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'src/console/web',
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../../../dist/console',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 4096,
    reportCompressedSize: false,
  },
});
