import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The UI is built into web/dist, which the server serves at / (src/api/ui.ts). */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
});
