import { describe, expect, it } from 'vitest';
import { BatchBuffer } from '../../src/delivery/settle-buffer.ts';

describe('BatchBuffer', () => {
  it('is empty only when nothing waits and no write runs, and says so each time it becomes empty', async () => {
    const written: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const emptied: boolean[] = [];
    const buffer: BatchBuffer<number> = new BatchBuffer<number>(
      async (batch) => {
        written.push(batch);
        await gate;
      },
      2,
      60_000,
      () => emptied.push(buffer.empty),
    );
    expect(buffer.empty).toBe(true);
    buffer.add(1);
    expect(buffer.empty).toBe(false);
    buffer.add(2); // a full batch: written at once, without waiting for the delay
    buffer.add(3); // arrives during the write: the next batch
    expect(written).toEqual([[1, 2]]);
    expect(buffer.empty).toBe(false);
    release();
    await buffer.drain();
    expect(written).toEqual([[1, 2], [3]]);
    expect(buffer.empty).toBe(true);
    // Once, when the write that took 3 ended with nothing left; and it was empty by then.
    expect(emptied).toEqual([true]);
  });
});
