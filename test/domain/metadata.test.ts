import { buildSchema, type GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { typeDefs } from '../../src/api/graphql/schema.ts';
import { derivedUuid, generatedNames, standardMetadata, STATIC_ROOT_FIELDS, STATIC_TYPE_NAMES } from '../../src/domain/metadata.ts';
import { OBJECT_NAMES, OBJECTS } from '../../src/domain/records.ts';

describe('metadata names', () => {
  it('knows every type and root field of the API outside the generated record API, so no object can collide with one', () => {
    const schema = buildSchema(typeDefs);
    const generated = OBJECT_NAMES.map((name) => generatedNames(name, OBJECTS[name].namePlural));
    const generatedTypes = new Set(generated.flatMap((names) => names.types));
    const generatedRootFields = new Set(generated.flatMap((names) => names.rootFields));
    const types = Object.keys(schema.getTypeMap()).filter((name) => !name.startsWith('__') && !generatedTypes.has(name));
    expect(types.filter((name) => !STATIC_TYPE_NAMES.has(name))).toEqual([]);
    const rootFields = ['Query', 'Mutation'].flatMap((type) => Object.keys((schema.getType(type) as GraphQLObjectType).getFields()));
    expect(rootFields.filter((name) => !generatedRootFields.has(name) && !STATIC_ROOT_FIELDS.has(name))).toEqual([]);
  });

  it('derives stable, distinct ids for the standard objects of each workspace', () => {
    const a = standardMetadata('6ba7b810-9dad-41d1-80b4-00c04fd430c8', new Date(0));
    const again = standardMetadata('6ba7b810-9dad-41d1-80b4-00c04fd430c8', new Date(0));
    const b = standardMetadata('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', new Date(0));
    expect(a.objects.map((object) => object.id)).toEqual(again.objects.map((object) => object.id));
    expect(new Set([...a.objects, ...b.objects, ...a.fields, ...b.fields].map((item) => item.id)).size).toBe(6 + a.fields.length * 2);
    expect(derivedUuid('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
