import { useEffect, useRef } from 'react';
import { IMAGE, PIXELS_PER_IMAGE } from '../data/format';

/**
 * Draws one 32×32 HWC RGB image from a buffer of many, scaled up with crisp pixels by CSS.
 * An image to assistive technology, named by `title`.
 */
export function ImageCanvas({ pixels, index, title, size = 48 }: { pixels: Uint8Array; index: number; title: string; size?: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const image = ctx.createImageData(IMAGE.width, IMAGE.height);
    const src = pixels.subarray(index * PIXELS_PER_IMAGE, (index + 1) * PIXELS_PER_IMAGE);
    for (let p = 0; p < IMAGE.width * IMAGE.height; p++) {
      image.data[p * 4] = src[p * 3] as number;
      image.data[p * 4 + 1] = src[p * 3 + 1] as number;
      image.data[p * 4 + 2] = src[p * 3 + 2] as number;
      image.data[p * 4 + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
  }, [pixels, index]);
  return (
    <canvas
      ref={ref}
      width={IMAGE.width}
      height={IMAGE.height}
      title={title}
      role="img"
      aria-label={title}
      className="pixelated"
      style={{ width: size, height: size }}
    />
  );
}
