import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

/** The browser CI installs (.ci/run), or one on PATH; CHROMIUM_PATH names another. */
function findChromium(): string | undefined {
  const candidates = [
    process.env.CHROMIUM_PATH,
    ...['chromium', 'chromium-browser', 'google-chrome'].flatMap((name) => (process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, name))),
  ];
  return candidates.find((candidate): candidate is string => {
    if (!candidate) return false;
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Opens a local HTML file in headless Chromium, offline and with a throwaway profile, and returns what the mode
 * prints: `--dump-dom` the DOM after parsing (and after any script, had one run), `--screenshot=FILE` a PNG.
 */
export async function headlessChromium(file: string, profileDir: string, mode: string[]): Promise<string> {
  const chromium = findChromium();
  if (!chromium) throw new Error('no Chromium found: install it (apt-get install -y chromium) or set CHROMIUM_PATH');
  const { stdout } = await promisify(execFile)(
    chromium,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profileDir}`,
      ...mode,
      pathToFileURL(file).href,
    ],
    { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout;
}
