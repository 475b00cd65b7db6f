import { performance } from 'node:perf_hooks';
import type { GraphQLLimits } from '../../config.ts';
import { queryTooComplex, type SwitchboardError } from '../../domain/errors.ts';
import { limitMessage } from './cost-limits.ts';
import { GraphQLScalarType } from './graphql-runtime.ts';
import type { FieldResolvers, Resolver, ResolverMap } from './module.ts';

/**
 * Resolvers of one request that may run at once. GraphQL resolves root query fields concurrently, so without this a
 * document of many aliases would load every page before the first one is charged; one at a time, the data read past
 * the budget is at most one resolver's result, and one request holds at most one database connection (PGlite has only
 * one: a request's queries then wait their turn one by one, interleaved with other requests', not as a block).
 */
export const RESOLVERS_IN_FLIGHT_PER_REQUEST = 1;

/** A cheap over-estimate of the JSON size of a value, walked no further than `cap` bytes. */
export function estimateJsonBytes(value: unknown, cap: number = Number.POSITIVE_INFINITY): number {
  let bytes = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0 && bytes <= cap) {
    const next = pending.pop();
    if (typeof next === 'string') bytes += next.length + 2;
    else if (typeof next === 'number' || typeof next === 'bigint') bytes += 24;
    else if (typeof next === 'boolean' || next === null || next === undefined) bytes += 5;
    else if (next instanceof Date) bytes += 26;
    else if (Array.isArray(next)) {
      bytes += 2 + next.length;
      for (const item of next) pending.push(item);
    } else if (typeof next === 'object') {
      for (const [key, item] of Object.entries(next)) {
        bytes += key.length + 4;
        pending.push(item);
      }
      bytes += 2;
    }
  }
  return bytes;
}

/**
 * What one GraphQL request may still spend: time until its deadline and bytes of data read to answer it.
 * Once either runs out every later field is refused with the same QUERY_TOO_COMPLEX error, so a request past its
 * budget ends quickly instead of being built to exhaustion.
 */
export class RequestBudget {
  private readonly deadline: number;
  private usedBytes = 0;
  private exhausted: SwitchboardError | undefined;
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** Whether a mutation's root field completed: its answer must then be kept, refused fields or not. */
  wroteData = false;

  constructor(
    private readonly limits: Pick<GraphQLLimits, 'maxResponseBytes' | 'timeoutMs'>,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.deadline = now() + limits.timeoutMs;
  }

  /** Throws when the request is out of time or bytes. */
  check(): void {
    if (this.exhausted) throw this.exhausted;
    const overdue = this.now() - this.deadline;
    if (overdue > 0) {
      this.exhausted = queryTooComplex(limitMessage('timeoutMs', Math.round(this.limits.timeoutMs + overdue), this.limits.timeoutMs));
      throw this.exhausted;
    }
  }

  /** Counts a resolver's result against the bytes budget; past it, every later check throws. */
  charge(result: unknown): void {
    const remaining = this.limits.maxResponseBytes - this.usedBytes;
    this.usedBytes += estimateJsonBytes(result, remaining);
    if (this.usedBytes > this.limits.maxResponseBytes && !this.exhausted) {
      this.exhausted = queryTooComplex(limitMessage('maxResponseBytes', this.usedBytes, this.limits.maxResponseBytes));
    }
  }

  /**
   * Runs one resolver in one of the request's slots, within the budget, and charges its result. A result that
   * passes the budget is refused, unless `keepResult` (a write that happened must be reported as done).
   */
  async run<T>(work: () => T | Promise<T>, keepResult = false): Promise<T> {
    if (this.running >= RESOLVERS_IN_FLIGHT_PER_REQUEST) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running += 1;
    try {
      this.check();
      const result = await work();
      this.charge(result);
      if (!keepResult && this.exhausted) throw this.exhausted;
      return result;
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }
}

function budgeted(resolve: Resolver, isMutationRoot: boolean): Resolver {
  return async (parent, args, context, info) => {
    const result = await context.budget.run(() => resolve(parent, args, context, info), isMutationRoot);
    if (isMutationRoot) context.budget.wroteData = true;
    return result;
  };
}

/** The same resolvers, each run within its request's budget (the context's `budget`). */
export function withRequestBudget(resolvers: ResolverMap): ResolverMap {
  const wrapped: ResolverMap = {};
  for (const [typeName, fields] of Object.entries(resolvers)) {
    if (!fields || fields instanceof GraphQLScalarType) {
      wrapped[typeName] = fields;
      continue;
    }
    const budgetedFields: FieldResolvers = {};
    for (const [fieldName, resolve] of Object.entries(fields as FieldResolvers)) {
      budgetedFields[fieldName] = budgeted(resolve, typeName === 'Mutation');
    }
    wrapped[typeName] = budgetedFields;
  }
  return wrapped;
}
