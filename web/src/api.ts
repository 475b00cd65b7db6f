/** A tiny GraphQL client: POST /graphql with the API key kept in this browser session. */

const KEY_STORAGE = 'switchboard.apiKey';
export const SIGNED_OUT_EVENT = 'switchboard:signed-out';

export function storedApiKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function rememberApiKey(key: string): void {
  sessionStorage.setItem(KEY_STORAGE, key);
}

export function forgetApiKey(): void {
  sessionStorage.removeItem(KEY_STORAGE);
  window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
}

/** An error the server sent back, with its code and, for bad input, the field at fault. */
export class ApiError extends Error {
  readonly code: string | undefined;
  readonly field: string | undefined;
  constructor(message: string, code?: string, field?: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.field = field;
  }
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string; field?: string } }>;
}

/**
 * Runs one GraphQL document. `apiKey` overrides the session's key (sign-in checks a key before keeping it).
 * A 401 with the session's key means it was revoked: the session ends.
 */
export async function graphql<T>(query: string, variables: Record<string, unknown> = {}, apiKey?: string): Promise<T> {
  const key = apiKey ?? storedApiKey();
  if (!key) {
    forgetApiKey();
    throw new ApiError('You are signed out.', 'UNAUTHENTICATED');
  }
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError('The server could not be reached. Check that Switchboard is running.', 'NETWORK');
  }
  let body: GraphQLResponse<T>;
  try {
    body = (await response.json()) as GraphQLResponse<T>;
  } catch {
    throw new ApiError(`The server answered ${response.status} without a GraphQL body.`, 'BAD_RESPONSE');
  }
  const first = body.errors?.[0];
  if (response.status === 401 || first?.extensions?.code === 'UNAUTHENTICATED') {
    if (!apiKey) forgetApiKey();
    throw new ApiError(first?.message ?? 'The API key is not valid.', 'UNAUTHENTICATED');
  }
  if (first) throw new ApiError(first.message, first.extensions?.code, first.extensions?.field);
  if (!body.data) throw new ApiError(`The server answered ${response.status} without data.`, 'BAD_RESPONSE');
  return body.data;
}

/** The message to show for any thrown value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
