import { describe, expect, it, vi } from 'vitest';
import { createRequire } from 'node:module';
import { typeDefs } from '../../src/api/graphql/schema.ts';
import { checkDocumentCost, type DocumentFigures } from '../../src/api/graphql/cost-limits.ts';
import { DEFAULT_GRAPHQL_LIMITS } from '../../src/config.ts';
import { MAX_BATCH_SIZE } from '../../src/domain/records.ts';
import { TWENTY_CREATE, TWENTY_DELETE, TWENTY_GET_ALL, TWENTY_GET_ONE, TWENTY_UPDATE } from '../helpers/twenty-documents.ts';

const { buildSchema, parse } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

// The UI's transport is the browser's fetch with its session storage: here it records each document it is given
// (the one stand-in this file needs), so every document the UI sends is checked, including ones added later.
const sent = vi.hoisted(() => [] as Array<{ query: string; variables: Record<string, unknown> }>);
vi.mock('../../web/src/api.ts', () => ({
  graphql: async (query: string, variables: Record<string, unknown> = {}) => {
    sent.push({ query, variables });
    throw new Error('recorded');
  },
}));

const schema = buildSchema(typeDefs);
const limits = DEFAULT_GRAPHQL_LIMITS;
const ID = '00000000-0000-4000-8000-000000000000';

/** The document passes the default limits with room to spare: a third of the cost, half the depth, a tenth of the rest. */
function expectWellInside(query: string, variables: Record<string, unknown> = {}): DocumentFigures {
  expect(Buffer.byteLength(query)).toBeLessThan(limits.maxDocumentBytes / 10);
  const document = parse(query, { maxTokens: limits.maxTokens / 10 });
  const verdict = checkDocumentCost(document, schema, limits, variables);
  if (!verdict.ok) throw new Error(`${verdict.message}\n${query}`);
  const { figures } = verdict;
  expect(figures.cost, query).toBeLessThanOrEqual(limits.maxCost / 3);
  expect(figures.depth, query).toBeLessThanOrEqual(limits.maxDepth / 2);
  expect(figures.fields, query).toBeLessThanOrEqual(limits.maxFields / 10);
  expect(figures.aliases, query).toBeLessThanOrEqual(limits.maxAliases / 10);
  expect(figures.rootFields, query).toBeLessThanOrEqual(limits.maxRootFields / 10);
  return figures;
}

describe('documents real clients send stay well inside the default GraphQL limits', () => {
  it("every document of the UI (web/src/queries.ts), with the largest page it may ask for", async () => {
    const queries = await import('../../web/src/queries.ts');
    const functions = Object.entries(queries).filter(([, value]) => typeof value === 'function') as Array<[string, (...args: unknown[]) => Promise<unknown>]>;
    expect(functions.length).toBeGreaterThan(10);
    for (const [name, call] of functions) {
      const before = sent.length;
      // webhookDeliveries takes at most 100 per page (the UI asks for 20).
      await expect(call(ID, { first: 100 }), name).rejects.toThrow('recorded');
      expect(sent.length - before, `${name} sends one document`).toBe(1);
    }
    const costs = sent.map(({ query, variables }) => expectWellInside(query, variables).cost);
    // The delivery log's page of 100 deliveries with their attempts is the most expensive.
    expect(Math.max(...costs)).toBeGreaterThan(10_000);
  });

  it("Twenty's own webhook documents", () => {
    for (const document of [TWENTY_CREATE, TWENTY_UPDATE, TWENTY_GET_ALL, TWENTY_GET_ONE, TWENTY_DELETE]) expectWellInside(document);
  });

  it(`a batch create of ${MAX_BATCH_SIZE} records of every field: inline within the token limit, in variables within the body limit`, () => {
    const person = { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', jobTitle: 'Analyst', phone: '+44 20 7946 0000', city: 'London', companyId: ID };
    const literal = `{ ${Object.entries(person).map(([key, value]) => `${key}: ${JSON.stringify(value)}`).join(', ')} }`;
    const inline = `mutation { createPeople(data: [${Array(MAX_BATCH_SIZE).fill(literal).join(', ')}]) { id } }`;
    expect(Buffer.byteLength(inline)).toBeLessThan(limits.maxDocumentBytes);
    expect(() => parse(inline, { maxTokens: limits.maxTokens })).not.toThrow();
    // In variables, records of 4 KiB each.
    const data = Array.from({ length: MAX_BATCH_SIZE }, () => ({ ...person, city: 'x'.repeat(4_000) }));
    const body = JSON.stringify({ query: 'mutation ($data: [PersonCreateInput!]!) { createPeople(data: $data) { id } }', variables: { data } });
    expect(Buffer.byteLength(body)).toBeLessThan(limits.maxBodyBytes);
  });
});
