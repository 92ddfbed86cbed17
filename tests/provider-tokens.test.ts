import { describe, expect, it } from 'vitest';
import { createRedactor } from '../src/sanitize/index.js';

const AWS_SECRET = 'Zq3xLm9PqR7sT2vW8yB4nC6dF1gH5jK0aE3iO7uX';

describe('provider token formats (secretlint preset)', () => {
  it('mask the whole AWS secret access key, not a key-name-long prefix of the line', () => {
    const redactor = createRedactor();
    for (const text of [
      `aws_secret_access_key = "${AWS_SECRET}"`,
      `AWS_SECRET_ACCESS_KEY=${AWS_SECRET}`,
      `config: {"aws_secret_access_key": "${AWS_SECRET}"}`,
    ]) {
      const redacted = redactor.redactText(text);
      expect(redacted).not.toContain(AWS_SECRET.slice(-12));
      expect(redacted).toContain('[REDACTED:provider_token]');
    }
  });

  it('leave the text after the token as it was', () => {
    const redactor = createRedactor();
    expect(redactor.redactText(`aws_secret_access_key = ${AWS_SECRET} rotated yesterday`)).toBe(
      '[REDACTED:provider_token] rotated yesterday',
    );
  });
});
