import type { ApiContext } from '../context.ts';

/**
 * Per-request batching of per-webhook fields. The `webhooks` and `webhook` resolvers note the ids they return;
 * the first per-webhook field resolved then loads its figures for all of them in one go, so a list costs the
 * same number of statements whatever its length. A webhook returned elsewhere (a mutation) loads alone.
 */
const listedByRequest = new WeakMap<ApiContext, Set<string>>();
interface Load {
  ids: Set<string>;
  result: Promise<Map<string, unknown>>;
}
const loadsByRequest = new WeakMap<ApiContext, Map<string, Load>>();

export function noteListedWebhooks(context: ApiContext, webhookIds: string[]): void {
  let listed = listedByRequest.get(context);
  if (!listed) {
    listed = new Set();
    listedByRequest.set(context, listed);
  }
  for (const id of webhookIds) listed.add(id);
}

/** The value of `field` (with its arguments as `key`) for one webhook, loaded together with every listed one. */
export async function loadForWebhook<V>(
  context: ApiContext,
  key: string,
  webhookId: string,
  load: (webhookIds: string[]) => Promise<Map<string, V>>,
): Promise<V | undefined> {
  let loads = loadsByRequest.get(context);
  if (!loads) {
    loads = new Map();
    loadsByRequest.set(context, loads);
  }
  const shared = loads.get(key);
  if (shared?.ids.has(webhookId)) return (await shared.result).get(webhookId) as V | undefined;
  // The first load of this field takes every listed webhook; one listed after that loads alone.
  const listed = listedByRequest.get(context);
  const loadKey = shared ? `${key}\u0000${webhookId}` : key;
  let own = loads.get(loadKey);
  if (!own) {
    const ids = !shared && listed?.has(webhookId) ? [...listed] : [webhookId];
    own = { ids: new Set(ids), result: load(ids) as Promise<Map<string, unknown>> };
    loads.set(loadKey, own);
  }
  return (await own.result).get(webhookId) as V | undefined;
}
