import { blockSyntax, retriesWithEffect } from './rules/authoring.ts';
import { frontMatterRequired } from './rules/front-matter-required.ts';
import { mutatingStepVerify } from './rules/mutating-step-verify.ts';
import { noSecretOutput } from './rules/no-secret-output.ts';
import { parserMessages } from './rules/parser-messages.ts';
import { secretFlow } from './rules/secret-flow.ts';
import { stepRollback } from './rules/step-rollback.ts';
import type { LintRule } from './types.ts';

/** Every lint rule `runbook lint` runs. A new rule is a file in `rules/` and a line here. */
export const lintRules: readonly LintRule[] = [parserMessages, blockSyntax, retriesWithEffect, frontMatterRequired, noSecretOutput, secretFlow, mutatingStepVerify, stepRollback];
