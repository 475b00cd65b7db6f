import type { GraphQLScalarType } from 'graphql';
import type { ApiContext } from '../context.ts';

// Parent and arguments are loosely typed on purpose: each service validates its own input.
export type Resolver = (parent: any, args: any, context: ApiContext, info: any) => unknown;
export type FieldResolvers = Record<string, Resolver>;

export interface ResolverMap {
  Query?: FieldResolvers;
  Mutation?: FieldResolvers;
  [typeName: string]: FieldResolvers | GraphQLScalarType | undefined;
}

/** A slice of the GraphQL API: its type definitions (extending Query / Mutation) and their resolvers. */
export interface GraphQLModule {
  typeDefs: string;
  resolvers: ResolverMap;
}
