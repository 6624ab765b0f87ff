/** The name of the error `refuse(reason)` throws; the engine reads it, whichever realm the error was made in. */
export const REFUSED = 'RollbackRefused';

/**
 * What a rollback block calls when undoing its step would do more harm than leaving it (above all: removing the last
 * valid credential). The remaining rollbacks stop and the run ends with a forward-fix message.
 */
export function refuse(reason: string): never {
  const error = new Error(reason);
  error.name = REFUSED;
  throw error;
}
