import type { Page } from '@playwright/test';

/** A file made in Node for the page. */
export interface NodeFile {
  name: string;
  type: string;
  bytes: Buffer;
}

/**
 * Drops files on a drop zone (the classifier's unless `target` names another test id), as a drag from the
 * desktop would (bytes cross as base64: page.evaluate takes JSON).
 */
export async function dropFiles(page: Page, files: readonly NodeFile[], target = 'dropzone'): Promise<void> {
  const encoded = files.map(({ name, type, bytes }) => ({ name, type, base64: bytes.toString('base64') }));
  await page.evaluate(
    ({ files, target }) => {
      const transfer = new DataTransfer();
      for (const f of files)
        transfer.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
      document
        .querySelector(`[data-testid="${target}"]`)
        ?.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    },
    { files: encoded, target },
  );
}
