import { describe, expect, it } from 'vitest';
import { readUrlOptions } from './urlOptions';

describe('readUrlOptions', () => {
  it('fills every settings field from the URL or the defaults', () => {
    const o = readUrlOptions('?preset=tiny&epochs=1&batchSize=32&trainLimit=512&backend=webgpu&autostart=1');
    expect(o.fields).toMatchObject({ preset: 'tiny', epochs: '1', batchSize: '32', trainLimit: '512', optimizer: 'adam' });
    expect(o.backend).toBe('webgpu');
    expect(o.autostart).toBe(true);
    expect(o.unknown).toEqual([]);
  });

  it('reports unknown parameters and an unknown backend', () => {
    const o = readUrlOptions('?epochz=3&backend=metal');
    expect(o.unknown).toEqual(['epochz']);
    expect(o.backend).toBe('auto');
    expect(o.backendError).toContain('metal');
    expect(o.autostart).toBe(false);
  });
});

describe('readUrlOptions and presets', () => {
  it('gives fast its batch of 512 unless the URL sets one', () => {
    expect(readUrlOptions('?preset=fast').fields.batchSize).toBe('512');
    expect(readUrlOptions('?preset=fast&batchSize=64').fields.batchSize).toBe('64');
  });
});

describe('readUrlOptions and the data folder', () => {
  it('takes a folder of this site, and refuses another site with a message', () => {
    expect(readUrlOptions('').dataPath).toBe('/data/cifar10/');
    expect(readUrlOptions('', '/app/data/cifar10/').dataPath).toBe('/app/data/cifar10/');
    expect(readUrlOptions('?data=/mirror/shards').dataPath).toBe('/mirror/shards/');
    for (const foreign of ['//evil.example/x/', 'https://evil.example/', 'data/cifar10']) {
      const o = readUrlOptions(`?data=${encodeURIComponent(foreign)}`);
      expect(o.dataPath).toBe('/data/cifar10/');
      expect(o.dataError).toContain('not a path on this site');
    }
  });
});

describe('readUrlOptions and kernel tuning', () => {
  it('takes auto, on or off, and names a wrong value', () => {
    expect(readUrlOptions('').tune).toBe('auto');
    expect(readUrlOptions('?tune=off').tune).toBe('off');
    expect(readUrlOptions('?tune=on').unknown).toEqual([]);
    const o = readUrlOptions('?tune=fast');
    expect(o.tune).toBe('auto');
    expect(o.tuneError).toBe('Unknown tune option "fast" in the URL: use one of auto, on, off; using auto.');
  });
});

describe('readUrlOptions and WASM workers', () => {
  it('takes a whole number from 1 to 8, and names a wrong value', () => {
    expect(readUrlOptions('').workers).toBeNull();
    expect(readUrlOptions('?workers=1')).toMatchObject({ workers: 1, unknown: [] });
    expect(readUrlOptions('?workers=1').workersError).toBeUndefined();
    for (const bad of ['0', '9', '1.5', 'two', '']) {
      const o = readUrlOptions(`?workers=${bad}`);
      expect(o.workers).toBeNull();
      expect(o.workersError).toMatch(/whole number from 1 to 8/);
    }
  });
});
