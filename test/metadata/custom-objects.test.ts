import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type GraphQLResult, type TestApp } from '../helpers/app.ts';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { eventually, startReceiver, type Receiver } from '../helpers/receiver.ts';

// Twenty's front-end documents (packages/twenty-front/src/modules/object-metadata/graphql/mutations.ts), verbatim.
const CREATE_ONE_OBJECT_METADATA_ITEM = `
  mutation CreateOneObjectMetadataItem($input: CreateOneObjectInput!) {
    createOneObject(input: $input) {
      id
      dataSourceId
      nameSingular
      namePlural
      labelSingular
      labelPlural
      description
      icon
      isCustom
      isActive
      isSearchable
      createdAt
      updatedAt
      labelIdentifierFieldMetadataId
      imageIdentifierFieldMetadataId
      isLabelSyncedWithName
    }
  }
`;

const CREATE_ONE_FIELD_METADATA_ITEM = `
  mutation CreateOneFieldMetadataItem($input: CreateOneFieldMetadataInput!) {
    createOneField(input: $input) {
      id
      type
      name
      label
      description
      icon
      isCustom
      isActive
      isUnique
      isNullable
      createdAt
      updatedAt
      settings
      defaultValue
      options
      isLabelSyncedWithName
    }
  }
`;

const UPDATE_ONE_FIELD_METADATA_ITEM = `
  mutation UpdateOneFieldMetadataItem(
    $idToUpdate: UUID!
    $updatePayload: UpdateFieldInput!
  ) {
    updateOneField(input: { id: $idToUpdate, update: $updatePayload }) {
      id
      type
      name
      label
      description
      icon
      isCustom
      isActive
      isUnique
      isNullable
      createdAt
      updatedAt
      settings
      isLabelSyncedWithName
    }
  }
`;

const UPDATE_ONE_OBJECT_METADATA_ITEM = `
  mutation UpdateOneObjectMetadataItem(
    $idToUpdate: UUID!
    $updatePayload: UpdateObjectPayload!
  ) {
    updateOneObject(input: { id: $idToUpdate, update: $updatePayload }) {
      id
      dataSourceId
      nameSingular
      namePlural
      labelSingular
      labelPlural
      description
      icon
      isCustom
      isActive
      isSearchable
      createdAt
      updatedAt
      labelIdentifierFieldMetadataId
      imageIdentifierFieldMetadataId
      isLabelSyncedWithName
    }
  }
`;

const DELETE_ONE_OBJECT_METADATA_ITEM = `
  mutation DeleteOneObjectMetadataItem($idToDelete: UUID!) {
    deleteOneObject(input: { id: $idToDelete }) {
      id
      dataSourceId
      nameSingular
      namePlural
      labelSingular
      labelPlural
      description
      icon
      isCustom
      isActive
      isSearchable
      createdAt
      updatedAt
      labelIdentifierFieldMetadataId
      imageIdentifierFieldMetadataId
      isLabelSyncedWithName
    }
  }
`;

const DELETE_ONE_FIELD_METADATA_ITEM = `
  mutation DeleteOneFieldMetadataItem($idToDelete: UUID!) {
    deleteOneField(input: { id: $idToDelete }) {
      id
      type
      name
      label
      description
      icon
      isCustom
      isActive
      isUnique
      isNullable
      createdAt
      updatedAt
      settings
    }
  }
`;

// Pages sized to stay within SWITCHBOARD_GRAPHQL_MAX_COST: 1000 objects × 1000 fields would be costed at 7,000,000.
const OBJECTS_QUERY = `{ objects(paging: { first: 110 }) { edges { node { id nameSingular namePlural isCustom isActive
  fields(paging: { first: 100 }) { edges { node { id name type isCustom options defaultValue } } } } } } }`;

describe.each(DATABASE_KINDS)('custom objects and fields on %s', (kind) => {
  let app: TestApp;
  const receivers: Receiver[] = [];

  /** POST /metadata, as Twenty's clients send metadata documents. */
  async function metadata<T = any>(query: string, variables?: Record<string, unknown>, apiKey = app.apiKey): Promise<GraphQLResult<T>> {
    const response = await fetch(`${app.url}/metadata`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: GraphQLResult['errors'] };
    return { status: response.status, data: body.data ?? null, ...(body.errors ? { errors: body.errors } : {}) };
  }

  async function ok<T = any>(result: Promise<GraphQLResult<T>>): Promise<T> {
    const answer = await result;
    if (answer.errors) throw new Error(`GraphQL errors: ${JSON.stringify(answer.errors)}`);
    return answer.data as T;
  }

  async function objectId(name: string, apiKey = app.apiKey): Promise<string> {
    const answer = await ok(app.graphql(OBJECTS_QUERY, undefined, apiKey));
    return answer.objects.edges.find((edge: any) => edge.node.nameSingular === name).node.id;
  }

  async function createObject(object: Record<string, unknown>, apiKey = app.apiKey) {
    return (await ok(metadata(CREATE_ONE_OBJECT_METADATA_ITEM, { input: { object } }, apiKey))).createOneObject;
  }

  async function createField(field: Record<string, unknown>, apiKey = app.apiKey) {
    return (await ok(metadata(CREATE_ONE_FIELD_METADATA_ITEM, { input: { field } }, apiKey))).createOneField;
  }

  async function eventsOf(recordId: string) {
    return app.server.database.db.selectFrom('events').selectAll().where('record_id', '=', recordId).orderBy('created_at').execute();
  }

  let invoiceId: string;
  let companyObjectId: string;

  beforeAll(async () => {
    app = await startTestApp(kind, { env: { SWITCHBOARD_RETRY_SCHEDULE: '50ms,100ms', SWITCHBOARD_DELIVERY_TIMEOUT: '2s' } });
    companyObjectId = await objectId('company');
  });
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('lists the standard objects with their fields, isCustom false', async () => {
    const answer = await ok(app.graphql(OBJECTS_QUERY));
    const byName = Object.fromEntries(answer.objects.edges.map((edge: any) => [edge.node.nameSingular, edge.node]));
    expect(Object.keys(byName)).toEqual(['person', 'company', 'opportunity']);
    expect(byName.person).toMatchObject({ namePlural: 'people', isCustom: false, isActive: true });
    const personFields = byName.person.fields.edges.map((edge: any) => `${edge.node.name}:${edge.node.type}`);
    expect(personFields).toEqual(['firstName:TEXT', 'lastName:TEXT', 'email:TEXT', 'jobTitle:TEXT', 'phone:TEXT', 'city:TEXT', 'company:RELATION']);
  });

  it("runs Twenty's front-end documents verbatim: invoice with CURRENCY, SELECT and RELATION; leadSource on person", async () => {
    const invoice = await createObject({
      nameSingular: 'invoice',
      namePlural: 'invoices',
      labelSingular: 'Invoice',
      labelPlural: 'Invoices',
      description: 'Bills we send',
      icon: 'IconReceipt',
      isLabelSyncedWithName: false,
    });
    expect(invoice).toMatchObject({ nameSingular: 'invoice', isCustom: true, isActive: true, dataSourceId: null, isSearchable: false });
    invoiceId = invoice.id;

    const amount = await createField({ objectMetadataId: invoiceId, type: 'CURRENCY', name: 'amount', label: 'Amount', isNullable: true });
    expect(amount).toMatchObject({ type: 'CURRENCY', name: 'amount', isCustom: true, isUnique: false, isNullable: true, options: null });
    const status = await createField({
      objectMetadataId: invoiceId,
      type: 'SELECT',
      name: 'status',
      label: 'Status',
      defaultValue: "'DRAFT'",
      options: [
        { value: 'DRAFT', label: 'Draft', color: 'gray', position: 0 },
        { value: 'SENT', label: 'Sent', color: 'blue', position: 1 },
        { value: 'PAID', label: 'Paid', color: 'green', position: 2 },
      ],
    });
    expect(status.defaultValue).toBe('DRAFT');
    expect(status.options.map((option: any) => option.value)).toEqual(['DRAFT', 'SENT', 'PAID']);
    const company = await createField({
      objectMetadataId: invoiceId,
      type: 'RELATION',
      name: 'company',
      label: 'Company',
      relationCreationPayload: { targetObjectMetadataId: companyObjectId, targetFieldLabel: 'Invoices', targetFieldIcon: 'IconReceipt', type: 'MANY_TO_ONE' },
    });
    expect(company.type).toBe('RELATION');
    const personObjectId = await objectId('person');
    const leadSource = await createField({ objectMetadataId: personObjectId, type: 'TEXT', name: 'leadSource', label: 'Lead source' });

    const renamed = await ok(app.graphql(UPDATE_ONE_FIELD_METADATA_ITEM, { idToUpdate: leadSource.id, updatePayload: { label: 'Source', description: 'Where we met' } }));
    expect(renamed.updateOneField).toMatchObject({ label: 'Source', description: 'Where we met', name: 'leadSource' });
    const relabelled = await ok(
      metadata(UPDATE_ONE_OBJECT_METADATA_ITEM, { idToUpdate: invoiceId, updatePayload: { labelPlural: 'Invoices sent', nameSingular: 'invoice' } }),
    );
    expect(relabelled.updateOneObject).toMatchObject({ labelPlural: 'Invoices sent', nameSingular: 'invoice' });

    // Records over GraphQL, at once (no restart), with the custom fields.
    const acme = (await ok(app.graphql('mutation { createCompany(data: { name: "Acme" }) { id } }'))).createCompany;
    const created = (
      await ok(
        app.graphql(
          `mutation ($data: InvoiceCreateInput!) { createInvoice(data: $data) { id amount { amountMicros currencyCode } status companyId createdAt } }`,
          { data: { amount: { amountMicros: 12_500_000, currencyCode: 'EUR' }, companyId: acme.id } },
        ),
      )
    ).createInvoice;
    expect(created).toMatchObject({ amount: { amountMicros: 12_500_000, currencyCode: 'EUR' }, status: 'DRAFT', companyId: acme.id });
    const [createdEvent] = await eventsOf(created.id);
    expect(createdEvent!.operation).toBe('invoice.created');
    expect(createdEvent!.record).toMatchObject({ amount: { amountMicros: 12_500_000, currencyCode: 'EUR' }, status: 'DRAFT', companyId: acme.id });

    const updated = (
      await ok(app.graphql(`mutation ($id: UUID!) { updateInvoice(id: $id, data: { status: "SENT" }) { status } }`, { id: created.id }))
    ).updateInvoice;
    expect(updated.status).toBe('SENT');
    const events = await eventsOf(created.id);
    expect(events.map((event) => event.operation)).toEqual(['invoice.created', 'invoice.updated']);
    expect(events[1]!.updated_fields).toEqual(['status']);

    // The same record over REST, and a person with leadSource.
    const read = await app.rest('GET', `/rest/invoices/${created.id}`);
    expect(read.status).toBe(200);
    expect(read.body.data.invoice).toMatchObject({ status: 'SENT', amount: { currencyCode: 'EUR' } });
    const person = await app.rest('POST', '/rest/people', { firstName: 'Ada', leadSource: 'conference' });
    expect(person.status).toBe(201);
    expect(person.body.data.createPerson).toMatchObject({ firstName: 'Ada', leadSource: 'conference' });
    const patched = await app.rest('PATCH', `/rest/people/${person.body.data.createPerson.id}`, { leadSource: 'referral' });
    expect(patched.body.data.updatePerson.leadSource).toBe('referral');
    const personEvents = await eventsOf(person.body.data.createPerson.id);
    expect(personEvents.map((event) => [event.operation, event.updated_fields])).toEqual([
      ['person.created', null],
      ['person.updated', ['leadSource']],
    ]);
    expect(personEvents[1]!.record).toMatchObject({ leadSource: 'referral' });
    expect(personEvents[1]!.previous_record).toMatchObject({ leadSource: 'conference' });

    // A company referenced by an invoice cannot be destroyed.
    const destroy = await app.rest('DELETE', `/rest/companies/${acme.id}?hard=true`);
    expect(destroy.status).toBe(409);
    expect(destroy.body.error.message).toMatch(/invoice \(companyId\)/);
  });

  it('validates record values by field type, naming the field, and stores nothing', async () => {
    const before = (await app.server.database.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n;
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ status: 'LOST' }, /body\.status: must be one of DRAFT, SENT, PAID/],
      [{ amount: { amountMicros: 1.5, currencyCode: 'EUR' } }, /body\.amount\.amountMicros: must be a whole number/],
      [{ amount: { amountMicros: 1, currencyCode: 'euro' } }, /body\.amount\.currencyCode: must be an ISO 4217 code/],
      [{ companyId: '6ba7b810-9dad-41d1-80b4-00c04fd430c8' }, /body\.companyId: no company .* exists/],
    ];
    for (const [data, message] of cases) {
      const answer = await app.rest('POST', '/rest/invoices', data);
      expect(answer.status, JSON.stringify(data)).toBe(422);
      expect(answer.body.error.message).toMatch(message);
    }
    const unknownField = await app.graphql('mutation { createInvoice(data: { nope: 1 }) { id } }');
    expect(unknownField.status).toBe(400);
    expect(unknownField.errors?.[0].message).toMatch(/nope/);
    const after = (await app.server.database.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n;
    expect(after).toBe(before);
  });

  it('takes every field type on a custom object, with isNullable and defaultValue holding', async () => {
    const gadget = await createObject({ nameSingular: 'gadget', namePlural: 'gadgets', labelSingular: 'Gadget', labelPlural: 'Gadgets' });
    const fields: Array<Record<string, unknown>> = [
      { type: 'TEXT', name: 'title', isNullable: false, defaultValue: "'untitled'" },
      { type: 'NUMBER', name: 'weight' },
      { type: 'BOOLEAN', name: 'fragile', defaultValue: false },
      { type: 'DATE_TIME', name: 'shippedAt' },
      { type: 'DATE', name: 'madeOn' },
      { type: 'MULTI_SELECT', name: 'tags', options: [{ value: 'RED', label: 'Red' }, { value: 'BLUE', label: 'Blue' }] },
      { type: 'RAW_JSON', name: 'extra' },
      { type: 'UUID', name: 'externalId' },
    ];
    for (const field of fields) await createField({ objectMetadataId: gadget.id, label: String(field.name), ...field });
    const selection = 'id title weight fragile shippedAt madeOn tags extra externalId';
    const created = (await ok(app.graphql(`mutation { createGadget(data: { weight: 2.5 }) { ${selection} } }`))).createGadget;
    expect(created).toMatchObject({ title: 'untitled', weight: 2.5, fragile: false, shippedAt: null, tags: null, extra: null });
    const data = {
      title: 'Widget',
      shippedAt: '2024-03-04T11:00:00Z',
      madeOn: '2024-02-29',
      tags: ['RED', 'BLUE'],
      extra: { nested: [1, { b: true }] },
      externalId: 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
    };
    const updated = (await ok(app.graphql(`mutation ($id: UUID!, $data: GadgetUpdateInput!) { updateGadget(id: $id, data: $data) { ${selection} } }`, { id: created.id, data })))
      .updateGadget;
    expect(updated).toMatchObject({ ...data, shippedAt: '2024-03-04T11:00:00.000Z', externalId: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' });
    // The same values again change nothing: no event (jsonb's key order does not count as a change).
    const eventsBefore = (await eventsOf(created.id)).length;
    await ok(app.graphql(`mutation ($id: UUID!, $data: GadgetUpdateInput!) { updateGadget(id: $id, data: $data) { id } }`, { id: created.id, data }));
    expect(await eventsOf(created.id)).toHaveLength(eventsBefore);

    const refusals: Array<[Record<string, unknown>, RegExp]> = [
      [{ title: null }, /data\.title: must not be null/],
      [{ madeOn: '2023-02-29' }, /data\.madeOn: must be a calendar day/],
      [{ tags: ['RED', 'RED'] }, /data\.tags\[1\]: repeats "RED"/],
      [{ tags: ['GREEN'] }, /data\.tags\[0\]: must be one of RED, BLUE/],
      [{ externalId: 'nope' }, /UUID cannot represent "nope"/],
    ];
    for (const [change, message] of refusals) {
      const answer = await app.graphql(`mutation ($id: UUID!, $data: GadgetUpdateInput!) { updateGadget(id: $id, data: $data) { id } }`, { id: created.id, data: change });
      expect(answer.errors?.[0].message, JSON.stringify(change)).toMatch(message);
    }
  });

  it('refuses bad metadata input, naming the field and why, and changes nothing', async () => {
    const before = await ok(app.graphql(OBJECTS_QUERY));
    const objectCases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ nameSingular: 'Invoice2', namePlural: 'invoice2s' }, 'input.object.nameSingular', /camelCase/],
      [{ nameSingular: 'bill_item', namePlural: 'billItems' }, 'input.object.nameSingular', /camelCase/],
      [{ nameSingular: 'receipt', namePlural: 'receipt' }, 'input.object.namePlural', /must differ from nameSingular/],
      [{ nameSingular: 'invoice', namePlural: 'invoiceList' }, 'input.object.nameSingular', /already used by the object invoice/],
      [{ nameSingular: 'bill', namePlural: 'people' }, 'input.object.namePlural', /already used by the object person/],
      [{ nameSingular: 'webhook', namePlural: 'webhookList' }, 'input.object.nameSingular', /would generate the operation webhook/],
      [{ nameSingular: 'workspace', namePlural: 'workspaceList' }, 'input.object.nameSingular', /would generate the type Workspace,/],
      [{ nameSingular: 'apiKey', namePlural: 'apiKeyList' }, 'input.object.nameSingular', /would generate the operation createApiKey/],
      [{ nameSingular: 'personEdge', namePlural: 'personEdges' }, 'input.object.nameSingular', /would generate the type PersonEdge/],
      [{ nameSingular: 'batchItem', namePlural: 'batch' }, 'input.object.namePlural', /reserved/],
      [{ nameSingular: 'x'.repeat(64), namePlural: 'xs' }, 'input.object.nameSingular', /at most 63/],
      [{ nameSingular: 'ticket', namePlural: 'tickets', labelSingular: ' ' }, 'input.object.labelSingular', /must not be empty/],
    ];
    for (const [object, field, message] of objectCases) {
      const answer = await metadata(CREATE_ONE_OBJECT_METADATA_ITEM, {
        input: { object: { labelSingular: 'L', labelPlural: 'Ls', ...object } },
      });
      expect(answer.errors?.[0].extensions?.field, JSON.stringify(object)).toBe(field);
      expect(answer.errors?.[0].message, JSON.stringify(object)).toMatch(message);
    }

    const fieldCases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ name: 'createdAt' }, 'input.field.name', /reserved/],
      [{ name: 'id' }, 'input.field.name', /reserved/],
      [{ name: 'and' }, 'input.field.name', /reserved/],
      [{ name: 'Status' }, 'input.field.name', /camelCase/],
      [{ name: 'status' }, 'input.field.name', /already has a field "status"/],
      [{ name: 'companyId' }, 'input.field.name', /already has a field "company" using the name "companyId"/],
      [{ name: 'priority', type: 'SELECT' }, 'input.field.options', /non-empty array/],
      [{ name: 'priority', type: 'SELECT', options: [{ value: 'A', label: 'A' }, { value: 'A', label: 'B' }] }, 'input.field.options[1].value', /repeats/],
      [{ name: 'priority', type: 'SELECT', options: [{ value: 'not ok', label: 'A' }] }, 'input.field.options[0].value', /letters, digits or _/],
      [{ name: 'priority', type: 'SELECT', options: [{ value: 'A', label: 'A' }], defaultValue: 'B' }, 'input.field.defaultValue', /must be one of A/],
      [{ name: 'note', options: [{ value: 'A', label: 'A' }] }, 'input.field.options', /only SELECT and MULTI_SELECT/],
      [{ name: 'note', isNullable: false }, 'input.field.defaultValue', /required when isNullable is false/],
      [{ name: 'note', isUnique: true }, 'input.field.isUnique', /not supported/],
      [{ name: 'total', type: 'NUMBER', defaultValue: 'ten' }, 'input.field.defaultValue', /finite number/],
      [{ name: 'owner', type: 'RELATION' }, 'input.field.relationCreationPayload', /must be an object/],
      [{ name: 'owner', type: 'RELATION', relationCreationPayload: { targetObjectMetadataId: '6ba7b810-9dad-41d1-80b4-00c04fd430c8' } }, 'input.field.relationCreationPayload.targetObjectMetadataId', /no object/],
      [{ name: 'owner', type: 'RELATION', relationCreationPayload: { targetObjectMetadataId: companyObjectId, type: 'ONE_TO_MANY' } }, 'input.field.relationCreationPayload.type', /MANY_TO_ONE/],
      [{ objectMetadataId: '6ba7b810-9dad-41d1-80b4-00c04fd430c8', name: 'note' }, 'input.field.objectMetadataId', /no object/],
    ];
    for (const [field, path, message] of fieldCases) {
      const answer = await metadata(CREATE_ONE_FIELD_METADATA_ITEM, {
        input: { field: { objectMetadataId: invoiceId, type: 'TEXT', label: 'L', ...field } },
      });
      expect(answer.errors?.[0].extensions?.field, JSON.stringify(field)).toBe(path);
      expect(answer.errors?.[0].message, JSON.stringify(field)).toMatch(message);
    }
    const badType = await metadata(CREATE_ONE_FIELD_METADATA_ITEM, { input: { field: { objectMetadataId: invoiceId, type: 'PHONES', name: 'phone', label: 'P' } } });
    expect(badType.status).toBe(400);
    expect(badType.errors?.[0].message).toMatch(/PHONES/);

    // Updates: names and types stay; standard objects and fields cannot change.
    const invoiceFields = (await ok(app.graphql(`{ object(id: "${invoiceId}") { fieldsList { id name } } }`))).object.fieldsList;
    const statusId = invoiceFields.find((field: any) => field.name === 'status').id;
    const rename = await metadata(UPDATE_ONE_FIELD_METADATA_ITEM, { idToUpdate: statusId, updatePayload: { name: 'state' } });
    expect(rename.errors?.[0].extensions?.field).toBe('input.update.name');
    const dropOption = await metadata(UPDATE_ONE_FIELD_METADATA_ITEM, { idToUpdate: statusId, updatePayload: { options: [{ value: 'SENT', label: 'Sent' }] } });
    expect(dropOption.errors?.[0].extensions?.field).toBe('input.update.options');
    expect(dropOption.errors?.[0].message).toMatch(/must be one of SENT/);
    const renameObject = await metadata(UPDATE_ONE_OBJECT_METADATA_ITEM, { idToUpdate: invoiceId, updatePayload: { nameSingular: 'bill' } });
    expect(renameObject.errors?.[0].extensions?.field).toBe('input.update.nameSingular');
    const standard = await metadata(UPDATE_ONE_OBJECT_METADATA_ITEM, { idToUpdate: companyObjectId, updatePayload: { labelSingular: 'Firm' } });
    expect(standard.errors?.[0].message).toMatch(/company is a standard object/);
    const deleteStandard = await metadata(DELETE_ONE_OBJECT_METADATA_ITEM, { idToDelete: companyObjectId });
    expect(deleteStandard.errors?.[0].message).toMatch(/standard object/);
    const deleteActive = await metadata(DELETE_ONE_OBJECT_METADATA_ITEM, { idToDelete: invoiceId });
    expect(deleteActive.errors?.[0].message).toMatch(/deactivate it first/);
    const unknown = await metadata(DELETE_ONE_FIELD_METADATA_ITEM, { idToDelete: '6ba7b810-9dad-41d1-80b4-00c04fd430c8' });
    expect(unknown.errors?.[0].extensions?.code).toBe('NOT_FOUND');

    expect(await ok(app.graphql(OBJECTS_QUERY))).toEqual(before);
  });

  it("keeps each workspace's objects, fields and records to itself; names are per workspace", async () => {
    const other = await app.createWorkspace(`other-${kind}`);
    const answer = await ok(app.graphql(OBJECTS_QUERY, undefined, other.apiKey));
    expect(answer.objects.edges.map((edge: any) => edge.node.nameSingular)).toEqual(['person', 'company', 'opportunity']);
    expect((await app.graphql(`{ object(id: "${invoiceId}") { id } }`, undefined, other.apiKey)).data.object).toBeNull();
    const foreignField = await metadata(CREATE_ONE_FIELD_METADATA_ITEM, { input: { field: { objectMetadataId: invoiceId, type: 'TEXT', name: 'x', label: 'X' } } }, other.apiKey);
    expect(foreignField.errors?.[0].message).toMatch(/no object .* exists in this workspace/);
    for (const [document, variables] of [
      [UPDATE_ONE_OBJECT_METADATA_ITEM, { idToUpdate: invoiceId, updatePayload: { labelSingular: 'Mine' } }],
      [DELETE_ONE_OBJECT_METADATA_ITEM, { idToDelete: invoiceId }],
    ] as const) {
      expect((await metadata(document, variables, other.apiKey)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    }
    // The other workspace's schema has no invoice; its REST has no /rest/invoices; its person has no leadSource.
    expect((await app.graphql('{ invoices { totalCount } }', undefined, other.apiKey)).errors?.[0].message).toMatch(/invoices/);
    expect((await app.rest('GET', '/rest/invoices', undefined, other.apiKey)).status).toBe(404);
    expect((await app.rest('POST', '/rest/people', { leadSource: 'x' }, other.apiKey)).status).toBe(422);

    // The same names in another workspace are that workspace's own.
    const theirs = await createObject({ nameSingular: 'invoice', namePlural: 'invoices', labelSingular: 'Invoice', labelPlural: 'Invoices' }, other.apiKey);
    expect(theirs.id).not.toBe(invoiceId);
    await createField({ objectMetadataId: theirs.id, type: 'TEXT', name: 'status', label: 'Status' }, other.apiKey);
    const mine = await app.rest('GET', '/rest/invoices');
    const theirList = await app.rest('GET', '/rest/invoices', undefined, other.apiKey);
    expect(theirList.body.totalCount).toBe(0);
    expect(mine.body.totalCount).toBeGreaterThan(0);
    const theirCreate = await app.rest('POST', '/rest/invoices', { status: 'anything goes' }, other.apiKey);
    expect(theirCreate.status).toBe(201);
    expect((await app.rest('GET', `/rest/invoices/${theirCreate.body.data.createInvoice.id}`)).status).toBe(404);
  });

  it('delivers invoice.created and invoice.updated webhooks carrying the custom fields; operations name the workspace objects', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const refused = await app.graphql('mutation { createWebhook(input: { targetUrl: "https://example.com/x", operations: ["receipt.created"] }) { id } }');
    expect(refused.errors?.[0].message).toMatch(/operations\[0\]: "receipt.created" is not a valid operation: object must be one of person, company, opportunity, invoice, gadget or \*/);
    const webhook = (
      await ok(app.graphql(`mutation { createWebhook(input: { targetUrl: "${receiver.url}/hook", operations: ["invoice.*", "person.updated"] }) { id } }`))
    ).createWebhook;
    const created = (await app.rest('POST', '/rest/invoices', { amount: { amountMicros: 99_000_000, currencyCode: 'USD' }, status: 'SENT' })).body.data.createInvoice;
    await app.rest('PATCH', `/rest/invoices/${created.id}`, { status: 'PAID' });
    await receiver.waitForCount(2);
    const bodies = receiver.requests.map((request) => JSON.parse(request.body));
    expect(bodies.map((body) => body.operation).sort()).toEqual(['invoice.created', 'invoice.updated']);
    const createdBody = bodies.find((body) => body.operation === 'invoice.created');
    expect(createdBody).toMatchObject({ webhookId: webhook.id, record: { id: created.id, amount: { amountMicros: 99_000_000, currencyCode: 'USD' }, status: 'SENT' } });
    const updatedBody = bodies.find((body) => body.operation === 'invoice.updated');
    expect(updatedBody).toMatchObject({ record: { status: 'PAID' }, previousRecord: { status: 'SENT' }, updatedFields: ['status'] });
  });

  it('walks the done-when: invoice and leadSource records over GraphQL and REST, filtered lists, and screened webhooks carrying the fields as the API returns them', async () => {
    const [all, big, source, any] = [await startReceiver(), await startReceiver(), await startReceiver(), await startReceiver()];
    receivers.push(all, big, source, any);
    const webhook = async (input: Record<string, unknown>) => {
      const answer = await app.graphql('mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }', { input });
      return answer;
    };
    // Screens name custom fields: a CURRENCY's part and a SELECT on invoice, a custom TEXT on person; an unknown
    // field, an option the SELECT lacks and a misspelt fields entry are refused, naming them.
    const refusals: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ operations: ['invoice.*'], filter: { amount: { amountMicros: { gt: 1 } }, total: { eq: 1 } } }, 'filter.total', /unknown field "total"/],
      [{ operations: ['invoice.*'], filter: { status: { eq: 'LOST' } } }, 'filter.status.eq', /"LOST" is not an option of status/],
      [{ operations: ['invoice.*'], filter: { leadSource: { eq: 'x' } } }, 'filter.leadSource', /unknown field "leadSource"/],
      [{ operations: ['person.updated'], fields: ['leadSourc'] }, 'fields[0]', /"leadSourc" is not a field of person/],
    ];
    for (const [input, field, message] of refusals) {
      const answer = await webhook({ targetUrl: 'https://example.com/refused', ...input });
      expect(answer.errors?.[0].extensions?.field, JSON.stringify(input)).toBe(field);
      expect(answer.errors?.[0].message, JSON.stringify(input)).toMatch(message);
    }
    const ids = {
      all: (await ok(webhook({ targetUrl: `${all.url}/all`, operations: ['invoice.*', 'person.updated'] }))).createWebhook.id,
      big: (
        await ok(
          webhook({
            targetUrl: `${big.url}/big`,
            operations: ['invoice.*'],
            filter: { and: [{ amount: { amountMicros: { gte: 50_000_000 } } }, { status: { in: ['SENT', 'PAID'] } }] },
          }),
        )
      ).createWebhook.id,
      source: (
        await ok(webhook({ targetUrl: `${source.url}/source`, operations: ['person.updated'], fields: ['leadSource'], filter: { leadSource: { ilike: 'conf%' } } }))
      ).createWebhook.id,
      // Every object: invoice.amount is a CURRENCY where opportunity.amount is a NUMBER; the filter reads as invoice's.
      any: (await ok(webhook({ targetUrl: `${any.url}/any`, operations: ['*.*'], filter: { amount: { amountMicros: { gte: 50_000_000 } } } }))).createWebhook.id,
    };

    // What the records API answers after each write, by record and updatedAt: the payloads must carry exactly that.
    const answers = new Map<string, any>();
    const remember = async (path: string, key: string) => {
      const read = await app.rest('GET', path);
      expect(read.status).toBe(200);
      const record = read.body.data[key];
      answers.set(`${record.id}@${record.updatedAt}`, record);
      return record;
    };
    const acme = (await ok(app.graphql('mutation { createCompany(data: { name: "Acme Invoices" }) { id } }'))).createCompany;
    const selection = 'id amount { amountMicros currencyCode } status companyId';
    const first = (
      await ok(
        app.graphql(`mutation ($data: InvoiceCreateInput!) { createInvoice(data: $data) { ${selection} } }`, {
          data: { amount: { amountMicros: 75_000_000, currencyCode: 'EUR' }, status: 'SENT', companyId: acme.id },
        }),
      )
    ).createInvoice;
    expect(first).toMatchObject({ amount: { amountMicros: 75_000_000, currencyCode: 'EUR' }, status: 'SENT', companyId: acme.id });
    await remember(`/rest/invoices/${first.id}`, 'invoice');
    const second = await app.rest('POST', '/rest/invoices', { amount: { amountMicros: 10_000_000, currencyCode: 'USD' }, companyId: acme.id });
    expect(second.status).toBe(201);
    expect(second.body.data.createInvoice).toMatchObject({ status: 'DRAFT', amount: { amountMicros: 10_000_000 } });
    const secondId = second.body.data.createInvoice.id;
    await remember(`/rest/invoices/${secondId}`, 'invoice');
    expect((await app.rest('PATCH', `/rest/invoices/${first.id}`, { status: 'PAID' })).status).toBe(200);
    await remember(`/rest/invoices/${first.id}`, 'invoice');
    const raised = await ok(
      app.graphql(`mutation ($id: UUID!) { updateInvoice(id: $id, data: { amount: { amountMicros: 20000000, currencyCode: "USD" } }) { ${selection} } }`, { id: secondId }),
    );
    expect(raised.updateInvoice.amount.amountMicros).toBe(20_000_000);
    await remember(`/rest/invoices/${secondId}`, 'invoice');

    const grace = (await ok(app.graphql('mutation { createPerson(data: { firstName: "Grace", leadSource: "web" }) { id leadSource } }'))).createPerson;
    expect(grace.leadSource).toBe('web');
    const changed = await ok(app.graphql(`mutation ($id: UUID!) { updatePerson(id: $id, data: { leadSource: "conference talk" }) { leadSource } }`, { id: grace.id }));
    expect(changed.updatePerson.leadSource).toBe('conference talk');
    await remember(`/rest/people/${grace.id}`, 'person');
    expect((await app.rest('PATCH', `/rest/people/${grace.id}`, { city: 'Paris' })).status).toBe(200);
    await remember(`/rest/people/${grace.id}`, 'person');

    // Filtered lists over GraphQL and REST, on the custom fields.
    const paid = await ok(app.graphql('{ invoices(filter: { status: { eq: "PAID" }, companyId: { eq: "' + acme.id + '" } }) { edges { node { id } } } }'));
    expect(paid.invoices.edges.map((edge: any) => edge.node.id)).toEqual([first.id]);
    const small = await app.rest('GET', `/rest/invoices?filter=${encodeURIComponent(JSON.stringify({ and: [{ amount: { amountMicros: { lt: 50_000_000 } } }, { companyId: { eq: acme.id } }] }))}`);
    expect(small.status).toBe(200);
    expect(small.body.data.invoices.map((invoice: any) => invoice.id)).toEqual([secondId]);
    const conference = await ok(app.graphql('{ people(filter: { leadSource: { ilike: "conf%" } }) { edges { node { id leadSource } } } }'));
    expect(conference.people.edges.map((edge: any) => edge.node)).toEqual([{ id: grace.id, leadSource: 'conference talk' }]);

    // Wait until every delivery of these webhooks is settled, then count: the screens let through exactly these.
    const webhookIds = Object.values(ids);
    await eventually(
      async () => {
        const fanouts = await app.server.database.db.selectFrom('pending_fanouts').select('event_id').execute();
        const pending = await app.server.database.db.selectFrom('deliveries').select('id').where('webhook_id', 'in', webhookIds).where('status', '!=', 'SUCCEEDED').execute();
        return fanouts.length + pending.length;
      },
      (left: number) => left === 0,
    );
    const received = (receiver: Receiver) => receiver.requests.map((request) => JSON.parse(request.body));
    const operations = (receiver: Receiver) => received(receiver).map((body) => `${body.operation} ${body.record.id === first.id ? 'first' : body.record.id === secondId ? 'second' : 'grace'}`).sort();
    expect(operations(all)).toEqual([
      'invoice.created first',
      'invoice.created second',
      'invoice.updated first',
      'invoice.updated second',
      'person.updated grace',
      'person.updated grace',
    ]);
    expect(operations(big)).toEqual(['invoice.created first', 'invoice.updated first']);
    expect(operations(source)).toEqual(['person.updated grace']);
    expect(received(source)[0]).toMatchObject({ updatedFields: ['leadSource'], record: { leadSource: 'conference talk' }, previousRecord: { leadSource: 'web' } });
    expect(operations(any)).toEqual(['invoice.created first', 'invoice.updated first']);

    // Each payload's record is exactly what the records API answered for that state.
    for (const body of [...received(all), ...received(big), ...received(source), ...received(any)]) {
      const answer = answers.get(`${body.record.id}@${body.record.updatedAt}`);
      expect(answer, `${body.operation} ${body.record.id}`).toBeDefined();
      expect(body.record, `${body.operation} ${body.record.id}`).toEqual(answer);
    }
    const updatedFirst = received(all).find((body) => body.operation === 'invoice.updated' && body.record.id === first.id);
    expect(updatedFirst).toMatchObject({ updatedFields: ['status'], previousRecord: { status: 'SENT', amount: { amountMicros: 75_000_000, currencyCode: 'EUR' }, companyId: acme.id } });
    const updatedSecond = received(all).find((body) => body.operation === 'invoice.updated' && body.record.id === secondId);
    expect(updatedSecond.updatedFields).toEqual(['amount']);

    // A field or object named by a webhook cannot be deleted until the webhook changes; deactivating is allowed
    // and the deactivated field counts as missing (NULL) in the stored filter.
    const invoiceFields = (await ok(app.graphql(`{ object(id: "${invoiceId}") { fieldsList { id name } } }`))).object.fieldsList;
    const amountId = invoiceFields.find((field: any) => field.name === 'amount').id;
    await ok(app.graphql(UPDATE_ONE_FIELD_METADATA_ITEM, { idToUpdate: amountId, updatePayload: { isActive: false } }));
    const refusedDelete = await metadata(DELETE_ONE_FIELD_METADATA_ITEM, { idToDelete: amountId });
    expect(refusedDelete.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(refusedDelete.errors?.[0].message).toMatch(new RegExp(`webhook ${ids.big} .*filter would no longer be valid .*amountMicros`));
    await ok(app.graphql(UPDATE_ONE_FIELD_METADATA_ITEM, { idToUpdate: amountId, updatePayload: { isActive: true } }));
    await ok(metadata(UPDATE_ONE_OBJECT_METADATA_ITEM, { idToUpdate: invoiceId, updatePayload: { isActive: false } }));
    const refusedObject = await metadata(DELETE_ONE_OBJECT_METADATA_ITEM, { idToDelete: invoiceId });
    expect(refusedObject.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(refusedObject.errors?.[0].message).toMatch(new RegExp(`webhook ${ids.all} .*its operations name invoice\\.\\*`));
    // A deactivated object's references still hold: the company its invoices name cannot be destroyed meanwhile.
    const destroy = await app.rest('DELETE', `/rest/companies/${acme.id}?hard=true`);
    expect(destroy.status).toBe(409);
    expect(destroy.body.error.message).toMatch(/2 invoices \(companyId\)/);
    await ok(metadata(UPDATE_ONE_OBJECT_METADATA_ITEM, { idToUpdate: invoiceId, updatePayload: { isActive: true } }));
    const after = await app.rest('GET', `/rest/invoices/${first.id}`);
    expect(after.body.data.invoice).toMatchObject({ status: 'PAID', amount: { amountMicros: 75_000_000 } });
  });

  it('deactivating hides an object from the API and keeps its records; deleting removes them; a field likewise', async () => {
    const note = await createObject({ nameSingular: 'note', namePlural: 'notes', labelSingular: 'Note', labelPlural: 'Notes' });
    const body = await createField({ objectMetadataId: note.id, type: 'TEXT', name: 'body', label: 'Body' });
    const stored = (await app.rest('POST', '/rest/notes', { body: 'hello' })).body.data.createNote;
    const deactivateField = await ok(app.graphql(UPDATE_ONE_FIELD_METADATA_ITEM, { idToUpdate: body.id, updatePayload: { isActive: false } }));
    expect(deactivateField.updateOneField.isActive).toBe(false);
    expect((await app.rest('GET', `/rest/notes/${stored.id}`)).body.data.note).not.toHaveProperty('body');
    await ok(app.graphql(UPDATE_ONE_FIELD_METADATA_ITEM, { idToUpdate: body.id, updatePayload: { isActive: true } }));
    expect((await app.rest('GET', `/rest/notes/${stored.id}`)).body.data.note.body).toBe('hello');

    await ok(app.graphql(UPDATE_ONE_FIELD_METADATA_ITEM, { idToUpdate: body.id, updatePayload: { isActive: false } }));
    expect((await ok(metadata(DELETE_ONE_FIELD_METADATA_ITEM, { idToDelete: body.id }))).deleteOneField.id).toBe(body.id);
    // A new field of the same name starts empty, whatever the old one held.
    await createField({ objectMetadataId: note.id, type: 'NUMBER', name: 'body', label: 'Body' });
    expect((await app.rest('GET', `/rest/notes/${stored.id}`)).body.data.note.body).toBeNull();

    await ok(metadata(UPDATE_ONE_OBJECT_METADATA_ITEM, { idToUpdate: note.id, updatePayload: { isActive: false } }));
    expect((await app.rest('GET', '/rest/notes')).status).toBe(404);
    expect((await app.graphql('{ notes { totalCount } }')).status).toBe(400);
    await ok(metadata(UPDATE_ONE_OBJECT_METADATA_ITEM, { idToUpdate: note.id, updatePayload: { isActive: true } }));
    expect((await app.rest('GET', `/rest/notes/${stored.id}`)).status).toBe(200);
    await ok(metadata(UPDATE_ONE_OBJECT_METADATA_ITEM, { idToUpdate: note.id, updatePayload: { isActive: false } }));
    const deleted = await ok(metadata(DELETE_ONE_OBJECT_METADATA_ITEM, { idToDelete: note.id }));
    expect(deleted.deleteOneObject.nameSingular).toBe('note');
    const rows = await app.server.database.db.selectFrom('custom_records').select('id').where('object_metadata_id', '=', note.id).execute();
    expect(rows).toEqual([]);
    const objects = await ok(app.graphql(OBJECTS_QUERY));
    expect(objects.objects.edges.map((edge: any) => edge.node.nameSingular)).not.toContain('note');
  });
});
