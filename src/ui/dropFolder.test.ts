import { describe, expect, it } from 'vitest';
import { dropName, pickedDrop } from './dropFolder';

describe('dropName', () => {
  it("is the dropped folder's name", () => {
    expect(dropName(['leaves/oak/1.jpg', 'leaves/maple/2.png'])).toBe('leaves');
    expect(dropName(['feuilles\\chêne\\1.jpg'])).toBe('feuilles');
  });

  it("is the zip's name without its extension", () => {
    expect(dropName(['Sketches.ZIP'])).toBe('Sketches');
  });

  it('falls back to a plain name for loose class folders or nothing', () => {
    expect(dropName(['oak/1.jpg', 'maple/2.jpg'])).toBe('my pictures');
    expect(dropName([])).toBe('my pictures');
    expect(dropName(['.zip'])).toBe('my pictures');
  });
});

describe('pickedDrop', () => {
  it('keeps the folder path a directory picker gives each file', () => {
    const file = new File(['x'], '1.jpg');
    Object.defineProperty(file, 'webkitRelativePath', { value: 'leaves/oak/1.jpg' });
    const drop = pickedDrop([file]);
    expect(drop).toEqual({ name: 'leaves', files: [{ path: 'leaves/oak/1.jpg', file }] });
  });

  it('uses the file name where there is no folder path (a picked zip)', () => {
    const zip = new File(['x'], 'leaves.zip');
    expect(pickedDrop([zip]).files[0]?.path).toBe('leaves.zip');
    expect(pickedDrop([zip]).name).toBe('leaves');
  });
});
