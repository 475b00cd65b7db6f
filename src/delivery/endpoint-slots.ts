/** Something to send to one endpoint (webhook). */
export interface ForEndpoint {
  webhookId: string;
}

interface Endpoint<T> {
  waiting: T[];
  sending: Set<T>;
}

/**
 * The claims a worker holds, per endpoint: waiting for a slot, or being sent. Every count is derived from those
 * two collections, so no counter can drift from what is held. An endpoint holding nothing is forgotten.
 */
export class EndpointSlots<T extends ForEndpoint> {
  private readonly endpoints = new Map<string, Endpoint<T>>();

  /** `sendLimit`: requests in flight per endpoint. */
  constructor(private readonly sendLimit: number) {}

  /** Queues items behind their endpoints' slots. */
  add(items: Iterable<T>): void {
    for (const item of items) {
      let endpoint = this.endpoints.get(item.webhookId);
      if (!endpoint) this.endpoints.set(item.webhookId, (endpoint = { waiting: [], sending: new Set() }));
      endpoint.waiting.push(item);
    }
  }

  /** Moves waiting items of `webhookId` into free slots, oldest first; returns them (the caller sends them). */
  takeSendable(webhookId: string): T[] {
    const endpoint = this.endpoints.get(webhookId);
    if (!endpoint) return [];
    const taken: T[] = [];
    while (endpoint.sending.size < this.sendLimit && endpoint.waiting.length > 0) {
      const item = endpoint.waiting.shift()!;
      endpoint.sending.add(item);
      taken.push(item);
    }
    this.forgetIfEmpty(webhookId, endpoint);
    return taken;
  }

  /** An item taken by takeSendable is done: its slot is free. */
  finished(item: T): void {
    const endpoint = this.endpoints.get(item.webhookId);
    if (!endpoint?.sending.delete(item)) throw new Error('EndpointSlots.finished: the item was not being sent');
    this.forgetIfEmpty(item.webhookId, endpoint);
  }

  /** Gives up an item taken by takeSendable without sending it (its slot is free). */
  drop(item: T): void {
    this.finished(item);
  }

  /** Empties every waiting list; returns what was waiting (sending goes on). */
  takeAllWaiting(): T[] {
    const all: T[] = [];
    for (const [webhookId, endpoint] of this.endpoints) {
      all.push(...endpoint.waiting.splice(0));
      this.forgetIfEmpty(webhookId, endpoint);
    }
    return all;
  }

  /** Items held for one endpoint (waiting and sending). */
  held(webhookId: string): number {
    const endpoint = this.endpoints.get(webhookId);
    return endpoint ? endpoint.waiting.length + endpoint.sending.size : 0;
  }

  /** How many more one endpoint may hold under `cap`. */
  roomLeft(webhookId: string, cap: number): number {
    return Math.max(0, cap - this.held(webhookId));
  }

  /** Endpoints holding `cap` or more: no claim should bring them more. */
  fullEndpoints(cap: number): string[] {
    const full: string[] = [];
    for (const webhookId of this.endpoints.keys()) if (this.held(webhookId) >= cap) full.push(webhookId);
    return full;
  }

  /** Endpoints holding something but fewer than `cap`, with the room each has left. */
  partlyHeld(cap: number): Map<string, number> {
    const room = new Map<string, number>();
    for (const webhookId of this.endpoints.keys()) {
      const left = this.roomLeft(webhookId, cap);
      if (left > 0) room.set(webhookId, left);
    }
    return room;
  }

  get sending(): number {
    let count = 0;
    for (const endpoint of this.endpoints.values()) count += endpoint.sending.size;
    return count;
  }

  get waiting(): number {
    let count = 0;
    for (const endpoint of this.endpoints.values()) count += endpoint.waiting.length;
    return count;
  }

  /** Everything held: sending plus waiting. */
  get total(): number {
    return this.sending + this.waiting;
  }

  private forgetIfEmpty(webhookId: string, endpoint: Endpoint<T>): void {
    if (endpoint.waiting.length === 0 && endpoint.sending.size === 0) this.endpoints.delete(webhookId);
  }
}
