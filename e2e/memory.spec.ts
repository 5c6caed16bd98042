import { expect, test } from './fixtures';

// The training runs' memory on each GPU backend is checked where they train (e2e/train.spec.ts).
test('classifying 250 dropped pictures does not grow the tensor count or memory', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('/?preset=tiny&epochs=1&batchSize=32&trainLimit=256&testLimit=50&backend=wasm&autostart=1');
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 120_000 });
  const drop = (count: number, prefix: string) =>
    page.evaluate(
      async ({ count, prefix }) => {
        const canvas = new OffscreenCanvas(64, 48);
        const ctx = canvas.getContext('2d') as OffscreenCanvasRenderingContext2D;
        const transfer = new DataTransfer();
        for (let i = 0; i < count; i++) {
          ctx.fillStyle = `hsl(${(i * 37) % 360}, 70%, 50%)`;
          ctx.fillRect(0, 0, 64, 48);
          ctx.fillStyle = `hsl(${(i * 91) % 360}, 60%, 30%)`;
          ctx.fillRect(i % 40, i % 30, 24, 18);
          transfer.items.add(new File([await canvas.convertToBlob({ type: 'image/png' })], `${prefix}-${i}.png`, { type: 'image/png' }));
        }
        document
          .querySelector('[data-testid="dropzone"]')
          ?.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      },
      { count, prefix },
    );
  const dropzone = page.getByTestId('dropzone');
  // A first drop builds the classifier's tensors; what comes after must not add any.
  await drop(50, 'warm-up');
  await expect(page.getByTestId('prediction')).toHaveCount(50, { timeout: 60_000 });
  const before = { tensors: await dropzone.getAttribute('data-tensors'), bytes: await dropzone.getAttribute('data-bytes') };
  expect(before.tensors).toMatch(/^\d+$/);
  await drop(250, 'photo');
  await expect(page.getByTestId('prediction')).toHaveCount(300, { timeout: 240_000 });
  const after = { tensors: await dropzone.getAttribute('data-tensors'), bytes: await dropzone.getAttribute('data-bytes') };
  console.log(
    `memory before / after 250 classified pictures: ${before.tensors} / ${after.tensors} tensors, ${before.bytes} / ${after.bytes} bytes`,
  );
  expect(after).toEqual(before);
});
