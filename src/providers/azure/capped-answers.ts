// Key Vault answers capped while they stream (see answer-cap.ts): the Azure SDK reads a body whole
// before parsing it, and a store's vaultUrl may be a server its author controls.
import type { SecretClientOptions } from '@azure/keyvault-secrets';
import { readCapped } from '../answer-cap.ts';

type AdditionalPolicy = NonNullable<SecretClientOptions['additionalPolicies']>[number];
type Policy = AdditionalPolicy['policy'];

/** Any status code streams (the pipeline's own spelling); this policy then reads it, capped. */
const EVERY_STATUS = new Set([Number.POSITIVE_INFINITY]);

const capAnswers: Policy = {
  name: 'ferryCapAnswers',
  async sendRequest(request, next) {
    const asked = request.streamResponseStatusCodes;
    request.streamResponseStatusCodes = EVERY_STATUS;
    let response: Awaited<ReturnType<typeof next>>;
    try {
      response = await next(request);
    } finally {
      // The deserializer, which runs after this policy returns, must see the caller's own choice.
      request.streamResponseStatusCodes = asked;
    }
    const stream = response.readableStreamBody;
    if (!stream || asked?.has(response.status) || asked?.has(Number.POSITIVE_INFINITY)) return response;
    const body = await readCapped(stream as NodeJS.ReadableStream & AsyncIterable<Buffer> & { destroy(): void });
    return { ...response, readableStreamBody: undefined, bodyAsText: body.toString('utf8') };
  },
};

/**
 * The policy for a client's `additionalPolicies`: per retry, so it sits next to the transport,
 * below the deserializer (which then parses the text it produced).
 */
export const cappedAnswers: AdditionalPolicy = { policy: capAnswers, position: 'perRetry' };
