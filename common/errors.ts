/** A mistake in how a command was called (a flag's value, a file that cannot be read): one line, exit 2, no stack. */
export class UsageError extends Error {
  override name = 'UsageError';
}
