import { buildSchema, type GraphQLObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { typeDefs } from '../../src/api/graphql/schema.ts';
import { startTestApp, type GraphQLResult, type TestApp } from '../helpers/app.ts';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { dispatchAllFanouts } from '../../src/storage/queue/index.ts';

interface Ids {
  webhook: string;
  delivery: string;
  person: string;
  company: string;
  opportunity: string;
  apiKey: string;
  /** B's custom object `ticket`, its custom field and a record of it. */
  object: string;
  field: string;
  ticket: string;
}

type Expectation = 'notFound' | 'refused' | 'ownOnly';

/**
 * Every Query and Mutation field, called with workspace A's key on workspace B's ids. The table must name
 * every field of the schema: a new operation without a tenancy case fails the completeness test.
 */
const CASES: Record<string, { document: (b: Ids) => string; expect: Expectation }> = {
  currentWorkspace: { document: () => '{ currentWorkspace { id name } }', expect: 'ownOnly' },
  apiKeys: { document: () => '{ apiKeys { id } }', expect: 'ownOnly' },
  webhooks: { document: () => '{ webhooks { id } }', expect: 'ownOnly' },
  webhook: { document: (b) => `{ webhook(id: "${b.webhook}") { id } }`, expect: 'notFound' },
  webhookDeliveries: { document: (b) => `{ webhookDeliveries(webhookId: "${b.webhook}") { totalCount } }`, expect: 'notFound' },
  webhookDelivery: { document: (b) => `{ webhookDelivery(id: "${b.delivery}") { id } }`, expect: 'notFound' },
  webhookStats: { document: (b) => `{ webhookStats(id: "${b.webhook}") { sent } }`, expect: 'notFound' },
  person: { document: (b) => `{ person(id: "${b.person}") { id } }`, expect: 'notFound' },
  people: { document: () => '{ people(includeDeleted: true) { edges { node { id } } } }', expect: 'ownOnly' },
  company: { document: (b) => `{ company(id: "${b.company}") { id } }`, expect: 'notFound' },
  companies: { document: () => '{ companies(includeDeleted: true) { edges { node { id } } } }', expect: 'ownOnly' },
  opportunity: { document: (b) => `{ opportunity(id: "${b.opportunity}") { id } }`, expect: 'notFound' },
  opportunities: { document: () => '{ opportunities(includeDeleted: true) { edges { node { id } } } }', expect: 'ownOnly' },

  objects: { document: () => '{ objects { edges { node { id nameSingular fieldsList { id } } } } }', expect: 'ownOnly' },
  object: { document: (b) => `{ object(id: "${b.object}") { id } }`, expect: 'notFound' },
  fields: { document: () => '{ fields { edges { node { id name } } } }', expect: 'ownOnly' },
  field: { document: (b) => `{ field(id: "${b.field}") { id } }`, expect: 'notFound' },

  _noop: { document: () => 'mutation { _noop }', expect: 'ownOnly' },
  // The same name as B's object: names are per workspace.
  createOneObject: {
    document: () => 'mutation { createOneObject(input: { object: { nameSingular: "ticket", namePlural: "tickets", labelSingular: "T", labelPlural: "Ts" } }) { id } }',
    expect: 'ownOnly',
  },
  updateOneObject: { document: (b) => `mutation { updateOneObject(input: { id: "${b.object}", update: { labelSingular: "Mine" } }) { id } }`, expect: 'notFound' },
  deleteOneObject: { document: (b) => `mutation { deleteOneObject(input: { id: "${b.object}" }) { id } }`, expect: 'notFound' },
  createOneField: {
    document: (b) => `mutation { createOneField(input: { field: { objectMetadataId: "${b.object}", type: TEXT, name: "intruder", label: "I" } }) { id } }`,
    expect: 'refused',
  },
  updateOneField: { document: (b) => `mutation { updateOneField(input: { id: "${b.field}", update: { label: "Mine" } }) { id } }`, expect: 'notFound' },
  deleteOneField: { document: (b) => `mutation { deleteOneField(input: { id: "${b.field}" }) { id } }`, expect: 'notFound' },
  createApiKey: { document: () => 'mutation { createApiKey(name: "a-side") { id } }', expect: 'ownOnly' },
  revokeApiKey: { document: (b) => `mutation { revokeApiKey(id: "${b.apiKey}") { id } }`, expect: 'notFound' },
  // Creating with another workspace's id must neither take it over nor reveal it exists beyond a refusal.
  createWebhook: { document: (b) => `mutation { createWebhook(input: { id: "${b.webhook}", targetUrl: "https://a.example.com/x" }) { id } }`, expect: 'refused' },
  updateWebhook: { document: (b) => `mutation { updateWebhook(input: { id: "${b.webhook}", targetUrl: "https://a.example.com/x" }) { id } }`, expect: 'notFound' },
  deleteWebhook: { document: (b) => `mutation { deleteWebhook(id: "${b.webhook}") { id } }`, expect: 'notFound' },
  rotateWebhookSecret: { document: (b) => `mutation { rotateWebhookSecret(id: "${b.webhook}") { id secret } }`, expect: 'notFound' },
  redeliver: { document: (b) => `mutation { redeliver(deliveryId: "${b.delivery}") { id } }`, expect: 'notFound' },
  recoverWebhook: { document: (b) => `mutation { recoverWebhook(id: "${b.webhook}", since: "2000-01-01T00:00:00Z") { queued } }`, expect: 'notFound' },
  replayWebhookEvents: { document: (b) => `mutation { replayWebhookEvents(id: "${b.webhook}", since: "2000-01-01T00:00:00Z") { queued } }`, expect: 'notFound' },
  sendTestWebhook: { document: (b) => `mutation { sendTestWebhook(id: "${b.webhook}") { statusCode } }`, expect: 'notFound' },
  createPerson: { document: (b) => `mutation { createPerson(data: { id: "${b.person}", firstName: "Taken" }) { id } }`, expect: 'refused' },
  createPeople: { document: (b) => `mutation { createPeople(data: [{ firstName: "Ref", companyId: "${b.company}" }]) { id } }`, expect: 'refused' },
  updatePerson: { document: (b) => `mutation { updatePerson(id: "${b.person}", data: { firstName: "X" }) { id } }`, expect: 'notFound' },
  deletePerson: { document: (b) => `mutation { deletePerson(id: "${b.person}") { id } }`, expect: 'notFound' },
  restorePerson: { document: (b) => `mutation { restorePerson(id: "${b.person}") { id } }`, expect: 'notFound' },
  destroyPerson: { document: (b) => `mutation { destroyPerson(id: "${b.person}") { id } }`, expect: 'notFound' },
  createCompany: { document: (b) => `mutation { createCompany(data: { id: "${b.company}", name: "Taken" }) { id } }`, expect: 'refused' },
  createCompanies: { document: (b) => `mutation { createCompanies(data: [{ name: "Fine" }, { id: "${b.company}", name: "Taken" }]) { id } }`, expect: 'refused' },
  updateCompany: { document: (b) => `mutation { updateCompany(id: "${b.company}", data: { name: "X" }) { id } }`, expect: 'notFound' },
  deleteCompany: { document: (b) => `mutation { deleteCompany(id: "${b.company}") { id } }`, expect: 'notFound' },
  restoreCompany: { document: (b) => `mutation { restoreCompany(id: "${b.company}") { id } }`, expect: 'notFound' },
  destroyCompany: { document: (b) => `mutation { destroyCompany(id: "${b.company}") { id } }`, expect: 'notFound' },
  createOpportunity: { document: (b) => `mutation { createOpportunity(data: { name: "Ref", pointOfContactId: "${b.person}" }) { id } }`, expect: 'refused' },
  createOpportunities: { document: (b) => `mutation { createOpportunities(data: [{ id: "${b.opportunity}", name: "Taken" }]) { id } }`, expect: 'refused' },
  updateOpportunity: { document: (b) => `mutation { updateOpportunity(id: "${b.opportunity}", data: { name: "X" }) { id } }`, expect: 'notFound' },
  deleteOpportunity: { document: (b) => `mutation { deleteOpportunity(id: "${b.opportunity}") { id } }`, expect: 'notFound' },
  restoreOpportunity: { document: (b) => `mutation { restoreOpportunity(id: "${b.opportunity}") { id } }`, expect: 'notFound' },
  destroyOpportunity: { document: (b) => `mutation { destroyOpportunity(id: "${b.opportunity}") { id } }`, expect: 'notFound' },
};

describe.each(DATABASE_KINDS)('tenancy on %s: workspace A never reaches workspace B', (kind) => {
  let app: TestApp;
  let b: Ids;
  let bKey: string;
  let bWorkspaceId: string;
  const asB = <T = any>(query: string) => app.graphql<T>(query, undefined, bKey);
  /** Everything B can see of its own data; compared before and after A's attempts. */
  const bView = async () => {
    const answer = await asB(`{
      currentWorkspace { id }
      apiKeys { id name }
      webhooks { id targetUrl status description operations }
      webhookDeliveries(webhookId: "${b.webhook}") { totalCount edges { node { id status } } }
      people(includeDeleted: true) { edges { node { id firstName companyId deletedAt } } }
      companies(includeDeleted: true) { edges { node { id name deletedAt } } }
      opportunities(includeDeleted: true) { edges { node { id name pointOfContactId deletedAt } } }
      objects { edges { node { id nameSingular labelSingular isActive fieldsList { id name label isActive } } } }
      tickets(includeDeleted: true) { edges { node { id subject deletedAt } } }
    }`);
    expect(answer.errors).toBeUndefined();
    return answer.data;
  };

  beforeAll(async () => {
    app = await startTestApp(kind, { role: 'api' });
    ({ apiKey: bKey, workspaceId: bWorkspaceId } = await app.createWorkspace('tenant-b'));
    const webhook = await asB('mutation { createWebhook(input: { targetUrl: "https://b.example.com/hook" }) { id } }');
    const company = await asB('mutation { createCompany(data: { name: "B Corp" }) { id } }');
    const person = await asB(`mutation { createPerson(data: { firstName: "Bea", companyId: "${company.data.createCompany.id}" }) { id } }`);
    const opportunity = await asB(`mutation { createOpportunity(data: { name: "B deal", pointOfContactId: "${person.data.createPerson.id}" }) { id } }`);
    const apiKey = await asB('mutation { createApiKey(name: "b-second") { id } }');
    const object = await asB('mutation { createOneObject(input: { object: { nameSingular: "ticket", namePlural: "tickets", labelSingular: "Ticket", labelPlural: "Tickets" } }) { id } }');
    const field = await asB(
      `mutation { createOneField(input: { field: { objectMetadataId: "${object.data.createOneObject.id}", type: TEXT, name: "subject", label: "Subject" } }) { id } }`,
    );
    const ticket = await asB('mutation { createTicket(data: { subject: "B only" }) { id } }');
    // This server has no worker: create the writes' deliveries as one would.
    await dispatchAllFanouts(app.server.database.db);
    const deliveries = await asB(`{ webhookDeliveries(webhookId: "${webhook.data.createWebhook.id}") { edges { node { id } } } }`);
    b = {
      webhook: webhook.data.createWebhook.id,
      company: company.data.createCompany.id,
      person: person.data.createPerson.id,
      opportunity: opportunity.data.createOpportunity.id,
      apiKey: apiKey.data.createApiKey.id,
      object: object.data.createOneObject.id,
      field: field.data.createOneField.id,
      ticket: ticket.data.createTicket.id,
      delivery: deliveries.data.webhookDeliveries.edges[0].node.id,
    };
    // A has data of its own, so lists are not trivially empty.
    await app.graphql('mutation { createWebhook(input: { targetUrl: "https://a.example.com/hook" }) { id } }');
    await app.graphql('mutation { createPerson(data: { firstName: "Ada" }) { id } }');
  });
  afterAll(async () => {
    await app?.close();
  });

  it('has a case for every Query and Mutation field of the schema', () => {
    const schema = buildSchema(typeDefs);
    const fields = ['Query', 'Mutation'].flatMap((type) => Object.keys((schema.getType(type) as GraphQLObjectType).getFields()));
    expect(Object.keys(CASES).sort()).toEqual(fields.sort());
  });

  it("answers not found (or refuses) for every operation on B's ids, lists never mix, and B's data is untouched", async () => {
    const before = await bView();
    const bIds = new Set(Object.values(b));
    for (const [field, testCase] of Object.entries(CASES)) {
      const answer: GraphQLResult = await app.graphql(testCase.document(b));
      const context = `${field}: ${JSON.stringify(answer)}`;
      expect(answer.status, context).toBeLessThan(500);
      expect(answer.errors?.map((error) => error.extensions?.code) ?? [], context).not.toContain('INTERNAL_SERVER_ERROR');
      // Nothing of B appears in any answer, whatever the case.
      for (const id of bIds) expect(JSON.stringify(answer.data), context).not.toContain(id);
      expect(JSON.stringify(answer.data ?? {}), context).not.toContain(bWorkspaceId);
      if (testCase.expect === 'notFound') {
        const notFound = answer.errors?.[0]?.extensions?.code === 'NOT_FOUND' || (answer.errors === undefined && answer.data?.[field] === null);
        expect(notFound, context).toBe(true);
      } else if (testCase.expect === 'refused') {
        expect(answer.errors?.length, context).toBeGreaterThan(0);
        expect(['BAD_USER_INPUT', 'CONFLICT', 'NOT_FOUND'], context).toContain(answer.errors![0].extensions?.code);
      } else {
        expect(answer.errors, context).toBeUndefined();
      }
    }
    expect(await bView()).toEqual(before);
    // B's second key was not revoked by A.
    const bSecondKeyStillListed = (await bView()).apiKeys.some((key: { id: string }) => key.id === b.apiKey);
    expect(bSecondKeyStillListed).toBe(true);
  });

  it('answers 404 over REST for every route on B ids, and lists never mix', async () => {
    const before = await bView();
    const routes: Array<[string, string, unknown?]> = [
      ['GET', `/rest/webhooks/${b.webhook}`],
      ['PATCH', `/rest/webhooks/${b.webhook}`, { description: 'x' }],
      ['POST', `/rest/webhooks/${b.webhook}/rotate-secret`],
      ['GET', `/rest/webhooks/${b.webhook}/deliveries`],
      ['GET', `/rest/webhooks/${b.webhook}/deliveries/${b.delivery}`],
      ['POST', `/rest/webhooks/${b.webhook}/deliveries/${b.delivery}/redeliver`],
      ['POST', `/rest/webhooks/${b.webhook}/recover`, { since: '2000-01-01T00:00:00Z' }],
      ['GET', `/rest/webhooks/${b.webhook}/stats`],
      ['DELETE', `/rest/webhooks/${b.webhook}`],
      ...(['people', 'companies', 'opportunities'] as const).flatMap((plural): Array<[string, string, unknown?]> => {
        const id = plural === 'people' ? b.person : plural === 'companies' ? b.company : b.opportunity;
        return [
          ['GET', `/rest/${plural}/${id}`],
          ['PATCH', `/rest/${plural}/${id}`, plural === 'people' ? { firstName: 'x' } : { name: 'x' }],
          ['POST', `/rest/${plural}/${id}/restore`],
          ['DELETE', `/rest/${plural}/${id}`],
          ['DELETE', `/rest/${plural}/${id}?hard=true`],
        ];
      }),
    ];
    routes.push(
      ['GET', `/rest/tickets/${b.ticket}`],
      ['PATCH', `/rest/tickets/${b.ticket}`, {}],
      ['DELETE', `/rest/tickets/${b.ticket}?hard=true`],
    );
    for (const [method, path, body] of routes) {
      const answer = await app.rest(method, path, body);
      expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBe(404);
    }
    for (const path of ['/rest/webhooks', '/rest/people', '/rest/companies', '/rest/opportunities']) {
      const answer = await app.rest('GET', path);
      expect(answer.status).toBe(200);
      for (const id of Object.values(b)) expect(JSON.stringify(answer.body), path).not.toContain(id);
    }
    expect(await bView()).toEqual(before);
  });
});
