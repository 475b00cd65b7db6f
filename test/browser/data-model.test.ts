import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { buildWeb } from '../../web/build.ts';
import { startTestApp, TEST_API_KEY, type TestApp } from '../helpers/app.ts';
import { launchBrowser, overflowsSideways, PHONE, screenshot, watchConsole, type Browser } from './support.ts';

// The UI talks GraphQL only, so one database kind is enough here: test/metadata covers the API on both.
describe('Settings → Data model in Chromium', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    await buildWeb({ ifStale: true });
    [app, browser] = await Promise.all([startTestApp('pglite', { role: 'api' }), launchBrowser()]);
  });

  afterAll(async () => {
    await Promise.all([browser?.close(), app?.close()]);
  });

  /** The workspace's data model as the API answers it, for checking what the pages did. */
  async function apiModel(): Promise<Array<{ nameSingular: string; isActive: boolean; fields: any[] }>> {
    const objects = await app.graphql('{ objects(paging: { first: 20 }) { edges { node { id nameSingular isActive } } } }');
    const fields = await app.graphql(
      '{ fields(paging: { first: 200 }) { edges { node { objectMetadataId name type label isActive isNullable defaultValue options relationTargetObjectMetadataId } } } }',
    );
    return objects.data.objects.edges.map(({ node }: any) => ({
      ...node,
      fields: fields.data.fields.edges.map((edge: any) => edge.node).filter((field: any) => field.objectMetadataId === node.id),
    }));
  }

  const fieldRow = (page: Page, name: string) => page.locator(`tr[data-field="${name}"]`);

  async function addField(page: Page, type: string, label: string, name: string): Promise<void> {
    const form = page.getByRole('form', { name: /Add a field to/ });
    await form.getByLabel('Type').selectOption(type);
    await form.getByLabel('Field label').fill(label);
    await form.getByLabel('API name').fill(name);
  }

  it('creates the invoice object with CURRENCY, SELECT (options edited) and RELATION fields, adds leadSource to person, and lists them', async () => {
    const page = await browser.context.newPage();
    const problems = watchConsole(page);
    await page.goto(`${app.url}/settings/data-model`);
    await page.getByLabel('API key').fill(TEST_API_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Data model', level: 1 }).waitFor();
    expect(await page.getByRole('link', { name: 'Data model' }).getAttribute('aria-current')).toBe('page');
    for (const label of ['People', 'Companies', 'Opportunities']) await page.getByRole('link', { name: label, exact: true }).waitFor();

    // The server's refusal appears next to the input it names.
    const create = page.getByRole('form', { name: 'Create an object' });
    await create.getByLabel('Singular label').fill('Invoice');
    await create.getByLabel('Plural label').fill('Invoices');
    await create.getByLabel('Singular API name').fill('Invoice');
    await create.getByLabel('Plural API name').fill('invoices');
    await create.getByRole('button', { name: 'Create object' }).click();
    await create.getByText(/must be camelCase/).waitFor();
    expect(await create.getByLabel('Singular API name').getAttribute('aria-invalid')).toBe('true');
    await create.getByLabel('Singular API name').fill('invoice');
    await create.getByLabel('Description').fill('Bills we send');
    await create.getByRole('button', { name: 'Create object' }).click();
    await page.getByRole('heading', { name: 'Invoices', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/settings/data-model/invoice');

    // CURRENCY amount.
    await addField(page, 'CURRENCY', 'Amount', 'amount');
    await page.getByRole('button', { name: 'Add field' }).click();
    await fieldRow(page, 'amount').waitFor();

    // A refused field name shows next to the API name input.
    await addField(page, 'TEXT', 'Created', 'createdAt');
    await page.getByRole('button', { name: 'Add field' }).click();
    await page.getByText('"createdAt" is reserved').waitFor();

    // SELECT status: three options typed in, one added and removed, PAID moved up then back, default DRAFT.
    await addField(page, 'SELECT', 'Status', 'status');
    const form = page.getByRole('form', { name: /Add a field to/ });
    const options: Array<[string, string]> = [['DRAFT', 'Draft'], ['SENT', 'Sent'], ['PAID', 'Paid']];
    for (const [index, [value, label]] of options.entries()) {
      if (index > 0) await form.getByRole('button', { name: '+ Add option' }).click();
      await form.getByLabel(`Option ${index + 1} value`).fill(value);
      await form.getByLabel(`Option ${index + 1} label`).fill(label);
    }
    await form.getByLabel('Option 3 color').selectOption('green');
    await form.getByRole('button', { name: '+ Add option' }).click();
    await form.getByRole('button', { name: 'Remove option 4' }).click();
    await form.getByRole('button', { name: 'Move option 3 up' }).click();
    expect(await form.getByLabel('Option 2 value').inputValue()).toBe('PAID');
    await form.getByRole('button', { name: 'Move option 2 down' }).click();
    expect(await form.getByLabel('Option 3 value').inputValue()).toBe('PAID');
    await form.getByLabel('Default value').selectOption('DRAFT');
    await screenshot(page, 'data-model-select-field');
    await page.getByRole('button', { name: 'Add field' }).click();
    await fieldRow(page, 'status').waitFor();
    await expect.poll(() => fieldRow(page, 'status').textContent()).toContain('DRAFT, SENT, PAID');

    // RELATION company → Company.
    await addField(page, 'RELATION', 'Company', 'company');
    await form.getByLabel('Target object').selectOption({ label: 'Company (company)' });
    await page.getByRole('button', { name: 'Add field' }).click();
    await fieldRow(page, 'company').waitFor();
    expect(await fieldRow(page, 'company').textContent()).toContain('companyId');
    expect(await fieldRow(page, 'company').textContent()).toContain('→ Company');

    // Edit a field's label and default; deactivate and reactivate it.
    await page.getByRole('button', { name: 'Edit Status' }).click();
    const edit = page.getByRole('form', { name: 'Edit the field Status' });
    await edit.getByLabel('Field label').fill('State');
    await edit.getByLabel('Default value').selectOption('SENT');
    await edit.getByRole('button', { name: 'Save field' }).click();
    await page.getByRole('button', { name: 'Edit State' }).waitFor();
    await page.getByRole('button', { name: 'Deactivate State' }).click();
    await page.getByRole('button', { name: 'Reactivate State' }).click();
    await page.getByRole('button', { name: 'Deactivate State' }).waitFor();

    // leadSource on the standard person object.
    await page.goto(`${app.url}/settings/data-model/person`);
    await page.getByRole('heading', { name: 'People', level: 1 }).waitFor();
    await addField(page, 'TEXT', 'Lead source', 'leadSource');
    await page.getByRole('button', { name: 'Add field' }).click();
    await fieldRow(page, 'leadSource').waitFor();

    // The list shows every object with its fields.
    await page.getByRole('link', { name: 'Data model', exact: true }).first().click();
    await page.getByRole('link', { name: 'Invoices', exact: true }).waitFor();
    const invoiceFields = page.getByRole('list', { name: 'Fields of Invoice' });
    for (const name of ['amount', 'status', 'company']) await invoiceFields.getByText(name, { exact: true }).waitFor();
    await page.getByRole('list', { name: 'Fields of Person' }).getByText('leadSource', { exact: true }).waitFor();
    await screenshot(page, 'data-model');

    // The API holds exactly what the pages made.
    const model = await apiModel();
    const company = model.find((object) => object.nameSingular === 'company')!;
    const invoice = model.find((object) => object.nameSingular === 'invoice')!;
    expect(invoice.fields.map((field) => [field.name, field.type, field.isActive])).toEqual([
      ['amount', 'CURRENCY', true],
      ['status', 'SELECT', true],
      ['company', 'RELATION', true],
    ]);
    const status = invoice.fields[1];
    expect(status).toMatchObject({ label: 'State', defaultValue: 'SENT' });
    expect(status.options.map((option: any) => [option.value, option.label, option.color, option.position])).toEqual([
      ['DRAFT', 'Draft', 'blue', 0],
      ['SENT', 'Sent', 'blue', 1],
      ['PAID', 'Paid', 'green', 2],
    ]);
    expect(invoice.fields[2].relationTargetObjectMetadataId).toBe((company as any).id);
    expect(model.find((object) => object.nameSingular === 'person')!.fields.at(-1)).toMatchObject({ name: 'leadSource', type: 'TEXT' });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('deactivates, deletes and shows a custom object; every data model page fits 390 px', async () => {
    const created = await app.graphql(
      'mutation { createOneObject(input: { object: { nameSingular: "scratchPad", namePlural: "scratchPads", labelSingular: "Scratch pad", labelPlural: "Scratch pads" } }) { id } }',
    );
    expect(created.errors).toBeUndefined();
    const page = await browser.context.newPage();
    const problems = watchConsole(page);
    await page.setViewportSize(PHONE);
    await page.goto(`${app.url}/settings/data-model/scratchPad`);
    await page.getByLabel('API key').fill(TEST_API_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Scratch pads', level: 1 }).waitFor();
    expect(await overflowsSideways(page)).toBe(false);
    await page.getByRole('form', { name: /Add a field to/ }).getByLabel('Type').selectOption('MULTI_SELECT');
    await page.getByRole('button', { name: '+ Add option' }).click();
    expect(await overflowsSideways(page)).toBe(false);

    await page.getByRole('button', { name: 'Deactivate object' }).click();
    await page.getByRole('button', { name: 'Reactivate object' }).waitFor();
    await page.getByRole('button', { name: 'Delete object' }).click();
    await page.getByRole('dialog', { name: 'Delete Scratch pad?' }).getByRole('button', { name: 'Delete object' }).click();
    await page.getByRole('heading', { name: 'Data model', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'People', exact: true }).waitFor();
    expect(await page.getByRole('link', { name: 'Scratch pads' }).count()).toBe(0);
    expect(await overflowsSideways(page)).toBe(false);

    await page.goto(`${app.url}/settings/data-model/scratchPad`);
    await page.getByRole('heading', { name: 'Object not found' }).waitFor();
    expect(problems).toEqual([]);
    await page.close();
  });
});
