import { expect } from 'vitest';
import type { TestApp } from './app.ts';

/**
 * Creates a custom object over the metadata API with the given fields, each a CreateFieldInput literal without its
 * objectMetadataId (e.g. `{ type: NUMBER, name: "total", label: "Total" }`); returns the object's id.
 */
export async function createCustomObject(
  app: TestApp,
  names: { nameSingular: string; namePlural: string },
  fields: string[],
  apiKey?: string,
): Promise<string> {
  const { nameSingular, namePlural } = names;
  const object = await app.graphql(
    `mutation { createOneObject(input: { object: { nameSingular: "${nameSingular}", namePlural: "${namePlural}", labelSingular: "${nameSingular}", labelPlural: "${namePlural}" } }) { id } }`,
    undefined,
    apiKey,
  );
  expect(object.errors).toBeUndefined();
  const id: string = object.data.createOneObject.id;
  for (const field of fields) {
    const created = await app.graphql(`mutation { createOneField(input: { field: { objectMetadataId: "${id}", ${field.trim().slice(1)} }) { id } }`, undefined, apiKey);
    expect(created.errors, field).toBeUndefined();
  }
  return id;
}
