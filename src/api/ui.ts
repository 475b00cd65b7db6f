import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import helmet from '@fastify/helmet';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where `npm run build:web` puts the built UI (web/build.ts). */
export const WEB_DIST_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** Paths that answer the single-page app; the app's own router takes over in the browser. */
const APP_ROUTES = ['/', '/sign-in', '/settings', '/settings/*'];

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Switchboard</title>
<h1>The Switchboard UI is not built</h1>
<p>Build it with <code>npm run build:web</code> (<code>npm start</code> does this for you) and reload.
The API is available meanwhile at <code>/graphql</code> and <code>/rest</code>.</p>\n`;

/**
 * Serves the React UI: hashed assets under /assets/ and index.html for the app's routes. It never takes
 * a path of the API (/graphql, /rest, /healthz, /metrics): only the exact routes above and /assets/*.
 */
export function uiRoutes(distDir: string = WEB_DIST_DIR) {
  return async (app: FastifyInstance): Promise<void> => {
    // The UI loads only its own hashed scripts and styles and talks only to this origin; nobody may frame it
    // (clickjacking of Delete or Rotate). On every answer, so the API's JSON is never sniffed as HTML either.
    await app.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          // The favicon is an inline SVG data: URL.
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          fontSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      xFrameOptions: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
      // HTTPS and its HSTS policy belong to whatever terminates TLS in front of this server.
      strictTransportSecurity: false,
    });
    await app.register(fastifyStatic, {
      root: `${distDir}/assets`,
      prefix: '/assets/',
      // Vite names every asset by its content hash, so a year of caching is safe.
      maxAge: '365d',
      immutable: true,
      index: false,
      // A missing build is answered per request below (it may be built after the server started).
      suppressWarning: true,
    });
    if (!fs.existsSync(`${distDir}/index.html`)) {
      app.log.warn({ distDir }, 'the web UI is not built: run npm run build:web (npm start does it)');
    }

    const sendIndex = async (reply: FastifyReply) => {
      let html: string;
      try {
        html = await fs.promises.readFile(`${distDir}/index.html`, 'utf8');
      } catch {
        return reply.code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT);
      }
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
    };
    for (const route of APP_ROUTES) app.get(route, (_request, reply) => sendIndex(reply));
  };
}
