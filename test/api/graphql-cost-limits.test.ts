import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { typeDefs } from '../../src/api/graphql/schema.ts';
import { checkDocumentCost, limitMessage, type DocumentLimits } from '../../src/api/graphql/cost-limits.ts';
import { estimateJsonBytes, RequestBudget, RESOLVERS_IN_FLIGHT_PER_REQUEST } from '../../src/api/graphql/request-budget.ts';
import { DEFAULT_GRAPHQL_LIMITS, loadConfig } from '../../src/config.ts';

// The copy of graphql the server uses (see graphql-runtime.ts).
const { buildSchema, getIntrospectionQuery, parse } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

const schema = buildSchema(typeDefs);
const limits: DocumentLimits = DEFAULT_GRAPHQL_LIMITS;
const generous: DocumentLimits = { maxFields: 1e6, maxAliases: 1e6, maxRootFields: 1e6, maxDepth: 1e3, maxCost: 1e15, listSize: 10 };

function figures(source: string, variables?: Record<string, unknown>) {
  const verdict = checkDocumentCost(parse(source), schema, generous, variables);
  if (!verdict.ok) throw new Error(verdict.message);
  return verdict.figures;
}

function refusal(source: string, variables?: Record<string, unknown>, against: DocumentLimits = limits) {
  const verdict = checkDocumentCost(parse(source, { maxTokens: 1e7 }), schema, against, variables);
  if (verdict.ok) throw new Error(`accepted: ${JSON.stringify(verdict.figures)}`);
  return verdict;
}

const aliases = (count: number, selection: string) =>
  `{ ${Array.from({ length: count }, (_, index) => `a${index}: ${selection}`).join(' ')} }`;

describe('GraphQL cost: what a document asks for', () => {
  it('costs 1 per field, and a connection multiplies what its edges select by first', () => {
    // companies 1 + edges (1 + 200 × (node 1 + address 1))
    expect(figures('{ companies(first: 200) { edges { node { address } } } }')).toEqual({
      fields: 4, aliases: 0, rootFields: 1, depth: 4, cost: 1 + 1 + 200 * 2,
    });
    // pageInfo and totalCount are not multiplied.
    expect(figures('{ companies(first: 200) { totalCount pageInfo { hasNextPage } edges { cursor } } }').cost).toBe(1 + 1 + 2 + 1 + 200);
  });

  it('takes first from a variable: as given, else its default, else the schema default page size', () => {
    const document = 'query ($n: Int) { people(first: $n) { edges { cursor } } }';
    expect(figures(document, { n: 7 }).cost).toBe(1 + 1 + 7);
    expect(figures('query ($n: Int = 9) { people(first: $n) { edges { cursor } } }').cost).toBe(1 + 1 + 9);
    // people(first: Int = 60), webhookDeliveries(first: Int = 20)
    expect(figures(document).cost).toBe(1 + 1 + 60);
    expect(figures('{ people { edges { cursor } } }').cost).toBe(1 + 1 + 60);
    expect(figures('query ($id: UUID!) { webhookDeliveries(webhookId: $id) { edges { cursor } } }').cost).toBe(1 + 1 + 20);
  });

  it('multiplies a list without first by listSize, nested lists by each', () => {
    // webhooks 1 + 10 × (id 1 + lastDelivery (1 + attempts (1 + 10 × number 1)))
    expect(figures('{ webhooks { id lastDelivery { attempts { number } } } }').cost).toBe(1 + 10 * (1 + 1 + 1 + 10));
    // A list of scalars is one field.
    expect(figures('{ webhooks { operations } }').cost).toBe(1 + 10 * 1);
  });

  it("reads Twenty's paging: { first } on a schema that has it", () => {
    const metadata = buildSchema(`
      type Field { id: ID! }
      type FieldEdge { node: Field! }
      type FieldConnection { edges: [FieldEdge!]! }
      input CursorPaging { first: Int }
      type Query { fields(paging: CursorPaging): FieldConnection! }
    `);
    const verdict = checkDocumentCost(parse('{ fields(paging: { first: 500 }) { edges { node { id } } } }'), metadata, generous);
    expect(verdict.ok && verdict.figures.cost).toBe(1 + 1 + 500 * 2);
    const viaVariable = checkDocumentCost(parse('query ($p: CursorPaging) { fields(paging: $p) { edges { node { id } } } }'), metadata, generous, { p: { first: 3 } });
    expect(viaVariable.ok && viaVariable.figures.cost).toBe(1 + 1 + 3 * 2);
  });

  it('expands fragments and inline fragments where they are spread, depth included', () => {
    const document = `
      query { people(first: 10) { ...Page } }
      fragment Page on PersonConnection { edges { node { ...Names } } }
      fragment Names on Person { firstName ... on Person { lastName } }
    `;
    expect(figures(document)).toEqual({ fields: 5, aliases: 0, rootFields: 1, depth: 4, cost: 1 + 1 + 10 * (1 + 2) });
    expect(figures('{ ...Root } fragment Root on Query { currentWorkspace { id } webhooks { id } }').rootFields).toBe(2);
  });

  it('checks an exponential fragment chain without expanding it', () => {
    const chain = Array.from({ length: 40 }, (_, level) =>
      level === 0 ? 'fragment F0 on Workspace { id name }' : `fragment F${level} on Workspace { ...F${level - 1} ...F${level - 1} }`,
    ).join('\n');
    const started = performance.now();
    const verdict = refusal(`{ currentWorkspace { ...F39 } } ${chain}`);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(verdict.limit).toBe('maxCost');
    expect(verdict.actual).toBe(1 + 2 ** 40);
  });

  it('ends on cyclic fragments (validation refuses them later)', () => {
    const verdict = checkDocumentCost(parse('{ currentWorkspace { ...A } } fragment A on Workspace { id ...B } fragment B on Workspace { name ...A }'), schema, limits);
    expect(verdict.ok).toBe(true);
  });

  it('lets the standard introspection query through the defaults', () => {
    const verdict = checkDocumentCost(parse(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true })), schema, limits);
    expect(verdict.ok).toBe(true);
  });
});

describe('GraphQL cost: refusals name the limit and its variable', () => {
  it('depth, counting fragments', () => {
    const deep = `{ webhooks { lastDelivery { attempts { requestHeaders { name } } } } }`;
    expect(figures(deep).depth).toBe(5);
    const verdict = refusal(deep, undefined, { ...limits, maxDepth: 4 });
    expect(verdict.message).toBe('query depth 5 exceeds the limit of 4 (SWITCHBOARD_GRAPHQL_MAX_DEPTH)');
    const viaFragment = refusal('{ webhooks { ...W } } fragment W on Webhook { lastDelivery { attempts { requestHeaders { name } } } }', undefined, { ...limits, maxDepth: 4 });
    expect(viaFragment).toMatchObject({ limit: 'maxDepth', actual: 5, max: 4 });
    // Nesting past the limit is refused before any expansion.
    const tower = `{ ${'currentWorkspace { '.repeat(limits.maxDepth)}id${' }'.repeat(limits.maxDepth)} }`;
    expect(refusal(tower)).toMatchObject({ limit: 'maxDepth', actual: limits.maxDepth + 1 });
  });

  it('aliases: 250 aliases of companies(first: 200), the document that exhausted the heap', () => {
    const verdict = refusal(aliases(250, 'companies(first: 200) { edges { node { address } } }'));
    expect(verdict.message).toBe('aliases 250 exceeds the limit of 50 (SWITCHBOARD_GRAPHQL_MAX_ALIASES)');
    // With the alias limit raised, its cost refuses it.
    expect(refusal(aliases(250, 'companies(first: 200) { edges { node { address } } }'), undefined, { ...limits, maxAliases: 1e6, maxRootFields: 1e6 })).toMatchObject({
      limit: 'maxCost', actual: 250 * 402,
    });
  });

  it('root fields: 50,000 × currentWorkspace, and root fields reached through a fragment', () => {
    expect(refusal(`{ ${'currentWorkspace { id } '.repeat(50_000)} }`).limit).toBe('maxFields');
    expect(refusal(`{ ${'currentWorkspace { id } '.repeat(60)} }`).message).toBe(
      'root fields 60 exceeds the limit of 50 (SWITCHBOARD_GRAPHQL_MAX_ROOT_FIELDS)',
    );
    const fragment = `fragment R on Query { ${'currentWorkspace { id } '.repeat(30)} }`;
    expect(refusal(`{ ...R ... on Query { ...R } } ${fragment}`)).toMatchObject({ limit: 'maxRootFields', actual: 60 });
  });

  it('fields written: a flood of one field refuses before validation has to compare them', () => {
    expect(refusal(`{ currentWorkspace { ${'id '.repeat(1_001)} } }`).message).toBe(
      'field selections 1002 exceeds the limit of 1000 (SWITCHBOARD_GRAPHQL_MAX_FIELDS)',
    );
  });

  it('cost: first from the variables as given', () => {
    const document = 'query ($n: Int) { a: people(first: $n) { edges { node { id firstName } } } b: companies(first: $n) { edges { node { id } } } }';
    expect(checkDocumentCost(parse(document), schema, limits, { n: 200 }).ok).toBe(true);
    const verdict = refusal(document, { n: 100_000 });
    expect(verdict).toMatchObject({ limit: 'maxCost', actual: 2 + 100_000 * 3 + 2 + 100_000 * 2 });
    expect(verdict.message).toMatch(/^query cost 500004 exceeds the limit of 100000 \(SWITCHBOARD_GRAPHQL_MAX_COST\): every field costs 1/);
  });

  it('messages for the limits checked elsewhere', () => {
    expect(limitMessage('maxTokens', undefined, 20_000)).toBe('token count exceeds the limit of 20000 (SWITCHBOARD_GRAPHQL_MAX_TOKENS)');
    expect(limitMessage('timeoutMs', 15_020, 15_000)).toBe('resolving time in ms 15020 exceeds the limit of 15000 (SWITCHBOARD_GRAPHQL_TIMEOUT)');
  });
});

describe('GraphQL limits configuration', () => {
  it('reads every limit from its variable, sizes with units, and names a bad one', () => {
    const config = loadConfig({ SWITCHBOARD_GRAPHQL_MAX_DEPTH: '8', SWITCHBOARD_GRAPHQL_MAX_RESPONSE: '2MiB', SWITCHBOARD_GRAPHQL_TIMEOUT: '3s' });
    expect(config.graphql).toEqual({ ...DEFAULT_GRAPHQL_LIMITS, maxDepth: 8, maxResponseBytes: 2 * 1024 * 1024, timeoutMs: 3_000 });
    expect(() => loadConfig({ SWITCHBOARD_GRAPHQL_MAX_COST: '-1' })).toThrow(/SWITCHBOARD_GRAPHQL_MAX_COST/);
    expect(() => loadConfig({ SWITCHBOARD_GRAPHQL_MAX_BODY: 'lots' })).toThrow(/SWITCHBOARD_GRAPHQL_MAX_BODY/);
  });
});

describe('request budget', () => {
  it('estimates JSON size from above, and stops walking at the cap', () => {
    const value = { id: 'abc', list: [1, 'de', null], when: new Date(0), nested: { ok: true } };
    expect(estimateJsonBytes(value)).toBeGreaterThanOrEqual(JSON.stringify(value).length);
    const huge = Array.from({ length: 1_000 }, () => ({ text: 'x'.repeat(1_000) }));
    const full = estimateJsonBytes(huge);
    expect(full).toBeGreaterThan(1_000_000);
    const capped = estimateJsonBytes(huge, 10_000);
    expect(capped).toBeGreaterThan(10_000);
    expect(capped).toBeLessThan(20_000);
  });

  it('refuses the resolver whose result passes the bytes budget, and every later one', async () => {
    const budget = new RequestBudget({ maxResponseBytes: 1_000, timeoutMs: 60_000 });
    await expect(budget.run(() => 'x'.repeat(500))).resolves.toHaveLength(500);
    await expect(budget.run(() => 'x'.repeat(600))).rejects.toMatchObject({
      code: 'QUERY_TOO_COMPLEX',
      message: expect.stringMatching(/^response size in bytes \d+ exceeds the limit of 1000 \(SWITCHBOARD_GRAPHQL_MAX_RESPONSE\)/),
    });
    let ran = false;
    await expect(budget.run(() => (ran = true))).rejects.toMatchObject({ code: 'QUERY_TOO_COMPLEX' });
    expect(ran).toBe(false);
  });

  it('keeps a write that passed the budget, and refuses what follows it', async () => {
    const budget = new RequestBudget({ maxResponseBytes: 10, timeoutMs: 60_000 });
    await expect(budget.run(() => 'written'.repeat(10), true)).resolves.toHaveLength(70);
    await expect(budget.run(() => 'next')).rejects.toMatchObject({ code: 'QUERY_TOO_COMPLEX' });
  });

  it('refuses resolvers that start after the deadline', async () => {
    let now = 1_000;
    const budget = new RequestBudget({ maxResponseBytes: 1e9, timeoutMs: 50 }, () => now);
    await expect(budget.run(() => 1)).resolves.toBe(1);
    now += 51;
    await expect(budget.run(() => 2)).rejects.toMatchObject({
      code: 'QUERY_TOO_COMPLEX',
      message: 'resolving time in ms 51 exceeds the limit of 50 (SWITCHBOARD_GRAPHQL_TIMEOUT)',
    });
  });

  it(`runs the resolvers of one request ${RESOLVERS_IN_FLIGHT_PER_REQUEST} at a time`, async () => {
    const budget = new RequestBudget({ maxResponseBytes: 1e9, timeoutMs: 60_000 });
    let running = 0;
    let most = 0;
    const work = async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setImmediate(resolve));
      running -= 1;
      return 'ok';
    };
    await Promise.all(Array.from({ length: 20 }, () => budget.run(work)));
    expect(most).toBe(RESOLVERS_IN_FLIGHT_PER_REQUEST);
  });
});
