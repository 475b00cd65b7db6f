import { apiKeysModule } from './api-keys.ts';
import { baseModule } from './base.ts';
import { webhooksModule } from './webhooks.ts';
import { deliveriesModule } from './deliveries.ts';
import { recordsModule } from './records.ts';
import { GraphQLScalarType } from './graphql-runtime.ts';
import type { FieldResolvers, GraphQLModule, ResolverMap } from './module.ts';

const modules: GraphQLModule[] = [baseModule, apiKeysModule, webhooksModule, deliveriesModule, recordsModule];

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

export const typeDefs: string = modules.map((module) => module.typeDefs).join('\n');
export const resolvers: ResolverMap = mergeResolvers(modules.map((module) => module.resolvers));
