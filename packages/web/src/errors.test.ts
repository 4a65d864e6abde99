import { TRPCClientError } from '@tokenflow/client';
import { describe, expect, it } from 'vitest';
import { readableError } from './errors.ts';

describe('readableError', () => {
  it('reads the code, the upstream side and the retry delay of a gateway error', () => {
    const error = TRPCClientError.from({
      error: {
        code: -32004,
        message: 'The model x does not exist',
        data: {
          code: 'NOT_FOUND',
          httpStatus: 404,
          upstream: { provider: 'groq', status: 404, retryAfterMs: null },
          retryAfterMs: null,
        },
      },
    });
    expect(readableError(error)).toEqual({
      code: 'NOT_FOUND',
      message: 'The model x does not exist',
      detail: 'groq answered HTTP 404',
      retryAfterMs: null,
    });
  });

  it('shows a plain error by its message, without a code', () => {
    expect(readableError(new Error('socket closed'))).toMatchObject({ code: null, message: 'socket closed' });
  });
});
