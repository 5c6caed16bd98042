import { describe, expect, it } from 'vitest';
import { saveDataSource, savedDataSource, type SourceStorage } from './dataSource';

const memory = (): SourceStorage => {
  const map = new Map<string, string>();
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v) };
};

describe('the data source kept between visits', () => {
  it('is CIFAR-10 until the user chooses their own', () => {
    const storage = memory();
    expect(savedDataSource(storage)).toBe('cifar10');
    saveDataSource('own', storage);
    expect(savedDataSource(storage)).toBe('own');
    saveDataSource('cifar10', storage);
    expect(savedDataSource(storage)).toBe('cifar10');
  });

  it('falls back to CIFAR-10 where storage is missing, refused or holds something else', () => {
    const refusing: SourceStorage = {
      getItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
      setItem: () => {
        throw new DOMException('full', 'QuotaExceededError');
      },
    };
    expect(savedDataSource(null)).toBe('cifar10');
    expect(savedDataSource(refusing)).toBe('cifar10');
    expect(() => saveDataSource('own', refusing)).not.toThrow();
    const odd = memory();
    odd.setItem('cifar10-in-a-tab:data-source', 'imagenet');
    expect(savedDataSource(odd)).toBe('cifar10');
  });
});
