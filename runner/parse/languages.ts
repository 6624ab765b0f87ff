/**
 * The fence languages the runner knows, in a module of their own: the block thread and the compiler need them, and
 * importing them from the parser would load the Markdown parser (and YAML) into every block thread.
 */
export const CODE_LANGS = new Set(['ts', 'typescript', 'js', 'javascript', 'mts', 'mjs']);
export const OUTPUT_LANGS = new Set(['text', 'console', 'txt', 'output']);
/** Shell steps (`bash step`): the block runs as a script, with the same verify, expect, rollback and timeout. */
export const SHELL_LANGS = new Set(['bash', 'sh']);
