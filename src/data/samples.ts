import { PIXELS_PER_IMAGE } from './format';
import { mulberry32 } from './random';

/**
 * Picks `perClass` random images of every class (for the first screen's
 * grid), deterministic for a seed. Classes with fewer images give what they have.
 * Returns image indices grouped by class, classes in label order.
 */
export function pickPerClass(labels: Uint8Array, numClasses: number, perClass: number, seed: number): number[] {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i] as number]?.push(i);
  const random = mulberry32(seed);
  const picked: number[] = [];
  for (const members of byClass) {
    // Partial Fisher–Yates: only the first `perClass` positions need shuffling.
    const n = Math.min(perClass, members.length);
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(random() * (members.length - i));
      [members[i], members[j]] = [members[j] as number, members[i] as number];
      picked.push(members[i] as number);
    }
  }
  return picked;
}

/** Copies the chosen images out of a split into one small buffer, ready to transfer to the page. */
export function gatherImages(pixels: Uint8Array, labels: Uint8Array, indices: number[]): { pixels: Uint8Array; labels: Uint8Array } {
  const out = new Uint8Array(indices.length * PIXELS_PER_IMAGE);
  const outLabels = new Uint8Array(indices.length);
  indices.forEach((index, k) => {
    out.set(pixels.subarray(index * PIXELS_PER_IMAGE, (index + 1) * PIXELS_PER_IMAGE), k * PIXELS_PER_IMAGE);
    outLabels[k] = labels[index] as number;
  });
  return { pixels: out, labels: outLabels };
}
