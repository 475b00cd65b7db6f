import { describe, expect, it } from 'vitest';
import { cachingSecretBox, createSecretBox, type SecretBox } from '../../src/webhooks/secret-box.ts';

/** Counts the opens that reach the real box. */
function counting(box: SecretBox): SecretBox & { opens: number } {
  const counted = {
    opens: 0,
    seal: (plain: string) => box.seal(plain),
    open(stored: string) {
      counted.opens++;
      return box.open(stored);
    },
  };
  return counted;
}

describe('cachingSecretBox', () => {
  const key = 'a-test-encryption-key-of-some-length';

  it('opens each sealed text once, and a rotated secret (new sealed text) anew', () => {
    const inner = counting(createSecretBox(key));
    const box = cachingSecretBox(inner);
    const first = inner.seal('whsec_Zmlyc3Qtc2VjcmV0LWZpcnN0LXNlY3JldA==');
    expect(box.open(first)).toBe('whsec_Zmlyc3Qtc2VjcmV0LWZpcnN0LXNlY3JldA==');
    expect(box.open(first)).toBe('whsec_Zmlyc3Qtc2VjcmV0LWZpcnN0LXNlY3JldA==');
    expect(inner.opens).toBe(1);
    const rotated = inner.seal('a-chosen-secret-after-rotation');
    expect(box.open(rotated)).toBe('a-chosen-secret-after-rotation');
    expect(inner.opens).toBe(2);
    // Plain (never sealed) secrets pass through without touching the box.
    expect(box.open('plain-secret-stored-before-a-key')).toBe('plain-secret-stored-before-a-key');
    expect(inner.opens).toBe(2);
  });

  it('does not remember a secret that fails to open: every use reports it', () => {
    const foreign = createSecretBox('another-installation-key-0001').seal('whsec_Zm9yZWlnbi1zZWNyZXQtMDAwMDAwMDA=');
    const box = cachingSecretBox(createSecretBox(key));
    expect(() => box.open(foreign)).toThrow(/sealed with another encryption key/);
    expect(() => box.open(foreign)).toThrow(/sealed with another encryption key/);
  });

  it('keeps at most maxEntries and still opens correctly past that', () => {
    const inner = counting(createSecretBox(key));
    const box = cachingSecretBox(inner, 2);
    const sealed = ['first-secret-0000001', 'second-secret-000002', 'third-secret-0000003'].map((plain) => [plain, inner.seal(plain)] as const);
    for (const [plain, stored] of sealed) expect(box.open(stored)).toBe(plain);
    expect(inner.opens).toBe(3);
    // The third entry started the map over: the first is opened again, the third is still remembered.
    expect(box.open(sealed[0]![1])).toBe(sealed[0]![0]);
    expect(box.open(sealed[2]![1])).toBe(sealed[2]![0]);
    expect(inner.opens).toBe(4);
  });
});
