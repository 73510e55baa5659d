// AWS SDK errors → Ferry's error classes. Names are the SDK's exception names; the message
// keeps AWS's own text, shortened, which describes the failure and never contains a value.
import { AnswerTooLargeError, answerTooLargeText } from '../answer-cap.ts';
import { ProviderError, type ProviderErrorKind, providerMessage } from '../provider.ts';

const KIND_BY_NAME: Record<string, ProviderErrorKind> = {
  ResourceNotFoundException: 'NotFound',
  // SSM: a parameter, or the version or label asked for, that does not exist.
  ParameterNotFound: 'NotFound',
  ParameterVersionNotFound: 'NotFound',
  AccessDeniedException: 'Denied',
  // STS spells it without the suffix.
  AccessDenied: 'Denied',
  UnrecognizedClientException: 'Denied',
  InvalidSignatureException: 'Denied',
  SignatureDoesNotMatch: 'Denied',
  IncompleteSignature: 'Denied',
  MissingAuthenticationToken: 'Denied',
  InvalidClientTokenId: 'Denied',
  ExpiredTokenException: 'Denied',
  ExpiredToken: 'Denied',
  DecryptionFailure: 'Denied',
  CredentialsProviderError: 'Denied',
  ThrottlingException: 'Throttled',
  Throttling: 'Throttled',
  TooManyRequestsException: 'Throttled',
  RequestLimitExceeded: 'Throttled',
  InvalidParameterException: 'Invalid',
  ValidationException: 'Invalid',
  InvalidNextTokenException: 'Invalid',
  InvalidNextToken: 'Invalid',
  InvalidFilterKey: 'Invalid',
  InvalidFilterOption: 'Invalid',
  InvalidFilterValue: 'Invalid',
  // SSM: the KMS key of a SecureString cannot be used by this identity.
  InvalidKeyId: 'Denied',
  InternalServerError: 'Transient',
  InternalServiceError: 'Transient',
  ServiceUnavailable: 'Transient',
};

interface AwsLikeError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

function retryAfterMs(err: AwsLikeError): number | undefined {
  const header = err.$response?.headers?.['retry-after'];
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

export function classifyAwsError(err: unknown, what: string): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof AnswerTooLargeError) return new ProviderError('Invalid', `AWS ${what}: ${answerTooLargeText}`);
  const e = (err ?? {}) as AwsLikeError;
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  // An answer the SDK could not parse (a proxy's HTML, an XML error page): only its status is known,
  // and a bare status is never taken as not-found, which could lead to a deletion.
  const unparsable = name === 'SyntaxError' && e.$response !== undefined;
  const text = unparsable ? 'the response body could not be parsed' : providerMessage(e.message);
  let kind: ProviderErrorKind = KIND_BY_NAME[name] ?? 'Transient';
  // A secret scheduled for deletion is gone for a reader (AWS answers InvalidRequestException).
  if (name === 'InvalidRequestException') kind = /marked for deletion/i.test(text) ? 'NotFound' : 'Invalid';
  if (status === 429) kind = 'Throttled';
  if (status === 403 && kind === 'Transient') kind = 'Denied';
  const where = status ? ` (HTTP ${status})` : '';
  return new ProviderError(kind, `AWS ${name}${where} ${what}: ${text}`, { retryAfterMs: retryAfterMs(e) });
}
