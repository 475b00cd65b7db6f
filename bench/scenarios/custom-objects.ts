// 7. Custom objects: a write to a custom object (its records in custom_records' jsonb document) against the same
// write to a standard one (columns of its own table), over GraphQL, creates and updates alike.
import { startSwitchboard } from '../../src/server.ts';
import type { Database } from '../../src/storage/database.ts';
import { benchConfig, now, percentile, silentLogger, type Figure, type Scale, type Sink } from '../harness.ts';

const API_KEY = 'sb_bench_key_for_workspace_default_0001';
const WARMUP = 20;

export async function customObjects(database: Database, _sink: Sink, scale: Scale): Promise<Figure[]> {
  const config = { ...benchConfig({ SWITCHBOARD_API_KEY: API_KEY }), host: '127.0.0.1', port: 0 };
  const server = await startSwitchboard({ config, role: 'api', database, logger: silentLogger });
  const graphql = async (query: string, variables: Record<string, unknown> = {}): Promise<any> => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: any; errors?: unknown };
    if (body.errors) throw new Error(`custom objects bench: ${JSON.stringify(body.errors)}`);
    return body.data;
  };
  const timed = async (query: string, variables: Record<string, unknown>): Promise<[number, any]> => {
    const started = now();
    const data = await graphql(query, variables);
    return [now() - started, data];
  };
  try {
    // The same shape on both sides: two texts and a reference to a company. person has firstName, lastName and
    // companyId as columns; `contact` has them as custom fields (a TEXT pair and a RELATION to company).
    const objects = await graphql('{ objects { edges { node { id nameSingular } } } }');
    const companyObjectId = objects.objects.edges.find((edge: any) => edge.node.nameSingular === 'company').node.id;
    const contact = await graphql(
      'mutation { createOneObject(input: { object: { nameSingular: "contact", namePlural: "contacts", labelSingular: "Contact", labelPlural: "Contacts" } }) { id } }',
    );
    const objectMetadataId = contact.createOneObject.id;
    for (const field of [
      { type: 'TEXT', name: 'firstName', label: 'First name' },
      { type: 'TEXT', name: 'lastName', label: 'Last name' },
      { type: 'RELATION', name: 'company', label: 'Company', relationCreationPayload: { targetObjectMetadataId: companyObjectId, type: 'MANY_TO_ONE' } },
    ]) {
      await graphql('mutation ($input: CreateOneFieldMetadataInput!) { createOneField(input: $input) { id } }', { input: { field: { objectMetadataId, ...field } } });
    }
    const companyId = (await graphql('mutation { createCompany(data: { name: "Bench" }) { id } }')).createCompany.id;

    const sides = {
      standard: { create: 'mutation ($data: PersonCreateInput!) { createPerson(data: $data) { id } }', update: 'mutation ($id: UUID!, $data: PersonUpdateInput!) { updatePerson(id: $id, data: $data) { id } }', key: 'Person' },
      custom: { create: 'mutation ($data: ContactCreateInput!) { createContact(data: $data) { id } }', update: 'mutation ($id: UUID!, $data: ContactUpdateInput!) { updateContact(id: $id, data: $data) { id } }', key: 'Contact' },
    };
    const latencies = { standard: { create: [] as number[], update: [] as number[] }, custom: { create: [] as number[], update: [] as number[] } };
    const round = async (side: 'standard' | 'custom', index: number, record: boolean) => {
      const { create, update, key } = sides[side];
      const [created, data] = await timed(create, { data: { firstName: 'Ada', lastName: `Lovelace ${index}`, companyId } });
      const [updated] = await timed(update, { id: data[`create${key}`].id, data: { lastName: `Byron ${index}` } });
      if (record) {
        latencies[side].create.push(created);
        latencies[side].update.push(updated);
      }
    };
    // Alternating, so whatever else the machine does falls on both sides alike.
    for (let i = 0; i < WARMUP; i++) {
      await round('standard', i, false);
      await round('custom', i, false);
    }
    for (let i = 0; i < scale.writeRequests; i++) {
      await round('standard', i, true);
      await round('custom', i, true);
    }
    const p50 = (values: number[]) => percentile([...values].sort((x, y) => x - y), 50);
    return (['create', 'update'] as const).map((action) => {
      const custom = p50(latencies.custom[action]);
      const standard = p50(latencies.standard[action]);
      const ratio = custom / standard;
      return {
        scenario: '7. Custom objects',
        metric: `${action}Contact p50 (custom object: two TEXT fields and a RELATION)`,
        value: custom,
        unit: 'ms',
        baseline: { label: `${action}Person, the same fields as columns (alternating)`, value: standard },
        ratio,
        target: { text: '≤ 1.2', met: ratio <= 1.2 },
      };
    });
  } finally {
    await server.stop();
  }
}
