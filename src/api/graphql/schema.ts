import type { GraphQLSchema } from 'graphql';
import type { DataModel } from '../../domain/metadata.ts';
import { apiKeysModule } from './api-keys.ts';
import { baseModule } from './base.ts';
import { webhooksModule } from './webhooks.ts';
import { deliveriesModule } from './deliveries.ts';
import { metadataModule } from './metadata.ts';
import { recordsModule, standardRecordsModule } from './records.ts';
import { buildSchema, GraphQLScalarType, isObjectType, isScalarType } from './graphql-runtime.ts';
import type { FieldResolvers, GraphQLModule, ResolverMap } from './module.ts';
import { withRequestBudget } from './request-budget.ts';

/** The parts of the API that do not depend on a workspace's data model. */
const staticModules: GraphQLModule[] = [baseModule, apiKeysModule, webhooksModule, deliveriesModule, metadataModule];

function mergeResolvers(maps: ResolverMap[]): ResolverMap {
  const merged: ResolverMap = {};
  for (const map of maps) {
    for (const [typeName, fields] of Object.entries(map)) {
      // Scalars are class instances, not field maps: keep them whole.
      merged[typeName] =
        fields instanceof GraphQLScalarType ? fields : { ...(merged[typeName] as FieldResolvers | undefined), ...fields };
    }
  }
  return merged;
}

/** The schema of a workspace without custom objects or fields (documentation, tests of the static API). */
export const typeDefs: string = [...staticModules, standardRecordsModule].map((module) => module.typeDefs).join('\n');
export const resolvers: ResolverMap = mergeResolvers([...staticModules, standardRecordsModule].map((module) => module.resolvers));

/** An executable schema from type definitions and resolvers . */
export function makeExecutableSchema(definitions: string, resolverMap: ResolverMap): GraphQLSchema {
  const schema = buildSchema(definitions);
  for (const [typeName, entry] of Object.entries(resolverMap)) {
    const type = schema.getType(typeName);
    if (!type || !entry) throw new Error(`resolvers name the type ${typeName}, which the schema does not have`);
    if (entry instanceof GraphQLScalarType) {
      if (!isScalarType(type)) throw new Error(`${typeName} is not a scalar`);
      // buildSchema makes a scalar that passes values through: give it the implementation's behaviour.
      type.serialize = entry.serialize;
      type.parseValue = entry.parseValue;
      type.parseLiteral = entry.parseLiteral;
      continue;
    }
    if (!isObjectType(type)) throw new Error(`${typeName} is not an object type`);
    const fields = type.getFields();
    for (const [fieldName, resolve] of Object.entries(entry as FieldResolvers)) {
      const field = fields[fieldName];
      if (!field) throw new Error(`resolvers name ${typeName}.${fieldName}, which the schema does not have`);
      field.resolve = resolve as never;
    }
  }
  return schema;
}

const schemas = new WeakMap<DataModel, GraphQLSchema>();

/**
 * The executable schema of a workspace's data model: built once per metadata version (a data model is immutable
 * and replaced by a new one when the metadata changes), so a request runs against the schema it started with.
 */
export function workspaceSchema(model: DataModel): GraphQLSchema {
  let schema = schemas.get(model);
  if (!schema) {
    const records = recordsModule(model.objects);
    const modules = [...staticModules, records];
    // Every resolver runs within its request's budget (the context's `budget`: time and bytes read).
    const resolverMap = withRequestBudget(mergeResolvers(modules.map((module) => module.resolvers)));
    schema = makeExecutableSchema(modules.map((module) => module.typeDefs).join('\n'), resolverMap);
    schemas.set(model, schema);
  }
  return schema;
}
