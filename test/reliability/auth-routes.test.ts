import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.ts';
import { requireCaller } from '../../src/api/context.ts';
import { DEFAULT_GRAPHQL_LIMITS } from '../../src/config.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { rawRequest } from '../helpers/raw-http.ts';

const GRAPHQL_BODY = JSON.stringify({ query: '{ currentWorkspace { id } }' });
const JSON_HEADERS = { 'content-type': 'application/json' };

interface Case {
  method: string;
  target: (ids: { host: string; person: string }) => string;
  body?: string;
  /** The status with the right key: the route exists and serves it. */
  withKey: number;
}

/** Spellings of existing protected routes: the router decodes them to a /graphql or /rest route, so each needs the key. */
const PROTECTED: Case[] = [
  { method: 'GET', target: () => '/rest/people', withKey: 200 },
  { method: 'GET', target: () => '/%72est/people', withKey: 200 },
  { method: 'GET', target: () => '/%72%65%73%74/%70%65%6F%70%6C%65', withKey: 200 },
  { method: 'GET', target: () => '/rest/%70eople?limit=5', withKey: 200 },
  { method: 'GET', target: () => '/rest/people?', withKey: 200 },
  { method: 'GET', target: () => '/rest/people?x=/healthz&y=%2Fmetrics', withKey: 200 },
  { method: 'GET', target: () => '/rest/people#fragment', withKey: 200 },
  { method: 'GET', target: ({ host }) => `http://${host}/rest/people`, withKey: 200 },
  { method: 'GET', target: () => 'http://elsewhere.example/%72est/people?limit=1', withKey: 200 },
  { method: 'GET', target: () => 'HTTP://elsewhere.example/rest/companies', withKey: 200 },
  { method: 'HEAD', target: () => '/%72est/people', withKey: 200 },
  { method: 'GET', target: () => '/%72est/webhooks', withKey: 200 },
  { method: 'GET', target: () => '/rest/opportunities', withKey: 200 },
  { method: 'GET', target: ({ person }) => `/%72est/people/${person}`, withKey: 200 },
  { method: 'PATCH', target: ({ person }) => `/%72est/people/${person}`, body: '{"city":"Paris"}', withKey: 200 },
  { method: 'POST', target: ({ person }) => `/r%65st/people/${person}/restore`, withKey: 200 },
  { method: 'DELETE', target: () => '/%72est/people/00000000-0000-4000-8000-000000000000', withKey: 404 },
  { method: 'POST', target: () => '/%72est/people', body: '{"firstName":"Eve"}', withKey: 201 },
  { method: 'POST', target: () => '/rest/batch/%70eople', body: '[{"firstName":"Eve"}]', withKey: 201 },
  { method: 'GET', target: () => '/rest/webhooks/00000000-0000-4000-8000-000000000000/deliveries', withKey: 404 },
  { method: 'POST', target: () => '/graphql', body: GRAPHQL_BODY, withKey: 200 },
  { method: 'POST', target: () => '/%67raphql', body: GRAPHQL_BODY, withKey: 200 },
  { method: 'POST', target: () => '/%67%72%61%70%68%71%6c', body: GRAPHQL_BODY, withKey: 200 },
  { method: 'POST', target: () => '/graphql?operationName=x', body: GRAPHQL_BODY, withKey: 200 },
  { method: 'POST', target: ({ host }) => `http://${host}/graphql`, body: GRAPHQL_BODY, withKey: 200 },
  { method: 'POST', target: () => 'http://elsewhere.example/%67raphql', body: GRAPHQL_BODY, withKey: 200 },
  // /rest/:plural names any object of the caller's workspace (custom ones included): which plural exists is known only
  // once the key says which workspace, so these spellings match the route, need the key, then name no object.
  { method: 'GET', target: () => '/rest/./people', withKey: 404 },
  { method: 'GET', target: () => '/rest/people;x', withKey: 404 },
  { method: 'GET', target: () => '/rest/people%00', withKey: 404 },
  { method: 'GET', target: () => '/rest/nothing', withKey: 404 },
];

/** Spellings that name no route (the router is case- and slash-exact and does not resolve dot segments): 404 either way. */
const UNKNOWN: Case[] = [
  { method: 'GET', target: () => '/REST/people', withKey: 404 },
  { method: 'GET', target: () => '/Rest/people', withKey: 404 },
  { method: 'POST', target: () => '/GRAPHQL', body: GRAPHQL_BODY, withKey: 404 },
  { method: 'POST', target: () => '/graphql/', body: GRAPHQL_BODY, withKey: 404 },
  { method: 'POST', target: () => '/%2Fgraphql', body: GRAPHQL_BODY, withKey: 404 },
  { method: 'POST', target: () => '//graphql', body: GRAPHQL_BODY, withKey: 404 },
  { method: 'GET', target: () => '/rest%2Fpeople', withKey: 404 },
  { method: 'GET', target: () => '/rest/../rest/people', withKey: 404 },
  { method: 'GET', target: () => '/%2e%2e/rest/people', withKey: 404 },
  { method: 'GET', target: () => '/healthz/../rest/people', withKey: 404 },
  { method: 'GET', target: () => '/metadata', withKey: 404 },
  // GraphQL is served by POST only (the executor route); a GET names no route.
  { method: 'GET', target: () => `/%67raphql?query=${encodeURIComponent('{ currentWorkspace { id } }')}`, withKey: 404 },
];

describe.each(DATABASE_KINDS)('authentication on the matched route on %s', (kind) => {
  let app: TestApp;
  let host: string;
  let person: string;
  beforeAll(async () => {
    // Many refused keys below: the failed-authentication limit is tested on its own elsewhere.
    app = await startTestApp(kind, { env: { SWITCHBOARD_AUTH_FAILURE_LIMIT: '0' } });
    host = new URL(app.url).host;
    person = (await app.rest('POST', '/rest/people', { firstName: 'Seed' })).body.data.createPerson.id;
    expect(person).toBeTruthy();
  });
  afterAll(async () => {
    await app?.close();
  });

  const send = (entry: Case, headers: Record<string, string> = {}) =>
    rawRequest(app.url, entry.method, entry.target({ host, person }), {
      body: entry.body,
      headers: { ...(entry.body ? JSON_HEADERS : {}), ...headers },
    });

  it.each(PROTECTED.map((entry) => [`${entry.method} ${entry.target({ host: 'HOST', person: ':id' })}`, entry] as const))(
    '%s: 401 without a key or with a wrong one, served with the key',
    async (_name, entry) => {
      const refusedHeaders: Array<Record<string, string>> = [{}, { authorization: 'Bearer sb_wrong_key' }, { authorization: 'Basic c2I6eA==' }, { authorization: 'Bearer' }];
      for (const headers of refusedHeaders) {
        const refused = await send(entry, headers);
        expect(refused.status, JSON.stringify(headers)).toBe(401);
        if (entry.method !== 'HEAD') {
          const body = JSON.parse(refused.body);
          const code = body.errors?.[0]?.extensions?.code ?? body.error?.code;
          expect(code).toBe('UNAUTHENTICATED');
          // GraphQL routes answer in GraphQL's shape, REST routes in REST's: decided by the route, not the URL text.
          expect('errors' in body).toBe(/g(raphql|%72%61%70%68%71%6c)|%67/i.test(entry.target({ host, person })));
        }
      }
      const served = await send(entry, { authorization: `Bearer ${app.apiKey}` });
      expect(served.status, served.body).toBe(entry.withKey);
    },
  );

  it.each(UNKNOWN.map((entry) => [`${entry.method} ${entry.target({ host: 'HOST', person: ':id' })}`, entry] as const))(
    '%s: no route, 404 with or without a key',
    async (_name, entry) => {
      expect((await send(entry)).status).toBe(404);
      expect((await send(entry, { authorization: `Bearer ${app.apiKey}` })).status).toBe(404);
    },
  );

  it('leaves the public routes public: /healthz and the UI', async () => {
    expect((await rawRequest(app.url, 'GET', '/healthz')).status).toBe(200);
    expect((await rawRequest(app.url, 'GET', `http://${host}/healthz`)).status).toBe(200);
    expect([200, 503]).toContain((await rawRequest(app.url, 'GET', '/settings/api-webhooks')).status);
  });

  it('protects routes registered later under /metadata, and a handler without a caller answers 401, never 500', async () => {
    const server = app.server;
    const probe = await buildApp({
      services: server.services,
      logger: pino({ level: 'silent' }),
      config: { limits: { ...loadLimits() }, timeouts: { headersMs: 5_000, requestMs: 5_000, keepAliveMs: 5_000, idleMs: 60_000 }, trustProxy: false },
      checkHealth: async () => {},
      graphqlLimits: { ...DEFAULT_GRAPHQL_LIMITS },
      plugins: [
        (instance) => {
          instance.post('/metadata/probe', async (request) => ({ workspaceId: requireCaller(request).workspaceId }));
          // A route outside the protected paths that forgets it needs a caller: refused, not served to nobody.
          instance.get('/forgotten', async (request) => ({ workspaceId: requireCaller(request).workspaceId }));
        },
      ],
    });
    try {
      for (const url of ['/metadata/probe', '/%6detadata/probe', 'http://elsewhere.example/metadata/probe?x=1']) {
        expect((await probe.inject({ method: 'POST', url })).statusCode, url).toBe(401);
        const served = await probe.inject({ method: 'POST', url, headers: { authorization: `Bearer ${app.apiKey}` } });
        expect(served.statusCode, url).toBe(200);
        expect(served.json().workspaceId).toBe(server.bootstrap.workspaceId);
      }
      const forgotten = await probe.inject({ method: 'GET', url: '/forgotten' });
      expect(forgotten.statusCode).toBe(401);
      expect(forgotten.json().error.code).toBe('UNAUTHENTICATED');
    } finally {
      await probe.close();
    }
  });
});

function loadLimits() {
  return { windowMs: 10_000, perKey: 0, perAddress: 0, authFailures: 0, authFailureWindowMs: 60_000, testSendsPerRequest: 5, testSendsPerMinute: 30 };
}
