import type {
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLField,
  GraphQLNamedType,
  GraphQLOutputType,
  GraphQLSchema,
  SelectionSetNode,
  ValueNode,
  VariableDefinitionNode,
} from 'graphql';
import { GRAPHQL_LIMIT_VARIABLES, type GraphQLLimits } from '../../config.ts';
import {
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  getNamedType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
} from './graphql-runtime.ts';

/** The limits a document is checked against before it is validated or executed. */
export type DocumentLimits = Pick<GraphQLLimits, 'maxFields' | 'maxAliases' | 'maxRootFields' | 'maxDepth' | 'maxCost' | 'listSize'>;

/** What a document asks for; the largest of its operations for the per-operation figures. */
export interface DocumentFigures {
  /** Field selections written in the document (fragments counted once, where defined). */
  fields: number;
  /** Aliased field selections written in the document. */
  aliases: number;
  /** Fields at the root of the operation, fragments expanded. */
  rootFields: number;
  /** Deepest nesting of fields, fragments expanded; a root field is depth 1. */
  depth: number;
  /** Each field costs 1, plus what it selects times the length of the list it returns. */
  cost: number;
}

export type CheckedLimit = Exclude<keyof GraphQLLimits, 'listSize'>;

export type CostVerdict =
  | { ok: true; figures: DocumentFigures }
  | { ok: false; limit: CheckedLimit; actual: number; max: number; message: string };

const LIMIT_SUBJECTS: Record<CheckedLimit, string> = {
  maxFields: 'field selections',
  maxAliases: 'aliases',
  maxRootFields: 'root fields',
  maxDepth: 'query depth',
  maxCost: 'query cost',
  maxTokens: 'token count',
  maxBodyBytes: 'request body size in bytes',
  maxDocumentBytes: 'document size in bytes',
  maxResponseBytes: 'response size in bytes',
  timeoutMs: 'resolving time in ms',
};

/**
 * "query depth 14 exceeds the limit of 12 (SWITCHBOARD_GRAPHQL_MAX_DEPTH)", plus a hint where one helps; without
 * `actual` when it is unknown (the parser and the body reader stop at the limit).
 */
export function limitMessage(limit: CheckedLimit, actual: number | undefined, max: number): string {
  const subject = actual === undefined ? LIMIT_SUBJECTS[limit] : `${LIMIT_SUBJECTS[limit]} ${actual}`;
  const base = `${subject} exceeds the limit of ${max} (${GRAPHQL_LIMIT_VARIABLES[limit]})`;
  if (limit === 'maxCost') {
    return `${base}: every field costs 1 and a list multiplies what it selects by its page size (first); ask for fewer records or fields`;
  }
  if (limit === 'maxResponseBytes') return `${base}: ask for fewer records or fields per request`;
  return base;
}

function violation(limit: CheckedLimit, actual: number, max: number): CostVerdict {
  return { ok: false, limit, actual, max, message: limitMessage(limit, actual, max) };
}

interface SyntaxFigures {
  fields: number;
  aliases: number;
  /** Deepest field in any one definition, fragment spreads not followed. */
  nesting: number;
}

/** Counts what is written, without expanding fragments, iteratively: the nesting is not trusted yet. */
function syntaxFigures(document: DocumentNode): SyntaxFigures {
  const figures: SyntaxFigures = { fields: 0, aliases: 0, nesting: 0 };
  const pending: Array<{ selectionSet: SelectionSetNode; nesting: number }> = [];
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION) {
      pending.push({ selectionSet: definition.selectionSet, nesting: 1 });
    }
  }
  for (let next = pending.pop(); next; next = pending.pop()) {
    figures.nesting = Math.max(figures.nesting, next.nesting);
    for (const selection of next.selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        figures.fields += 1;
        if (selection.alias) figures.aliases += 1;
      }
      // An inline fragment's fields are at the depth of the selection that holds it.
      if (selection.kind === Kind.FIELD && selection.selectionSet) {
        pending.push({ selectionSet: selection.selectionSet, nesting: next.nesting + 1 });
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        pending.push({ selectionSet: selection.selectionSet, nesting: next.nesting });
      }
    }
  }
  return figures;
}

interface SelectionFigures {
  cost: number;
  depth: number;
  fields: number;
}

const NOTHING: SelectionFigures = { cost: 0, depth: 0, fields: 0 };

type Variables = Record<string, unknown>;

function integerOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? Math.max(0, Math.floor(value)) : undefined;
}

/**
 * The computation over one document: fragments are expanded where spread, each fragment's figures computed once
 * per page size it inherits, so a document that spreads fragments many times costs no more to check than to read.
 */
class CostWalk {
  private readonly fragments = new Map<string, FragmentDefinitionNode>();
  private readonly fragmentFigures = new Map<string, SelectionFigures>();
  private readonly expanding = new Set<string>();
  private readonly variableDefaults = new Map<string, ValueNode>();

  constructor(
    private readonly schema: GraphQLSchema,
    document: DocumentNode,
    private readonly listSize: number,
    private readonly variables: Variables | undefined,
  ) {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) this.fragments.set(definition.name.value, definition);
      if (definition.kind === Kind.OPERATION_DEFINITION) {
        for (const variable of definition.variableDefinitions ?? []) this.noteVariable(variable);
      }
    }
  }

  private noteVariable(variable: VariableDefinitionNode): void {
    if (variable.defaultValue) this.variableDefaults.set(variable.variable.name.value, variable.defaultValue);
  }

  /** The value of an argument or input field: a literal, or a variable's value (its default when not given). */
  private valueOf(node: ValueNode | undefined): unknown {
    if (!node) return undefined;
    switch (node.kind) {
      case Kind.INT:
      case Kind.FLOAT:
        return Number(node.value);
      case Kind.VARIABLE: {
        const name = node.name.value;
        if (this.variables && name in this.variables) return this.variables[name];
        return this.valueOf(this.variableDefaults.get(name));
      }
      case Kind.OBJECT:
        return Object.fromEntries(node.fields.map((field) => [field.name.value, this.valueOf(field.value)]));
      default:
        return undefined;
    }
  }

  /** The page size a field asks for: `first`, or Twenty's `paging: { first }`, else the argument's default. */
  private pageSize(field: FieldNode, definition: GraphQLField<unknown, unknown> | undefined): number | undefined {
    for (const argument of field.arguments ?? []) {
      if (argument.name.value === 'first') {
        const first = integerOrUndefined(this.valueOf(argument.value));
        if (first !== undefined) return first;
      }
      if (argument.name.value === 'paging') {
        const paging = this.valueOf(argument.value);
        const first = integerOrUndefined((paging as { first?: unknown } | undefined)?.first);
        if (first !== undefined) return first;
      }
    }
    const declared = definition?.args.find((argument) => argument.name === 'first');
    return integerOrUndefined(declared?.defaultValue);
  }

  private fieldDefinition(parent: GraphQLNamedType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
    if (!parent) return undefined;
    if (parent === this.schema.getQueryType()) {
      if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
      if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
    }
    return isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
  }

  /**
   * A connection field (`people(first: 200)`) does not return a list itself: its page size applies to the lists
   * directly below it (`edges`), so it is handed down one level as `inheritedPageSize`.
   */
  selectionSet(selectionSet: SelectionSetNode, parent: GraphQLNamedType | undefined, inheritedPageSize?: number): SelectionFigures {
    const figures: SelectionFigures = { cost: 0, depth: 0, fields: 0 };
    for (const selection of selectionSet.selections) {
      let part: SelectionFigures;
      if (selection.kind === Kind.FIELD) {
        part = this.field(selection, parent, inheritedPageSize);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? this.schema.getType(selection.typeCondition.name.value) : parent;
        part = this.selectionSet(selection.selectionSet, type ?? undefined, inheritedPageSize);
      } else {
        part = this.fragment(selection.name.value, inheritedPageSize);
      }
      figures.cost += part.cost;
      figures.fields += part.fields;
      figures.depth = Math.max(figures.depth, part.depth);
    }
    return figures;
  }

  private field(field: FieldNode, parent: GraphQLNamedType | undefined, inheritedPageSize: number | undefined): SelectionFigures {
    const definition = this.fieldDefinition(parent, field.name.value);
    const ownPageSize = this.pageSize(field, definition);
    let listLevels = 0;
    for (let type: GraphQLOutputType | undefined = definition?.type; type && (isListType(type) || isNonNullType(type)); type = type.ofType) {
      if (isListType(type)) listLevels += 1;
    }
    const multiplier =
      listLevels === 0 ? 1 : (ownPageSize ?? inheritedPageSize ?? this.listSize) * this.listSize ** (listLevels - 1);
    const below = field.selectionSet
      ? this.selectionSet(field.selectionSet, definition ? getNamedType(definition.type) : undefined, listLevels === 0 ? ownPageSize : undefined)
      : NOTHING;
    return { cost: 1 + multiplier * below.cost, depth: 1 + below.depth, fields: 1 };
  }

  private fragment(name: string, inheritedPageSize: number | undefined): SelectionFigures {
    const key = `${name}\u0000${inheritedPageSize ?? ''}`;
    const known = this.fragmentFigures.get(key);
    if (known) return known;
    const fragment = this.fragments.get(name);
    // An unknown or cyclic spread adds nothing here: validation refuses the document.
    if (!fragment || this.expanding.has(name)) return NOTHING;
    this.expanding.add(name);
    const figures = this.selectionSet(fragment.selectionSet, this.schema.getType(fragment.typeCondition.name.value) ?? undefined, inheritedPageSize);
    this.expanding.delete(name);
    this.fragmentFigures.set(key, figures);
    return figures;
  }
}

/**
 * Checks a parsed document against the limits before it is validated or executed: validation compares selections
 * pairwise and execution is as large as what is asked, so both must only see documents already known to be bounded.
 * Without `variables` a variable counts as its default value (the document alone); with them, as given.
 * Pure: no I/O, the same answer for the same input.
 */
export function checkDocumentCost(
  document: DocumentNode,
  schema: GraphQLSchema,
  limits: DocumentLimits,
  variables?: Variables | null,
): CostVerdict {
  const written = syntaxFigures(document);
  if (written.fields > limits.maxFields) return violation('maxFields', written.fields, limits.maxFields);
  if (written.aliases > limits.maxAliases) return violation('maxAliases', written.aliases, limits.maxAliases);
  // Expanding fragments only adds depth, so a definition nested deeper than the limit is refused unexpanded.
  if (written.nesting > limits.maxDepth) return violation('maxDepth', written.nesting, limits.maxDepth);

  const walk = new CostWalk(schema, document, limits.listSize, variables ?? undefined);
  const figures: DocumentFigures = { fields: written.fields, aliases: written.aliases, rootFields: 0, depth: 0, cost: 0 };
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const root =
      definition.operation === 'query'
        ? schema.getQueryType()
        : definition.operation === 'mutation'
          ? schema.getMutationType()
          : schema.getSubscriptionType();
    const operation = walk.selectionSet(definition.selectionSet, root ?? undefined);
    figures.rootFields = Math.max(figures.rootFields, operation.fields);
    figures.depth = Math.max(figures.depth, operation.depth);
    figures.cost = Math.max(figures.cost, operation.cost);
  }
  if (figures.rootFields > limits.maxRootFields) return violation('maxRootFields', figures.rootFields, limits.maxRootFields);
  if (figures.depth > limits.maxDepth) return violation('maxDepth', figures.depth, limits.maxDepth);
  if (figures.cost > limits.maxCost) return violation('maxCost', figures.cost, limits.maxCost);
  return { ok: true, figures };
}
