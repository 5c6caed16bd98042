import { expect, test } from './fixtures';

/**
 * `npm run dev` is how the next engineer works on the app. React runs every
 * effect twice there (StrictMode), so the page asks the worker for a backend
 * and the data twice; both must settle into one backend and one data set.
 */
test('the development server trains the tiny preset to the end, with no error on the way', async ({ page, pageErrors: errors }) => {
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto('/?preset=tiny&epochs=1&trainLimit=512&testLimit=200&autostart=1');
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 150_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect(page.getByTestId('test-accuracy')).toHaveText(/^\d+\.\d\d%$/);
  expect(errors).toEqual([]);
});
