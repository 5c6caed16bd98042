import { expect, test, type Page } from '@playwright/test';

async function epochMemory(page: Page) {
  return page.locator('table.epochs tbody tr').evaluateAll((rows) =>
    rows.map((row) => ({ tensors: row.getAttribute('data-tensors'), bytes: row.getAttribute('data-bytes'), gpu: row.getAttribute('data-gpu-bytes') })),
  );
}

// Five epochs of the tiny preset on a GPU backend: nothing may accumulate, neither tensors nor GPU memory.
test('five epochs end with the same tensor count and GPU bytes as the first', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('/?preset=tiny&epochs=5&batchSize=32&trainLimit=192&testLimit=50&patience=0&backend=webgl&autostart=1');
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 280_000 });
  const memory = await epochMemory(page);
  expect(memory).toHaveLength(5);
  const first = memory[0] as { tensors: string; bytes: string; gpu: string };
  expect(first.tensors).toMatch(/^\d+$/);
  expect(first.gpu).toMatch(/^\d+$/);
  for (const later of memory.slice(1)) expect(later).toEqual(first);
  const summary = `after epoch 1 and epoch 5: ${first.tensors} tensors, ${first.bytes} bytes, ${first.gpu} GPU bytes`;
  test.info().annotations.push({ type: 'memory', description: summary });
  console.log(`memory ${summary}`);
});
