import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type GraphQLResult, type TestApp } from '../helpers/app.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';

// GraphQL-shaped attacks from one tenant: each is refused before it costs the server, within a bounded time,
// while /healthz and the other tenants are served.
const LARGE_ROWS = 200;
const ADDRESS_BYTES = 100_000;
// Bounds far above what a refusal takes and far below the stalls these documents caused (13 to 37 s).
const REFUSED_WITHIN_MS = 5_000;
// PGlite is one connection: /healthz's SELECT 1 waits for the query running (here a page of 20 MB).
const HEALTHZ_WITHIN_MS = 3_000;

const aliases = (count: number, selection: string) =>
  `{ ${Array.from({ length: count }, (_, index) => `a${index}: ${selection}`).join(' ')} }`;

interface Timed<T> {
  result: T;
  ms: number;
  /** The slowest /healthz answer while the request was in flight (0 when none was asked). */
  slowestHealthzMs: number;
  healthzChecks: number;
}

describe.each(DATABASE_KINDS)('GraphQL cost limits under attack on %s', (kind) => {
  let app: TestApp;
  let other: { workspaceId: string; apiKey: string };
  let otherCompanyId: string;

  async function healthzMs(): Promise<number> {
    const started = performance.now();
    const response = await fetch(`${app.url}/healthz`);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    return performance.now() - started;
  }

  /** Runs a request while asking /healthz again and again, one at a time, until the request has its answer. */
  async function whileHealthz<T>(request: () => Promise<T>): Promise<Timed<T>> {
    const started = performance.now();
    let done = false;
    const pending = request().finally(() => (done = true));
    let slowestHealthzMs = 0;
    let healthzChecks = 0;
    while (!done) {
      const ms = await healthzMs();
      slowestHealthzMs = Math.max(slowestHealthzMs, ms);
      healthzChecks += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const result = await pending;
    return { result, ms: performance.now() - started, slowestHealthzMs, healthzChecks };
  }

  async function postGraphQL(body: string, apiKey = app.apiKey): Promise<GraphQLResult & { raw: string }> {
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body,
    });
    const raw = await response.text();
    const parsed = JSON.parse(raw) as { data?: unknown; errors?: GraphQLResult['errors'] };
    return { status: response.status, data: parsed.data ?? null, errors: parsed.errors, raw };
  }

  function expectTooComplex(answer: GraphQLResult, variable: string): void {
    expect(answer.status).toBe(400);
    expect(answer.data).toBeNull();
    expect(answer.errors).toHaveLength(1);
    expect(answer.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(answer.errors?.[0].message).toContain(`(${variable})`);
  }

  /** The server still serves both tenants, each its own data. */
  async function expectServing(): Promise<void> {
    expect(await healthzMs()).toBeLessThan(HEALTHZ_WITHIN_MS);
    const mine = await app.graphql('{ companies(first: 1) { totalCount } }');
    expect(mine.data?.companies.totalCount).toBe(LARGE_ROWS);
    const theirs = await app.graphql('{ companies { edges { node { id } } } }', {}, other.apiKey);
    expect(theirs.data?.companies.edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual([otherCompanyId]);
  }

  beforeAll(async () => {
    app = await startTestApp(kind);
    const address = 'x'.repeat(ADDRESS_BYTES);
    for (let created = 0; created < LARGE_ROWS; created += 25) {
      const data = Array.from({ length: 25 }, (_, index) => ({ name: `large ${created + index}`, address }));
      const answer = await app.graphql('mutation ($data: [CompanyCreateInput!]!) { createCompanies(data: $data) { id } }', { data });
      expect(answer.errors).toBeUndefined();
    }
    other = await app.createWorkspace('bystander');
    const created = await app.graphql('mutation { createCompany(data: { name: "theirs" }) { id } }', {}, other.apiKey);
    otherCompanyId = created.data.createCompany.id;
  }, 240_000);

  afterAll(async () => {
    await app?.close();
  });

  it('refuses 250 aliases of companies(first: 200) over large rows (the heap exhaustion) before running it', async () => {
    const document = aliases(250, 'companies(first: 200) { edges { node { address } } }');
    expect(document.length).toBeGreaterThan(14_000);
    const timed = await whileHealthz(() => app.graphql(document));
    expectTooComplex(timed.result, 'SWITCHBOARD_GRAPHQL_MAX_ALIASES');
    expect(timed.result.errors?.[0].message).toBe('aliases 250 exceeds the limit of 50 (SWITCHBOARD_GRAPHQL_MAX_ALIASES)');
    expect(timed.ms).toBeLessThan(REFUSED_WITHIN_MS);
    await expectServing();
  });

  it('refuses the same attack at the alias limit by its response budget, with the heap bounded and /healthz served', async () => {
    // 50 aliases cost 20,100, within the cost limit, but would read 50 × 200 rows of 100 KB (1 GB).
    const document = aliases(50, 'companies(first: 200) { edges { node { address } } }');
    const baseline = process.memoryUsage().heapUsed;
    let peakHeap = baseline;
    const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 10);
    try {
      const timed = await whileHealthz(() => postGraphQL(JSON.stringify({ query: document })));
      expectTooComplex(timed.result, 'SWITCHBOARD_GRAPHQL_MAX_RESPONSE');
      expect(timed.result.errors?.[0].message).toMatch(/^response size in bytes \d+ exceeds the limit of 33554432/);
      expect(timed.result.raw.length).toBeLessThan(1_000);
      expect(timed.ms).toBeLessThan(REFUSED_WITHIN_MS * 4);
      expect(timed.slowestHealthzMs).toBeLessThan(HEALTHZ_WITHIN_MS);
      console.log(
        `[graphql-cost ${kind}] 50 aliases over large rows refused in ${Math.round(timed.ms)} ms; slowest of ${timed.healthzChecks} /healthz ` +
          `${Math.round(timed.slowestHealthzMs)} ms; heap peak +${Math.round((peakHeap - baseline) / 1e6)} MB`,
      );
      // A couple of pages of 20 MB were read, never the gigabyte.
      expect(peakHeap - baseline).toBeLessThan(400e6);
    } finally {
      clearInterval(sampler);
    }
    await expectServing();
  });

  it('answers one full page of large rows: the budget is not in the way of normal use', async () => {
    const answer = await app.graphql('{ companies(first: 200) { edges { node { id address } } } }');
    expect(answer.errors).toBeUndefined();
    expect(answer.data.companies.edges).toHaveLength(LARGE_ROWS);
  });

  it('refuses 5,000 aliases of people(first: 200) within a bounded time, /healthz answering', async () => {
    const timed = await whileHealthz(() => app.graphql(aliases(5_000, 'people(first: 200) { edges { node { id firstName } } }')));
    // 5,000 aliases written take more than the 256 KiB a document may hold.
    expectTooComplex(timed.result, 'SWITCHBOARD_GRAPHQL_MAX_DOCUMENT');
    expect(timed.ms).toBeLessThan(REFUSED_WITHIN_MS);
    expect(timed.slowestHealthzMs).toBeLessThan(HEALTHZ_WITHIN_MS);
    // Within the document size, the alias limit refuses them.
    const smaller = await app.graphql(aliases(200, 'people(first: 200) { totalCount }'));
    expectTooComplex(smaller, 'SWITCHBOARD_GRAPHQL_MAX_ALIASES');
    await expectServing();
  });

  it('refuses 50,000 × currentWorkspace, and the same flood at each smaller size by the limit it reaches first', async () => {
    const timed = await whileHealthz(() => app.graphql(`{ ${'currentWorkspace { id } '.repeat(50_000)} }`));
    expectTooComplex(timed.result, 'SWITCHBOARD_GRAPHQL_MAX_DOCUMENT');
    expect(timed.ms).toBeLessThan(REFUSED_WITHIN_MS);
    expect(timed.slowestHealthzMs).toBeLessThan(HEALTHZ_WITHIN_MS);
    expectTooComplex(await app.graphql(`{ ${'currentWorkspace { id } '.repeat(6_000)} }`), 'SWITCHBOARD_GRAPHQL_MAX_TOKENS');
    expectTooComplex(await app.graphql(`{ ${'currentWorkspace { id } '.repeat(2_000)} }`), 'SWITCHBOARD_GRAPHQL_MAX_FIELDS');
    expectTooComplex(await app.graphql(`{ ${'currentWorkspace { id } '.repeat(51)} }`), 'SWITCHBOARD_GRAPHQL_MAX_ROOT_FIELDS');
    // Written without fields below, the flood is not a valid document at all (and still answered at once).
    const bare = await app.graphql(`{ ${'currentWorkspace '.repeat(51)} }`);
    expect(bare.status).toBe(400);
    await expectServing();
  });

  it('refuses a 7.8 MB document of repeated directives by its body size, and by tokens when the sizes are raised', async () => {
    const document = `{ currentWorkspace ${'@include(if: true) '.repeat(412_000)} { id } }`;
    expect(document.length).toBeGreaterThan(7_800_000);
    const timed = await whileHealthz(() => postGraphQL(JSON.stringify({ query: document })));
    expect(timed.result.status).toBe(413);
    expect(timed.result.errors?.[0].extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(timed.result.errors?.[0].message).toBe('request body size in bytes exceeds the limit of 4194304 (SWITCHBOARD_GRAPHQL_MAX_BODY)');
    expect(timed.ms).toBeLessThan(REFUSED_WITHIN_MS);
    expect(timed.slowestHealthzMs).toBeLessThan(HEALTHZ_WITHIN_MS);

    const lenient = await startTestApp(kind, {
      role: 'api',
      env: { SWITCHBOARD_GRAPHQL_MAX_BODY: '16MiB', SWITCHBOARD_GRAPHQL_MAX_DOCUMENT: '16MiB' },
    });
    try {
      const started = performance.now();
      const answer = await lenient.graphql(document);
      expectTooComplex(answer, 'SWITCHBOARD_GRAPHQL_MAX_TOKENS');
      expect(answer.errors?.[0].message).toBe('token count exceeds the limit of 20000 (SWITCHBOARD_GRAPHQL_MAX_TOKENS)');
      expect(performance.now() - started).toBeLessThan(REFUSED_WITHIN_MS);
    } finally {
      await lenient.close();
    }
    await expectServing();
  });

  it('refuses a query given as a JSON syntax tree, which would skip the token limit', async () => {
    const tree = JSON.stringify({ kind: 'Document', definitions: [{ kind: 'OperationDefinition', operation: 'query', selectionSet: { kind: 'SelectionSet', selections: [] } }] });
    const answer = await postGraphQL(JSON.stringify({ query: tree }));
    expect(answer.status).toBe(400);
    expect(answer.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(answer.errors?.[0].message).toMatch(/^query: must be a GraphQL document/);
  });

  it('counts first given in variables, which cached documents are checked with too', async () => {
    const document = 'query ($n: Int) { a: companies(first: $n) { edges { node { id } } } b: people(first: $n) { edges { node { id } } } }';
    for (let round = 0; round < 3; round++) {
      const fine = await app.graphql(document, { n: 200 });
      expect(fine.errors).toBeUndefined();
      expectTooComplex(await app.graphql(document, { n: 1_000_000 }), 'SWITCHBOARD_GRAPHQL_MAX_COST');
    }
  });

  it('refuses a document nested deeper than the parser can read as too deep, not as an internal error', async () => {
    // Under the token limit: 4,900 levels of 4 tokens.
    const answer = await app.graphql(`{ ${'... on Query { '.repeat(4_900)} currentWorkspace { id } ${'}'.repeat(4_900)} }`);
    expectTooComplex(answer, 'SWITCHBOARD_GRAPHQL_MAX_DEPTH');
  });

  it('refuses a deeper query than the limit, naming it', async () => {
    const deep = `{ ${'currentWorkspace { '.repeat(16)}id${' }'.repeat(16)} }`;
    const answer = await app.graphql(deep);
    expectTooComplex(answer, 'SWITCHBOARD_GRAPHQL_MAX_DEPTH');
    expect(answer.errors?.[0].message).toBe('query depth 17 exceeds the limit of 15 (SWITCHBOARD_GRAPHQL_MAX_DEPTH)');
  });
});

describe.each(DATABASE_KINDS)('GraphQL time budget on %s', (kind) => {
  let app: TestApp;
  let slow: Receiver;

  beforeAll(async () => {
    slow = await startReceiver(async (_request, response) => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      response.end('ok');
    });
    app = await startTestApp(kind, { role: 'api', env: { SWITCHBOARD_GRAPHQL_TIMEOUT: '200ms' } });
  });

  afterAll(async () => {
    await app?.close();
    await slow?.close();
  });

  it('refuses the fields that would start past the deadline, keeping the answers of the ones that ran', async () => {
    const created = await app.graphql(`mutation { createWebhook(input: { targetUrl: "${slow.url}/hook" }) { id } }`);
    const id = created.data.createWebhook.id;
    const answer = await app.graphql(`mutation {
      first: sendTestWebhook(id: "${id}") { statusCode }
      second: sendTestWebhook(id: "${id}") { statusCode }
      third: sendTestWebhook(id: "${id}") { statusCode }
    }`);
    // The first send ran; the second was refused (its path tells the caller), which ends a serial mutation.
    expect(answer.errors).toHaveLength(1);
    expect(answer.errors?.[0]).toMatchObject({ path: ['second'], extensions: { code: 'QUERY_TOO_COMPLEX' } });
    expect(answer.errors?.[0].message).toMatch(/^resolving time in ms \d+ exceeds the limit of 200 \(SWITCHBOARD_GRAPHQL_TIMEOUT\)$/);
    expect(slow.requests).toHaveLength(1);
  });
});
