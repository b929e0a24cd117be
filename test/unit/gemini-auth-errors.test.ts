import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '@google/genai';
import { toGeminiAppError } from '../../infra/gemini/gemini-errors.ts';

const context = { operation: 'embed', model: 'gemini-embedding-001' };

/** An SDK error as the SDK builds it: the status and Google's JSON error body as message. */
function apiError(status: number, body: Record<string, unknown>): ApiError {
  return new ApiError({ status, message: JSON.stringify({ error: body }) });
}

describe('Gemini errors: a refused key or model is a dependency failure, not bad input', () => {
  for (const [status, providerStatus] of [
    [401, 'UNAUTHENTICATED'],
    [403, 'PERMISSION_DENIED'],
    [404, 'NOT_FOUND'],
  ] as const) {
    it(`maps ${status} ${providerStatus} to a retryable dependency_unavailable`, () => {
      const error = toGeminiAppError(
        apiError(status, { code: status, status: providerStatus, message: 'refused' }),
        context,
      );
      assert.equal(error.code, 'dependency_unavailable');
      assert.equal(error.details?.auth, true);
      assert.equal(error.details?.status, status);
    });
  }

  it('maps an invalid API key (400 API_KEY_INVALID) to dependency_unavailable', () => {
    const error = toGeminiAppError(
      apiError(400, {
        code: 400,
        status: 'INVALID_ARGUMENT',
        message: 'API key not valid. Please pass a valid API key.',
        details: [
          { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' },
        ],
      }),
      context,
    );
    assert.equal(error.code, 'dependency_unavailable');
  });

  it('keeps any other 400 a bad_request: the input itself was refused', () => {
    const error = toGeminiAppError(
      apiError(400, { code: 400, status: 'INVALID_ARGUMENT', message: 'text too long' }),
      context,
    );
    assert.equal(error.code, 'bad_request');
  });
});
