// The AWS SDK's Node HTTP handler with every answer capped while it streams (see answer-cap.ts):
// the SDK collects a response body whole before parsing it.

import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { NodeHttpHandler, type NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import { capStream } from '../answer-cap.ts';

/** NodeHttpHandler whose response bodies fail with AnswerTooLargeError past the cap. */
export class CappedHttpHandler extends NodeHttpHandler {
  constructor(options: NodeHttpHandlerOptions) {
    super(options);
  }

  override async handle(...args: Parameters<NodeHttpHandler['handle']>): ReturnType<NodeHttpHandler['handle']> {
    const result = await super.handle(...args);
    const body = result.response.body as Readable | undefined;
    if (body && typeof body.pipe === 'function') {
      // pipeline destroys the socket's stream when the cap fails the copy.
      result.response.body = pipeline(body, capStream(), () => {});
    }
    return result;
  }
}
