/**
 * The user's pictures wait here and are classified a few at a time by one
 * loop, so that training steps and other messages keep flowing meanwhile.
 * A picture that fails gets its own error; the others are not affected.
 */
import { decodeToModelPixels } from '../classify/decode';
import type { Classifier } from '../classify/classifier';
import { SALIENCY_PIXELS } from '../classify/saliency';
import { PIXELS_PER_IMAGE } from '../data/format';
import { AppError, toErrorData } from '../errors';
import { tensorMemory } from './memory';
import type { ClassifyFile, ClassifyResult, FromWorker } from './protocol';

/** Images decoded and predicted together; one 'classified' message each. Small enough that results stream in. */
export const CLASSIFY_BATCH = 8;

export class ClassifyQueue {
  private readonly queue: ClassifyFile[] = [];
  private draining = false;

  constructor(
    private readonly post: (message: FromWorker, transfer?: Transferable[]) => void,
    private readonly classifier: Classifier,
  ) {}

  add(files: ClassifyFile[]): void {
    this.queue.push(...files);
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, CLASSIFY_BATCH);
        const results = await this.classifyBatch(batch).catch((error: unknown) =>
          batch.map((f): ClassifyResult => ({ id: f.id, ok: false, error: toErrorData(error) })),
        );
        const transfer = results.flatMap((r) =>
          r.ok ? [r.pixels.buffer as ArrayBuffer, ...(r.saliency ? [r.saliency.buffer as ArrayBuffer] : [])] : [],
        );
        this.post({ type: 'classified', results, memory: tensorMemory() }, transfer);
      }
    } finally {
      this.draining = false;
    }
  }

  private async classifyBatch(batch: ClassifyFile[]): Promise<ClassifyResult[]> {
    if (!this.classifier.info) {
      const error = toErrorData(new AppError('no-model', 'There is no trained model to classify with yet.'));
      return batch.map((f) => ({ id: f.id, ok: false, error }));
    }
    const decoded: { id: number; pixels: Uint8Array }[] = [];
    const results = new Map<number, ClassifyResult>();
    // One file at a time: each decode is at most DECODE_SIDE² pixels, and training steps run in between.
    for (const f of batch) {
      try {
        decoded.push({ id: f.id, pixels: (await decodeToModelPixels(f.file, f.name)).pixels });
      } catch (error) {
        results.set(f.id, { id: f.id, ok: false, error: toErrorData(error) });
      }
    }
    if (decoded.length > 0) {
      const all = new Uint8Array(decoded.length * PIXELS_PER_IMAGE);
      decoded.forEach((d, i) => all.set(d.pixels, i * PIXELS_PER_IMAGE));
      try {
        const { probs, saliency } = await this.classifier.predictAndExplain(all, decoded.length);
        const classes = probs.length / decoded.length;
        decoded.forEach((d, i) => {
          const p = Array.from(probs.subarray(i * classes, (i + 1) * classes));
          const map = saliency ? saliency.slice(i * SALIENCY_PIXELS, (i + 1) * SALIENCY_PIXELS) : null;
          results.set(d.id, { id: d.id, ok: true, pixels: this.classifier.displayPixels(d.pixels), probs: p, saliency: map });
        });
      } catch (error) {
        for (const d of decoded) results.set(d.id, { id: d.id, ok: false, error: toErrorData(error) });
      }
    }
    return batch.map((f) => results.get(f.id) as ClassifyResult);
  }
}
