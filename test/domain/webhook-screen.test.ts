import { describe, expect, it } from 'vitest';
import { buildDataModel, standardMetadata, type FieldMetadata, type ObjectMetadata, type WorkspaceMetadata } from '../../src/domain/metadata.ts';
import {
  passesScreen,
  screenModelOf,
  STANDARD_SCREEN_MODEL,
  storedScreenProblem,
  validateWebhookFields,
  validateWebhookFilter,
} from '../../src/domain/webhook-screen.ts';

const WORKSPACE = '6ba7b810-9dad-41d1-80b4-00c04fd430c8';
const AT = new Date(0);
const INVOICE_ID = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';

function field(objectMetadataId: string, name: string, type: FieldMetadata['type'], extra: Partial<FieldMetadata> = {}): FieldMetadata {
  return {
    id: `00000000-0000-4000-8000-${String(name.length).padStart(4, '0')}${name.charCodeAt(0).toString(16).padStart(8, '0')}`,
    workspaceId: WORKSPACE,
    objectMetadataId,
    type,
    name,
    label: name,
    description: null,
    icon: null,
    isCustom: true,
    isActive: true,
    isNullable: true,
    isLabelSyncedWithName: false,
    defaultValue: null,
    options: null,
    settings: null,
    relationTargetObjectMetadataId: null,
    createdAt: AT,
    updatedAt: AT,
    ...extra,
  };
}

/** person + leadSource (TEXT); invoice with amount (CURRENCY) and status (SELECT). */
function metadata(changes: { leadSourceActive?: boolean; invoiceActive?: boolean } = {}): WorkspaceMetadata {
  const standard = standardMetadata(WORKSPACE, AT);
  const person = standard.objects.find((object) => object.nameSingular === 'person')!;
  const invoice: ObjectMetadata = {
    id: INVOICE_ID,
    workspaceId: WORKSPACE,
    nameSingular: 'invoice',
    namePlural: 'invoices',
    labelSingular: 'Invoice',
    labelPlural: 'Invoices',
    description: null,
    icon: null,
    isCustom: true,
    isActive: changes.invoiceActive ?? true,
    isLabelSyncedWithName: false,
    createdAt: AT,
    updatedAt: AT,
  };
  const options = ['DRAFT', 'PAID'].map((value, position) => ({ id: INVOICE_ID, value, label: value, color: null, position }));
  return {
    workspaceId: WORKSPACE,
    version: 1,
    objects: [...standard.objects, invoice],
    fields: [
      ...standard.fields,
      field(person.id, 'leadSource', 'TEXT', { isActive: changes.leadSourceActive ?? true }),
      field(INVOICE_ID, 'amount', 'CURRENCY'),
      field(INVOICE_ID, 'status', 'SELECT', { options }),
    ],
  };
}

const event = (operation: string, record: Record<string, unknown>) => ({ operation, record, updatedFields: ['status'] });

describe('webhook screens with a workspace data model', () => {
  const model = screenModelOf(buildDataModel(metadata()));

  it('validates filters and fields lists on custom fields, and names an unknown one', () => {
    expect(() => validateWebhookFilter({ amount: { amountMicros: { gt: 1 } } }, ['invoice.*'], 'filter', model)).not.toThrow();
    expect(() => validateWebhookFilter({ leadSource: { ilike: 'conf%' } }, ['person.updated'], 'filter', model)).not.toThrow();
    expect(() => validateWebhookFilter({ leadSource: { eq: 'x' } }, ['person.updated'])).toThrow(/filter\.leadSource: unknown field "leadSource"/);
    expect(() => validateWebhookFilter({ status: { eq: 'SENT' } }, ['invoice.created'], 'filter', model)).toThrow(/"SENT" is not an option of status/);
    expect(() => validateWebhookFilter({ total: { eq: 1 } }, ['invoice.created'], 'filter', model)).toThrow(/filter\.total: unknown field "total"/);
    // A name two objects type differently reads as either object's: never both in one filter.
    expect(() => validateWebhookFilter({ amount: { amountMicros: { gt: 1 } } }, ['*.*'], 'filter', model)).not.toThrow();
    expect(() => validateWebhookFilter({ amount: { gt: 1 } }, ['*.*'], 'filter', model)).not.toThrow();
    expect(() => validateWebhookFilter({ amount: { amountMicros: { gt: 1 } } }, ['opportunity.*'], 'filter', model)).toThrow(/not an operator for a NUMBER field/);
    expect(validateWebhookFields(['leadSource', 'leadSource'], ['person.updated'], 'fields', model)).toEqual(['leadSource']);
    expect(() => validateWebhookFields(['amount'], ['person.updated'], 'fields', model)).toThrow(/fields\[0\]: "amount" is not a field of person/);
  });

  it("tests each event with its own object's field types", () => {
    const screen = { filterJson: JSON.stringify({ amount: { amountMicros: { gte: 50 } } }), fields: null };
    expect(passesScreen(screen, event('invoice.created', { amount: { amountMicros: 60, currencyCode: 'EUR' } }), model)).toBe(true);
    expect(passesScreen(screen, event('invoice.created', { amount: { amountMicros: 40, currencyCode: 'EUR' } }), model)).toBe(false);
    // An opportunity's amount is a number: the CURRENCY filter cannot hold for it.
    expect(passesScreen(screen, event('opportunity.created', { amount: 60 }), model)).toBe(false);
    const plain = { filterJson: JSON.stringify({ amount: { gt: 50 } }), fields: null };
    expect(passesScreen(plain, event('opportunity.created', { amount: 60 }), model)).toBe(true);
    // Without the workspace's model the custom field is unknown and nothing passes (the former behaviour).
    expect(passesScreen(screen, event('invoice.created', { amount: { amountMicros: 60, currencyCode: 'EUR' } }), STANDARD_SCREEN_MODEL)).toBe(false);
  });

  it('reads a deactivated field as missing; refuses nothing until it is deleted', () => {
    const inactive = screenModelOf(buildDataModel(metadata({ leadSourceActive: false, invoiceActive: false })));
    const isNull = { filterJson: JSON.stringify({ leadSource: { is: 'NULL' } }), fields: null };
    const equals = { filterJson: JSON.stringify({ leadSource: { eq: 'web' } }), fields: null };
    // The payload no longer carries the field.
    expect(passesScreen(isNull, event('person.updated', { city: 'Paris' }), inactive)).toBe(true);
    expect(passesScreen(equals, event('person.updated', { city: 'Paris' }), inactive)).toBe(false);
    expect(storedScreenProblem({ filter: { leadSource: { eq: 'web' } }, fields: ['leadSource'] }, inactive)).toBeUndefined();
    // New screens may name only active fields.
    expect(() => validateWebhookFilter({ leadSource: { eq: 'web' } }, ['person.updated'], 'filter', inactive)).toThrow(/unknown field "leadSource"/);

    const deleted = metadata();
    deleted.fields = deleted.fields.filter((candidate) => candidate.name !== 'leadSource' && candidate.name !== 'amount');
    const without = screenModelOf(buildDataModel(deleted));
    expect(storedScreenProblem({ filter: { leadSource: { eq: 'web' } }, fields: null }, without)).toMatch(/filter would no longer be valid .*leadSource/);
    expect(storedScreenProblem({ filter: null, fields: ['leadSource'] }, without)).toMatch(/fields list names leadSource/);
    // opportunity.amount still reads a plain comparison, not a CURRENCY one.
    expect(storedScreenProblem({ filter: { amount: { gt: 1 } }, fields: null }, without)).toBeUndefined();
    expect(storedScreenProblem({ filter: { amount: { amountMicros: { gt: 1 } } }, fields: null }, without)).toMatch(/amountMicros/);
  });
});
