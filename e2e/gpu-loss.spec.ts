import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

/**
 * A fault for the training worker: right after the first checkpoint is
 * saved, the WebGPU device is destroyed — what a driver crash or GPU reset
 * does to a tab. With `noGpuAfter`, no adapter is offered again.
 */
function loseDeviceAfterFirstCheckpoint(noGpuAfter: boolean): string {
  return `(() => {
    const devices = [];
    const requestDevice = GPUAdapter.prototype.requestDevice;
    GPUAdapter.prototype.requestDevice = async function (...args) {
      const device = await requestDevice.apply(this, args);
      devices.push(device);
      return device;
    };
    const post = self.postMessage.bind(self);
    let lost = false;
    self.postMessage = (message, ...rest) => {
      post(message, ...rest);
      if (!lost && message && message.type === 'checkpoint-saved' && message.epoch === 1) {
        lost = true;
        if (${noGpuAfter}) GPU.prototype.requestAdapter = async () => null;
        devices[devices.length - 1].destroy();
      }
    };
  })();\n`;
}

// Two epochs: the device is lost after the first one's checkpoint, and the second is trained after the loss.
const RUN = '/?preset=tiny&epochs=2&batchSize=32&trainLimit=128&testLimit=50&patience=0&backend=webgpu&autostart=1';

async function firstEpochRow(page: Page) {
  return page.locator('table.epochs tbody tr').first().innerText();
}

/** The notice after the loss; a run that failed instead says so, in the page's own words, rather than timing out. */
async function noticeAfterLoss(page: Page): Promise<string> {
  const notice = page.getByTestId('notice');
  const error = page.getByTestId('error');
  await expect(notice.or(error).first()).toBeVisible({ timeout: 200_000 });
  expect(await error.count(), `the run failed instead of resuming: ${await error.allInnerTexts()}`).toBe(0);
  return notice.innerText();
}

test('a lost WebGPU device mid-run: training resumes from the last checkpoint on a new WebGPU device', async ({ page, patchWorker }) => {
  test.setTimeout(300_000);
  await patchWorker(loseDeviceAfterFirstCheckpoint(false));
  await page.goto(RUN);
  await expect(page.locator('table.epochs tbody tr')).toHaveCount(1, { timeout: 200_000 });
  const epoch1 = await firstEpochRow(page);
  const notice = await noticeAfterLoss(page);
  expect(notice).toContain('The GPU device was lost');
  expect(notice).toContain('resumed from the checkpoint after epoch 1, on webgpu');
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 280_000 });
  await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'webgpu');
  await expect(page.getByTestId('fallback-reasons')).toContainText('a new WebGPU device was started');
  // Epoch 1 was not trained again: its row is the one finished before the loss.
  await expect(page.locator('table.epochs tbody tr')).toHaveCount(2);
  expect(await firstEpochRow(page)).toBe(epoch1);
  await expect(page.getByTestId('test-accuracy')).toBeVisible();
});

test('a lost WebGPU device with no GPU to be had again: training resumes on the next backend', async ({ page, patchWorker }) => {
  test.setTimeout(300_000);
  await patchWorker(loseDeviceAfterFirstCheckpoint(true));
  await page.goto(RUN);
  await expect(page.locator('table.epochs tbody tr')).toHaveCount(1, { timeout: 200_000 });
  expect(await noticeAfterLoss(page)).toContain('resumed from the checkpoint after epoch 1, on wasm');
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 200_000 });
  await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'wasm');
  await expect(page.getByTestId('fallback-reasons')).toContainText('The GPU device was lost');
  await expect(page.locator('table.epochs tbody tr')).toHaveCount(2);
});
