import { describe, expect, it } from 'vitest';
import { EndpointSlots } from '../../src/delivery/endpoint-slots.ts';

const item = (webhookId: string, n: number) => ({ webhookId, n });

describe('EndpointSlots', () => {
  it('sends at most the per-endpoint limit, oldest first, and derives every count from what it holds', () => {
    const slots = new EndpointSlots<ReturnType<typeof item>>(2);
    const a = [item('a', 1), item('a', 2), item('a', 3)];
    slots.add([...a, item('b', 1)]);
    expect([slots.sending, slots.waiting, slots.total]).toEqual([0, 4, 4]);
    expect(slots.takeSendable('a')).toEqual([a[0], a[1]]);
    expect(slots.takeSendable('a')).toEqual([]);
    expect([slots.sending, slots.waiting, slots.held('a'), slots.held('b')]).toEqual([2, 2, 3, 1]);
    slots.finished(a[0]!);
    expect(slots.takeSendable('a')).toEqual([a[2]]);
    expect([slots.sending, slots.waiting]).toEqual([2, 1]);
  });

  it('reports full endpoints and the room left under a cap, and forgets endpoints that hold nothing', () => {
    const slots = new EndpointSlots<ReturnType<typeof item>>(1);
    slots.add([item('a', 1), item('a', 2), item('b', 1)]);
    expect(slots.fullEndpoints(2)).toEqual(['a']);
    expect(slots.roomLeft('b', 2)).toBe(1);
    expect(slots.roomLeft('c', 2)).toBe(2);
    expect([...slots.partlyHeld(2)]).toEqual([['b', 1]]);
    const [b] = slots.takeSendable('b');
    slots.finished(b!);
    expect(slots.held('b')).toBe(0);
    expect([...slots.partlyHeld(2)]).toEqual([]);
  });

  it('gives up waiting items on request, keeps the ones being sent, and refuses to finish an item twice', () => {
    const slots = new EndpointSlots<ReturnType<typeof item>>(1);
    const first = item('a', 1);
    slots.add([first, item('a', 2), item('b', 1)]);
    slots.takeSendable('a');
    expect(slots.takeAllWaiting().map((x) => `${x.webhookId}${x.n}`)).toEqual(['a2', 'b1']);
    expect([slots.sending, slots.waiting]).toEqual([1, 0]);
    slots.finished(first);
    expect(slots.total).toBe(0);
    expect(() => slots.finished(first)).toThrow(/not being sent/);
  });
});
