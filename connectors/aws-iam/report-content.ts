import { GetCredentialReportCommand, type GetCredentialReportCommandOutput, type IAMClient } from '@aws-sdk/client-iam';

/**
 * GetCredentialReport through the SDK (signing, retries, errors, every other field), with one exception: the
 * report's bytes are taken out of the response before the SDK's XML parser sees it. That parser builds a text
 * node one character at a time, so the base64 `<Content>` of a 100k-user report (~35 MB) cost it ~4 s of CPU
 * and ~1.1 GB of heap, more than everything else the collection does. The SDK still parses the rest of the
 * response, with `<Content>` emptied; any body that is not the plain shape (one `<Content>` holding strict
 * base64, as the SDK itself accepts) is left whole to the SDK, which then decodes or rejects it as before.
 */
export async function sendGetCredentialReport(iam: IAMClient, options: { abortSignal: AbortSignal }): Promise<GetCredentialReportCommandOutput> {
  const command = new GetCredentialReportCommand({});
  let content: Uint8Array | undefined;
  command.middlewareStack.add(
    (next) => async (args) => {
      content = undefined;
      const result = await next(args);
      const response = result.response as { statusCode?: unknown; body?: unknown };
      if (typeof response.statusCode === 'number' && response.statusCode >= 200 && response.statusCode < 300 && isByteStream(response.body)) {
        const body = await collect(response.body);
        const taken = takeContent(body);
        content = taken?.content;
        response.body = taken ? taken.rest : body;
      }
      return result;
    },
    // Below the SDK's deserializer: this sees each attempt's raw response before it is parsed.
    { step: 'deserialize', priority: 'low', name: 'ismsCredentialReportContent' },
  );
  const out = await iam.send(command, options);
  return content === undefined ? out : { ...out, Content: content };
}

function isByteStream(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body;
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const OPEN = Buffer.from('<Content>');
const CLOSE = Buffer.from('</Content>');
/**
 * What the SDK's own base64 decoder accepts (@smithy/core fromBase64: /^[A-Za-z0-9+/]*={0,2}$/ and a length
 * that fits), checked as "at most two '=' at the end, and no other character outside the alphabet", which V8
 * scans for without backtracking over 35 MB.
 */
const NOT_BASE64 = /[^A-Za-z0-9+/]/;

function isStrictBase64(text: string): boolean {
  if ((text.length * 3) % 4 !== 0) return false;
  let end = text.length;
  if (text.endsWith('=')) end -= text.endsWith('==') ? 2 : 1;
  return !NOT_BASE64.test(end === text.length ? text : text.slice(0, end));
}

/** The decoded report and the response with `<Content>` emptied, or undefined to leave the body to the SDK. */
export function takeContent(body: Buffer): { content: Uint8Array; rest: Uint8Array } | undefined {
  const open = body.indexOf(OPEN);
  if (open < 0 || body.indexOf(OPEN, open + OPEN.length) >= 0) return undefined;
  const start = open + OPEN.length;
  const end = body.indexOf(CLOSE, start);
  if (end < 0 || body.indexOf(CLOSE, end + CLOSE.length) >= 0) return undefined;
  const base64 = body.toString('latin1', start, end);
  if (!isStrictBase64(base64)) return undefined;
  const content = Buffer.from(base64, 'base64');
  const rest = Buffer.concat([body.subarray(0, start), body.subarray(end)]);
  return {
    content: new Uint8Array(content.buffer, content.byteOffset, content.byteLength),
    rest: new Uint8Array(rest.buffer, rest.byteOffset, rest.byteLength),
  };
}
