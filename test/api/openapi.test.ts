import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { createCustomObject } from '../helpers/metadata.ts';

/** The OpenAPI path of a Fastify route: `/rest/webhooks/:id` → `/rest/webhooks/{id}`. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}');

/** The REST routes the app registered (Fastify's automatic HEAD routes aside), as the OpenAPI document should list them. */
function restRoutes(app: TestApp, plurals: string[]): Array<{ method: string; path: string }> {
  return app.server
    .app!.registeredRoutes.filter((route) => route.url.startsWith('/rest/') && route.method !== 'HEAD')
    .flatMap((route) => {
      const path = openApiPath(route.url);
      // The records routes serve every object: the document has each object's own paths instead.
      const paths = path.includes('{plural}') ? plurals.map((plural) => path.replace('{plural}', plural)) : [path];
      return paths.map((concrete) => ({ method: route.method.toLowerCase(), path: concrete }));
    });
}

async function validate(document: unknown): Promise<{ valid: boolean; errors?: unknown }> {
  const validator = new Validator();
  // The validator resolves references in place: it gets a copy.
  const result = await validator.validate(structuredClone(document) as Parameters<Validator["validate"]>[0]);
  // Every $ref must resolve too.
  if (result.valid) validator.resolveRefs();
  return result;
}

describe.each(DATABASE_KINDS)('GET /rest/openapi.json on %s', (kind) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp(kind, { role: 'api' });
    await createCustomObject(app, { nameSingular: 'invoice', namePlural: 'invoices' }, [
      '{ type: NUMBER, name: "total", label: "Total" }',
      '{ type: SELECT, name: "status", label: "Status", options: [{ value: "DRAFT", label: "Draft" }, { value: "SENT", label: "Sent" }] }',
      '{ type: MULTI_SELECT, name: "tags", label: "Tags", options: [{ value: "A", label: "A" }] }',
      '{ type: DATE, name: "dueOn", label: "Due" }',
      '{ type: BOOLEAN, name: "paid", label: "Paid" }',
      '{ type: RAW_JSON, name: "extra", label: "Extra" }',
      '{ type: CURRENCY, name: "amount", label: "Amount", isNullable: false, defaultValue: { amountMicros: 0, currencyCode: "EUR" } }',
    ]);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('is a valid OpenAPI 3.1 document listing every REST route, with the custom object and its fields', async () => {
    const answer = await app.rest('GET', '/rest/openapi.json');
    expect(answer.status).toBe(200);
    const document = answer.body;
    expect(document.openapi).toBe('3.1.0');
    const verdict = await validate(document);
    expect(verdict.errors).toBeUndefined();
    expect(verdict.valid).toBe(true);

    const routes = restRoutes(app, ['people', 'companies', 'opportunities', 'invoices']);
    // The records routes, the webhooks, the deliveries and this document itself at least.
    expect(routes.length).toBeGreaterThan(30);
    const missing = routes.filter(({ method, path }) => !document.paths[path]?.[method]);
    expect(missing).toEqual([]);
    // Nothing else: no UI, metrics or GraphQL route, and no generic records path.
    const documented = Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations as object).map((method) => `${method} ${path}`));
    expect(documented.sort()).toEqual(routes.map(({ method, path }) => `${method} ${path}`).sort());

    const invoice = document.components.schemas.InvoiceRecord;
    expect(Object.keys(invoice.properties)).toEqual(['id', 'total', 'status', 'tags', 'dueOn', 'paid', 'extra', 'amount', 'createdAt', 'updatedAt', 'deletedAt']);
    expect(invoice.properties.status.enum).toEqual(['DRAFT', 'SENT', null]);
    expect(document.components.schemas.InvoiceCreateInput.additionalProperties).toBe(false);
    expect(document.paths['/rest/invoices/{id}'].patch.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/InvoiceUpdateInput' });
    expect(document.paths['/rest/webhooks'].post.responses['201'].content['application/json'].schema.properties.data.properties.createWebhook).toEqual({
      $ref: '#/components/schemas/Webhook',
    });
    expect(document.security).toEqual([{ apiKey: [] }]);
  });

  it("is the caller's workspace's: another workspace has no invoices; no key answers 401", async () => {
    const other = await app.createWorkspace(`openapi-${kind}`);
    const answer = await app.rest('GET', '/rest/openapi.json', undefined, other.apiKey);
    expect(answer.status).toBe(200);
    expect(answer.body.paths['/rest/people']).toBeDefined();
    expect(answer.body.paths['/rest/invoices']).toBeUndefined();
    expect(answer.body.components.schemas.InvoiceRecord).toBeUndefined();
    expect((await validate(answer.body)).valid).toBe(true);

    const anonymous = await fetch(`${app.url}/rest/openapi.json`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
  });

  it('serves the reference page at /docs from this process, under the content security policy', async () => {
    const page = await fetch(`${app.url}/docs/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('swagger-ui-bundle.js');
    // No script or style from anywhere else.
    expect(html).not.toMatch(/(src|href)="https?:/);
    const spec = await fetch(`${app.url}/docs/json`);
    expect(spec.status).toBe(200);
    const document = await spec.json();
    expect((await validate(document)).valid).toBe(true);
    expect(document.paths['/rest/people']).toBeDefined();
    for (const asset of ['swagger-ui-bundle.js', 'swagger-ui.css', 'swagger-initializer.js']) {
      expect((await fetch(`${app.url}/docs/static/${asset}`)).status, asset).toBe(200);
    }
  });
});
