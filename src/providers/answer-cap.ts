// The most Ferry reads of one provider answer, for every transport: a store may point at a server
// its author controls (a tenant's Vault or Key Vault URL), and an SDK that reads a whole body
// before parsing would hold a 1 GiB answer in memory. Answers are counted while they stream and
// the connection is cut past the cap, so a huge answer costs a failed read, not the controller.
import { Transform, type TransformCallback } from 'node:stream';

/**
 * A provider's largest legitimate answer is far smaller: a secret fits a Kubernetes Secret (1 MiB;
 * AWS 64 KiB, Key Vault 25 KiB, Google 64 KiB), a batch of twenty or a listing page a few MiB.
 */
export const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** What a cut answer is reported as, in any provider's error message. */
export const answerTooLargeText = `the answer is over ${MAX_ANSWER_BYTES} bytes, the most Ferry reads; the connection was cut`;

export class AnswerTooLargeError extends Error {
  constructor() {
    super(answerTooLargeText);
    this.name = 'AnswerTooLargeError';
  }
}

/** A pass-through stream that fails with AnswerTooLargeError once more than `limit` bytes went through. */
export function capStream(limit = MAX_ANSWER_BYTES): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      seen += chunk.length;
      if (seen > limit) done(new AnswerTooLargeError());
      else done(null, chunk);
    },
  });
}

/** The whole of `body` as bytes, or AnswerTooLargeError once more than `limit` came (the source is destroyed). */
export async function readCapped(
  body: AsyncIterable<Buffer | Uint8Array> & { destroy(err?: Error): unknown },
  limit = MAX_ANSWER_BYTES,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw new AnswerTooLargeError();
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
